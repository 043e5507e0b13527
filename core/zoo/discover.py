"""The model zoo on disk: discovering shipped models and run directories.

A zoo entry is any folder under the zoo root (``pretrained/`` unless ``$TGAN_PRETRAINED``) holding
``config.json`` + ``model.safetensors``; ``pretrained/judges/`` and ``pretrained/embeddings/`` are
not models. Nothing is hard-coded: new entries appear when their folder lands.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.atomic import load_json_file, read_json
from core.paths import PathError, resolve_inside, zoo_root
from core.weights import CONFIG_NAME, WEIGHTS_NAME

NOT_MODELS = ("judges", "embeddings", "toy")


@dataclass(frozen=True)
class ZooEntry:
    """One loadable model folder. ``name`` is the folder name (e.g. ``tgan-mnist-500``)."""

    name: str
    folder: Path
    preset: str
    dataset: str
    n_classes: int
    conditioning: str
    prior: str
    df: float | None
    family: str = "gan"
    featured: bool = False  # entry.json says: the app's default model of its data set

    @property
    def conditional(self) -> bool:
        return self.conditioning != "none"


def read_entry(folder: Path) -> ZooEntry | None:
    """The entry of a model folder, or None when it is not one (no weights, unreadable config)."""
    if not (folder / CONFIG_NAME).is_file() or not (folder / WEIGHTS_NAME).is_file():
        return None
    try:
        model = load_json_file(folder / CONFIG_NAME)["model"]
        return ZooEntry(
            name=folder.name,
            folder=folder,
            preset=str(model["preset"]),
            dataset=str(model["dataset"]),
            n_classes=int(model["n_classes"]),
            conditioning=str(model.get("conditioning", "none")),
            prior=str(model.get("prior", "gaussian")),
            df=None if model.get("df") is None else float(model["df"]),
            family=str(model.get("family", "gan")),
            featured=_featured(folder),
        )
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None  # RecursionError: a config.json nested too deeply for json


def _featured(folder: Path) -> bool:
    """``"featured": true`` in the folder's entry.json (written by ``core.reproduce ship``)."""
    info = read_json(folder / "entry.json")
    return info is not None and info.get("featured") is True


def discover_models(
    root: str | os.PathLike | None = None, families: tuple[str, ...] = ("gan",)
) -> list[ZooEntry]:
    """Every model folder of the given families directly under ``root`` (default the zoo root),
    sorted by name; t-GANs first, MNIST first and featured entries first, so the default model
    is the featured t-GAN when one is shipped. The app's pages drive latents, so the PixelCNN
    baseline is left out unless asked for."""
    root = Path(root) if root is not None else zoo_root()
    if not root.is_dir():
        return []
    entries = []
    for folder in sorted(root.iterdir()):
        if folder.name in NOT_MODELS or folder.name.startswith(".") or not folder.is_dir():
            continue
        entry = read_entry(folder)
        if entry is not None and entry.family in families:
            entries.append(entry)
    return sorted(
        entries, key=lambda e: (e.preset != "tgan", e.dataset != "mnist", not e.featured, e.name)
    )


def list_run_dirs(roots: list[Path], max_depth: int = 3) -> list[Path]:
    """Folders under ``roots`` that hold a ``stats.jsonl`` (training runs), newest first.
    Symlinks that leave the roots are skipped."""
    found: list[Path] = []
    for root in roots:
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            depth = len(Path(dirpath).relative_to(root).parts)
            if depth >= max_depth:
                dirnames[:] = []
            if "stats.jsonl" in filenames:
                try:
                    found.append(resolve_inside(dirpath, roots))
                except PathError:
                    continue
    return sorted(set(found), key=lambda p: p.stat().st_mtime, reverse=True)
