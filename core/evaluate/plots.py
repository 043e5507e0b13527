"""Static figures for reports, drawn with Pillow (no plotting stack needed in CI)."""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from core.atomic import atomic_write_bytes, read_jsonl
from core.evaluate.curve import curve_points, read_curve
from core.losses import EQUILIBRIUM_D_LOSS, EQUILIBRIUM_G_LOSS

SCORE_COLOUR = (20, 140, 60)


@dataclass(frozen=True)
class _Frame:
    """A plot's box (pixels) and data range: ``xy`` maps (step, value) to pixels, ``draw_axes``
    draws the box, the y ticks at ``y_ticks`` and five step ticks along the bottom."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    first: float
    last: float
    lo: float
    hi: float

    def xy(self, step: float, value: float) -> tuple[float, float]:
        x = self.left + (self.width - self.left - self.right) * (step - self.first) / max(
            1, self.last - self.first
        )
        y = self.top + (self.height - self.top - self.bottom) * (self.hi - value) / (
            self.hi - self.lo
        )
        return x, y

    def draw_axes(self, draw, y_ticks: list[float], fmt: str) -> None:
        box = [self.left, self.top, self.width - self.right, self.height - self.bottom]
        draw.rectangle(box, outline="black")
        for value in y_ticks:
            _, y = self.xy(self.first, value)
            draw.line([self.left - 4, y, self.left, y], fill="black")
            draw.text((8, y - 6), format(value, fmt), fill="black")
        for frac in (0, 0.25, 0.5, 0.75, 1):
            x, _ = self.xy(self.first + frac * (self.last - self.first), self.lo)
            step = int(self.first + frac * (self.last - self.first))
            draw.text((x - 14, self.height - self.bottom + 6), f"{step}", fill="black")


def _save_png(image: Image.Image, out_path: str | os.PathLike) -> Path:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    atomic_write_bytes(out_path, buf.getvalue())
    return Path(out_path)


def loss_curve_png(
    stats_path: str | os.PathLike,
    out_path: str | os.PathLike,
    title: str = "",
    scores_path: str | os.PathLike | None = None,
) -> Path:
    """D and G adversarial losses of a run's stats.jsonl against 2 log 2 and log 2, as a PNG.
    With ``scores_path`` (the run's scores.jsonl, core/evaluate/curve.py) its FD points are
    drawn too, in green on their own axis at the right, so one sees where the score stopped
    moving beside what the losses did."""
    rows = [r for r in read_jsonl(stats_path) if "d_adv" in r and "g_adv" in r]
    if not rows:
        raise ValueError(f"{stats_path}: no d_adv / g_adv lines to plot")
    steps = [r["step"] for r in rows]
    series = {"D loss": [r["d_adv"] for r in rows], "G loss": [r["g_adv"] for r in rows]}
    curve = read_curve(scores_path) if scores_path is not None else []
    fd = curve_points(curve, "fd")
    first, last = min([steps[0]] + [s for s, _ in fd]), max([steps[-1]] + [s for s, _ in fd])
    width, height, left, right, top, bottom = 720, 400, 60, 64 if fd else 20, 36, 44
    lo = min(0.0, *series["D loss"], *series["G loss"])
    hi = max(EQUILIBRIUM_D_LOSS * 1.25, *series["D loss"], *series["G loss"])
    hi = math.ceil(hi * 4) / 4

    frame = _Frame(width, height, left, right, top, bottom, first, last, lo, hi)
    xy = frame.xy
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    frame.draw_axes(draw, [lo + 0.25 * k for k in range(int((hi - lo) / 0.25) + 1)], ".2f")
    for value, label in ((EQUILIBRIUM_D_LOSS, "2 log 2"), (EQUILIBRIUM_G_LOSS, "log 2")):
        _, y = xy(first, value)
        for x0 in range(left, width - right, 12):  # dashed reference line
            draw.line([x0, y, min(x0 + 6, width - right), y], fill="gray")
        draw.text((width - right - 50, y - 14), label, fill="gray")
    colours = {"D loss": (200, 30, 30), "G loss": (30, 60, 200)}
    for name, values in series.items():
        draw.line(
            [xy(s, v) for s, v in zip(steps, values, strict=True)], fill=colours[name], width=2
        )
    draw.text((left, 10), title or str(stats_path), fill="black")
    draw.text((left + 380, 10), "D loss", fill=colours["D loss"])
    draw.text((left + 440, 10), "G loss", fill=colours["G loss"])
    if fd:
        _draw_score_axis(draw, fd, xy, (hi, lo), width - right, f"fd{curve[-1]['n_samples']}")
    draw.text((width // 2 - 20, height - 18), "step", fill="black")
    return _save_png(image, out_path)


def _draw_score_axis(draw, points, xy, loss_range, x_axis, name) -> None:
    """FD points (step, value) mapped onto the loss plot's height, ticks on the right axis."""
    hi, lo = loss_range
    top_value = max(v for _, v in points) * 1.1 or 1.0

    def to_loss(value: float) -> float:  # FD 0..top_value -> the loss axis' lo..hi
        return lo + (hi - lo) * value / top_value

    for k in range(5):
        value = top_value * k / 4
        _, y = xy(points[0][0], to_loss(value))
        draw.line([x_axis, y, x_axis + 4, y], fill=SCORE_COLOUR)
        draw.text((x_axis + 6, y - 6), f"{value:.3g}", fill=SCORE_COLOUR)
    xys = [xy(s, to_loss(v)) for s, v in points]
    if len(xys) > 1:
        draw.line(xys, fill=SCORE_COLOUR, width=2)
    for x, y in xys:
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=SCORE_COLOUR)
    draw.text((x_axis - 96, 10), f"{name} (right axis)", fill=SCORE_COLOUR)


PALETTE = (
    (200, 30, 30),
    (30, 60, 200),
    (20, 140, 60),
    (150, 60, 170),
    (230, 130, 0),
    (0, 150, 160),
    (120, 120, 120),
    (140, 90, 40),
    (230, 60, 150),
    (90, 170, 30),
)


def _log_ticks(lo: float, hi: float, base_steps: tuple[float, ...]) -> list[float]:
    """The values ``m * 10**k`` (m in ``base_steps``) from ``lo`` to ``hi``."""
    out = []
    for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        out += [m * 10**k for m in base_steps if lo <= m * 10**k <= hi]
    return out


def score_curves_png(
    series: list[tuple[str, list[tuple[int, float]]]],
    out_path: str | os.PathLike,
    title: str,
    metric: str = "FD",
) -> Path:
    """Score curves of several runs on one log-log axis (entries trained for 20,000 and 160,000
    steps, FD from 0.2 to 20, stay readable side by side): ``series`` is [(name, [(step,
    value), ...])]; runs with the same name (the seeds of one entry) share a colour, and the
    legend names each colour once. Each run's last 25% of steps, the window the report's
    flatness is measured over, is drawn thick."""
    series = [(name, [(s, v) for s, v in pts if s > 0 and v > 0]) for name, pts in series]
    series = [(name, pts) for name, pts in series if pts]
    if not series:
        raise ValueError(f"{out_path}: no score points to plot")
    names = list(dict.fromkeys(name for name, _ in series))
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    steps = [s for _, pts in series for s, _ in pts]
    values = [v for _, pts in series for _, v in pts]
    first, last = min(steps), max(steps)
    vmin, vmax = min(values) / 1.15, max(values) * 1.15
    legend_h = 16 * len(names)
    width, height, left, right, top, bottom = 720, 360 + legend_h, 60, 20, 36 + legend_h, 44
    frame = _Frame(
        width,
        height,
        left,
        right,
        top,
        bottom,
        math.log(first),
        math.log(max(last, first + 1)),
        math.log(vmin),
        math.log(vmax),
    )

    def xy(step: float, value: float) -> tuple[float, float]:
        return frame.xy(math.log(step), math.log(value))

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    for value in _log_ticks(vmin, vmax, (1, 2, 5)):
        _, y = xy(first, value)
        draw.line([left - 4, y, left, y], fill="black")
        draw.text((8, y - 6), format(value, ".3g"), fill="black")
    for step in _log_ticks(first, last, (1, 2, 4)):
        x, _ = xy(step, vmin)
        draw.line([x, height - bottom, x, height - bottom + 4], fill="black")
        draw.text((x - 12, height - bottom + 6), f"{step / 1000:g}k", fill="black")
    for name, pts in series:
        tail_from = 0.75 * pts[-1][0]
        xys = [xy(s, v) for s, v in pts]
        tail = [p for p, (s, _) in zip(xys, pts, strict=True) if s >= tail_from]
        if len(xys) > 1:
            draw.line(xys, fill=colour[name], width=1)
        if len(tail) > 1:
            draw.line(tail, fill=colour[name], width=4)
        for x, y in xys:
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour[name])
    draw.text((left, 10), title, fill="black")
    for i, name in enumerate(names):
        draw.text((left, 28 + 16 * i), f"-- {name}", fill=colour[name])
    caption = f"step (log scale; {metric} log scale; thick: each run's last 25% of steps)"
    draw.text((width // 2 - 200, height - 18), caption, fill="black")
    return _save_png(image, out_path)
