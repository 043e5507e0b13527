"""The paper's claims C1-C6 (paper.md §6), each marked against our own report rows, and C2m-C5m,
claims C2-C5 asked again in the modern track (core/evaluate/claims_modern.py). C1-C6 read the
paper track's rows (exact labels: ``tgan``, ``tgan[prior=gmm]``, ...); C2m-C5m only the modern
track's (core/evaluate/tracks.py).

A claim is split into parts, each a comparison of our numbers (means over seeds): a part is
True, False, or None when a row it needs is missing. Verdict: "not confirmed" if any measured
part fails, "confirmed" if every part holds, else "not measured" (naming the missing rows).
Where both rows of a comparison have >= 2 training seeds, "better" must clear twice the
standard error of the difference of means; a gap inside that noise fails the part.
The rule of each claim is written next to it in ``evaluate_claims``, the comparison rules in
core/evaluate/compare_rows.py; the protocol is never tuned until a claim passes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from core.atomic import atomic_write_json, read_json
from core.evaluate.claims_modern import MODERN_CLAIMS
from core.evaluate.compare_rows import (
    COMPETITIVE,
    LOSS_BAND,
    best_row,
    fmt_value,
    greater,
    losses_settle,
    mean_of,
    note_missing,
    row_name,
    rows_of,
    verdict_of,
)
from core.evaluate.tracks import overrides

VERDICTS = ("confirmed", "not confirmed", "not measured")
CLAIMS_NAME = "claims.json"  # written by ``python -m core report`` beside RESULTS.md


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    verdict: str  # one of VERDICTS
    evidence: list[str]


def _ablation(rows, dataset: str, needle: str):
    """The paper track's tgan row with ``needle`` as its one change (e.g. 'prior=gmm')."""
    for r in rows:
        if r.kind == "model" and r.dataset == dataset and overrides(r.model) == ("tgan", [needle]):
            return r
    return None


def _c1(rows) -> tuple[list, list[str]]:
    ev: list[str] = []
    tgan, pixel = (
        best_row(rows, "mnist", "tgan"),
        best_row(rows, "mnist", "pixelcnn", ("full", "500")),
    )
    if tgan is None:
        note_missing(ev, "tgan on mnist")
    if pixel is None:
        note_missing(ev, "pixelcnn on mnist")
    parts = [greater(tgan, pixel, "is", ev)]
    times = [getattr(r, "train_wall_time_s", None) for r in (tgan, pixel)]
    if None in times:
        parts.append(None)
        if tgan is not None and pixel is not None:
            note_missing(ev, "training wall time (summary.json) of one of the runs")
    else:
        ok = times[0] < times[1]
        ev.append(
            f"train time: tgan {times[0] / 60:.1f} min vs pixelcnn {times[1] / 60:.1f} "
            f"min -> {'holds' if ok else 'fails'}"
        )
        parts.append(ok)
    return parts, ev


def _c2(rows) -> tuple[list, list[str]]:
    ev: list[str] = []
    tgan = best_row(rows, "mnist", "tgan", ("500",))
    tgan = tgan if tgan is not None and tgan.regime == "500" else None
    parts = []
    for rival in ("gan", "deligan"):
        other = next(iter(rows_of(rows, "mnist", rival, "500")), None)
        if tgan is None or other is None:
            note_missing(ev, f"{'tgan' if tgan is None else rival} on mnist with 500 images")
        parts += [greater(tgan, other, "is", ev), greater(tgan, other, "mis", ev)]
    fulls = [r for m in ("dcgan", "acgan") for r in rows_of(rows, "mnist", m, "full")]
    if tgan is None or not fulls or mean_of(tgan, "is") is None:
        note_missing(ev, "dcgan / acgan on the full mnist set")
        parts.append(None)
    else:
        best = max(fulls, key=lambda r: mean_of(r, "is"))
        ok = mean_of(tgan, "is") >= COMPETITIVE * mean_of(best, "is")
        ev.append(
            f"competitive (IS >= {COMPETITIVE:.0%} of the better full-data baseline): "
            f"tgan {fmt_value(tgan, 'is')} vs {row_name(best)} {fmt_value(best, 'is')} -> "
            f"{'holds' if ok else 'fails'}"
        )
        parts.append(ok)
    return parts, ev


def _c3(rows) -> tuple[list, list[str]]:
    return losses_settle(best_row(rows, "fashion", "tgan"))


def _c4(rows) -> tuple[list, list[str]]:
    """Like for like: t-GAN against each rival in one regime, the one where most rivals have a
    row of their own (then: more t-GAN seeds, then the full set); a rival missing there is
    taken from its other regime. t-GAN's other regime is shown, not counted."""
    ev: list[str] = []
    names = ("dcgan", "acgan", "deligan")
    tgans = rows_of(rows, "cifar10", "tgan")

    def coverage(t):
        return (
            len([m for m in names if rows_of(rows, "cifar10", m, t.regime)]),
            len(t.seeds),
            t.regime == "full",
        )

    if not tgans or not any(rows_of(rows, "cifar10", m) for m in names):
        note_missing(ev, "tgan and at least one of dcgan / acgan / deligan on cifar10")
        return [None], ev
    tgans = sorted(tgans, key=coverage, reverse=True)
    parts = []
    for i, tgan in enumerate(tgans):
        if i == 1:
            ev.append(f"not counted, t-GAN's other regime ({tgan.regime}):")
        for m in names:
            rival = best_row(rows, "cifar10", m, (tgan.regime,))
            if rival is None:
                if i == 0:  # "the best among the GANs" needs every GAN
                    note_missing(ev, f"{m} on cifar10 (paper track)")
                    parts.append(None)
                continue
            ok = greater(tgan, rival, "mis", ev)
            if i == 0:
                parts.append(ok)
    return parts, ev


def _c5(rows) -> tuple[list, list[str]]:
    ev: list[str] = []
    parts: list[bool | None] = []
    for dataset in ("mnist", "fashion", "cifar10"):
        tgan, gmm = best_row(rows, dataset, "tgan"), _ablation(rows, dataset, "prior=gmm")
        if tgan is not None and gmm is not None:
            parts += [greater(tgan, gmm, "mis", ev), greater(tgan, gmm, "recall", ev)]
    if not parts:
        note_missing(ev, "the like-for-like ablation tgan[prior=gmm] (train with --prior gmm)")
        for dataset in ("mnist", "fashion"):
            tgan, deli = best_row(rows, dataset, "tgan"), best_row(rows, dataset, "deligan")
            if tgan is not None and deli is not None:
                ev.append(
                    f"context only (confounded: codeword and L_C differ too): m-IS "
                    f"{row_name(tgan)} {fmt_value(tgan, 'mis')} vs {row_name(deli)} "
                    f"{fmt_value(deli, 'mis')}"
                )
        parts = [None]
    return parts, ev


def _c6(rows) -> tuple[list, list[str]]:
    ev: list[str] = []
    parts: list[bool | None] = []
    for dataset in ("mnist", "fashion", "cifar10"):
        tgan = best_row(rows, dataset, "tgan")
        no_code = _ablation(rows, dataset, "conditioning=none")
        no_cls = _ablation(rows, dataset, "alpha=0.0")
        if tgan is not None and no_code is not None:
            parts.append(greater(tgan, no_code, "mis", ev))
        if tgan is not None and no_cls is not None:
            parts += [greater(tgan, no_cls, "is", ev), greater(tgan, no_cls, "fd", ev, False)]
    if not parts:
        note_missing(
            ev,
            "ablations tgan[conditioning=none] and tgan[alpha=0.0] "
            "(train with --conditioning none / --alpha 0)",
        )
        parts = [None]
    return parts, ev


CLAIMS = (
    ("C1", "t-GAN scores a higher IS than PixelCNN on MNIST with far less training time.", _c1),
    (
        "C2",
        "On MNIST with 500 training images, t-GAN beats GAN and DeLiGAN (IS and m-IS), and "
        "is competitive with DCGAN and ACGAN trained on the full set.",
        _c2,
    ),
    (
        "C3",
        "On Fashion-MNIST, t-GAN's G and D losses settle near 2 log 2, G by about 7,500 "
        "iterations.",
        _c3,
    ),
    (
        "C4",
        "On CIFAR-10, t-GAN has the best per-class modified inception score among the GANs.",
        _c4,
    ),
    (
        "C5",
        "t-distributed mixture noise gives more diverse images than Gaussian mixture noise "
        "(m-IS and recall, like for like).",
        _c5,
    ),
    (
        "C6",
        "Codewords raise within-class diversity (m-IS); the classification loss improves "
        "both networks (IS up, FD down).",
        _c6,
    ),
    *MODERN_CLAIMS,
)


def evaluate_claims(rows: list) -> list[Claim]:
    """Each claim's verdict and evidence lines from report rows (core.evaluate.report.ReportRow)."""
    out = []
    for claim_id, text, check in CLAIMS:
        parts, evidence = check(rows)
        out.append(Claim(claim_id, text, verdict_of(parts), list(dict.fromkeys(evidence))))
    return out


def claims_markdown(claims: list[Claim]) -> str:
    lines = ["| claim | verdict | our numbers |", "|---|---|---|"]
    for c in claims:
        evidence = "<br>".join(e.replace("|", "/") for e in c.evidence) or "-"
        lines.append(f"| **{c.id}** {c.text} | **{c.verdict}** | {evidence} |")
    lines += [
        "",
        "C1-C6 are called within the paper track (each preset as its paper defines it, and "
        "the t-GAN's one-setting ablations); C2m-C5m within the modern track, where every GAN "
        "has one recipe and trains until its curve flattens (the data set's minimum budget, "
        "doubled until the seeds' mean FD curve is flat over its last 25% of steps: a slowed "
        "curve, not always a stopped one, as the score-curve table's *last doubling* shows; "
        "C5m's three priors share one budget, so only the prior differs). "
        f"Rules: means over seeds are compared; 'competitive' is IS >= {COMPETITIVE:.0%} of the "
        "better of DCGAN / ACGAN (full set in C2, the same 500 images in C2m); "
        f"'near 2 log 2' is within ±{LOSS_BAND} over the last 20% of logged steps. "
        "A claim is not measured when a row it needs is missing; "
        "it is not confirmed when any measured comparison fails.",
    ]
    return "\n".join(lines)


def write_claims(claims: list[Claim], path: Path) -> Path:
    """The verdicts as JSON (what the app's Results page reads): ``{"format_version": 1,
    "claims": [{"id", "text", "verdict", "evidence"}]}``, atomically."""
    atomic_write_json(path, {"format_version": 1, "claims": [asdict(c) for c in claims]})
    return path


def read_claims(path: Path) -> list[Claim]:
    """The claims of a ``write_claims`` file; [] when it is missing or not such a file (each
    malformed entry is skipped, never an exception: the app shows what it can)."""
    data = read_json(path)
    items = data.get("claims") if data is not None else None
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        evidence = item.get("evidence", [])
        fields = (item.get("id"), item.get("text"), item.get("verdict"))
        well_formed = all(isinstance(f, str) for f in fields) and item["verdict"] in VERDICTS
        if well_formed and isinstance(evidence, list) and all(isinstance(e, str) for e in evidence):
            out.append(Claim(*fields, list(evidence)))
    return out
