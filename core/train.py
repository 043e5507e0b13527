"""The one training loop, for every GAN preset (gan / dcgan / acgan / deligan / tgan) and the
PixelCNN baseline: a ``Run`` builds the model, restores a checkpoint and records each step
(logging, sampling, scoring and checkpointing into the run directory; core/run_dir.py says what
each file is); ``run_loop`` steps the runs with ``trainer.step`` (core/gan.py,
core/pixelcnn/trainer.py) for one run (``train``), or with one packed step for N seeds of one
GAN config (``core.packed.train_packed``).

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
    drop_final_outputs,
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


class Run:
    """One run of the loop: its folder, configs, model, trainer, noise generator, step, and the
    per-step stats since the last stats.jsonl row. Building it checks the judge and the data,
    then makes or restores the run directory; ``record`` does everything after a step (the
    stats row, the sample grid, the curve point, the checkpoint), ``finish`` the summary."""

    def __init__(
        self,
        cfg: TrainConfig,
        run_dir: str | os.PathLike,
        *,
        model_overrides: dict | None = None,
        resume: bool = False,
        judge: Judge | None = None,
        scorer: CurveScorer | None = None,
    ) -> None:
        run_dir = Path(run_dir)
        device = resolve_device(cfg.device)
        mcfg = model_config(cfg.model, cfg.dataset, **(model_overrides or {}))
        spec = dataset_spec(cfg.dataset)
        supported = getattr(TRAINERS.get(mcfg.family), "PRECISIONS", ("float32",))
        cfg = dataclasses.replace(
            cfg, precision=resolve_precision(cfg.precision, device, supported)
        )
        blocks = {
            "format_version": FORMAT_VERSION,
            "model": mcfg.to_dict(),
            "train": cfg.to_dict(),
            "hardware": hardware(device),
            "model_overrides": dict(model_overrides or {}),
        }
        # The judge and the data are checked before the run dir is made, so an error there
        # leaves nothing behind.
        if cfg.eval_every and scorer is None:
            scorer = CurveScorer(cfg.dataset, cfg.eval_samples, device, judge, cfg.data_root)
        self.scorer = scorer if cfg.eval_every else None
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
        self.images, self.labels = images.to(device), labels.to(device)

        torch.manual_seed(cfg.seed)  # only for code outside our generators; ours are explicit
        self.model = build_model(mcfg, seed=cfg.seed).to(device).train()
        self.trainer = TRAINERS[mcfg.family](self.model, cfg)
        self.noise = torch.Generator(device=device).manual_seed(cfg.seed + 1)
        self.step, self.wall_before = 0, 0.0
        self.dropped: list[str] = []  # a finished run's outputs, stale now it trains on
        self.interval: dict[str, list[Tensor]] = {}  # per-step stats since the last row
        try:
            remove_temp_files(run_dir)  # what a kill mid-write left
            if resume and (run_dir / CHECKPOINT_NAME).exists():
                self.step, self.wall_before = load_checkpoint(
                    run_dir, self.model, self.trainer, self.noise
                )
                self.interval = load_pending_stats(run_dir, device)
                save_weights(run_dir, self.model)  # a kill between the two files left an older one
            self.dropped = drop_final_outputs(run_dir, self.step, cfg.steps)
            repair_stats(run_dir, self.step)
            repair_stats(run_dir, self.step, SCORES_NAME)  # a resumed run scores those again
            (run_dir / "samples").mkdir(exist_ok=True)
        except OSError as exc:
            raise write_error(run_dir, exc, self.step) from exc
        self.run_dir, self.cfg, self.mcfg, self.device = run_dir, cfg, mcfg, device
        self.n, self.spec = n, spec
        self.last_saved = self.step
        self.failed: str | None = None  # a packed run that diverged stops recording

    def announce(self) -> None:
        where = f"{self.spec.name}, {self.n} training images, device {self.device}"
        print(f"run {self.run_dir}  ({where})")
        print("model: " + json.dumps(self.mcfg.to_dict(), sort_keys=True))
        print("train: " + json.dumps(self.cfg.to_dict(), sort_keys=True))
        if self.step:
            print(f"resuming at step {self.step} to step {self.cfg.steps}")
        if self.dropped:
            print(f"removed {', '.join(self.dropped)} of the step-{self.step} model")

    def start_clock(self) -> None:
        self.started = time.perf_counter()
        self.interval_start, self.interval_steps = time.perf_counter(), 0

    def wall(self) -> float:
        return self.wall_before + time.perf_counter() - self.started

    def batch(self) -> tuple[Tensor, Tensor]:
        """This step's real images (in the model's range) and labels."""
        idx = batch_indices(self.step, self.n, self.cfg.batch_size, self.cfg.seed).to(self.device)
        return to_model_range(self.images[idx]), self.labels[idx]

    def record(self, stats: dict[str, Tensor]) -> dict | None:
        """After a step: the stats row every log_every steps, the grid, the curve point, the
        checkpoint. Returns the stats row when one was written."""
        cfg, run_dir = self.cfg, self.run_dir
        self.step += 1
        self.interval_steps += 1
        step, row = self.step, None
        for key, value in stats.items():
            self.interval.setdefault(key, []).append(value)
        try:
            if step % cfg.log_every == 0 or step == cfg.steps:
                row = {k: float(torch.stack(v).mean()) for k, v in self.interval.items()}
                bad = [k for k, v in row.items() if not math.isfinite(v)]
                if bad:
                    raise TrainingError(
                        f"step {step}: {', '.join(bad)} became NaN/Inf; the run stops here. "
                        f"The last good checkpoint (step {self.last_saved}) is in {run_dir}; "
                        "try a lower --lr or another --seed"
                    )
                elapsed = time.perf_counter() - self.interval_start
                row.update(
                    step=step,
                    images_per_s=round(
                        self.interval_steps * cfg.batch_size / max(elapsed, 1e-9), 1
                    ),
                    wall_time=round(self.wall(), 3),
                )
                append_line(run_dir / STATS_NAME, json.dumps(row, allow_nan=False))
                self.interval, self.interval_start, self.interval_steps = {}, time.perf_counter(), 0
            if step % cfg.sample_every == 0 or step == cfg.steps:
                write_sample_grid(self.model, run_dir, step)
            # before the checkpoint: a kill between the two re-scores this step on resume
            if self.scorer and (step % cfg.eval_every == 0 or step == cfg.steps):
                point = self.scorer.append(run_dir, self.model, step, self.wall())
                self.interval_start += point["eval_s"]  # images_per_s counts training only
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                self.save(force=True)
        except OSError as exc:  # disk full, read-only folder: the previous checkpoint is intact
            raise write_error(run_dir, exc, self.last_saved) from exc
        return row

    def save(self, force: bool = False) -> None:
        """A checkpoint now (when steps were taken since the last one, or ``force``)."""
        if force or self.step > self.last_saved:
            try:
                save_checkpoint(
                    self.run_dir,
                    self.step,
                    self.model,
                    self.trainer,
                    self.noise,
                    self.wall(),
                    self.interval,
                )
            except OSError as exc:
                raise write_error(self.run_dir, exc, self.last_saved) from exc
            self.last_saved = self.step

    def finish(self) -> None:
        """summary.json (and the family's end-of-run metrics) once every step is done."""
        wall = self.wall()
        try:
            atomic_write_json(
                self.run_dir / SUMMARY_NAME,
                {
                    "steps": self.step,
                    "wall_time_s": round(wall, 2),
                    "hardware": hardware(self.device),
                    "images_per_s": round(self.cfg.batch_size * self.step / max(wall, 1e-9), 1),
                },
            )
            if hasattr(self.trainer, "finish"):  # family-specific end-of-run metrics (PixelCNN)
                self.trainer.finish(self.run_dir, self.step, wall)
        except OSError as exc:
            raise write_error(self.run_dir, exc, self.last_saved) from exc


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
    run = Run(cfg, run_dir, model_overrides=model_overrides, resume=resume, judge=judge)
    run.announce()

    def step(batches):
        ((real, labels),) = batches
        return [run.trainer.step(real, labels, run.noise)]

    run_loop([run], step, f"{run.mcfg.preset}/{run.cfg.dataset}", progress, stop_after)
    return run.run_dir


def run_loop(runs: list[Run], step_fn, desc: str, progress: bool, stop_after: int | None) -> None:
    """Step every run until its last step (or ``stop_after`` steps), recording each; Ctrl-C /
    SIGTERM stop between two steps with a checkpoint of every run."""
    first, cfg = runs[0], runs[0].cfg
    bar = None
    if progress:
        bar = tqdm(total=cfg.steps, initial=first.step, desc=desc, unit="step", dynamic_ncols=True)
    for run in runs:
        run.start_clock()
    stop_at = cfg.steps if stop_after is None else min(cfg.steps, first.step + stop_after)
    packed = len(runs) > 1
    try:
        with DeferredInterrupt() as interrupt:
            while first.step < stop_at:
                for run, stats in zip(runs, step_fn([r.batch() for r in runs]), strict=True):
                    if run.failed:
                        run.step += 1  # its slice is computed still; it is no longer recorded
                        continue
                    try:
                        row = run.record(stats)
                    except TrainingError as exc:
                        if not packed:
                            raise
                        run.failed = str(exc)
                        print(f"{run.run_dir}: {exc}", flush=True)
                        continue
                    if bar is not None and row is not None and run is first:
                        bar.set_postfix(
                            d=f"{row.get('d_adv', row.get('nll', 0)):.3f}",
                            g=f"{row.get('g_adv', 0):.3f}",
                        )
                if bar is not None:
                    bar.update(1)
                if interrupt.requested:
                    for run in runs:
                        if not run.failed:
                            run.save()
                    break
        if interrupt.requested:
            where = first.run_dir if not packed else "each run dir"
            raise TrainingError(
                f"interrupted at step {first.step}; checkpoint saved. Resume with: "
                f"python -m core train --run-dir {where} --resume"
            )
        for run in runs:
            if run.step >= cfg.steps and not run.failed:
                run.finish()
    except KeyboardInterrupt:  # a second Ctrl-C: stop at once; the last checkpoints stand
        raise TrainingError(
            f"interrupted at step {first.step}; the last checkpoint (step {first.last_saved}) "
            f"is in {first.run_dir}. Resume with: python -m core train --run-dir "
            f"{first.run_dir} --resume"
        ) from None
    finally:
        if bar is not None:
            bar.close()


def write_sample_grid(model: nn.Module, run_dir: Path, step: int) -> Path:
    """The fixed-seed grid (seeds 0..99; column k = class k), back in train mode after."""
    k = model.config.n_classes
    images = sample(model, GRID_SEEDS, [i % k for i in GRID_SEEDS]).images
    model.train()
    return save_grid(images, run_dir / "samples" / f"step_{step:06d}.png", nrow=k)
