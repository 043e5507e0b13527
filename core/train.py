"""The one training loop, for every GAN preset (gan / dcgan / acgan / deligan / tgan) and the
PixelCNN baseline: read top to bottom, it builds the model, restores a checkpoint, and runs
``trainer.step`` (core/gan.py, core/pixelcnn/trainer.py), logging, sampling and checkpointing
into the run directory (core/run_dir.py says what each file is).

A kill at any moment loses at most the steps since the last checkpoint. Ctrl-C (or SIGTERM)
stops between two steps and saves a checkpoint; a failed write (full disk, read-only folder)
stops with a TrainingError and leaves the previous checkpoint as it was.
tests/robustness/test_kill_safety.py SIGKILLs real runs to check all this.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import threading
import time
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm import tqdm

from core.atomic import append_line, atomic_write_json
from core.config import ModelConfig, TrainConfig
from core.data import dataset_spec, to_model_range, training_set
from core.device import hardware, resolve_device
from core.evaluate.curve import CurveScorer
from core.evaluate.judges import Judge
from core.gan import GANTrainer
from core.models import build_model, model_config
from core.pixelcnn.trainer import PixelCNNTrainer
from core.precision import resolve_precision
from core.run_dir import (
    CHECKPOINT_NAME,
    SCORES_NAME,
    STATS_NAME,
    SUMMARY_NAME,
    TrainingError,
    check_run_dir_confined,
    load_checkpoint,
    load_pending_stats,
    prepare_run_dir,
    remove_temp_files,
    repair_stats,
    save_checkpoint,
    save_weights,
    write_error,
)
from core.sampling import sample, save_grid
from core.weights import CONFIG_NAME, FORMAT_VERSION

GRID_SEEDS = list(range(100))
TRAINERS: dict[str, type] = {"gan": GANTrainer, "pixelcnn": PixelCNNTrainer}


def batch_indices(step: int, n: int, batch_size: int, seed: int) -> Tensor:
    """Indices of step's batch: epoch e's order is a permutation seeded by (seed, e), so the
    data order is a pure function of the step (nothing to save for an exact resume)."""
    per_epoch = n // batch_size
    epoch, k = divmod(step, per_epoch)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    return perm[k * batch_size : (k + 1) * batch_size]


class DeferredInterrupt:
    """Ctrl-C (SIGINT) or SIGTERM during a step only sets a flag, so the loop stops between
    steps with consistent weights, optimiser and RNG state; a second Ctrl-C stops at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():  # signal() only works there
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def train(
    cfg: TrainConfig,
    run_dir: str | os.PathLike,
    *,
    model_overrides: dict | None = None,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    judge: Judge | None = None,
) -> Path:
    """Train one run into ``run_dir``; returns it. ``stop_after`` ends the process's work after
    that many steps as if killed there (used by tests of resume). ``judge`` scores the curve
    of ``cfg.eval_every`` (default: the data set's shipped judge)."""
    run_dir = Path(run_dir)
    device = resolve_device(cfg.device)
    mcfg = model_config(cfg.model, cfg.dataset, **(model_overrides or {}))
    spec = dataset_spec(cfg.dataset)
    supported = getattr(TRAINERS.get(mcfg.family), "PRECISIONS", ("float32",))
    cfg = dataclasses.replace(cfg, precision=resolve_precision(cfg.precision, device, supported))
    blocks = {
        "format_version": FORMAT_VERSION,
        "model": mcfg.to_dict(),
        "train": cfg.to_dict(),
        "hardware": hardware(device),
        "model_overrides": dict(model_overrides or {}),
    }
    # The judge and the data are checked before the run dir is made, so an error there leaves
    # nothing behind.
    scorer = None
    if cfg.eval_every:
        scorer = CurveScorer(cfg.dataset, cfg.eval_samples, device, judge, cfg.data_root)
    images, labels = training_set(cfg.dataset, cfg.n_train or None, cfg.seed, cfg.data_root)
    n = len(labels)
    if n < cfg.batch_size:
        raise TrainingError(f"--batch-size {cfg.batch_size} exceeds the {n} training images")
    check_run_dir_confined(run_dir)
    try:
        saved = prepare_run_dir(run_dir, blocks, resume)
    except OSError as exc:
        raise TrainingError(
            f"cannot write {run_dir} ({exc.strerror or exc}: {exc.filename or run_dir}); "
            "choose a writable --run-dir"
        ) from exc
    mcfg = ModelConfig.from_dict(saved["model"], str(run_dir / CONFIG_NAME))
    cfg = TrainConfig.from_dict(saved["train"], str(run_dir / CONFIG_NAME))
    images, labels = images.to(device), labels.to(device)

    torch.manual_seed(cfg.seed)  # only for code outside our generators; ours are explicit
    model = build_model(mcfg, seed=cfg.seed).to(device).train()
    trainer = TRAINERS[mcfg.family](model, cfg)
    noise = torch.Generator(device=device).manual_seed(cfg.seed + 1)
    step, wall_before = 0, 0.0
    interval: dict[str, list[Tensor]] = {}  # per-step stats since the last stats.jsonl row
    try:
        remove_temp_files(run_dir)  # what a kill mid-write left
        if resume and (run_dir / CHECKPOINT_NAME).exists():
            step, wall_before = load_checkpoint(run_dir, model, trainer, noise)
            interval = load_pending_stats(run_dir, device)
            save_weights(run_dir, model)  # a kill between the two files left an older one
        repair_stats(run_dir, step)
        repair_stats(run_dir, step, SCORES_NAME)  # a resumed run scores those steps again
        (run_dir / "samples").mkdir(exist_ok=True)
    except OSError as exc:
        raise write_error(run_dir, exc, step) from exc

    print(f"run {run_dir}  ({spec.name}, {n} training images, device {device})")
    print("model: " + json.dumps(mcfg.to_dict(), sort_keys=True))
    print("train: " + json.dumps(cfg.to_dict(), sort_keys=True))
    if step:
        print(f"resuming at step {step}")

    bar = None
    if progress:
        bar = tqdm(
            total=cfg.steps,
            initial=step,
            desc=f"{mcfg.preset}/{cfg.dataset}",
            unit="step",
            dynamic_ncols=True,
        )
    started = time.perf_counter()
    interval_start, interval_steps = time.perf_counter(), 0
    last_saved = step
    stop_at = cfg.steps if stop_after is None else min(cfg.steps, step + stop_after)
    try:
        with DeferredInterrupt() as interrupt:
            while step < stop_at:
                idx = batch_indices(step, n, cfg.batch_size, cfg.seed).to(device)
                real = to_model_range(images[idx])
                stats = trainer.step(real, labels[idx], noise)
                step += 1
                interval_steps += 1
                for key, value in stats.items():
                    interval.setdefault(key, []).append(value)
                if step % cfg.log_every == 0 or step == cfg.steps:
                    row = {k: float(torch.stack(v).mean()) for k, v in interval.items()}
                    bad = [k for k, v in row.items() if not math.isfinite(v)]
                    if bad:
                        raise TrainingError(
                            f"step {step}: {', '.join(bad)} became NaN/Inf; the run stops here. "
                            f"The last good checkpoint (step {last_saved}) is in {run_dir}; "
                            "try a lower --lr or another --seed"
                        )
                    elapsed = time.perf_counter() - interval_start
                    row.update(
                        step=step,
                        images_per_s=round(interval_steps * cfg.batch_size / max(elapsed, 1e-9), 1),
                        wall_time=round(wall_before + time.perf_counter() - started, 3),
                    )
                    append_line(run_dir / STATS_NAME, json.dumps(row, allow_nan=False))
                    if bar is not None:
                        bar.set_postfix(
                            d=f"{row.get('d_adv', row.get('nll', 0)):.3f}",
                            g=f"{row.get('g_adv', 0):.3f}",
                        )
                    interval, interval_start, interval_steps = {}, time.perf_counter(), 0
                if step % cfg.sample_every == 0 or step == cfg.steps:
                    write_sample_grid(model, run_dir, step)
                # before the checkpoint: a kill between the two re-scores this step on resume
                if scorer and (step % cfg.eval_every == 0 or step == cfg.steps):
                    wall = wall_before + time.perf_counter() - started
                    row = scorer.append(run_dir, model, step, wall)
                    interval_start += row["eval_s"]  # images_per_s counts training only
                if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                    wall = wall_before + time.perf_counter() - started
                    save_checkpoint(run_dir, step, model, trainer, noise, wall, interval)
                    last_saved = step
                if bar is not None:
                    bar.update(1)
                if interrupt.requested:
                    if step > last_saved:
                        wall = wall_before + time.perf_counter() - started
                        save_checkpoint(run_dir, step, model, trainer, noise, wall, interval)
                        last_saved = step
                    break
        if interrupt.requested:
            raise TrainingError(
                f"interrupted at step {step}; checkpoint saved. Resume with: "
                f"python -m core train --run-dir {run_dir} --resume"
            )
        if step >= cfg.steps:
            wall = wall_before + time.perf_counter() - started
            atomic_write_json(
                run_dir / SUMMARY_NAME,
                {
                    "steps": step,
                    "wall_time_s": round(wall, 2),
                    "hardware": hardware(device),
                    "images_per_s": round(cfg.batch_size * (step) / max(wall, 1e-9), 1),
                },
            )
            if hasattr(trainer, "finish"):  # family-specific end-of-run metrics (PixelCNN)
                trainer.finish(run_dir, step, wall)
    except KeyboardInterrupt:  # a second Ctrl-C: stop at once; the last checkpoint stands
        raise TrainingError(
            f"interrupted at step {step}; the last checkpoint (step {last_saved}) is in "
            f"{run_dir}. Resume with: python -m core train --run-dir {run_dir} --resume"
        ) from None
    except OSError as exc:  # disk full, read-only folder: the previous checkpoint is intact
        raise write_error(run_dir, exc, last_saved) from exc
    finally:
        if bar is not None:
            bar.close()
    return run_dir


def write_sample_grid(model: nn.Module, run_dir: Path, step: int) -> Path:
    """The fixed-seed grid (seeds 0..99; column k = class k), back in train mode after."""
    k = model.config.n_classes
    images = sample(model, GRID_SEEDS, [i % k for i in GRID_SEEDS]).images
    model.train()
    return save_grid(images, run_dir / "samples" / f"step_{step:06d}.png", nrow=k)
