"""Score curves: a run's generator scored during training (``python -m core train ...
--eval-every N``), so a race can show where each entry stopped improving.

Every ``eval_every`` steps and at the last step, ``CurveScorer`` draws ``eval_samples`` images
from fixed seeds 0..N-1 (seed i conditioned on class i mod K, as ``evaluate``), scores them with
the data set's judge and appends one line to the run's ``scores.jsonl``::

    {"step": 200, "wall_time": 41.3, "eval_s": 2.1, "judge": "judge-mnist-cnn16-32-64@...",
     "n_samples": 500, "sample_seeds": "0-499",
     "fd500": 12.3, "fidelity500": 0.41 | null (unconditional), "diversity500": 0.83,
     "is500": 3.1, "precision500": 0.6, "recall500": 0.2}

The names carry the protocol, as in metrics.json (core/evaluate/scoring.py): FD, precision and
recall against N seeded training images, diversity over the real test split's class spreads.
The run has no EMA of G: the curve scores the weights being trained. Scoring runs in eval mode
under ``torch.random.fork_rng`` with its own seeded generators, so a run with a curve trains
bit-identically to one without (tests/core/test_curve.py). A resumed run drops the lines past
its checkpoint (``core.run_dir.repair_stats``) and scores those steps again.

``plateau(curve, k, tol)``: did the last k points move FD by at most ``tol``?
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.atomic import append_line, read_jsonl
from core.evaluate import metrics as M
from core.evaluate.judges import Judge, load_judge
from core.evaluate.scoring import PR_K, protocol, real_class_spreads, reference_features
from core.run_dir import SCORES_NAME, TrainingError
from core.sampling import default_labels, sample
from core.weights import WeightsError


class CurveScorer:
    """Scores a generator for the curve; built before training starts, so a missing judge or
    data split stops the run before its folder exists."""

    def __init__(
        self,
        dataset: str,
        n: int,
        device: str | torch.device = "cpu",
        judge: Judge | None = None,
        data_root: str | os.PathLike | None = None,
    ) -> None:
        if judge is None:
            try:
                judge = load_judge(dataset, device)
            except (WeightsError, ValueError) as exc:
                raise TrainingError(
                    f"--eval-every scores with the {dataset} judge, which is not installed: "
                    f"{exc}; or train without --eval-every"
                ) from None
        self.judge, self.dataset, self.n, self.data_root = judge, dataset, n, data_root
        # The reference features and class spreads are computed (and cached) now, once.
        reference_features(judge, dataset, n, data_root)
        real_class_spreads(judge, dataset, data_root)

    @torch.no_grad()
    def score(self, model: nn.Module) -> dict:
        """The curve's metrics of ``model`` (left in train mode after), without touching any
        RNG the training uses."""
        tag, n = protocol(self.n), self.n
        labels = torch.tensor(default_labels(n, model.config.n_classes))
        with torch.random.fork_rng(devices=[]):
            images = sample(model, list(range(n)), labels.tolist()).images
        model.train()
        keys = ("fd", "fidelity", "diversity", "is", "precision", "recall")
        if not torch.isfinite(images).all():  # a diverged G: no score, the run goes on
            return {f"{key}{tag}": None for key in keys}
        logits, feats = self.judge.logits_and_features(images)
        probs = torch.softmax(logits.double(), dim=1)
        ref, _ = reference_features(self.judge, self.dataset, n, self.data_root)
        spreads, _ = real_class_spreads(self.judge, self.dataset, self.data_root)
        fake = feats.double().numpy()
        conditional = model.config.conditional
        groups = labels if conditional else probs.argmax(1)
        precision, recall = M.precision_recall(ref, fake, k=PR_K)
        fidelity = M.class_fidelity(probs, labels).mean if conditional else None
        return {
            f"fd{tag}": M.frechet_distance(ref, fake),
            f"fidelity{tag}": fidelity,
            f"diversity{tag}": M.within_class_diversity(feats, groups, spreads).mean,
            f"is{tag}": M.inception_score(probs, 10 if n >= 10 else 1).mean,
            f"precision{tag}": precision,
            f"recall{tag}": recall,
        }

    def append(self, run_dir: Path, model: nn.Module, step: int, wall_time: float) -> dict:
        """Score ``model`` at ``step`` and append the line to ``run_dir/scores.jsonl``."""
        started = time.perf_counter()
        values = self.score(model)
        row = {
            "step": step,
            "wall_time": round(wall_time, 3),
            "eval_s": round(time.perf_counter() - started, 3),
            "judge": self.judge.name,
            "n_samples": self.n,
            "sample_seeds": f"0-{self.n - 1}",
            # a diverged G (NaN images) scores null: the curve shows it, the run goes on
            **{k: None if v is None or not np.isfinite(v) else float(v) for k, v in values.items()},
        }
        append_line(run_dir / SCORES_NAME, json.dumps(row, allow_nan=False))
        return row


def read_curve(run_dir: str | os.PathLike) -> list[dict]:
    """The score curve of a run (or a scores.jsonl path): rows in step order, the last line of
    a step winning ([] when there is none)."""
    path = Path(run_dir)
    path = path / SCORES_NAME if path.is_dir() else path
    by_step = {r["step"]: r for r in read_jsonl(path) if isinstance(r.get("step"), int)}
    return [by_step[s] for s in sorted(by_step)]


def curve_values(curve: list[dict], metric: str = "fd") -> list[float]:
    """The values of ``metric`` (``fd``, ``fidelity``, ...: the name without its protocol)
    along the curve; a row without it (an unconditional model's fidelity) is skipped."""
    out = []
    for row in curve:
        n = row.get("n_samples")
        value = row.get(f"{metric}{protocol(n)}") if isinstance(n, int) and n > 0 else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            out.append(float(value))
    return out


def curve_points(curve: list[dict], metric: str = "fd") -> list[tuple[int, float]]:
    """(step, value) of ``metric`` along the curve, the rows without it skipped."""
    return [(row["step"], value) for row in curve for value in curve_values([row], metric)]


def curve_span(curve: list[dict], k: int, metric: str = "fd") -> float | None:
    """max - min of ``metric`` over the last k points (None with fewer than k points)."""
    if k < 2:
        raise ValueError(f"k must be >= 2 (points compared), got {k}")
    values = curve_values(curve, metric)
    if len(values) < k:
        return None
    last = values[-k:]
    return max(last) - min(last)


def plateau(
    curve: list[dict], k: int = 4, tol: float = 0.05, metric: str = "fd", relative: bool = True
) -> bool:
    """True when the last k points of ``metric`` lie within ``tol`` of each other: max - min
    <= tol, as a fraction of the last value when ``relative`` (FD's scale differs by data set:
    ~1 on MNIST, ~20 on CIFAR-10). False with fewer than k points: not trained long enough to
    tell."""
    if tol < 0 or not np.isfinite(tol):
        raise ValueError(f"tol must be a finite number >= 0, got {tol}")
    span = curve_span(curve, k, metric)
    if span is None:
        return False
    scale = abs(curve_values(curve, metric)[-1]) if relative else 1.0
    return span <= tol * scale


def mean_curve(curves: list[list[dict]], metric: str = "fd") -> list[dict]:
    """The seeds' mean curve of ``metric``: at each step every curve has a value for, the mean
    over the curves (one seed's point-to-point noise shrinks as 1/sqrt(seeds), so the drift of
    this curve says whether the entry, not one lucky seed, stopped improving). Rows keep the
    first curve's sample count, so ``curve_values`` reads them like a run's own."""
    if not curves:
        return []
    by_seed = [dict(curve_points(c, metric)) for c in curves]
    shared = sorted(set.intersection(*(set(d) for d in by_seed)))
    first = next((r for r in curves[0] if isinstance(r.get("n_samples"), int)), {})
    n = first.get("n_samples")
    if not isinstance(n, int) or n <= 0:
        return []
    key = f"{metric}{protocol(n)}"
    return [
        {"step": s, "n_samples": n, key: float(np.mean([d[s] for d in by_seed]))} for s in shared
    ]


FLAT_DRIFT = 0.10  # "flat": the fitted line moves FD by at most 10% over the last 25% of steps


def tail_drift(curve: list[dict], share: float = 0.25, metric: str = "fd") -> dict | None:
    """How much ``metric`` still moved over the last ``share`` of the steps: a least-squares
    line through the points in that window, its change from the window's first step to the
    last as a fraction of the window's mean (``drift``, negative = still falling), and max - min
    over the mean (``spread``). None with fewer than 3 points in the window."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    points = curve_points(curve, metric)
    if not points:
        return None
    last = points[-1][0]
    window = [(s, v) for s, v in points if s >= (1 - share) * last]
    if len(window) < 3:
        return None
    steps, values = np.array(window, dtype=float).T
    slope = np.polyfit(steps, values, 1)[0]
    mean = float(np.mean(values))
    scale = abs(mean) or 1.0
    drift = float(slope * (steps[-1] - steps[0]) / scale)
    return {
        "from_step": int(steps[0]),
        "to_step": int(steps[-1]),
        "points": len(window),
        "first": float(points[0][1]),
        "window_mean": mean,
        "last": float(values[-1]),
        "drift": drift,
        "spread": float((values.max() - values.min()) / scale),
        "flat": abs(drift) <= FLAT_DRIFT,
    }


def doubling_gain(curve: list[dict], share: float = 0.25, metric: str = "fd") -> float | None:
    """What the last doubling of the steps bought: 1 - (mean ``metric`` over the last ``share``
    of the steps) / (the same window of the curve cut at half its steps). A stronger test of a
    plateau than ``tail_drift``: a slow power-law fall (FD ~ steps^-a) hides in a quarter's
    noisy tail yet shows here as 1 - 2^-a (a = 0.5: 29%). None when either window has fewer
    than 3 points."""
    points = curve_points(curve, metric)
    if not points:
        return None
    half = [r for r in curve if r["step"] <= points[-1][0] // 2]
    full, cut = tail_drift(curve, share, metric), tail_drift(half, share, metric)
    if full is None or cut is None or not cut["window_mean"]:
        return None
    return 1 - full["window_mean"] / cut["window_mean"]


def doubling_text(curve: list[dict]) -> str:
    """``doubling_gain`` as a table cell: how FD moved over the last doubling ("-25.0%": it
    fell by a quarter), "-" when the curve is too short to tell."""
    gain = doubling_gain(curve)
    return "-" if gain is None else f"{-gain:+.1%}"
