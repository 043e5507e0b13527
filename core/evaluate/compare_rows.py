"""Comparing report rows: the rules every claim's parts are made of (core/evaluate/claims.py).

A part compares two rows (core.evaluate.report.ReportRow) on one metric: True, False, or None
when a row or value is missing. Where both rows have >= 2 training seeds, "better" must clear
NOISE_SE standard errors of the difference of the means; with a 1-seed row the means alone
decide, and the evidence line says so. A claim's verdict: "not confirmed" if any measured part
fails, "confirmed" if every part holds, else "not measured".
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from core.atomic import read_jsonl
from core.paths import REPO_ROOT


def rows_of(rows, dataset: str, model: str, regime: str | None = None):
    """The model rows with exactly this label on ``dataset`` (in ``regime`` when given)."""
    return [
        r
        for r in rows
        if r.kind == "model"
        and r.dataset == dataset
        and r.model == model
        and (regime is None or r.regime == regime)
    ]


def best_row(rows, dataset: str, model: str, prefer: tuple[str, ...] = ("500", "full")):
    """The row of ``model`` on ``dataset`` in the first preferred regime that exists."""
    candidates = rows_of(rows, dataset, model)
    for regime in prefer:
        for row in candidates:
            if row.regime == regime:
                return row
    return candidates[0] if candidates else None


def mean_of(row, base: str) -> float | None:
    return None if row is None else row.values[base][0]


def fmt_value(row, base: str) -> str:
    if row is None:
        return "missing"
    mean, err = row.values[base]
    if mean is None:
        return "n/a"
    return f"{mean:.3f}" + ("" if err is None else f" ± {err:.3f}")


def entry_folder(folder: str | Path) -> Path:
    """The shipped entry a metrics.json folder belongs to: ``<entry>/seeds/s<N>`` -> ``<entry>``,
    any other folder is its own."""
    folder = Path(folder)
    return folder.parent.parent if folder.parent.name == "seeds" else folder


def row_entries(row) -> str:
    """The zoo entries a row's seeds come from (``pretrained/<entry>``, its ``seeds/s<N>``, or a
    run ``runs/zoo/<entry>-s<N>``), joined by " + "; "-" for real data. The name to pass to
    ``python -m core sample pretrained/<entry>`` or ``core.reproduce``."""
    if row.kind == "real":
        return "-"
    names = {re.sub(r"-s\d+$", "", entry_folder(f).name) for f in row.folders}
    return " + ".join(sorted(names))


def row_name(row) -> str:
    """How evidence names a row: its zoo entry when every seed of it is one shipped entry's
    (short, and the name the README and the app use), else its full model label."""
    entries = {entry_folder(f) for f in row.folders}
    one = entries.pop() if len(entries) == 1 else None
    name = f"`{one.name}`" if one is not None and (one / "entry.json").is_file() else row.model
    return f"{name} ({row.dataset}, {row.regime}, {len(row.seeds)} seed(s))"


TWO_LOG_2 = 2 * math.log(2)
LOSS_BAND = 0.25  # |loss - 2 log 2| within this counts as "near 2 log 2"
COMPETITIVE = 0.9  # "competitive": IS at least 90% of the better baseline

NOISE_SE = 2.0  # with seeds on both sides, "better" must exceed 2 standard errors of the gap


def seed_noise(a, b, base: str) -> float | None:
    """NOISE_SE x the standard error of mean(a) - mean(b) over training seeds; None unless both
    rows have >= 2 seeds (one seed's ± is the run's own spread, not a seed-to-seed one)."""
    na, nb = seeds_with(a, base), seeds_with(b, base)
    if na < 2 or nb < 2:
        return None
    (_, sa), (_, sb) = a.values[base], b.values[base]
    return NOISE_SE * math.sqrt(sa * sa / na + sb * sb / nb)


def seeds_with(row, base: str) -> int:
    """How many of the row's training seeds have ``base`` (a column added after some seeds were
    scored rests on fewer)."""
    return row.measured.get(base, len(row.seeds))


def greater(a, b, base: str, evidence: list[str], higher_is_better: bool = True) -> bool | None:
    """a better than b on ``base``: by more than the seed noise when both rows have seeds,
    else by the means alone (said so in the evidence)."""
    if a is None or b is None or mean_of(a, base) is None or mean_of(b, base) is None:
        return None
    gap = mean_of(a, base) - mean_of(b, base)
    gap = gap if higher_is_better else -gap
    noise = seed_noise(a, b, base)
    if noise is None:
        ok, why = gap > 0, "means only: a 1-seed row has no seed spread"
    else:
        ok = gap > noise
        why = f"gap {gap:+.3f} vs 2 se {noise:.3f}" + ("" if ok or gap <= 0 else ": within noise")
    evidence.append(
        f"{base}: {row_name(a)} {fmt_value(a, base)} vs {row_name(b)} {fmt_value(b, base)} -> "
        f"{'holds' if ok else 'fails'} ({why})"
    )
    return ok


def verdict_of(parts: list[bool | None]) -> str:
    if any(p is False for p in parts):
        return "not confirmed"
    if parts and all(p is True for p in parts):
        return "confirmed"
    return "not measured"


def note_missing(evidence: list[str], what: str) -> None:
    evidence.append(f"missing: {what}")


def stats_candidates(row) -> list[Path]:
    """Where a row's training log may be: first the shipped entry each metrics.json was found
    in (ship copies the run's stats.jsonl there: the log of the model that was scored, the same
    on every clone), else each run as its metrics.json names it (here, or relative to the
    repository; a run resumed to more steps since has a longer log than its scores)."""
    paths = [entry_folder(folder) / "stats.jsonl" for folder in row.folders]
    for source in row.sources:
        paths += [Path(source) / "stats.jsonl", REPO_ROOT / source / "stats.jsonl"]
    return paths


def losses_settle(tgan) -> tuple[list, list[str]]:
    """Claim C3's test on one t-GAN row: its D and G losses over the last 20% of logged steps
    near 2 log 2, and G first within the band by step 7,500 (and still there at the end)."""
    ev: list[str] = []
    stats = []
    for path in stats_candidates(tgan) if tgan is not None else []:
        stats = read_jsonl(path)
        if stats:
            break
    if not stats or "g_adv" not in stats[-1] or "d_adv" not in stats[-1]:
        note_missing(ev, "a t-GAN run on fashion with stats.jsonl (d_adv, g_adv)")
        return [None], ev
    tail = stats[-max(1, len(stats) // 5) :]
    d_end = sum(s["d_adv"] for s in tail) / len(tail)
    g_end = sum(s["g_adv"] for s in tail) / len(tail)
    d_ok, g_ok = abs(d_end - TWO_LOG_2) < LOSS_BAND, abs(g_end - TWO_LOG_2) < LOSS_BAND
    ev.append(
        f"last 20% of {stats[-1]['step']} steps: D loss {d_end:.3f}, G loss {g_end:.3f}; "
        f"2 log 2 = {TWO_LOG_2:.3f}, log 2 = {math.log(2):.3f} (band ±{LOSS_BAND})"
    )
    settled = next((s["step"] for s in stats if abs(s["g_adv"] - TWO_LOG_2) < LOSS_BAND), None)
    by_7500 = settled is not None and settled <= 7500 and g_ok
    when = "never" if settled is None else f"at step {settled}"
    ev.append(
        f"G first within the band: {when}; D near 2 log 2: {d_ok}, "
        f"G near 2 log 2: {g_ok}, G by 7,500 steps: {by_7500}"
    )
    return [d_ok, g_ok, by_7500], ev
