"""The report's score-curve section (``python -m core report``): every shipped entry's score
curves (core/evaluate/curve.py), one table row per entry and seed saying how far FD still moved
over the last 25% of the steps, and one figure per data set and track with every curve.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.atomic import read_json
from core.evaluate.curve import (
    FLAT_DRIFT,
    curve_points,
    curve_values,
    doubling_text,
    mean_curve,
    read_curve,
    tail_drift,
)
from core.evaluate.plots import score_curves_png
from core.evaluate.scoring import protocol
from core.run_dir import SCORES_NAME


def shipped_curves(out_dir: Path) -> dict[str, dict[int, list[dict]]]:
    """{entry: {seed: score curve}} of every entry beside the report: each seed's
    ``seeds/s<seed>/scores.jsonl`` (``reproduce batch`` copies it there), else the entry's own
    ``scores.jsonl`` for its shipped seed (entry.json)."""
    found: dict[str, dict[int, list[dict]]] = {}
    for folder in sorted(p for p in out_dir.iterdir() if p.is_dir()) if out_dir.is_dir() else []:
        curves: dict[int, list[dict]] = {}
        for path in sorted(folder.glob(f"seeds/s*/{SCORES_NAME}")):
            seed = path.parent.name[1:]
            if seed.isdigit():
                curves[int(seed)] = read_curve(path)
        info = read_json(folder / "entry.json") or {}
        seed = info.get("seed")
        if (folder / SCORES_NAME).is_file() and isinstance(seed, int) and seed not in curves:
            curves[seed] = read_curve(folder / SCORES_NAME)
        curves = {s: c for s, c in curves.items() if c}
        if curves:
            found[folder.name] = dict(sorted(curves.items()))
    return found


def _curve_cells(curve: list[dict], few: str = "too few points") -> str:
    """The table cells of one FD curve (a seed's, or an entry's seed mean): points, FD first ->
    last, ``tail_drift``'s drift, spread and verdict (``few`` when it has too few points) and
    what its last doubling bought (``doubling_text``)."""
    fd = curve_values(curve, "fd")
    span = f"{fd[0]:.3g} -> {fd[-1]:.3g}" if fd else "n/a"
    steps = f"{len(curve)} ({curve[0]['step']}-{curve[-1]['step']})" if curve else "0"
    d, bought = tail_drift(curve), doubling_text(curve)
    if d is None:
        return f"{steps} | {span} | {few} | - | - | {bought}"
    flat = "yes" if d["flat"] else "**no**"
    return f"{steps} | {span} | {d['drift']:+.1%} | {d['spread']:.1%} | {flat} | {bought}"


def _at_step(curves: dict[int, list[dict]], step: int, metric: str) -> list[float]:
    """Each seed's ``metric`` at ``step`` (seeds without a value there left out)."""
    values = (dict(curve_points(c, metric)).get(step) for c in curves.values())
    return [v for v in values if v is not None]


def equal_steps_section(found: dict[str, dict[int, list[dict]]]) -> list[str]:
    """The modern race at one budget, read off the curves: per data set and regime, every
    modern entry's seed-mean curve scores at the largest step all their seeds reached. Beside
    the claims, which set each entry at its own budget, this compares like with like."""
    groups: dict[tuple[str, str], dict[str, dict[int, list[dict]]]] = {}
    for name, curves in found.items():
        parts = name.split("-")
        if "modern" in parts and len(parts) >= 4:
            groups.setdefault((parts[1], parts[2]), {})[name] = curves
    lines: list[str] = []
    for (dataset, regime), entries in sorted(groups.items()):
        if len(entries) < 2:
            continue
        step = min(c[-1]["step"] for curves in entries.values() for c in curves.values())
        rows = []
        for name, curves in entries.items():
            fd = _at_step(curves, step, "fd")
            if len(fd) != len(curves):
                continue  # a seed without a point at that step: no like-for-like row
            cells = []
            for metric in ("recall", "fidelity"):
                v = _at_step(curves, step, metric)
                cells.append(f"{np.mean(v):.3f}" if len(v) == len(curves) else "n/a")
            own = [curve_values(c, "fd")[-1] for c in curves.values()]
            budget = max(c[-1]["step"] for c in curves.values())
            rows.append(
                (
                    float(np.mean(fd)),
                    f"| {dataset} | {regime} | {step:,} | {name} | {len(curves)} | "
                    f"{np.mean(fd):.3f} ± {np.std(fd):.3f} | {' | '.join(cells)} | "
                    f"{np.mean(own):.3f} ({budget:,}) |",
                )
            )
        lines += [row for _, row in sorted(rows)]
    if not lines:
        return []
    return [
        "### The modern race at equal steps",
        "",
        "The claims set each entry at its own budget. Here every modern entry of a data set is "
        "read off its score curves at one step, the largest all of them reached (2,000 fixed "
        "seeds, the seeds' mean ± sd; best FD first), with its FD at its own budget beside it.",
        "",
        "| data set | regime | step | entry | seeds | FD at the step | recall | fidelity | "
        "FD at its budget (steps) |",
        "|---|---|---|---|---|---|---|---|---|",
        *lines,
        "",
    ]


def curves_section(out_dir: Path) -> list[str]:
    """The report's score-curve section: per entry and seed, FD from its first point to its
    last and how far it still moved over the last 25% of the steps (``tail_drift``), and one
    figure per data set and track with every curve."""
    found = shipped_curves(out_dir)
    if not found:
        return []
    lines = [
        "## Score curves: trained to the plateau?",
        "",
        "Each run with `--eval-every` scored its generator during training (2,000 fixed seeds "
        "unless said, the data set's judge). *Drift*: a least-squares line through the FD points "
        "of the last 25% of the steps, its change over that window as a share of the window's "
        f"mean FD (negative: still improving); *flat* when |drift| <= {FLAT_DRIFT:.0%}. "
        "*Spread*: max - min over the same window, as a share of its mean (the points' noise). "
        "*Last doubling*: the mean FD of the last 25% of the steps against the same window of "
        "the curve cut at half its steps, i.e. what the last doubling of the budget bought "
        "(negative: FD fell). A slow power-law fall hides in one quarter's noisy tail but shows "
        f"here: an entry whose last doubling moved FD by under {FLAT_DRIFT:.0%} has stopped "
        "improving in a stronger sense than a flat tail. "
        "*Mean of N*: the same on the seeds' mean FD at each step (less noisy than one seed).",
        "",
        "| entry | seed | points | FD first -> last | drift, last 25% | spread | flat | "
        "last doubling | fidelity, last | diversity, last |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    by_figure: dict[tuple[str, str], list[tuple[str, list[tuple[int, float]]]]] = {}
    for name, curves in found.items():
        for seed, curve in curves.items():
            last = curve[-1]
            tag = protocol(last.get("n_samples") or 0) if last.get("n_samples") else ""

            def cell(key: str, row: dict = last, tag: str = tag) -> str:
                value = row.get(f"{key}{tag}")
                return "n/a" if not isinstance(value, int | float) else f"{value:.3f}"

            lines.append(
                f"| {name} | {seed} | {_curve_cells(curve)} | "
                f"{cell('fidelity')} | {cell('diversity')} |"
            )
            by_figure.setdefault(_figure_of(name), []).append((name, curve_points(curve, "fd")))
        if len(curves) >= 2:  # the entry's seed-mean curve (mean_curve): less noisy than a seed
            mean = mean_curve(list(curves.values()))
            cells = _curve_cells(mean, "too few shared points")
            lines.append(f"| {name} | **mean of {len(curves)}** | {cells} | - | - |")
    lines += ["", *equal_steps_section(found)]
    for (dataset, track), series in sorted(by_figure.items()):
        stem = f"curves-{dataset}" if track == "modern" else f"curves-{dataset}-{track}"
        png = out_dir / f"{stem}.png"
        title = f"{dataset}, {track} track: FD of every scored run (one line a seed)"
        score_curves_png(series, png, title)
        lines += [f"![{dataset} score curves, {track} track]({png.name})", ""]
    return lines


def _figure_of(name: str) -> tuple[str, str]:
    """(data set, track) of an entry's folder name, one figure each: a modern entry's curves
    (thousands of steps apart from the paper budgets) would squash the paper track's."""
    parts = name.split("-")
    return (parts[1] if len(parts) > 1 else "?", "modern" if "modern" in parts else "paper")
