"""The run directory: what a training run writes, and how a resume checks and restores it.

    config.json             written first: model + train config, hardware, format version
    stats.jsonl             one JSON line every ``log_every`` steps (losses, D(x), D(G(z)), img/s)
    samples/step_NNNNNN.png fixed seed/label grid (seeds 0..99, column k = class k)
    checkpoint.safetensors  everything needed to resume bit for bit (weights, Adam, RNG, step)
    model.safetensors       the weights alone: the run folder loads with ``load_pretrained``
    summary.json            written at the end: steps, wall time, hardware
    scores.jsonl            --eval-every only: one line per score-curve point (evaluate/curve.py)
    nll.json                PixelCNN only: test bits/dim and the time to sample 100 images

Every write is atomic (temp file + ``os.replace``); ``stats.jsonl`` and ``scores.jsonl`` lines
are single appends and are repaired on resume (``repair_stats``). A resume deletes the temp
files a kill left (``remove_temp_files``) and checks that the options match the run's config.json
(``prepare_run_dir``).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from torch import Tensor, nn

from core.atomic import (
    atomic_write_bytes,
    atomic_write_json,
    own_temp_files,
    read_json,
    read_jsonl,
)
from core.config import RESUMABLE_CHANGES, ModelConfig, TrainConfig
from core.errors import UserError
from core.paths import ConfinementError, confine
from core.weights import (
    CONFIG_NAME,
    FORMAT_VERSION,
    WEIGHTS_NAME,
    load_state_strict,
    read_config,
    read_safetensors,
    state_to_bytes,
)

CHECKPOINT_NAME = "checkpoint.safetensors"
STATS_NAME = "stats.jsonl"
SUMMARY_NAME = "summary.json"
SCORES_NAME = "scores.jsonl"


class TrainingError(UserError):
    """Training cannot start or go on; the message says why and what to do."""


PENDING_PREFIX = "pending."  # checkpoint tensors: per-step stats not yet in a stats.jsonl row


def save_checkpoint(
    run_dir: Path,
    step: int,
    model: nn.Module,
    trainer,
    noise: torch.Generator,
    wall: float,
    pending: dict[str, list[Tensor]] | None = None,
) -> None:
    """Write checkpoint.safetensors (then model.safetensors) atomically. ``pending``: the
    per-step stats since the last stats.jsonl row, {key: [0-d tensor per step]}, saved so a
    resumed run logs the same next row as an uninterrupted one."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    for key, values in (pending or {}).items():
        tensors[PENDING_PREFIX + key] = torch.stack(values).detach().cpu()
    groups = {}
    for name, opt in trainer.optimizers().items():
        sd = opt.state_dict()
        groups[name] = sd["param_groups"]
        for idx, slots in sd["state"].items():
            for slot, value in slots.items():
                tensors[f"{name}.{idx}.{slot}"] = torch.as_tensor(value)
    tensors["rng.noise"] = noise.get_state()
    tensors["rng.torch"] = torch.get_rng_state()  # for any code that draws from the global RNG
    metadata = {
        "step": str(step),
        "wall_time": repr(wall),
        "param_groups": json.dumps(groups),
        "format_version": str(FORMAT_VERSION),
    }
    atomic_write_bytes(run_dir / CHECKPOINT_NAME, state_to_bytes(tensors, metadata))
    save_weights(run_dir, model)


def load_pending_stats(run_dir: Path, device: torch.device) -> dict[str, list[Tensor]]:
    """The per-step stats ``save_checkpoint`` saved as pending ({} for older checkpoints)."""
    path = run_dir / CHECKPOINT_NAME
    tensors = read_safetensors(path)
    pending = {
        k[len(PENDING_PREFIX) :]: list(v.to(device).unbind(0))
        for k, v in tensors.items()
        if k.startswith(PENDING_PREFIX)
    }
    if len({len(v) for v in pending.values()}) > 1 or any(
        t.ndim != 1 for k, t in tensors.items() if k.startswith(PENDING_PREFIX)
    ):
        raise TrainingError(
            f"{path}: the checkpoint's pending stats are damaged; restore it from a backup, "
            f"or delete it to restart {run_dir} from step 0"
        )
    return pending


def save_weights(run_dir: Path, model: nn.Module) -> None:
    """Write model.safetensors (the weights alone) atomically."""
    atomic_write_bytes(run_dir / WEIGHTS_NAME, state_to_bytes(model.state_dict(), {"format": "pt"}))


def load_checkpoint(
    run_dir: Path, model: nn.Module, trainer, noise: torch.Generator
) -> tuple[int, float]:
    """Restore weights, optimiser and RNG state; returns (step, wall time so far)."""
    path = run_dir / CHECKPOINT_NAME
    tensors = read_safetensors(path)
    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata() or {}
    try:
        step, wall = int(meta["step"]), float(meta["wall_time"])
        groups = json.loads(meta["param_groups"])
    except (KeyError, ValueError) as exc:
        raise TrainingError(f"{path}: checkpoint metadata is incomplete ({exc})") from exc
    model_state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    load_state_strict(model, model_state, str(path))
    device = next(model.parameters()).device
    try:
        for name, opt in trainer.optimizers().items():
            state: dict[int, dict[str, Tensor]] = {}
            prefix = f"{name}."
            params = [p for group in opt.param_groups for p in group["params"]]
            for key, value in tensors.items():
                if key.startswith(prefix):
                    idx, slot = key[len(prefix) :].split(".", 1)
                    if slot != "step" and value.shape != params[int(idx)].shape:
                        raise ValueError(
                            f"{key} has shape {tuple(value.shape)}, expected "
                            f"{tuple(params[int(idx)].shape)}"
                        )
                    value = value if slot == "step" else value.to(device)
                    state.setdefault(int(idx), {})[slot] = value
            opt.load_state_dict({"state": state, "param_groups": groups[name]})
        noise.set_state(tensors["rng.noise"])
        if "rng.torch" in tensors:  # absent in checkpoints written before it was saved
            torch.set_rng_state(tensors["rng.torch"])
    except (KeyError, IndexError, ValueError, TypeError, RuntimeError) as exc:
        raise TrainingError(
            f"{path}: the checkpoint's optimiser or RNG state is damaged ({exc}); restore it "
            f"from a backup, or delete it to restart {run_dir} from step 0"
        ) from exc
    return step, wall


def prepare_run_dir(run_dir: Path, config_blocks: dict, resume: bool) -> dict:
    """Create the run dir and write config.json first; on resume, check the config matches."""
    config_path = run_dir / CONFIG_NAME
    if config_path.exists():
        if not resume:
            raise TrainingError(
                f"{run_dir} already holds a run; pass --resume to continue it, "
                "or choose another --run-dir"
            )
        saved = read_config(run_dir)
        saved_train = TrainConfig.from_dict(saved.get("train"), str(config_path)).to_dict()
        # A key added to ModelConfig after the run started compares as its default value.
        saved_model = ModelConfig.from_dict(saved.get("model"), str(config_path)).to_dict()
        diffs = []
        for block in ("model", "train"):
            for key, value in config_blocks[block].items():
                old = (saved_model if block == "model" else saved_train).get(key)
                if block == "train" and key in RESUMABLE_CHANGES:
                    continue
                if json.loads(json.dumps(old)) != json.loads(json.dumps(value)):
                    diffs.append(f"{block}.{key}: run has {old!r}, now {value!r}")
        if diffs:
            raise TrainingError(
                f"cannot resume {run_dir}: the options differ from the run's config.json: "
                + "; ".join(diffs)
            )
        saved["train"].update({k: config_blocks["train"][k] for k in RESUMABLE_CHANGES})
        atomic_write_json(config_path, saved)
        return saved
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(config_path, config_blocks)
    return config_blocks


def trained_steps(run_dir: Path) -> int | None:
    """The steps a finished run trained for (its summary.json); None for a run not finished."""
    summary = read_json(run_dir / SUMMARY_NAME)  # None when missing, not a file, not JSON
    done = summary.get("steps") if summary is not None else None
    return done if isinstance(done, int) else None


def run_finished(run_dir: Path, steps: int) -> bool:
    """Whether the run trained to ``steps``: its summary.json says so. A run that finished at
    fewer steps (its recipe's budget was raised since) is not; a resume takes it on to ``steps``."""
    done = trained_steps(run_dir)
    return done is not None and done >= steps


# What a finished run wrote about its last model (summary.json, then ``evaluate``'s metrics.json
# and the PixelCNN's nll.json): stale once a resume with a larger --steps trains it further.
FINAL_NAMES = (SUMMARY_NAME, "metrics.json", "nll.json")


def drop_final_outputs(run_dir: Path, step: int, steps: int) -> list[str]:
    """Before a run resumed at ``step`` trains on to ``steps``: remove the files of
    ``FINAL_NAMES`` it holds (they describe the step-``step`` model; metrics.jsonl keeps them in
    the run's history), so nothing reads the run as finished or scored until it is again.
    Returns the names removed."""
    if step >= steps:
        return []
    gone = [name for name in FINAL_NAMES if (run_dir / name).exists()]
    for name in gone:
        (run_dir / name).unlink()
    return gone


# The files a run writes atomically (their temp files are ``.NAME.XXXXXXXX.tmp``).
RUN_TEMP_NAMES = r"config\.json|checkpoint\.safetensors|model\.safetensors|summary\.json|" + (
    r"stats\.jsonl|scores\.jsonl|nll\.json|metrics\.json"
)
SAMPLE_TEMP_NAMES = r"step_\d{6}\.png"


def remove_temp_files(run_dir: Path) -> list[Path]:
    """Delete the temp files a kill mid-write left (``.NAME.XXXXXXXX.tmp`` of a file the run
    writes); a person's own ``.*.tmp`` files stay. Returns what was removed."""
    removed = own_temp_files(run_dir, RUN_TEMP_NAMES)
    removed += own_temp_files(run_dir / "samples", SAMPLE_TEMP_NAMES)
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def check_run_dir_confined(run_dir: Path) -> None:
    """Refuse a run dir whose files are symlinks out of it (writes would land elsewhere)."""
    names = (CONFIG_NAME, STATS_NAME, SCORES_NAME, CHECKPOINT_NAME, WEIGHTS_NAME, SUMMARY_NAME)
    for name in (*names, "samples"):
        try:
            confine(run_dir / name, [run_dir], what=f"{name} of the run")
        except ConfinementError as exc:
            raise TrainingError(f"{exc}; remove that link or choose another --run-dir") from None


def checkpoint_step(run_dir: Path) -> int | None:
    """The step of the checkpoint on disk (None if there is none or it is unreadable)."""
    try:
        with safe_open(str(run_dir / CHECKPOINT_NAME), framework="pt") as fh:
            return int((fh.metadata() or {})["step"])
    except Exception:  # any unreadable checkpoint: the caller falls back to what it knows
        return None


def write_error(run_dir: Path, exc: OSError, last_saved: int) -> TrainingError:
    """The one-line error for a failed write (disk full, read-only folder) during training."""
    on_disk = checkpoint_step(run_dir)
    last_saved = last_saved if on_disk is None else on_disk
    return TrainingError(
        f"cannot write to {run_dir} ({exc.strerror or exc}: {exc.filename or run_dir}); "
        f"the last checkpoint (step {last_saved}) is intact. Free disk space or make the folder "
        f"writable, then resume with: python -m core train --run-dir {run_dir} --resume"
    )


def repair_stats(run_dir: Path, step: int, name: str = STATS_NAME) -> None:
    """Keep only complete lines of ``name`` (stats.jsonl, scores.jsonl) with step <= the
    checkpoint's step: no torn line, and no step a resumed run will log again."""
    path = run_dir / name
    if not path.exists():
        return
    rows = [r for r in read_jsonl(path) if isinstance(r.get("step"), int) and r["step"] <= step]
    text = "".join(json.dumps(r, allow_nan=False) + "\n" for r in rows)
    atomic_write_bytes(path, text.encode())
