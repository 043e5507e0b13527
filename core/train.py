"""The one training loop (gan / dcgan / acgan / deligan / tgan, and any registered family)
and the run directory it writes.

A run directory tells the whole story of a run:

    config.json             written first: model + train config, hardware, format version
    stats.jsonl             one JSON line every ``log_every`` steps (losses, D(x), D(G(z)), img/s)
    samples/step_NNNNNN.png fixed seed/label grid (seeds 0..99, column k = class k)
    checkpoint.safetensors  everything needed to resume bit for bit (weights, Adam, RNG, step)
    model.safetensors       the weights alone: the run folder loads with ``load_pretrained``
    summary.json            written at the end: steps, wall time, hardware
    nll.json                PixelCNN only: test bits/dim and the time to sample 100 images

Every write is atomic (temp file + ``os.replace``); ``stats.jsonl`` lines are single appends and
are repaired on resume, so a kill at any moment loses at most the steps since the last checkpoint.
A resume also deletes the temp files (``.NAME.XXXX.tmp``) a kill left and rewrites
model.safetensors from the checkpoint. Ctrl-C (or SIGTERM) stops between two steps and saves a
checkpoint; a failed write (full disk, read-only folder) stops with a TrainingError and leaves the
previous checkpoint as it was. tests/test_kill_safety.py SIGKILLs real runs to check all this.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from core import losses
from core.atomic import append_line, atomic_write_bytes, atomic_write_json, read_jsonl
from core.data import dataset_spec, to_model_range, training_set
from core.judges import augment
from core.models import ConfigError, ModelConfig, build_model, model_config
from core.paths import ConfinementError, confine
from core.pixelcnn import PixelCNNTrainer
from core.sampling import sample, save_grid
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
GRID_SEEDS = list(range(100))


class TrainingError(RuntimeError):
    """Training cannot start or go on; the message says why and what to do."""


@dataclass(frozen=True)
class TrainConfig:
    """The training protocol (paper.md §5); printed at start and saved in config.json."""

    model: str = "tgan"
    dataset: str = "mnist"
    n_train: int = 500  # class-balanced subset size; 0 = the full training split
    steps: int = 5000
    batch_size: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    seed: int = 0
    device: str = "auto"
    log_every: int = 50
    sample_every: int = 1000
    checkpoint_every: int = 500
    data_root: str | None = None
    # DiffAugment (Zhao et al. 2020): every image D sees, real or fake, is shifted by up to this
    # many pixels, differentiably, so D cannot memorise a small training set. 0 = off (paper).
    augment_shift: int = 0
    # DiffAugment's other two transforms: colour (random brightness, saturation, contrast per
    # image) and cutout (a square of this fraction of the side set to 0, mid-grey). Off = paper.
    augment_color: bool = False
    augment_cutout: float = 0.0

    def __post_init__(self) -> None:
        checks = [
            (self.steps >= 1, "steps must be >= 1 (--steps)"),
            (self.batch_size >= 1, "batch_size must be >= 1 (--batch-size)"),
            (self.lr > 0, "lr must be > 0 (--lr)"),
            (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "betas must be in [0, 1) (--beta1/2)"),
            (self.n_train >= 0, "n_train must be >= 0, 0 = full split (--n-train)"),
            (self.log_every >= 1, "log_every must be >= 1 (--log-every)"),
            (self.sample_every >= 1, "sample_every must be >= 1 (--sample-every)"),
            (self.checkpoint_every >= 1, "checkpoint_every must be >= 1 (--checkpoint-every)"),
            (self.seed >= 0, "seed must be >= 0 (--seed)"),
            (self.augment_shift >= 0, "augment_shift must be >= 0, 0 = off (--augment-shift)"),
            (
                isinstance(self.augment_color, bool),
                "augment_color must be true or false (--augment-color)",
            ),
            (
                0 <= self.augment_cutout < 1,
                "augment_cutout must be in [0, 1), 0 = off (--augment-cutout)",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"train config: {message}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: object, source: str = "config.json") -> TrainConfig:
        """Strict: unknown keys and wrong types raise ConfigError naming ``source``."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: the 'train' block must be a JSON object")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ConfigError(f"{source}: unknown train key(s) {unknown}; known: {sorted(fields)}")
        kinds = {"int": (int,), "float": (int, float), "str": (str,)}
        for name, value in data.items():
            ann = str(fields[name].type)
            if value is None and "None" in ann:
                continue
            want = kinds.get(ann.split(" ")[0])
            if want and (not isinstance(value, want) or isinstance(value, bool)):
                raise ConfigError(
                    f"{source}: train key {name!r} must be {ann.split(' ')[0]}, got {value!r}"
                )
        return cls(**data)


# Keys that may differ between the run that was killed and the one that resumes it.
RESUMABLE_CHANGES = {"steps", "device", "log_every", "sample_every", "checkpoint_every",
                     "data_root"}  # fmt: skip


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError(f"--device {name}: CUDA is not available here; use --device cpu")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise TrainingError(f"--device {name!r} is not a device (use auto, cpu or cuda)") from exc


def hardware(device: torch.device) -> dict:
    info = {
        "device": str(device),
        "cpu": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


# --- per-family steps ----------------------------------------------------------------------


def color_augment(images: Tensor, generator: torch.Generator) -> Tensor:
    """DiffAugment's colour transforms (Zhao et al. 2020) on images (B, C, H, W) in [-1, 1], one
    draw per image: brightness + U(-0.5, 0.5), saturation x U(0, 2) about each pixel's channel
    mean, contrast x U(0.5, 1.5) about the image's mean. Differentiable in ``images``."""
    dev = generator.device

    def draw() -> Tensor:
        u = torch.rand(images.shape[0], 1, 1, 1, generator=generator, device=dev)
        return u.to(images.device)

    x = images + (draw() - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (draw() * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (draw() + 0.5) + mean


def cutout(images: Tensor, fraction: float, generator: torch.Generator) -> Tensor:
    """DiffAugment's cutout: one square of side ``fraction`` x the image side per image, at a
    random centre (it may reach past the border), set to 0 (mid-grey in [-1, 1])."""
    b, _, h, w = images.shape
    sh, sw = int(h * fraction + 0.5), int(w * fraction + 0.5)
    if sh == 0 or sw == 0:
        return images
    dev = generator.device
    cy = torch.randint(0, h + (1 - sh % 2), (b, 1, 1), generator=generator, device=dev)
    cx = torch.randint(0, w + (1 - sw % 2), (b, 1, 1), generator=generator, device=dev)
    rows = torch.arange(h, device=dev)[None, :, None] - cy + sh // 2
    cols = torch.arange(w, device=dev)[None, None, :] - cx + sw // 2
    inside = (rows >= 0) & (rows < sh) & (cols >= 0) & (cols < sw)
    return images * (~inside)[:, None].to(device=images.device, dtype=images.dtype)


def diff_augment(images: Tensor, cfg: TrainConfig, generator: torch.Generator) -> Tensor:
    """The run's DiffAugment policy, in DiffAugment's order: colour, translation, cutout."""
    if cfg.augment_color:
        images = color_augment(images, generator)
    if cfg.augment_shift:
        images = augment(images, cfg.augment_shift, False, generator)
    if cfg.augment_cutout:
        images = cutout(images, cfg.augment_cutout, generator)
    return images


class GANTrainer:
    """One optimisation step of D, then G, for every GAN preset (paper.md §3)."""

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        self.model = model
        betas = (cfg.beta1, cfg.beta2)
        self.cfg = cfg
        self.opt_d = torch.optim.Adam(model.discriminator_parameters(), lr=cfg.lr, betas=betas)
        self.opt_g = torch.optim.Adam(model.generator_parameters(), lr=cfg.lr, betas=betas)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_d": self.opt_d, "opt_g": self.opt_g}

    def step(self, real: Tensor, labels: Tensor, noise: torch.Generator) -> dict[str, float]:
        model, mcfg = self.model, self.model.config
        alpha = mcfg.alpha
        use_fake_cls = alpha > 0 and mcfg.conditioning != "none"
        fake_labels = torch.randint(0, mcfg.n_classes, (len(real),), generator=noise,
                                    device=noise.device)  # fmt: skip
        fake = model.generate(model.draw_latents(fake_labels, noise))
        # DiffAugment: D (and C) only ever see augmented images, real and fake alike.
        real, fake = diff_augment(real, self.cfg, noise), diff_augment(fake, self.cfg, noise)

        # D (and the auxiliary classifier C, which shares D's features).
        real_adv, real_cls, _ = model.discriminate(real, labels)
        fake_adv, fake_cls, _ = model.discriminate(fake.detach(), fake_labels)
        d_adv = losses.d_adversarial_loss(real_adv, fake_adv)
        cls = torch.zeros((), device=real.device)
        if alpha > 0:
            cls = losses.classification_loss(real_cls, labels)
            if use_fake_cls and mcfg.d_classifies_fakes:
                cls = cls + losses.classification_loss(fake_cls, fake_labels)
        self.opt_d.zero_grad(set_to_none=True)
        (d_adv + alpha * cls).backward()
        self.opt_d.step()

        # G: non-saturating loss against the updated D, + alpha * L_C(fake), + sigma penalty.
        g_fake_adv, g_fake_cls, _ = model.discriminate(fake, fake_labels)
        g_adv = losses.g_adversarial_loss(g_fake_adv)
        g_total = g_adv
        if use_fake_cls:
            g_total = g_total + alpha * losses.classification_loss(g_fake_cls, fake_labels)
        sigma_pen = torch.zeros((), device=real.device)
        if model.prior.learned and mcfg.sigma_reg > 0:
            sigma_pen = losses.sigma_regulariser(model.prior.sigma)
            g_total = g_total + mcfg.sigma_reg * sigma_pen
        self.opt_g.zero_grad(set_to_none=True)
        g_total.backward()
        self.opt_g.step()

        stats = {
            "d_adv": d_adv.detach(),
            "g_adv": g_adv.detach(),
            "cls": cls.detach(),
            "d_real": torch.sigmoid(real_adv.detach()).mean(),
            "d_fake": torch.sigmoid(fake_adv.detach()).mean(),
        }
        if model.prior.learned:
            stats["sigma_mean"] = model.prior.sigma.detach().abs().mean()
            stats["sigma_pen"] = sigma_pen.detach()
        return stats


TRAINERS: dict[str, type] = {"gan": GANTrainer, "pixelcnn": PixelCNNTrainer}


def register_trainer(family: str, trainer: type) -> None:
    TRAINERS[family] = trainer


# --- checkpoints ---------------------------------------------------------------------------


def save_checkpoint(
    run_dir: Path, step: int, model: nn.Module, trainer, noise: torch.Generator, wall: float
) -> None:
    """Write checkpoint.safetensors (then model.safetensors) atomically."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    groups = {}
    for name, opt in trainer.optimizers().items():
        sd = opt.state_dict()
        groups[name] = sd["param_groups"]
        for idx, slots in sd["state"].items():
            for slot, value in slots.items():
                tensors[f"{name}.{idx}.{slot}"] = torch.as_tensor(value)
    tensors["rng.noise"] = noise.get_state()
    tensors["rng.torch"] = torch.get_rng_state()  # for any code that draws from the global RNG
    metadata = {"step": str(step), "wall_time": repr(wall), "param_groups": json.dumps(groups),
                "format_version": str(FORMAT_VERSION)}  # fmt: skip
    atomic_write_bytes(run_dir / CHECKPOINT_NAME, state_to_bytes(tensors, metadata))
    save_weights(run_dir, model)


def save_weights(run_dir: Path, model: nn.Module) -> None:
    """Write model.safetensors (the weights alone) atomically."""
    atomic_write_bytes(run_dir / WEIGHTS_NAME, state_to_bytes(model.state_dict(), {"format": "pt"}))


def load_checkpoint(
    run_dir: Path, model: nn.Module, trainer, noise: torch.Generator
) -> tuple[int, float]:
    """Restore weights, optimiser and RNG state; returns (step, wall time so far)."""
    from safetensors import safe_open

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
                        raise ValueError(f"{key} has shape {tuple(value.shape)}, expected "
                                         f"{tuple(params[int(idx)].shape)}")  # fmt: skip
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


# --- the loop ------------------------------------------------------------------------------


def batch_indices(step: int, n: int, batch_size: int, seed: int) -> Tensor:
    """Indices of step's batch: epoch e's order is a permutation seeded by (seed, e), so the
    data order is a pure function of the step (nothing to save for an exact resume)."""
    per_epoch = n // batch_size
    epoch, k = divmod(step, per_epoch)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    return perm[k * batch_size : (k + 1) * batch_size]


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
        TrainConfig.from_dict(saved.get("train"), str(config_path))
        # A key added to ModelConfig after the run started compares as its default value.
        saved_model = ModelConfig.from_dict(saved.get("model"), str(config_path)).to_dict()
        diffs = []
        for block in ("model", "train"):
            for key, value in config_blocks[block].items():
                old = (saved_model if block == "model" else saved.get(block, {})).get(key)
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


def remove_temp_files(run_dir: Path) -> list[Path]:
    """Delete the temp files (``.NAME.XXXX.tmp``) a kill mid-write leaves; returns them."""
    removed = []
    for folder in (run_dir, run_dir / "samples"):
        if folder.is_dir():
            for path in folder.glob(".*.tmp"):
                if path.is_file() and not path.is_symlink():
                    path.unlink()
                    removed.append(path)
    return removed


def check_run_dir_confined(run_dir: Path) -> None:
    """Refuse a run dir whose files are symlinks out of it (writes would land elsewhere)."""
    for name in (CONFIG_NAME, STATS_NAME, CHECKPOINT_NAME, WEIGHTS_NAME, SUMMARY_NAME, "samples"):
        try:
            confine(run_dir / name, [run_dir], what=f"{name} of the run")
        except ConfinementError as exc:
            raise TrainingError(f"{exc}; remove that link or choose another --run-dir") from None


def checkpoint_step(run_dir: Path) -> int | None:
    """The step of the checkpoint on disk (None if there is none or it is unreadable)."""
    from safetensors import safe_open

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


def repair_stats(run_dir: Path, step: int) -> None:
    """Keep only complete lines with step <= the checkpoint's step (no torn or repeated steps)."""
    path = run_dir / STATS_NAME
    if not path.exists():
        return
    rows = [r for r in read_jsonl(path) if isinstance(r.get("step"), int) and r["step"] <= step]
    text = "".join(json.dumps(r, allow_nan=False) + "\n" for r in rows)
    atomic_write_bytes(path, text.encode())


def train(
    cfg: TrainConfig,
    run_dir: str | os.PathLike,
    *,
    model_overrides: dict | None = None,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
) -> Path:
    """Train one run into ``run_dir``; returns it. ``stop_after`` ends the process's work after
    that many steps as if killed there (used by tests of resume)."""
    run_dir = Path(run_dir)
    device = resolve_device(cfg.device)
    mcfg = model_config(cfg.model, cfg.dataset, **(model_overrides or {}))
    spec = dataset_spec(cfg.dataset)
    blocks = {
        "format_version": FORMAT_VERSION,
        "model": mcfg.to_dict(),
        "train": cfg.to_dict(),
        "hardware": hardware(device),
        "model_overrides": dict(model_overrides or {}),
    }
    # The data is checked before the run dir is made, so a data error leaves nothing behind.
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
    try:
        remove_temp_files(run_dir)  # what a kill mid-write left
        if resume and (run_dir / CHECKPOINT_NAME).exists():
            step, wall_before = load_checkpoint(run_dir, model, trainer, noise)
            save_weights(run_dir, model)  # a kill between the two files left an older one
        repair_stats(run_dir, step)
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
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=step, desc=f"{mcfg.preset}/{cfg.dataset}",
                   unit="step", dynamic_ncols=True)  # fmt: skip
    started = time.perf_counter()
    interval: dict[str, list[Tensor]] = {}
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
                        bar.set_postfix(d=f"{row.get('d_adv', row.get('nll', 0)):.3f}",
                                        g=f"{row.get('g_adv', 0):.3f}")  # fmt: skip
                    interval, interval_start, interval_steps = {}, time.perf_counter(), 0
                if step % cfg.sample_every == 0 or step == cfg.steps:
                    write_sample_grid(model, run_dir, step)
                if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                    wall = wall_before + time.perf_counter() - started
                    save_checkpoint(run_dir, step, model, trainer, noise, wall)
                    last_saved = step
                if bar is not None:
                    bar.update(1)
                if interrupt.requested:
                    if step > last_saved:
                        wall = wall_before + time.perf_counter() - started
                        save_checkpoint(run_dir, step, model, trainer, noise, wall)
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
                {"steps": step, "wall_time_s": round(wall, 2), "hardware": hardware(device),
                 "images_per_s": round(cfg.batch_size * (step) / max(wall, 1e-9), 1)},
            )  # fmt: skip
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
