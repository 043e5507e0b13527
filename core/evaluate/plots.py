"""Static figures for reports, drawn with Pillow (no plotting stack needed in CI)."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

from PIL import Image, ImageDraw

from core.atomic import atomic_write_bytes, read_jsonl
from core.losses import EQUILIBRIUM_D_LOSS, EQUILIBRIUM_G_LOSS


def loss_curve_png(
    stats_path: str | os.PathLike, out_path: str | os.PathLike, title: str = ""
) -> Path:
    """D and G adversarial losses of a run's stats.jsonl against 2 log 2 and log 2, as a PNG."""
    rows = [r for r in read_jsonl(stats_path) if "d_adv" in r and "g_adv" in r]
    if not rows:
        raise ValueError(f"{stats_path}: no d_adv / g_adv lines to plot")
    steps = [r["step"] for r in rows]
    series = {"D loss": [r["d_adv"] for r in rows], "G loss": [r["g_adv"] for r in rows]}
    width, height, left, right, top, bottom = 720, 400, 60, 20, 36, 44
    lo = min(0.0, *series["D loss"], *series["G loss"])
    hi = max(EQUILIBRIUM_D_LOSS * 1.25, *series["D loss"], *series["G loss"])
    hi = math.ceil(hi * 4) / 4

    def xy(step: float, value: float) -> tuple[float, float]:
        x = left + (width - left - right) * (step - steps[0]) / max(1, steps[-1] - steps[0])
        y = top + (height - top - bottom) * (hi - value) / (hi - lo)
        return x, y

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    for k in range(int((hi - lo) / 0.25) + 1):  # y grid every 0.25
        value = lo + 0.25 * k
        _, y = xy(steps[0], value)
        draw.line([left - 4, y, left, y], fill="black")
        draw.text((8, y - 6), f"{value:.2f}", fill="black")
    for frac in (0, 0.25, 0.5, 0.75, 1):
        step = steps[0] + frac * (steps[-1] - steps[0])
        x, _ = xy(step, lo)
        draw.text((x - 14, height - bottom + 6), f"{int(step)}", fill="black")
    for value, label in ((EQUILIBRIUM_D_LOSS, "2 log 2"), (EQUILIBRIUM_G_LOSS, "log 2")):
        _, y = xy(steps[0], value)
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
    draw.text((width // 2 - 20, height - 18), "step", fill="black")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    atomic_write_bytes(out_path, buf.getvalue())
    return Path(out_path)
