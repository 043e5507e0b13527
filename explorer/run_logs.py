"""What the Training page shows of a run directory, read defensively: one run folder with a
garbled stats.jsonl or a non-image in samples/ must not take the page down for every visitor.
Each reader returns what it could use and names what it skipped."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from core.atomic import read_jsonl

CURVES = ("d_adv", "g_adv", "cls")
MAX_GRID_PIXELS = 4096 * 4096  # a sample grid larger than this is not one of ours


@dataclass(frozen=True)
class LossLog:
    """steps (N,) and each curve's values (N,), NaN where a line lacked a number; ``skipped``
    counts lines whose step was not a number, ``bad_values`` values that were not."""

    steps: list[float]
    curves: dict[str, list[float]]
    skipped: int = 0
    bad_values: int = 0
    problems: list[str] = field(default_factory=list)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def loss_log(run_dir: Path) -> LossLog:
    """The losses of ``run_dir/stats.jsonl``: lines whose ``step`` is a number, each curve's
    non-number values (``"x"``, null, inf) as NaN."""
    steps: list[float] = []
    curves: dict[str, list[float]] = {name: [] for name in CURVES}
    present: set[str] = set()
    skipped = bad = 0
    for row in read_jsonl(run_dir / "stats.jsonl"):
        if "step" not in row:
            continue
        step = _number(row["step"])
        if step is None:
            skipped += 1
            continue
        steps.append(step)
        for name in CURVES:
            if name not in row:
                curves[name].append(math.nan)
                continue
            present.add(name)
            value = _number(row[name])
            bad += value is None
            curves[name].append(math.nan if value is None else value)
    problems = []
    if skipped:
        problems.append(f"{skipped} line(s) whose step is not a number")
    if bad:
        problems.append(f"{bad} loss value(s) that are not numbers")
    kept = {name: values for name, values in curves.items() if name in present}
    return LossLog(steps, kept, skipped, bad, problems)


@dataclass(frozen=True)
class Grid:
    image: np.ndarray | None  # (H, W) or (H, W, C) uint8; None when no readable grid
    name: str
    problems: list[str]


def latest_grid(run_dir: Path) -> Grid:
    """The newest readable sample grid (``samples/step_*.png``, else a shipped ``samples.png``);
    files that are not images are skipped and named."""
    candidates = sorted((run_dir / "samples").glob("step_*.png"), reverse=True)
    candidates.append(run_dir / "samples.png")
    problems = []
    for path in candidates:
        if not path.is_file():
            continue
        try:
            with Image.open(path) as img:
                if img.width * img.height > MAX_GRID_PIXELS:
                    raise ValueError(f"{img.width}x{img.height} pixels")
                img.load()
                array = np.asarray(img.convert("RGB" if img.mode not in ("L", "RGB") else img.mode))
        except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
            problems.append(f"`{path.name}` is not a readable image ({type(exc).__name__})")
            continue
        return Grid(array, path.stem, problems)
    return Grid(None, "", problems)
