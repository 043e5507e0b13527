"""Report figures."""

import json

import pytest
from PIL import Image

from core.evaluate.plots import SCORE_COLOUR, loss_curve_png


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


def test_loss_curve_png_draws_the_score_curve_beside_the_losses(tmp_path):
    """With a scores.jsonl the FD points appear in green on a right-hand axis; without one, or
    with one that holds no FD, the figure has no green."""
    stats = tmp_path / "stats.jsonl"
    rows = [{"step": s, "d_adv": 1.3, "g_adv": 0.8} for s in range(50, 1050, 50)]
    stats.write_text("".join(json.dumps(r) + "\n" for r in rows))
    scores = tmp_path / "scores.jsonl"
    points = [{"step": s, "n_samples": 500, "fd500": 30.0 / (s / 200)} for s in (200, 600, 1000)]
    scores.write_text("".join(json.dumps(r) + "\n" for r in points))
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"step": 200, "n_samples": 500}\n')

    def colours(path):
        return {c for _, c in Image.open(path).convert("RGB").getcolors(720 * 400)}

    with_fd = loss_curve_png(stats, tmp_path / "a.png", "t", scores)
    assert SCORE_COLOUR in colours(with_fd) and (200, 30, 30) in colours(with_fd)
    assert SCORE_COLOUR not in colours(loss_curve_png(stats, tmp_path / "b.png", "t"))
    assert SCORE_COLOUR not in colours(loss_curve_png(stats, tmp_path / "c.png", "t", empty))


def test_score_curves_keep_a_short_run_readable_beside_a_long_one(tmp_path):
    """The report's curve figure: log steps, so a 20,000-step entry spans more than half the
    width beside a 160,000-step one (a linear axis squeezes it into an eighth), and seven
    entries get seven colours."""
    from core.evaluate.plots import PALETTE, score_curves_png

    long = [(s, 20.0 * 1000 / s + 1.4) for s in range(1000, 160001, 1000)]
    short = [(s, 2.0 * 1000 / s + 0.25) for s in range(1000, 20001, 1000)]
    others = [(f"e{i}", [(s, 1.0 + i) for s in (1000, 10000)]) for i in range(5)]
    out = score_curves_png([("long", long), ("short", short), *others], tmp_path / "c.png", "t")
    image = Image.open(out).convert("RGB")
    width = image.size[0]
    short_colour, long_colour = PALETTE[1], PALETTE[0]
    xs = [
        x
        for x in range(width)
        for y in range(image.size[1])
        if image.getpixel((x, y)) == short_colour and y > 150
    ]
    long_xs = [
        x
        for x in range(width)
        for y in range(image.size[1])
        if image.getpixel((x, y)) == long_colour and y > 150
    ]
    plot_left, plot_right = min(long_xs), max(long_xs)
    assert (max(xs) - plot_left) / (plot_right - plot_left) > 0.5
    colours = {c for _, c in image.getcolors(width * image.size[1])}
    assert all(PALETTE[i] in colours for i in range(7))
