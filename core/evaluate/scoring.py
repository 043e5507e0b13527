"""Scoring a model (or the real test split) with its data set's judge: ``evaluate_model``,
``evaluate_real``, and the metrics.json they write (``python -m core evaluate``).

``evaluate FOLDER`` draws N samples (default 10,000; seeds 0..N-1, seed i conditioned on class
i mod K), scores them with the data set's judge (core/evaluate/judges.py) and writes
``metrics.json`` into the folder, atomically, and appends the same object as one line to
``metrics.jsonl`` (the run's history). ``evaluate --real DATASET`` scores the official test
split the same way (the reference row) into ``pretrained/judges/<dataset>/metrics.json``.

metrics.json (format_version 1)::

    {"format_version": 1, "kind": "model" | "real",
     "source": "runs/tgan-mnist-n500-s0", "dataset": "mnist",
     "model": "tgan" (preset, or "tgan[prior=gmm]" when the config differs from the preset),
     "preset": "tgan", "regime": "500" | "full", "train_seed": 0, "steps": 5000,
     "train_wall_time_s": 812.3 | null,
     "judge": "judge-mnist-cnn16-32-64@<sha256 prefix>", "judge_sha256": "<full>",
     "n_samples": 10000, "sample_seeds": "0-9999",
     "metrics": {
       "is10k":          {"mean", "std", "splits": 10},          # Salimans, 10 splits in order
       "mis10k":         {"mean", "std", "per_class", "counts"}, # DeLiGAN, by predicted class
       "fidelity10k":    {"mean", "std", "per_class", "counts"} | null (unconditional model),
       "fd10k":          float,     # judge features, vs N seeded training images
       "precision10k":   float, "recall10k": float,              # k = 3, same reference
       "memorisation10k": {"sample_nn_median", "heldout_nn_median", "ratio",
                           "near_copy_share", "near_copy_threshold"}},
     "reference": {...what FD/PR/memorisation were measured against...},
     "evaluated_at": "2026-...Z", "wall_time_s": 41.2, "hardware": {...}}

The protocol is in every metric name (``is10k`` = 10,000 samples); scores are comparable only
under the same judge, so the judge's identity is in the file and in the report's grouping.
``report`` (``build_report``) reads every metrics.json under the roots into one table, and
core/evaluate/claims.py marks the paper's claims (paper.md §6) against it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from core.atomic import append_line, atomic_write_json, own_temp_files, read_json
from core.config import ConfigError, TrainConfig
from core.data import (
    SPLIT_SIZES,
    DataError,
    dataset_spec,
    load_split,
    resolve_data_root,
    to_model_range,
    training_set,
)
from core.data_pack import pack_names, pack_path, read_pack, reference_key, spreads_key
from core.device import hardware
from core.evaluate import metrics as M
from core.evaluate.judges import Judge, load_judge
from core.models import model_config
from core.paths import JUDGES_ROOT, repo_relative
from core.sampling import default_labels, sample
from core.weights import CONFIG_NAME, load_pretrained, read_config

METRICS_NAME = "metrics.json"
METRICS_LOG = "metrics.jsonl"
METRICS_FORMAT = 1
DEFAULT_N = 10_000
REFERENCE_SEED = 0  # the seeded subset of training images FD / precision / recall compare to
PR_K = 3


def protocol(n: int) -> str:
    """The N part of a metric name: 10000 -> '10k', 500 -> '500'."""
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def regime_of(n_train: int | None, dataset: str) -> str:
    """'full' for the whole training split (n_train 0 / None / >= its size), else '500' etc."""
    full = SPLIT_SIZES.get(dataset, (None,))[0]
    if not n_train or (full is not None and n_train >= full):
        return "full"
    return str(int(n_train))


# Training options that change what a model is (not just how long or where it ran): a run that
# sets one is labelled with it, so it never shares a report row with the paper's protocol.
PROTOCOL_TRAIN_KEYS = ("augment_shift", "augment_color", "augment_cutout")


def model_label(model_block: dict, train_block: dict | None = None) -> str:
    """The preset name, plus the keys where the config differs from the preset's defaults, plus
    the training options of PROTOCOL_TRAIN_KEYS that differ from TrainConfig's defaults."""
    preset, dataset = model_block.get("preset", "?"), model_block.get("dataset", "?")
    try:
        default = model_config(preset, dataset).to_dict()
    except (ConfigError, ValueError, KeyError):
        return str(preset)
    diffs = [
        f"{k}={model_block[k]}"
        for k in sorted(model_block)
        if k in default
        and model_block[k] != default[k]
        and not (isinstance(default[k], list | tuple) and list(default[k]) == list(model_block[k]))
    ]
    train, train_default = train_block or {}, TrainConfig().to_dict()
    diffs += [
        f"{k}={train[k]}"
        for k in PROTOCOL_TRAIN_KEYS
        if train.get(k, train_default[k]) != train_default[k]
    ]
    return f"{preset}[{','.join(diffs)}]" if diffs else str(preset)


def _flat(images: Tensor) -> np.ndarray:
    return images.reshape(len(images), -1).float().numpy()


def reference_indices(n_total: int, n: int) -> Tensor:
    """Sorted indices of the n seeded training images (of n_total) FD and recall compare to."""
    gen = torch.Generator().manual_seed(REFERENCE_SEED)
    return torch.randperm(n_total, generator=gen)[:n].sort().values


def _from_pack_or_split(
    dataset: str, split: str, data_root: str | os.PathLike | None, key: str
) -> tuple[Tensor, Tensor] | list[np.ndarray]:
    """The full split if it is here, else the travel pack's ``key`` arrays (core/data_pack.py)
    if the pack holds them, else the split as ``load_split`` finds (or downloads) it."""
    try:
        return load_split(dataset, split, data_root, download=False)
    except DataError:
        root = resolve_data_root(data_root)
        if (packed := read_pack(dataset, root, key)) is not None:
            return packed
        try:
            return load_split(dataset, split, data_root)
        except DataError as exc:
            if not (held := pack_names(dataset, root)):
                raise
            raise DataError(
                f"{exc} The travel pack {pack_path(dataset, root)} holds {held}, not {key}: "
                f"make it again (python -m core.zoo.travel pack-data {dataset} ...), or score "
                "where the full data is"
            ) from None


def reference_features(
    judge: Judge, dataset: str, n: int, data_root: str | os.PathLike | None = None
) -> tuple[np.ndarray, str]:
    """Judge features (n, F) of n seeded training images (all if n >= the split), and what
    they are; cached on the judge, so a process scoring many models computes them once."""
    key = ("reference", dataset, n)
    if key not in judge.cache:
        found = _from_pack_or_split(dataset, "train", data_root, reference_key(REFERENCE_SEED, n))
        if isinstance(found, list):  # the pack's copy of exactly these images
            chosen = torch.from_numpy(found[0])
        else:
            chosen = found[0][reference_indices(len(found[0]), n)]
        _, feats = judge.logits_and_features(to_model_range(chosen))
        what = f"{len(chosen)} training images (seeded subset, seed {REFERENCE_SEED})"
        judge.cache[key] = (feats.double().numpy(), what)
    return judge.cache[key]


def real_class_spreads(
    judge: Judge, dataset: str, data_root: str | os.PathLike | None = None
) -> tuple[list[float | None], str]:
    """Per class, the mean pairwise judge-feature distance of the real test images (the
    denominator of within-class diversity); cached on the judge."""
    key = ("class_spreads", dataset)
    if key not in judge.cache:
        found = _from_pack_or_split(dataset, "test", data_root, spreads_key(judge.name))
        if isinstance(found, list):  # computed from the test split where the pack was made
            spreads = [None if np.isnan(v) else float(v) for v in found[0]]
            n_test = int(found[1])
        else:
            images, labels = found
            _, feats = judge.logits_and_features(to_model_range(images))
            spreads = M.class_spreads(
                feats.double().numpy(), labels.numpy(), dataset_spec(dataset).n_classes
            )
            n_test = len(labels)
        judge.cache[key] = (spreads, f"{n_test} test images, judge features")
    return judge.cache[key]


def score(
    judge: Judge,
    probs: Tensor,
    features: Tensor,
    labels: Tensor | None,
    pixels: np.ndarray,
    heldout_pixels: np.ndarray,
    train_pixels: np.ndarray,
    dataset: str,
) -> tuple[dict, dict]:
    """All metrics of one sample set, named with their protocol; returns (metrics, reference).

    probs (N, K), features (N, F) from ``judge``; labels (N,) the conditioned classes or None;
    pixels (N, D), heldout_pixels (M, D), train_pixels (T, D) flattened images in [-1, 1].
    """
    n = len(probs)
    tag = protocol(n)
    ref_features, ref_what = reference_features(judge, dataset, n)
    precision, recall = M.precision_recall(ref_features, features.double().numpy(), k=PR_K)
    splits = 10 if n >= 10 else 1
    spreads, spreads_what = real_class_spreads(judge, dataset)
    groups = labels if labels is not None else probs.argmax(1)  # unconditional: judge's class
    out = {
        f"is{tag}": {**M.inception_score(probs, splits).to_dict(), "splits": splits},
        f"mis{tag}": M.modified_inception_score(probs).to_dict(),
        f"fidelity{tag}": None if labels is None else M.class_fidelity(probs, labels).to_dict(),
        f"diversity{tag}": M.within_class_diversity(features, groups, spreads).to_dict(),
        f"fd{tag}": M.frechet_distance(ref_features, features.double().numpy()),
        f"precision{tag}": precision,
        f"recall{tag}": recall,
        f"memorisation{tag}": M.memorisation(pixels, heldout_pixels, train_pixels),
    }
    reference = {
        "fd_precision_recall": f"{ref_what}, judge features, k={PR_K}",
        "diversity": f"within-class mean pairwise judge-feature distance over the same for "
        f"{spreads_what} ({'conditioned' if labels is not None else 'predicted'} classes)",
        "memorisation": f"RMS pixel distance to the nearest of {len(train_pixels)} training "
        f"images, vs {len(heldout_pixels)} held-out test images",
    }
    return out, reference


def _judge_probs_features(judge: Judge, images: Tensor) -> tuple[Tensor, Tensor]:
    logits, feats = judge.logits_and_features(images)
    return torch.softmax(logits.double(), dim=1), feats


def _heldout(dataset: str, n: int) -> np.ndarray:
    images, _ = load_split(dataset, "test")
    return _flat(to_model_range(images[:n]))


def evaluate_model(
    folder: str | os.PathLike,
    n: int = DEFAULT_N,
    device: str = "cpu",
    judge: Judge | None = None,
    batch_size: int = 1000,
    write: bool = True,
) -> dict:
    """Score a run or pretrained folder with N samples; writes metrics.json (+ .jsonl line)."""
    started = time.perf_counter()
    folder = Path(folder)
    config = read_config(folder)
    # the train block is read below (n_train, seed): check it before any sample is drawn
    train_cfg = TrainConfig.from_dict(config.get("train", {}), str(folder / CONFIG_NAME))
    model = load_pretrained(folder, device=device)
    mcfg = model.config
    dataset = mcfg.dataset
    judge = judge or load_judge(dataset, device)
    labels = torch.tensor(default_labels(n, mcfg.n_classes))
    probs, feats, pixels = [], [], []
    for start in range(0, n, batch_size):
        seeds = list(range(start, min(n, start + batch_size)))
        images = sample(model, seeds, labels[start : start + len(seeds)].tolist()).images
        p, f = _judge_probs_features(judge, images)
        probs.append(p)
        feats.append(f)
        pixels.append(_flat(images))
    n_train = train_cfg.n_train if "train" in config else None  # no train block: full split
    train_images, _ = training_set(dataset, n_train or None, train_cfg.seed)
    values, reference = score(
        judge,
        torch.cat(probs),
        torch.cat(feats),
        labels if mcfg.conditional else None,
        np.concatenate(pixels),
        _heldout(dataset, n),
        _flat(to_model_range(train_images)),
        dataset,
    )
    summary = read_json(folder / "summary.json")
    result = {
        "format_version": METRICS_FORMAT,
        "kind": "model",
        "source": repo_relative(folder),
        "dataset": dataset,
        "model": model_label(mcfg.to_dict(), config.get("train")),
        "preset": mcfg.preset,
        "model_config": mcfg.to_dict(),
        "regime": regime_of(n_train, dataset),
        "train_seed": train_cfg.seed if "train" in config else None,
        "steps": train_cfg.steps if "train" in config else None,
        "train_wall_time_s": (summary or {}).get("wall_time_s"),
        **_common(judge, n, values, reference, started),
    }
    if write:
        write_metrics(folder, result)
    return result


def evaluate_real(
    dataset: str,
    n: int | None = None,
    device: str = "cpu",
    judge: Judge | None = None,
    out: str | os.PathLike | None = None,
    write: bool = True,
) -> dict:
    """Score the official test split (first n images, default all) as if it were a model.

    Fidelity is then the judge's per-class accuracy; memorisation measures test images against
    the full training split (the held-out reference itself: ratio 1 by construction).
    """
    started = time.perf_counter()
    dataset_spec(dataset)
    judge = judge or load_judge(dataset, device)
    images_u8, labels = load_split(dataset, "test")
    n = len(labels) if n is None else min(n, len(labels))
    images = to_model_range(images_u8[:n])
    probs, feats = _judge_probs_features(judge, images)
    train_images, _ = load_split(dataset, "train")
    pixels = _flat(images)
    values, reference = score(
        judge,
        probs,
        feats,
        labels[:n],
        pixels,
        pixels,
        _flat(to_model_range(train_images)),
        dataset,
    )
    result = {
        "format_version": METRICS_FORMAT,
        "kind": "real",
        "source": f"{dataset} official test split",
        "dataset": dataset,
        "model": "real data (test split)",
        "preset": "real",
        "regime": "-",
        "train_seed": None,
        "steps": None,
        "train_wall_time_s": None,
        **_common(judge, n, values, reference, started),
    }
    if write:
        write_metrics(Path(out) if out else JUDGES_ROOT / dataset, result)
    return result


def _common(judge: Judge, n: int, values: dict, reference: dict, started: float) -> dict:
    return {
        "judge": judge.name,
        "judge_sha256": judge.sha256,
        "n_samples": n,
        "sample_seeds": f"0-{n - 1}",
        "metrics": values,
        "reference": reference,
        "evaluated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_time_s": round(time.perf_counter() - started, 2),
        "hardware": hardware(),
    }


def write_metrics(folder: Path, result: dict) -> Path:
    """One line appended to metrics.jsonl, then metrics.json (atomic), in ``folder``.

    In that order, a kill at any moment leaves a metrics.json that is one of metrics.jsonl's
    lines (the old one or the new one), never a score the history lacks. The temp files of a
    killed earlier write of metrics.json (and only those) are removed first."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in own_temp_files(folder, r"metrics\.json"):
        path.unlink(missing_ok=True)
    append_line(folder / METRICS_LOG, json.dumps(result, sort_keys=True, allow_nan=False))
    atomic_write_json(folder / METRICS_NAME, result)
    return folder / METRICS_NAME


def summary_line(result: dict) -> str:
    """A short human summary of a metrics.json object."""
    tag = protocol(result["n_samples"])
    m = result["metrics"]
    fid = m.get(f"fidelity{tag}")
    parts = [
        f"{result['model']} / {result['dataset']} / {result['regime']}:",
        f"is{tag} {m[f'is{tag}']['mean']:.3f} ± {m[f'is{tag}']['std']:.3f}",
        f"mis{tag} {m[f'mis{tag}']['mean']:.3f} ± {m[f'mis{tag}']['std']:.3f}",
        f"fidelity{tag} {fid['mean']:.3f}" if fid else f"fidelity{tag} n/a",
        f"fd{tag} {m[f'fd{tag}']:.3f}",
        f"precision{tag} {m[f'precision{tag}']:.3f}",
        f"recall{tag} {m[f'recall{tag}']:.3f}",
        f"memorisation{tag} ratio {m[f'memorisation{tag}']['ratio']:.3f}",
        f"({result['wall_time_s']:.1f}s, {result['judge']})",
    ]
    return "  ".join(parts)
