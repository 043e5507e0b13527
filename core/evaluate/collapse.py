"""The report's collapse check (issue 21): ACGAN's within-class diversity against DCGAN's.

Diversity (core/evaluate/metrics.py) is, within each class, the mean pairwise judge-feature
distance of the samples over the same for real test images: near 0 when a class is one image.
ACGAN and DCGAN differ in one thing, ACGAN's auxiliary classifier, so an ACGAN whose diversity
falls far below DCGAN's on the same data, regime and track has collapsed within its
classes. Each ACGAN row is set against the DCGAN row of its own track; a study-track ACGAN
(e.g. the label-embedding one, ``acgan[conditioning=embedding]``) against the paper track's
DCGAN, the recipe it departs from.
"""

from __future__ import annotations

import math

from core.evaluate.compare_rows import fmt_value, mean_of, row_entries, seeds_with

BAND = 0.30  # "within 30% of DCGAN's": |ACGAN / DCGAN - 1| <= BAND


def _partner(rows, acgan):
    """The DCGAN row to set ``acgan`` against (same data set and regime; its track, or the
    paper track for a study row), the same prior first: one with the same steps; in the modern
    track, which trains each entry to its own plateau, else the longest-trained. None if none."""
    track = acgan.track if acgan.track in ("paper", "modern") else "paper"
    found = [
        r
        for r in rows
        if r.kind == "model"
        and r.preset == "dcgan"
        and r.track == track
        and (r.dataset, r.regime) == (acgan.dataset, acgan.regime)
        and (track == "modern" or r.steps == acgan.steps)
    ]
    if not found:
        return None
    return max(
        found,
        key=lambda r: (r.steps == acgan.steps, r.steps or 0, r.prior == acgan.prior),
    )


def ratio_se(acgan, dcgan) -> float | None:
    """Standard error of mean(ACGAN) / mean(DCGAN) over training seeds (first-order, the two
    rows' seeds independent); None unless both rows have >= 2 seeds with diversity (one seed's
    ± is the run's own spread, not a seed-to-seed one)."""
    na, nd = seeds_with(acgan, "diversity"), seeds_with(dcgan, "diversity")
    if na < 2 or nd < 2:
        return None
    (a, sa), (d, sd) = acgan.values["diversity"], dcgan.values["diversity"]
    return (a / d) * math.sqrt((sa / a) ** 2 / na + (sd / d) ** 2 / nd)


def collapse_pairs(rows) -> list[dict]:
    """One dict per ACGAN row with a DCGAN partner and both diversities measured: the two rows,
    the ratio ACGAN / DCGAN, its standard error over seeds (None with a 1-seed row) and whether
    the ratio is within BAND of 1."""
    out = []
    for acgan in rows:
        if acgan.kind != "model" or acgan.preset != "acgan":
            continue
        dcgan = _partner(rows, acgan)
        a, d = mean_of(acgan, "diversity"), mean_of(dcgan, "diversity")
        if a is None or d is None or d <= 0:
            continue
        ratio = a / d
        out.append(
            {
                "acgan": acgan,
                "dcgan": dcgan,
                "ratio": ratio,
                "se": ratio_se(acgan, dcgan),
                "within": abs(ratio - 1) <= BAND,
            }
        )
    return out


def collapse_section(rows) -> list[str]:
    """The report's section: a table of every ACGAN row against its DCGAN (empty: no pair)."""
    pairs = collapse_pairs(rows)
    if not pairs:
        return []
    lines = [
        "## Within-class diversity: ACGAN against DCGAN",
        "",
        "ACGAN is DCGAN plus an auxiliary classifier; a ratio far below 1 means ACGAN draws "
        "nearly one image per class (collapse). Each ACGAN row against the DCGAN row of its own "
        "track, data set and regime, with the same steps where there is one (the modern track "
        "trains each to its own budget; *steps* gives ACGAN's / DCGAN's where they differ; a "
        "study-track ACGAN against the paper track's DCGAN); "
        f"*within {BAND:.0%}*: |ratio - 1| <= {BAND:g}. ± as in the table above; the "
        "ratio's ± is its standard error over training seeds when both rows have 2 or more.",
        "",
        "| track | data set | regime | steps | ACGAN entry | seeds (ACGAN / DCGAN) | "
        f"ACGAN diversity | DCGAN diversity | ratio | within {BAND:.0%} |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in pairs:
        a, d = p["acgan"], p["dcgan"]
        steps = f"{a.steps:,}" if a.steps else "?"
        if d.steps != a.steps:
            steps += f" / {d.steps:,}" if d.steps else " / ?"
        # a study row departs from its track's recipe: say how (e.g. the label embedding)
        name = f"`{row_entries(a)}`" + (f" (`{a.model}`)" if a.track == "study" else "")
        ratio = f"{p['ratio']:.2f}" + ("" if p["se"] is None else f" ± {p['se']:.2f}")
        lines.append(
            f"| {a.track} | {a.dataset} | {a.regime} | {steps} | {name} | "
            f"{seeds_with(a, 'diversity')} / {seeds_with(d, 'diversity')} | "
            f"{fmt_value(a, 'diversity')} | "
            f"{fmt_value(d, 'diversity')} | {ratio} | "
            f"{'yes' if p['within'] else '**no**'} |"
        )
    return [*lines, ""]
