"""App-wide caching: models and judges load once per process (``st.cache_resource``: read-only
after loading, shared by every session), results are memoised (``st.cache_data``: keyed by the
arguments, bounded). Every function here calls ``core``; pages call these.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch
from PIL import Image

from core.data import DataError
from core.evaluate.claims import CLAIMS_NAME
from core.evaluate.judges import judge_available, load_judge
from core.explore import compare, interpolation, latent_edit, lesson
from core.sampling import image_grid, sample
from core.weights import WeightsError, load_pretrained, read_config
from core.zoo.discover import ZooEntry, discover_models
from explorer import perf, results_data, zoo_health


def _config_stamp(folder: Path) -> tuple[float, float]:
    stamps = []
    for name in ("config.json", "model.safetensors"):
        try:
            stamps.append((folder / name).stat().st_mtime)
        except OSError:
            stamps.append(0.0)
    return stamps[0], stamps[1]


@perf.shared_data(max_entries=1024)
def _entry_problem(folder: str, stamp: tuple[float, float]) -> str | None:
    return zoo_health.entry_problem(Path(folder))


@st.cache_data(ttl=30, show_spinner=False)
def _scan(root: str) -> tuple[list[ZooEntry], list[tuple[str, str]]]:
    entries = discover_models(root)
    problems = {}
    for entry in entries:
        why = _entry_problem(str(entry.folder), _config_stamp(entry.folder))
        if why is not None:
            problems[entry.name] = why
    listed = {e.name for e in entries}
    problems.update(zoo_health.unlisted_problems(Path(root), listed))
    return [e for e in entries if e.name not in problems], sorted(problems.items())


def zoo(root: str) -> list[ZooEntry]:
    """The zoo entries under ``root`` the app can show (re-scanned every 30 s: new folders
    appear without a restart); the others are in ``zoo_problems``."""
    return _scan(root)[0]


def zoo_problems(root: str) -> list[tuple[str, str]]:
    """(folder name, why) of each model folder under ``root`` that the app skips."""
    return _scan(root)[1]


def _stamp(folder: Path) -> float:
    """Weights file mtime: a retrained model under the same name loads afresh."""
    try:
        return (folder / "model.safetensors").stat().st_mtime
    except OSError:
        return 0.0


@st.cache_resource(max_entries=6, show_spinner="Loading the model ...")
def _load_model(folder: str, stamp: float) -> torch.nn.Module:
    model = load_pretrained(folder)
    model.requires_grad_(False)
    return model


def model(entry: ZooEntry) -> torch.nn.Module:
    """The loaded model of a zoo entry (eval mode, no gradients), shared across sessions."""
    return _load_model(str(entry.folder), _stamp(entry.folder))


@perf.shared_data(max_entries=64)
def train_config(folder: str) -> dict:
    """The ``train`` block of a model folder's config.json ({} when absent or unreadable)."""
    try:
        block = read_config(folder).get("train")
    except WeightsError:
        return {}
    return block if isinstance(block, dict) else {}


@st.cache_resource(max_entries=4, show_spinner="Loading the judge ...")
def _load_judge(dataset: str) -> Any | None:
    try:
        if not judge_available(dataset):
            return None
        return load_judge(dataset)
    except Exception:  # noqa: BLE001 - a broken judge must not take the page down
        return None


def judge(dataset: str) -> Any | None:
    """The data set's judge (``core.evaluate.judges.Judge``) or None when none is shipped."""
    return _load_judge(dataset)


def _entry_by_folder(folder: str) -> ZooEntry:
    for entry in zoo(str(Path(folder).parent)):
        if str(entry.folder) == folder:
            return entry
    raise FileNotFoundError(f"{folder} is no longer a model folder")


def png_bytes(grid: np.ndarray) -> bytes:
    """A uint8 (H, W, C) grid as PNG: encoded once, then every session's ``st.image`` only
    hashes the bytes (a numpy array would be encoded again on every run)."""
    buffer = io.BytesIO()
    Image.fromarray(grid[..., 0] if grid.shape[2] == 1 else grid).save(buffer, format="PNG")
    return buffer.getvalue()


@perf.shared_data(max_entries=256)
def sample_png(
    folder: str,
    seeds: tuple[int, ...],
    labels: tuple[int, ...] | None,
    df: float | None,
    scale: float,
    component: int | None,
    nrow: int,
) -> bytes:
    """PNG of G's images for one seed per image (``core.sampling.sample``), ``nrow`` a row."""
    net = model(_entry_by_folder(folder))
    images = sample(
        net,
        list(seeds),
        None if labels is None else list(labels),
        df=df,
        scale=scale,
        component=component,
    ).images
    return png_bytes(image_grid(images, nrow=nrow))


def sample_grid(*args) -> np.ndarray:
    """``sample_png`` (same arguments) as a uint8 (H, W, C) array, for plots of the grid."""
    grid = np.asarray(Image.open(io.BytesIO(sample_png(*args))))
    return grid[..., None] if grid.ndim == 2 else grid


@perf.shared_data(max_entries=64)
def seed_latent(
    folder: str, seed: int, label: int, df: float | None, component: int | None
) -> latent_edit.SeedLatent:
    """One seed's latent in standardised form (``core.explore.latent_edit.seed_latent``)."""
    net = model(_entry_by_folder(folder))
    return latent_edit.seed_latent(net, seed, label, df=df, component=component)


@perf.shared_data(max_entries=16)
def principal_directions(folder: str, k: int, df: float | None) -> tuple[np.ndarray, np.ndarray]:
    net = model(_entry_by_folder(folder))
    return latent_edit.principal_directions(net, k, df=df)


@perf.shared_data(max_entries=256)
def edited_png(
    folder: str,
    seed: int,
    label: int,
    df: float | None,
    component: int | None,
    deviations: tuple[tuple[float, ...], ...],
    scale: float,
    nrow: int,
) -> bytes:
    """PNG of the grid of G(mu_c + scale * sigma_c * d, c) for each standardised deviation d."""
    net = model(_entry_by_folder(folder))
    base = seed_latent(folder, seed, label, df, component)
    images = latent_edit.decode_deviations(net, base, np.array(deviations), scale)
    return png_bytes(image_grid(images, nrow=nrow))


@perf.shared_data(max_entries=64)
def codeword_frames(
    folder: str, class_a: int, class_b: int, n_frames: int, seed_a: int, seed_b: int, mode: str
) -> tuple[np.ndarray, bytes, bytes, np.ndarray | None]:
    """(t (T,), the strip as PNG bytes, GIF bytes, judge probabilities (T, K) or None)."""
    entry = _entry_by_folder(folder)
    net = model(entry)
    result = interpolation.interpolate(net, class_a, class_b, n_frames, seed_a, seed_b, mode)
    probs = None
    jd = judge(entry.dataset)
    if jd is not None:
        probs = jd.predict_proba(result.images).double().cpu().numpy()
    return (
        result.t.numpy(),
        png_bytes(interpolation.strip(result.images)),
        interpolation.gif_bytes(result.images),
        probs,
    )


@perf.shared_data(max_entries=512)
def lesson_curve(name: str, *args):
    """``core.explore.lesson.<name>(*args)`` (a density, tail curve, sample cloud ...), computed
    once for every session that draws the same lesson figure."""
    if name not in LESSON_CURVES:
        raise ValueError(f"not a lesson curve: {name!r} (one of {', '.join(LESSON_CURVES)})")
    return getattr(lesson, name)(*args)


LESSON_CURVES = (
    "density_1d",
    "density_2d",
    "tail_curve",
    "standard_samples",
    "gap_to_gaussian",
    "tail_ratio",
)


@perf.shared_data(max_entries=32)
def mixture_2d(n_components: int, df: float | None, seed: int, n: int = 101) -> lesson.Mixture2D:
    """``core.explore.lesson.mixture_2d`` on an n x n density grid."""
    return lesson.mixture_2d(n_components, df, seed, n=n)


@st.cache_resource
def compute_slot() -> threading.BoundedSemaphore:
    """One on-demand embedding at a time per server process (t-SNE is CPU-heavy: a class of 30
    clicking "compute" must not queue 30 of them)."""
    return threading.BoundedSemaphore(1)


@perf.shared_data(max_entries=64)
def race_curve(
    folder: str, label: int, radii: tuple[float, ...], n: int
) -> list[compare.RacePoint] | None:
    """A conditional model's race into the tails (``core.explore.compare.race``), or None when
    its data set has no judge. Shared by every session: a class computes each curve once."""
    entry = _entry_by_folder(folder)
    jd = judge(entry.dataset)
    if jd is None:
        return None
    reference = real_spread(entry.dataset, label)
    return compare.race(model(entry), jd, label, radii, n, reference)


@perf.shared_data(max_entries=64)
def real_spread(dataset: str, label: int) -> float:
    """The real class's judge-feature spread (NaN when the test split is not in the data
    root: the race then shows fidelity only)."""
    jd = judge(dataset)
    if jd is None:
        return float("nan")
    try:
        return compare.real_spread(jd, dataset, label)
    except (DataError, OSError):  # no data here: the diversity curve is left out, said so
        return float("nan")


def _results_stamp(root: Path) -> tuple[tuple[str, float], ...]:
    """(name, mtime) of every file the Results page reads: a new report shows at once."""
    files = [*root.glob("*.csv"), root / "RESULTS.md", root / CLAIMS_NAME]
    if not any(p.suffix == ".csv" for p in files):
        files += list(root.glob("*/metrics.json"))
    stamps = []
    for path in sorted(files):
        try:
            stamps.append((str(path), path.stat().st_mtime))
        except OSError:
            continue
    return tuple(stamps)


@perf.shared_data(max_entries=8)
def _results(root: str, stamp: tuple) -> tuple[Any, list, str | None]:
    folder = Path(root)
    md = folder / "RESULTS.md"
    try:
        text = md.read_text(encoding="utf-8", errors="replace") if md.is_file() else None
    except OSError:
        text = None
    return results_data.metrics_table(folder), results_data.claims(folder), text


def results(root: Path) -> tuple[Any, list, str | None]:
    """(metrics table or None, claims, RESULTS.md text or None) of the zoo at ``root``, read
    once per change of its files for every session."""
    return _results(str(root), _results_stamp(root))


@perf.shared_resource(max_entries=32)
def _results_figure(root: str, stamp: tuple, metric: str) -> Any:
    table = _results(root, stamp)[0]
    return results_data.metric_figure(table, metric)


def results_figure(root: Path, metric: str) -> Any:
    """The Results page's bar chart of ``metric`` (a shared plotly Figure, built once per
    change of the zoo's result files)."""
    return _results_figure(str(root), _results_stamp(root), metric)
