"""The report's score curves (core/evaluate/curve_report.py) per track, and the curves the zoo
ships: every seed of an entry whose recipe records one."""

from __future__ import annotations

import json

from core.evaluate import report
from core.evaluate.curve_report import shipped_curves
from core.paths import PRETRAINED_ROOT
from core.zoo.recipes import ENTRIES, PAPER_CURVED


def _write_curve(path, fds, every=250):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"step": every * (i + 1), "n_samples": 2000, "fd2k": v} for i, v in enumerate(fds)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_each_track_of_a_data_set_gets_its_own_curve_figure(tmp_path):
    """The paper track's curves (a few thousand steps) are drawn apart from the modern track's
    (tens of thousands), one figure each, both named in the report."""
    zoo = tmp_path / "pretrained"
    for name in ("tgan-mnist-500-modern", "gan-mnist-500", "gan-fashion-500"):
        _write_curve(zoo / name / "seeds" / "s0" / "scores.jsonl", [8, 4, 2, 1.02, 0.98])
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
        for seed, curve in got.items():
            assert curve[0]["step"] == every and curve[-1]["step"] == e.steps, (e.name, seed)
            assert len(curve) == e.steps // every, (e.name, seed)
