"""``python -m core toy-study``: every latent prior on the 2-D toy data sets, many seeds, one
table and one figure, and the verdict on claim C5 (t noise gives more diversity than Gaussian-
mixture noise) in 2-D.

Each run (data set x prior x seed) trains a fresh ``core.explore.toy.ToyTrainer`` for the same
number of steps and appends one JSON line to ``runs.jsonl`` in the output folder; a killed study
started again skips the runs already there (same data, prior, seed, steps and config).
``summarise`` turns the lines into mean ± sd over seeds; ``write_outputs`` writes study.json,
study.md and study.png.

Verdict rule (the report's, core/evaluate/claims.py NOISE_SE): the t mixture with the paper's
v = 3 is "better" than the Gaussian mixture on a metric only when the gap of the means exceeds
2 standard errors of that gap over seeds; C5 is confirmed in 2-D when it is better on modes
covered or on reverse KL on a data set and worse beyond the noise on none of them.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.atomic import (
    append_line,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    read_jsonl,
)
from core.evaluate.compare_rows import NOISE_SE  # the report's rule: a gap beyond 2 standard errors
from core.explore.toy import ToyConfig, ToyMetrics, ToyTrainer, toy_dataset

STUDY_DATASETS = ("ring8", "grid25", "imbalanced", "heavy")
STUDY_PRIORS: tuple[tuple[str, float], ...] = (
    ("gaussian", 3.0),
    ("gmm", 3.0),
    ("tmix", 1.0),
    ("tmix", 3.0),
    ("tmix", 10.0),
    ("tmix", 1000.0),
)
STUDY_STEPS = 1500
STUDY_SEEDS = 10
METRICS = ("modes_covered", "high_quality", "reverse_kl", "energy_distance")
RUNS_NAME, JSON_NAME, MD_NAME, PNG_NAME = "runs.jsonl", "study.json", "study.md", "study.png"
COMMAND = "python -m core toy-study"


@dataclass(frozen=True)
class ToyResult:
    """One finished run: its config, steps, final metrics and training seconds."""

    config: ToyConfig
    steps: int
    metrics: ToyMetrics
    seconds: float

    def to_dict(self) -> dict:
        rate = self.steps / self.seconds if self.seconds > 0 else None
        return {
            **self.metrics.to_dict(),
            "steps": self.steps,
            "seconds": round(self.seconds, 3),
            "steps_per_s": None if rate is None else round(rate, 1),
            "config": self.config.to_dict(),
        }


def train_toy(config: ToyConfig, steps: int) -> ToyResult:
    """Train a fresh toy GAN for ``steps`` and evaluate it once (seconds: training only)."""
    if steps < 1:
        raise ValueError(f"--steps must be >= 1, got {steps}")
    trainer = ToyTrainer(config)
    start = time.perf_counter()
    trainer.step(steps)
    seconds = time.perf_counter() - start
    return ToyResult(config, steps, trainer.evaluate(), seconds)


def study_configs(datasets=STUDY_DATASETS, seeds: int = STUDY_SEEDS) -> list[ToyConfig]:
    """Every run of the study, seed by seed (a study stopped early has every cell, with fewer
    seeds)."""
    return [
        ToyConfig(data=d, prior=p, df=v, seed=s)
        for s in range(seeds)
        for d in datasets
        for p, v in STUDY_PRIORS
    ]


def _key(config: ToyConfig, steps: int) -> str:
    return json.dumps({**config.to_dict(), "steps": steps}, sort_keys=True)


def run_study(
    out_dir: Path,
    steps: int = STUDY_STEPS,
    seeds: int = STUDY_SEEDS,
    datasets=STUDY_DATASETS,
    log: Callable[[str], None] = print,
    train: bool = True,
) -> list[dict]:
    """Train every run not yet in ``out_dir/runs.jsonl`` (none with ``train=False``); returns
    the study's rows found there, in study order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = out_dir / RUNS_NAME
    done = {_key(ToyConfig(**r["config"]), r["steps"]): r for r in read_jsonl(cache)}
    configs = study_configs(datasets, seeds)
    todo = [c for c in configs if _key(c, steps) not in done] if train else []
    found = sum(_key(c, steps) in done for c in configs)
    log(f"toy study: {len(configs)} runs of {steps} steps, {found} done, {len(todo)} to train")
    start = time.perf_counter()
    for i, config in enumerate(todo, 1):
        row = {
            "data": config.data,
            "prior": config.label,
            "seed": config.seed,
            **train_toy(config, steps).to_dict(),
        }
        append_line(cache, json.dumps(row, sort_keys=True))
        done[_key(config, steps)] = row
        eta = (time.perf_counter() - start) / i * (len(todo) - i) / 60
        log(
            f"[{i}/{len(todo)}] {config.data} {config.label} seed {config.seed}: modes "
            f"{row['modes_covered']}/{row['n_modes']}, hq {row['high_quality']:.3f} "
            f"({row['steps_per_s']:.0f} steps/s; eta {eta:.1f} min)"
        )
    return [done[k] for c in configs if (k := _key(c, steps)) in done]


def summarise(rows: list[dict]) -> list[dict]:
    """One entry per (data set, prior): n seeds and mean / sd (ddof 1) of every metric."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["data"], r["prior"]), []).append(r)
    out = []
    for (data, prior), members in groups.items():
        entry = {
            "data": data,
            "prior": prior,
            "seeds": len(members),
            "n_modes": members[0]["n_modes"],
            "steps": members[0]["steps"],
        }
        for m in METRICS:
            values = np.array([r[m] for r in members], dtype=np.float64)
            sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            entry[m] = {"mean": float(values.mean()), "sd": sd}
        out.append(entry)
    return out


def _compare(a: dict, b: dict, metric: str, higher_is_better: bool) -> tuple[str, str]:
    """("better" | "worse" | "tie", evidence) for a against b on ``metric``."""
    gap = a[metric]["mean"] - b[metric]["mean"]
    gap = gap if higher_is_better else -gap
    se = math.sqrt(a[metric]["sd"] ** 2 / a["seeds"] + b[metric]["sd"] ** 2 / b["seeds"])
    noise = NOISE_SE * se
    word = "better" if gap > noise else "worse" if -gap > noise else "tie"
    return word, f"{metric} gap {gap:+.3f} vs 2 se {noise:.3f}: {word}"


def c5_verdict(summary: list[dict], t_label: str = "tmix-v3", rival: str = "gmm") -> dict:
    """C5 in 2-D: the t mixture (v = 3) against the Gaussian mixture on modes covered and
    reverse KL, per data set, under the 2-standard-error rule."""
    by = {(e["data"], e["prior"]): e for e in summary}
    per_data, words = {}, []
    for data in dict.fromkeys(e["data"] for e in summary):
        t, g = by.get((data, t_label)), by.get((data, rival))
        if t is None or g is None:
            continue
        found = [_compare(t, g, "modes_covered", True), _compare(t, g, "reverse_kl", False)]
        per_data[data] = [text for _, text in found]
        words += [w for w, _ in found]
    if not words:
        verdict = "not measured"
    elif "worse" in words:
        verdict = "not confirmed"
    else:
        verdict = "confirmed" if "better" in words else "not confirmed (no gap beyond the noise)"
    return {
        "claim": "C5",
        "compared": f"{t_label} vs {rival}",
        "verdict": verdict,
        "evidence": per_data,
    }


def findings(summary: list[dict]) -> list[str]:
    """One plain sentence per data set: which prior covers the most modes and which is most
    often on a mode, and the t mixture (v = 3) against the Gaussian mixture on all three
    metrics under the 2-standard-error rule (context for the verdict, which is in c5)."""
    by = {(e["data"], e["prior"]): e for e in summary}
    out = []
    for data in dict.fromkeys(e["data"] for e in summary):
        cells = [e for e in summary if e["data"] == data]
        most = max(cells, key=lambda e: e["modes_covered"]["mean"])
        sharpest = max(cells, key=lambda e: e["high_quality"]["mean"])
        hq = sharpest["high_quality"]["mean"]
        text = (
            f"{data}: most modes covered by {most['prior']} "
            f"({most['modes_covered']['mean']:.1f} of {most['n_modes']}), most high-quality "
            f"samples from {sharpest['prior']} ({hq:.1%})"
        )
        t, g = by.get((data, "tmix-v3")), by.get((data, "gmm"))
        if t is not None and g is not None:
            words = [
                _compare(t, g, "modes_covered", True)[0],
                _compare(t, g, "high_quality", True)[0],
                _compare(t, g, "reverse_kl", False)[0],
            ]
            text += (
                f"; t (v = 3) vs Gaussian mixture: modes {words[0]}, high quality "
                f"{words[1]}, reverse KL {words[2]}"
            )
        out.append(text + ".")
    return out


def _cell(stat: dict, digits: int) -> str:
    return f"{stat['mean']:.{digits}f} ± {stat['sd']:.{digits}f}"


def study_table(summary: list[dict]) -> str:
    """Markdown table: one row per data set and prior."""
    lines = [
        "| data set | prior | seeds | modes covered | high quality | reverse KL ↓ | "
        "energy dist. ↓ |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in summary:
        lines.append(
            f"| {e['data']} | {e['prior']} | {e['seeds']} | "
            f"{_cell(e['modes_covered'], 2)} / {e['n_modes']} | "
            f"{_cell(e['high_quality'], 3)} | {_cell(e['reverse_kl'], 3)} | "
            f"{_cell(e['energy_distance'], 3)} |"
        )
    return "\n".join(lines)


def load_study(path: Path) -> dict | None:
    """A study.json written by ``write_outputs``; None when there is none."""
    path = Path(path)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def study_markdown(path: Path) -> str:
    """The study's section for RESULTS.md and the page, from its study.json ('' if absent)."""
    study = load_study(path)
    if study is None:
        return ""
    c5 = study["c5"]
    wanted = study.get("seeds_requested", study["seeds"])
    early = f" ({wanted} asked for; stopped early at its time box)" * (study["seeds"] < wanted)
    evidence = [f"- {data}: " + "; ".join(lines) for data, lines in c5["evidence"].items()]
    return "\n".join(
        [
            "## The 2-D toy study (playground)",
            "",
            f"Made by `{study['command']}` ({study['runs']} runs: {study['steps']} steps each, "
            f"{study['seeds']} seeds per cell{early}, one CPU thread; "
            f"{study['train_seconds'] / 60:.1f} min "
            "of training). Mean ± sd over seeds; 2,500 samples per run; high quality = within 3 sd "
            "of the nearest mode centre, a mode is covered by >= 1 such sample, reverse KL of the "
            "mode histogram to the data's weights (VEEGAN / PacGAN protocol, core/explore/toy.py).",
            "",
            study["table"],
            "",
            f"**C5 in 2-D ({c5['compared']}, 2-standard-error rule): {c5['verdict']}.**",
            "",
            *evidence,
            "",
            "What each data set shows (same rule; better / worse / tie):",
            "",
            *[f"- {line}" for line in study.get("findings", [])],
            "",
            "![toy study](toy/study.png)",
            "",
        ]
    )


def study_png(summary: list[dict]) -> bytes:
    """Bars of modes covered (share of modes) and high quality per data set and prior, ± sd."""
    from PIL import Image, ImageDraw

    datasets = list(dict.fromkeys(e["data"] for e in summary))
    priors = list(dict.fromkeys(e["prior"] for e in summary))
    by = {(e["data"], e["prior"]): e for e in summary}
    colours = ["#1f77b4", "#ff7f0e", "#8c564b", "#d62728", "#9467bd", "#7f7f7f"]
    pw, ph, top, left = 240, 190, 40, 50
    img = Image.new("RGB", (left + pw * len(datasets) + 10, top + 2 * ph + 60), "white")
    draw = ImageDraw.Draw(img)
    for row, (metric, title) in enumerate(
        (("modes_covered", "modes covered (share)"), ("high_quality", "high quality")), 0
    ):
        y0 = top + row * ph
        draw.text((4, y0 + 4), title, fill="black")
        for value, label in ((1.0, "1"), (0.5, "0.5"), (0.0, "0")):  # the scale, left of the bars
            draw.text((left - 22, y0 + ph - 12 - (ph - 34) * value - 5), label, fill="black")
        for col, data in enumerate(datasets):
            x0 = left + col * pw
            draw.rectangle([x0, y0 + 20, x0 + pw - 14, y0 + ph - 10], outline="#999999")
            if row == 0:
                draw.text((x0 + 4, top - 16), data, fill="black")
            bar_w = (pw - 30) / len(priors)
            for k, prior in enumerate(priors):
                e = by.get((data, prior))
                if e is None:
                    continue
                scale = e["n_modes"] if metric == "modes_covered" else 1.0
                mean, sd = e[metric]["mean"] / scale, e[metric]["sd"] / scale
                height = ph - 34
                base = y0 + ph - 12

                def y(v: float, base=base, height=height) -> float:
                    return base - height * min(max(v, 0.0), 1.0)

                bx = x0 + 6 + k * bar_w
                draw.rectangle([bx, y(mean), bx + bar_w - 4, base], fill=colours[k % 6])
                mid = bx + (bar_w - 4) / 2
                draw.line([mid, y(mean - sd), mid, y(mean + sd)], fill="black", width=1)
    for k, prior in enumerate(priors):
        x = left + k * 120
        draw.rectangle([x, top + 2 * ph + 20, x + 12, top + 2 * ph + 32], fill=colours[k % 6])
        draw.text((x + 16, top + 2 * ph + 20), prior, fill="black")
    import io

    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def write_outputs(out_dir: Path, rows: list[dict], steps: int, seeds: int, command: str) -> Path:
    """study.json (summary, table, verdict), study.md and study.png into ``out_dir``."""
    summary = summarise(rows)
    table = study_table(summary)
    study = {
        "command": command,
        "steps": steps,
        "seeds": min(e["seeds"] for e in summary),
        "seeds_requested": seeds,
        "runs": len(rows),
        "train_seconds": round(sum(r["seconds"] for r in rows), 1),
        "datasets": {
            d: {"n_modes": toy_dataset(d).n_modes, "sd": toy_dataset(d).sd, "df": toy_dataset(d).df}
            for d in dict.fromkeys(r["data"] for r in rows)
        },
        "summary": summary,
        "table": table,
        "c5": c5_verdict(summary),
        "findings": findings(summary),
    }
    atomic_write_json(out_dir / JSON_NAME, study)
    atomic_write_text(out_dir / MD_NAME, study_markdown(out_dir / JSON_NAME))
    atomic_write_bytes(out_dir / PNG_NAME, study_png(summary))
    return out_dir / JSON_NAME
