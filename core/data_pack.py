"""Travel packs: what a GPU call's training reads, where a data set's arrays cannot travel.

A call to the GPU machine carries 64 MiB; CIFAR-10's arrays are 176 MB. A run in the
2,000-image regime reads far less: its seed's class-balanced subset, and for its score curve
the seeded training images FD compares to and the real class spreads under the judge. ``python
-m core.zoo.travel pack-data`` writes exactly those arrays, computed from the full data, into
``<data root>/<dataset>-travel.npz``. They are read only where the full split is not on the
machine, and each is the array the full split gives, byte for byte
(tests/core/test_data_pack.py). Anything else (the final 10k scoring, full-set training) still
needs the full data and says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

PACK_SUFFIX = "-travel.npz"


def pack_path(dataset: str, root: str | os.PathLike) -> Path:
    """``<data root>/<dataset>-travel.npz``."""
    return Path(root) / f"{dataset}{PACK_SUFFIX}"


def train_key(n_train: int | None, seed: int) -> str:
    """A seed's training subset: images (N, C, H, W) uint8 and labels (N,) int64."""
    return f"train_{n_train}_s{seed}"


def reference_key(seed: int, n: int) -> str:
    """The seeded training images the curve's FD, precision and recall compare to."""
    return f"reference_s{seed}_{n}"


def spreads_key(judge_name: str) -> str:
    """Real per-class spreads under one judge (NaN for a class with fewer than 2 images)."""
    return f"spreads_{judge_name}"


def read_pack(dataset: str, root: str | os.PathLike, key: str) -> list[np.ndarray] | None:
    """The arrays stored under ``key`` (``key.0``, ``key.1``, ...), or None when there is no
    pack or it does not hold ``key``."""
    path = pack_path(dataset, root)
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as pack:
        names = sorted(
            (n for n in pack.files if n.rsplit(".", 1)[0] == key),
            key=lambda n: int(n.rsplit(".", 1)[1]),
        )
        return [pack[n] for n in names] or None


def pack_names(dataset: str, root: str | os.PathLike) -> list[str]:
    """The keys a pack holds (for error messages), empty without a pack."""
    path = pack_path(dataset, root)
    if not path.is_file():
        return []
    with np.load(path, allow_pickle=False) as pack:
        return sorted({n.rsplit(".", 1)[0] for n in pack.files})


def write_pack(dataset: str, root: str | os.PathLike, arrays: dict[str, list[np.ndarray]]) -> Path:
    """Write ``arrays`` (key -> its arrays) as the data set's pack, atomically."""
    path = pack_path(dataset, root)
    flat = {f"{key}.{i}": a for key, values in arrays.items() for i, a in enumerate(values)}
    partial = path.with_name(f".{path.name}.partial.npz")
    np.savez_compressed(partial, **flat)
    partial.replace(path)
    return path
