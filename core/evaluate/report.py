"""``python -m core report``: one table (Markdown + CSV) of every model x data set x regime that
``python -m core evaluate`` scored, error bars over training seeds, the real-data rows, the
paper's claims (core/evaluate/claims.py) and the t-GANs' loss curves.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from core.atomic import atomic_write_text, load_json_file
from core.evaluate.claims import CLAIMS_NAME, claims_markdown, evaluate_claims, write_claims
from core.evaluate.collapse import collapse_section
from core.evaluate.compare_rows import row_entries, seeds_with
from core.evaluate.curve_report import curves_section
from core.evaluate.plots import loss_curve_png
from core.evaluate.scoring import METRICS_FORMAT, METRICS_NAME, protocol
from core.evaluate.tracks import TRACKS, track_of
from core.explore.toy_study import study_markdown
from core.paths import repo_relative
from core.run_dir import SCORES_NAME

METRIC_BASES = (
    "is",
    "mis",
    "fidelity",
    "diversity",
    "fd",
    "precision",
    "recall",
    "memorisation",
)
DATASET_ORDER = ("mnist", "fashion", "cifar10")
MODEL_ORDER = ("real", "gan", "dcgan", "acgan", "deligan", "tgan", "pixelcnn")
TRACK_ORDER = TRACKS


@dataclasses.dataclass
class ReportRow:
    """One (model, data set, regime, judge, N) group; ``values[base] = (mean, err)``.

    err is the std over training seeds (ddof 1) when seeds >= 2, else the run's own spread
    (over IS splits, over classes for m-IS / fidelity), else None.
    """

    kind: str
    model: str
    preset: str
    dataset: str
    regime: str
    n_samples: int
    judge: str
    seeds: list
    values: dict
    train_wall_time_s: float | None
    steps: int | None
    sources: list  # each member's run, as its metrics.json names it
    folders: list = dataclasses.field(default_factory=list)  # where each metrics.json was found
    prior: str | None = None  # the latent prior (model_config), None for real data / PixelCNN
    # per metric, how many members (seeds) have it: a column added after some seeds were scored
    # (diversity) can rest on fewer seeds than the row; the table then says so
    measured: dict = dataclasses.field(default_factory=dict)

    @property
    def track(self) -> str:
        """paper | modern | study (core/evaluate/tracks.py); real data has none ("-")."""
        return "-" if self.kind == "real" else track_of(self.model)

    @property
    def error_bars(self) -> str:
        return "seeds" if len(self.seeds) >= 2 else "within-run"


def find_metrics(roots: list[Path]) -> list[dict]:
    """Every readable metrics.json (format 1) under the roots, with its folder as '_folder'."""
    found = []
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob(METRICS_NAME)):
            data = load_json_file(path)  # ValueError naming the file: not JSON, not a file
            if isinstance(data, dict) and data.get("format_version") == METRICS_FORMAT:
                found.append({**check_metrics(data, path), "_folder": str(path.parent)})
    return found


# What the report reads from each metrics.json, and the JSON type each must have.
METRICS_KEYS = {
    "kind": str,
    "model": str,
    "dataset": str,
    "regime": str,
    "judge": str,
    "n_samples": int,
    "evaluated_at": str,
    "metrics": dict,
}


def check_metrics(data: dict, path: Path) -> dict:
    """``data`` if it holds every key the report reads, with its type; else ValueError naming
    the file and the command that re-creates it."""
    for key, kind in METRICS_KEYS.items():
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
            raise ValueError(
                f"{path}: {'missing' if key not in data else 'a wrong type for'} {key!r} "
                f"(expected {kind.__name__}); re-create it with: python -m core evaluate "
                f"{path.parent}, or delete it"
            )
    return data


def run_value(result: dict, base: str) -> tuple[float | None, float | None]:
    """(mean, std) of metric ``base`` (``is``, ``fd``, ...) in a metrics.json object, under its
    protocol's name; (None, None) when it has none."""
    item = result["metrics"].get(f"{base}{protocol(result['n_samples'])}")
    if item is None:
        return None, None
    if base == "memorisation":
        return item["ratio"], None
    if isinstance(item, dict):
        return item["mean"], item["std"]
    return float(item), None


def group_rows(results: list[dict]) -> list[ReportRow]:
    """Group results by (kind, model, data set, regime, judge, N, steps); mean and error over
    seeds. Runs of one recipe trained for different numbers of steps are different rows.

    A training seed scored twice (a run and its shipped copy) counts once: the latest result.
    """
    latest: dict[tuple, dict] = {}
    for r in results:
        key = (
            r["kind"],
            r["model"],
            r["dataset"],
            r["regime"],
            r["judge"],
            r["n_samples"],
            r.get("train_seed"),
            r.get("steps"),
        )
        if key not in latest or r["evaluated_at"] >= latest[key]["evaluated_at"]:
            latest[key] = r
    groups: dict[tuple, list[dict]] = {}
    for key, r in latest.items():
        groups.setdefault(key[:6] + key[7:], []).append(r)
    rows = []
    for (kind, model, dataset, regime, judge, n, _), members in groups.items():
        members.sort(key=lambda r: (r.get("train_seed") is None, r.get("train_seed")))
        values, measured = {}, {}
        for base in METRIC_BASES:
            pairs = [p for p in (run_value(r, base) for r in members) if p[0] is not None]
            means = [m for m, _ in pairs]
            measured[base] = len(means)
            if not means:
                values[base] = (None, None)
            elif len(means) >= 2:
                values[base] = (float(np.mean(means)), float(np.std(means, ddof=1)))
            else:
                values[base] = pairs[0]
        times = [r["train_wall_time_s"] for r in members if r.get("train_wall_time_s")]
        rows.append(
            ReportRow(
                kind,
                model,
                members[0].get("preset", model),
                dataset,
                regime,
                n,
                judge,
                [r.get("train_seed") for r in members],
                values,
                float(np.mean(times)) if times else None,
                members[0].get("steps"),
                [r.get("source") or r["_folder"] for r in members],
                [r["_folder"] for r in members],
                (members[0].get("model_config") or {}).get("prior"),
                measured,
            )
        )
    return sorted(rows, key=_row_order)


def _row_order(row: ReportRow) -> tuple:
    d = DATASET_ORDER.index(row.dataset) if row.dataset in DATASET_ORDER else 99
    m = MODEL_ORDER.index(row.preset) if row.preset in MODEL_ORDER else 98
    m = -1 if row.kind == "real" else m
    t = TRACK_ORDER.index(row.track) if row.track in TRACK_ORDER else -1
    return (
        d,
        row.dataset,
        t,
        m,
        row.model,
        row.regime != "500",
        row.regime,
        row.steps or 0,
        row.judge,
    )


def _cell(mean: float | None, err: float | None, digits: int = 3) -> str:
    if mean is None:
        return "n/a"
    return f"{mean:.{digits}f}" if err is None else f"{mean:.{digits}f} ± {err:.{digits}f}"


def _metric_cell(row: ReportRow, base: str, digits: int = 3) -> str:
    """A metric's cell; when fewer of the row's seeds have it than the row has, it says so
    (its ± is then that seed's own spread, or the std over the seeds that have it)."""
    text = _cell(*row.values[base], digits)
    k = seeds_with(row, base)
    if row.kind == "model" and 0 < k < len(row.seeds):
        text += f" ({k} of {len(row.seeds)} seeds)"
    return text


TABLE_COLUMNS = (
    "data set",
    "track",
    "entry",
    "model",
    "regime",
    "steps",
    "N",
    "seeds",
    "IS",
    "m-IS",
    "fidelity",
    "diversity",
    "FD ↓",
    "precision",
    "recall",
    "memo. ratio",
    "train time",
    "judge",
)


def markdown_table(rows: list[ReportRow]) -> str:
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "---|" * len(TABLE_COLUMNS)]
    for row in rows:
        seeds = "-" if row.kind == "real" else f"{len(row.seeds)}"
        wall = f"{row.train_wall_time_s / 60:.1f} min" if row.train_wall_time_s else "-"
        name = f"**{row.model}**" if row.kind == "real" else row.model
        cells = [
            row.dataset,
            row.track,
            "-" if row.kind == "real" else f"`{row_entries(row)}`",
            name,
            row.regime,
            "-" if row.steps is None else f"{row.steps:,}",
            str(row.n_samples),
            seeds,
            *(_metric_cell(row, b) for b in ("is", "mis", "fidelity", "diversity")),
            _metric_cell(row, "fd", 2),
            *(_metric_cell(row, b) for b in ("precision", "recall", "memorisation")),
            wall,
            f"`{row.judge}`",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def csv_text(rows: list[ReportRow]) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header = ["dataset", "track", "model", "entry", "regime", "n_samples", "n_seeds", "error_bars"]
    header += [f"{b}_{s}" for b in METRIC_BASES for s in ("mean", "err")]
    header += ["train_wall_time_s", "steps", "judge", "sources"]
    writer.writerow(header)
    for row in rows:
        out = [
            row.dataset,
            row.track,
            row.model,
            row_entries(row),
            row.regime,
            row.n_samples,
            0 if row.kind == "real" else len(row.seeds),
            row.error_bars,
        ]
        for base in METRIC_BASES:
            mean, err = row.values[base]
            out += ["" if mean is None else f"{mean:.6g}", "" if err is None else f"{err:.6g}"]
        out += [row.train_wall_time_s or "", row.steps or "", row.judge, ";".join(row.sources)]
        writer.writerow(out)
    return buf.getvalue()


def _figures_and_notes(roots: list[Path], out_dir: Path) -> list[str]:
    """Loss-curve figures of every t-GAN run found, and of every run with a score curve (its FD
    drawn beside the losses), beside the report; then the hand-written NOTES.md beside the
    report, if any."""
    lines = []
    for root in roots:
        for stats in sorted(root.rglob("stats.jsonl")) if root.is_dir() else []:
            folder = stats.parent
            scores = folder / SCORES_NAME
            wanted = folder.name.startswith("tgan-") or scores.is_file()
            if not wanted or folder.parent.resolve() != out_dir.resolve():
                continue
            png = out_dir / f"losses-{folder.name}.png"
            loss_curve_png(
                stats,
                png,
                f"{folder.name}: adversarial losses vs 2 log 2, log 2",
                scores if scores.is_file() else None,
            )
            lines += [f"![{folder.name} losses]({png.name})", ""]
    if lines:
        lines.insert(
            0, "## Loss curves (D and G adversarial parts, reference lines 2 log 2 and log 2)\n"
        )
    notes = out_dir / "NOTES.md"
    if notes.is_file():
        lines += [notes.read_text(encoding="utf-8")]
    return lines


def build_report(roots: list[Path], md_path: Path, csv_path: Path) -> tuple[Path, Path, int]:
    """Scan the roots, write the Markdown report (table + claims), the CSV and claims.json
    (beside the report); returns (md_path, csv_path, number of rows)."""
    rows = group_rows(find_metrics(roots))
    claims = evaluate_claims(rows)
    shown_roots = ", ".join(repo_relative(r) for r in roots)
    text = "\n".join(
        [
            "# Results",
            "",
            f"Made by `python -m core report` from every `metrics.json` under {shown_roots} "
            f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}). Each metrics.json is written "
            "by `python -m core evaluate` (see core/evaluate/scoring.py for its schema).",
            "",
            "How to read it: IS (10 splits) and m-IS (DeLiGAN's, by predicted class) come from the "
            "data set's own judge (pretrained/judges/), so numbers compare only within one judge. "
            "Fidelity is the share of samples the judge puts in the class they were conditioned on "
            "(n/a: unconditional model; real data: the judge's accuracy). Diversity: within each "
            "class, the mean pairwise judge-feature distance of the samples over the same for real "
            "test images (1 = as varied as real data; near 0 = one image per class; n/a: scored "
            "before this column existed). FD (lower is better), "
            "precision and recall (k = 3) compare judge features with N seeded training images. "
            "Memo. ratio: median distance of samples to their nearest training image over the same "
            "for held-out real images (< 1: closer to the training set than new real data). "
            "± is the std over training seeds when seeds >= 2; with one seed it is the run's own "
            "spread (over IS splits, over classes for m-IS, fidelity and diversity), and FD / "
            "precision / "
            "recall have none.",
            "",
            markdown_table(rows)
            if rows
            else "_No metrics.json found: run `python -m core evaluate` first._",
            "",
            "## The paper's claims (paper.md §6)",
            "",
            claims_markdown(claims),
            "",
            *collapse_section(rows),
            *filter(None, [study_markdown(md_path.parent / "toy" / "study.json")]),
            *curves_section(md_path.parent),
            *_figures_and_notes(roots, md_path.parent),
        ]
    )
    md_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(md_path, text)
    atomic_write_text(csv_path, csv_text(rows))
    write_claims(claims, md_path.parent / CLAIMS_NAME)
    return md_path, csv_path, len(rows)
