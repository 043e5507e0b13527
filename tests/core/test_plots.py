"""Report figures."""

import json

import pytest
from PIL import Image

from core.evaluate.plots import loss_curve_png


def test_loss_curve_png_draws_both_curves(tmp_path):
    stats = tmp_path / "stats.jsonl"
    rows = [{"step": s, "d_adv": 1.3 + 0.01 * (s % 3), "g_adv": 0.8} for s in range(50, 1050, 50)]
    stats.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"step": 1, "torn')
    out = loss_curve_png(stats, tmp_path / "l.png", "t")
    image = Image.open(out).convert("RGB")
    assert image.size == (720, 400)
    colours = {c for _, c in image.getcolors(720 * 400)}
    assert (200, 30, 30) in colours and (30, 60, 200) in colours  # D red, G blue


def test_loss_curve_png_refuses_a_log_without_losses(tmp_path):
    stats = tmp_path / "stats.jsonl"
    stats.write_text('{"step": 1, "nll": 3.0}\n')
    with pytest.raises(ValueError, match="no d_adv"):
        loss_curve_png(stats, tmp_path / "l.png")
