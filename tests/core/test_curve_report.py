"""The report's score-curve section beyond the tail drift (issue 21, "trained to the
plateau"): what the last doubling of the steps bought, the modern race read off the curves at
equal steps, one figure per data set and track; and the curves the zoo ships: every seed of an
entry whose recipe records one."""

from __future__ import annotations

import pytest

from core.evaluate import report
from core.evaluate.curve import doubling_gain, tail_drift
from core.evaluate.curve_report import shipped_curves
from core.paths import PRETRAINED_ROOT
from core.zoo.recipes import ENTRIES, PAPER_CURVED
from tests.core.test_tracks import _jsonl, curve


def test_doubling_gain_sees_a_slow_fall_that_a_flat_tail_hides():
    """FD ~ steps^-0.3 with +-4% noise: the last quarter's drift is within 10% (flat by the
    tail rule), yet the last doubling of the steps cut FD by 1 - 2^-0.3 = 19%."""
    wiggle = [1.04, 0.96] * 20
    slow = curve([10 * (i + 1) ** -0.3 * w for i, w in enumerate(wiggle)])
    assert tail_drift(slow)["flat"]
    assert doubling_gain(slow) == pytest.approx(1 - 2**-0.3, abs=0.02)
    assert doubling_gain(curve([1.0] * 40)) == pytest.approx(0.0)
    assert doubling_gain(curve([8, 4, 2, 1, 1, 1, 1, 1])) is None  # 2 points in the cut window
    assert doubling_gain([]) is None


def test_the_report_reads_the_modern_race_at_equal_steps(tmp_path):
    """Entries at different budgets are compared at the largest step all their seeds
    reached (4,000 here), best FD first; an entry outside the modern track is left out."""
    zoo = tmp_path / "pretrained"
    short = [9, 5, 3, 2.0]  # 1000-4000
    longer = [9, 6, 4, 3.0, 2.0, 1.5, 1.2, 1.0]  # 1000-8000: 3.0 at step 4000
    for seed, shift in ((0, 0.0), (1, 0.2)):
        _jsonl(
            zoo / "dcgan-mnist-500-modern" / "seeds" / f"s{seed}" / "scores.jsonl",
            curve([v + shift for v in longer]),
        )
        _jsonl(
            zoo / "tgan-mnist-500-modern" / "seeds" / f"s{seed}" / "scores.jsonl",
            curve([v + shift for v in short]),
        )
        _jsonl(
            zoo / "tgan-mnist-500-onehot" / "seeds" / f"s{seed}" / "scores.jsonl", curve([0.1] * 2)
        )
    md, _, _ = report.build_report([zoo], zoo / "RESULTS.md", zoo / "results.csv")
    text = md.read_text()
    assert "### The modern race at equal steps" in text
    rows = [x for x in text.splitlines() if x.startswith("| mnist | 500 | 4,000 |")]
    assert rows == [
        "| mnist | 500 | 4,000 | tgan-mnist-500-modern | 2 | 2.100 ± 0.100 | n/a | 0.900 | "
        "2.100 (4,000) |",
        "| mnist | 500 | 4,000 | dcgan-mnist-500-modern | 2 | 3.100 ± 0.100 | n/a | 0.900 | "
        "1.100 (8,000) |",
    ]


def test_each_track_of_a_data_set_gets_its_own_curve_figure(tmp_path):
    """The paper track's curves (a few thousand steps) are drawn apart from the modern track's
    (tens of thousands), one figure each, both named in the report."""
    zoo = tmp_path / "pretrained"
    for name in ("tgan-mnist-500-modern", "gan-mnist-500", "gan-fashion-500"):
        _jsonl(zoo / name / "seeds" / "s0" / "scores.jsonl", curve([8, 4, 2, 1.02, 0.98]))
    md, _, _ = report.build_report([zoo], zoo / "RESULTS.md", zoo / "results.csv")
    text = md.read_text()
    figures = sorted(p.name for p in zoo.glob("curves-*.png"))
    assert figures == ["curves-fashion-paper.png", "curves-mnist-paper.png", "curves-mnist.png"]
    assert all(f"({name})" in text for name in figures)
    assert "![mnist score curves, paper track](curves-mnist-paper.png)" in text


def test_every_shipped_seed_of_a_curved_recipe_ships_its_curve():
    """An entry whose recipe records a score curve (``--eval-every``: the modern track, and the
    paper track's rivals where PAPER_CURVED says) ships one for every scored seed, from its
    first interval to its budget; a seed retrained without it, or cut short, fails here."""
    curves = shipped_curves(PRETRAINED_ROOT)
    curved = [e for e in ENTRIES.values() if e.train_options.get("eval_every")]
    assert any(not e.tag and e.dataset in PAPER_CURVED for e in curved)
    for e in curved:
        seeds = sorted(p.name for p in (PRETRAINED_ROOT / e.name / "seeds").glob("s*"))
        if not seeds:
            continue  # planned, not shipped (test_every_shipped_entry_loads... names those)
        got = curves.get(e.name, {})
        assert sorted(f"s{s}" for s in got) == seeds, e.name
        every = e.train_options["eval_every"]
        for seed, points in got.items():
            assert points[0]["step"] == every and points[-1]["step"] == e.steps, (e.name, seed)
            assert len(points) == e.steps // every, (e.name, seed)
