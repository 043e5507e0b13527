"""Data sets, the data root (``--data-root``, else ``$TGAN_DATA``, else ``<repo>/data``) and
class-balanced limited subsets: uint8 images (N, C, H, W), int64 labels (N,). Layout under the
root: torchvision's (``MNIST/raw``, ``FashionMNIST/raw``, ``cifar-10-batches-py``), ``cifar10/*``
(``python -m core data``), a GPU call's travel pack ``<dataset>-travel.npz`` (core/data_pack.py).
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from core.atomic import read_limited
from core.data_pack import read_pack, train_key
from core.errors import UserError
from core.paths import DATA_ENV, DEFAULT_DATA_ROOT, OFFLINE_ENV

IDX_LIMIT = 64 * 2**20  # the biggest idx file (60,000 28x28 images) is 47 MB
PREPARE_COMMAND = "make data   (or: python -m core data --data-root DIR)"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")  # dataset-fashion-mnist's files


class DataError(UserError):
    """A data set is missing or broken; the message names the paths and the fix."""


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


DIGITS = tuple(str(i) for i in range(10))
DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec("mnist", (1, 28, 28), DIGITS),
    "fashion": DatasetSpec(
        "fashion",
        (1, 28, 28),
        (
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
    "cifar10": DatasetSpec(
        "cifar10",
        (3, 32, 32),
        (
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ),
    ),
    # Synthetic, made on the fly: for tests and smoke runs, no files needed.
    "fake": DatasetSpec("fake", (1, 28, 28), DIGITS),
    "fake32": DatasetSpec("fake32", (3, 32, 32), DIGITS),
}

# torchvision's file names, and the sha256 of each file's uncompressed content (the .gz bytes
# differ between mirrors: Debian's Fashion-MNIST files are recompressed; the content is not).
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IDX_SHA256 = {  # noqa: E501 (hashes)
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",  # noqa: E501
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",  # noqa: E501
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",  # noqa: E501
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",  # noqa: E501
    },
    "fashion": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",  # noqa: E501
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",  # noqa: E501
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",  # noqa: E501
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",  # noqa: E501
    },
}
IDX_FOLDER = {"mnist": "MNIST", "fashion": "FashionMNIST"}
SPLIT_SIZES = {"mnist": (60000, 10000), "fashion": (60000, 10000), "cifar10": (50000, 10000)}


def dataset_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise DataError(f"unknown data set {name!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[name]


def resolve_data_root(cli_value: str | os.PathLike | None = None) -> Path:
    """--data-root wins, then $TGAN_DATA, then <repo>/data."""
    value, what = (cli_value, "--data-root") if cli_value else (os.environ.get(DATA_ENV), "")
    if not value:
        return DEFAULT_DATA_ROOT
    try:
        return Path(value).expanduser().resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        what = what or f"${DATA_ENV}"
        raise DataError(
            f"{what} {value}: cannot resolve it (a symlink loop?: {exc}); point {what} at a "
            "real folder"
        ) from None


def read_idx_bytes(path: Path) -> bytes:
    """The uncompressed content of an idx file (plain or .gz, at most IDX_LIMIT bytes either
    way: a gzip bomb stops there); errors name the file."""
    try:
        raw = read_limited(path, IDX_LIMIT)
        if path.suffix != ".gz":
            return raw
        inflater = zlib.decompressobj(wbits=31)  # gzip framing
        out = inflater.decompress(raw, IDX_LIMIT + 1)
        if len(out) > IDX_LIMIT:
            raise DataError(
                f"{path}: inflates to more than {IDX_LIMIT >> 20} MiB (no idx file is that big); "
                f"delete it and re-create it with: {PREPARE_COMMAND}"
            )
        if not inflater.eof:
            raise EOFError("compressed file ended before the end-of-stream marker")
        return out
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{path}: cannot read ({exc}); re-create it with: {PREPARE_COMMAND}"
        ) from exc


def check_labels(labels: np.ndarray, n_classes: int, source: Path) -> np.ndarray:
    """``labels`` as int64 if they are whole numbers in [0, n_classes) (else DataError)."""
    ok = labels.ndim == 1 and np.issubdtype(labels.dtype, np.integer)
    if not ok or (len(labels) and (labels.min() < 0 or labels.max() >= n_classes)):
        raise DataError(
            f"{source}: labels must be whole numbers in [0, {n_classes - 1}] (got {labels.dtype}"
            f"{f', {labels.min()}..{labels.max()}' if labels.size else ''}); re-create it with: "
            f"{PREPARE_COMMAND}"
        )
    return labels.astype(np.int64)


def verify_idx(name: str, path: Path, raw: bytes) -> None:
    """Check the content sha256 of a known idx file; a mismatch names the file and the fix."""
    stem = path.name.removesuffix(".gz")
    expected = IDX_SHA256.get(name, {}).get(stem)
    if expected is None:
        return
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected:
        raise DataError(
            f"{path}: checksum mismatch (content sha256 {actual[:16]}..., expected "
            f"{expected[:16]}...); delete it and re-create it with: {PREPARE_COMMAND}"
        )


def read_idx(path: Path, raw: bytes | None = None) -> np.ndarray:
    """Parse an idx1/idx3 file (plain or .gz) into a uint8 array; errors name the file."""
    raw = read_idx_bytes(path) if raw is None else raw
    if len(raw) < 8:
        raise DataError(f"{path}: truncated idx file ({len(raw)} bytes)")
    magic, count = struct.unpack(">II", raw[:8])
    if magic == 2049:
        shape: tuple[int, ...] = (count,)
        offset = 8
    elif magic == 2051:
        if len(raw) < 16:
            raise DataError(f"{path}: truncated idx header")
        rows, cols = struct.unpack(">II", raw[8:16])
        shape, offset = (count, rows, cols), 16
    else:
        raise DataError(
            f"{path}: not an idx file (magic {magic}, expected 2049 labels or 2051 images); "
            f"re-create it with: {PREPARE_COMMAND}"
        )
    expected = int(np.prod(shape))
    if len(raw) - offset != expected:
        raise DataError(
            f"{path}: truncated or oversized idx file: {len(raw) - offset} data bytes, "
            f"expected {expected} for shape {shape}; re-create it with: {PREPARE_COMMAND}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def _find_idx(name: str, stem: str, root: Path, tried: list[Path]) -> Path | None:
    folders = [root / IDX_FOLDER[name] / "raw"]
    if name == "fashion":
        folders.append(DEBIAN_FASHION_DIR)
    for folder in folders:
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            tried.append(candidate)
            if candidate.is_file():
                return candidate
    return None


def _download_allowed(download: bool) -> bool:
    return download and os.environ.get(OFFLINE_ENV, "") not in ("1", "true", "yes")


def _torchvision_download(name: str, root: Path) -> None:
    """Fetch with torchvision into root (online users); any failure becomes a DataError."""
    import torchvision.datasets as tvd

    cls = {"mnist": tvd.MNIST, "fashion": tvd.FashionMNIST, "cifar10": tvd.CIFAR10}[name]
    try:
        cls(str(root), train=True, download=True)
        cls(str(root), train=False, download=True)
    except Exception as exc:  # network errors come in many types
        raise DataError(f"download of {name} into {root} failed: {exc}") from exc


def _missing(name: str, tried: list[Path], extra: str = "") -> DataError:
    paths = ", ".join(str(p) for p in tried)
    return DataError(
        f"data set {name!r} not found (paths tried: {paths}). Install it with: "
        f"{PREPARE_COMMAND}, or point --data-root / ${DATA_ENV} at a folder that holds it.{extra}"
    )


def _load_idx_split(name: str, split: str, root: Path, download: bool) -> tuple[np.ndarray, ...]:
    tried: list[Path] = []
    paths = [_find_idx(name, stem, root, tried) for stem in IDX_FILES[split]]
    if any(p is None for p in paths) and _download_allowed(download):
        try:
            _torchvision_download(name, root)
        except DataError as exc:
            raise _missing(name, tried, f" ({exc})") from exc
        tried = []
        paths = [_find_idx(name, stem, root, tried) for stem in IDX_FILES[split]]
    if any(p is None for p in paths):
        raise _missing(name, tried)
    arrays = []
    for p in paths:
        raw = read_idx_bytes(p)
        array = read_idx(p, raw)  # structure first (truncated, wrong magic), then the checksum
        verify_idx(name, p, raw)
        arrays.append(array)
    images, labels = arrays
    if images.shape[1:] != (28, 28) or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{paths[0]} and {paths[1]} do not match: {images.shape} vs {labels.shape}")
    return images[:, None], check_labels(labels, len(DIGITS), paths[1])


def _load_cifar_split(split: str, root: Path, download: bool) -> tuple[np.ndarray, ...]:
    tried: list[Path] = []
    npy_dir = root / "cifar10"
    x_path, y_path = npy_dir / f"x_{split}.npy", npy_dir / f"y_{split}.npy"
    tried += [x_path, y_path]
    if x_path.is_file() and y_path.is_file():
        x, y = _load_npy(x_path), _load_npy(y_path)
        if x.dtype != np.uint8 or x.shape[1:] != (32, 32, 3) or len(x) != len(y):
            raise DataError(f"{x_path}: expected uint8 (N, 32, 32, 3), got {x.dtype} {x.shape}")
        return x.transpose(0, 3, 1, 2), check_labels(y, 10, y_path)
    tv_dir = root / "cifar-10-batches-py"
    tried.append(tv_dir)
    if not tv_dir.is_dir() and _download_allowed(download):
        try:
            _torchvision_download("cifar10", root)
        except DataError as exc:
            raise _missing("cifar10", tried, f" ({exc})") from exc
    if not tv_dir.is_dir():
        raise _missing("cifar10", tried)
    import pickle

    import torchvision.datasets as tvd

    try:  # torchvision checks each file's md5 before it unpickles it
        ds = tvd.CIFAR10(str(root), train=(split == "train"), download=False)
    except (RuntimeError, OSError, ValueError, EOFError, KeyError, pickle.UnpicklingError) as exc:
        raise DataError(
            f"{tv_dir}: unreadable or corrupt ({exc}); delete it and re-create the data with: "
            f"{PREPARE_COMMAND}"
        ) from exc
    return ds.data.transpose(0, 3, 1, 2), check_labels(np.asarray(ds.targets), 10, tv_dir)


def _load_npy(path: Path) -> np.ndarray:
    """An .npy array, no pickles; memory-mapped first, so a header that claims more data than
    the file holds is refused before anything is allocated."""
    try:
        return np.array(np.load(path, mmap_mode="r", allow_pickle=False))
    except (OSError, ValueError) as exc:
        pickled = " (pickled objects are refused: allow_pickle=False)" * ("objects" in str(exc))
        msg = f"{path}: unreadable ({exc}){pickled}; re-create with: {PREPARE_COMMAND}"
        raise DataError(msg) from exc


def make_fake(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic class-structured images: class k lights a bar at a class-specific place."""
    spec = DATASETS[name]
    c, h, w = spec.image_shape
    n = 1000 if split == "train" else 200
    rng = np.random.default_rng(0 if split == "train" else 1)
    labels = np.arange(n) % spec.n_classes
    rng.shuffle(labels)
    images = rng.integers(0, 40, size=(n, c, h, w)).astype(np.int32)
    for k in range(spec.n_classes):
        rows = slice(2 + 2 * k, 4 + 2 * k)
        images[labels == k, :, rows, 4 : w - 4] += 200
    return np.clip(images, 0, 255).astype(np.uint8), labels


@lru_cache(maxsize=8)
def _load_cached(name: str, split: str, root: str, download: bool) -> tuple[Tensor, Tensor]:
    if name in ("fake", "fake32"):
        images, labels = make_fake(name, split)
    elif name == "cifar10":
        images, labels = _load_cifar_split(split, Path(root), download)
    else:
        images, labels = _load_idx_split(name, split, Path(root), download)
    images_t = torch.from_numpy(np.array(images, copy=True))  # frombuffer arrays are read-only
    labels_t = torch.from_numpy(np.asarray(labels).astype(np.int64))
    expected = SPLIT_SIZES.get(name)
    if expected is not None and len(labels_t) != expected[0 if split == "train" else 1]:
        raise DataError(f"{name} {split}: {len(labels_t)} images, expected {expected}")
    return images_t, labels_t


def load_split(
    name: str,
    split: str = "train",
    data_root: str | os.PathLike | None = None,
    download: bool = True,
) -> tuple[Tensor, Tensor]:
    """(images uint8 (N, C, H, W), labels int64 (N,)) of an official split ("train" / "test")."""
    dataset_spec(name)
    if split not in ("train", "test"):
        raise DataError(f'split must be "train" or "test", got {split!r}')
    return _load_cached(name, split, str(resolve_data_root(data_root)), download)


def balanced_subset(labels: Tensor, n_total: int, n_classes: int, seed: int) -> Tensor:
    """Sorted indices of n_total examples, n_total / n_classes per class, drawn with ``seed``."""
    if n_total % n_classes:
        raise DataError(f"--n-train {n_total} must be a multiple of the {n_classes} classes")
    per_class = n_total // n_classes
    gen = torch.Generator().manual_seed(seed)
    chosen = []
    for k in range(n_classes):
        idx = torch.nonzero(labels == k).squeeze(1)
        if len(idx) < per_class:
            raise DataError(f"class {k} has {len(idx)} examples, fewer than {per_class} requested")
        chosen.append(idx[torch.randperm(len(idx), generator=gen)[:per_class]])
    return torch.cat(chosen).sort().values


def training_set(
    name: str,
    n_train: int | None,
    seed: int,
    data_root: str | os.PathLike | None = None,
    download: bool = True,
) -> tuple[Tensor, Tensor]:
    """The training images and labels, or a class-balanced subset of n_train of them (where
    the split is not here, a travel pack's copy of that subset: core/data_pack.py)."""
    key = train_key(n_train if n_train and n_train > 0 else None, seed)
    try:
        images, labels = load_split(name, "train", data_root, download=False)
    except DataError:
        if packed := read_pack(name, resolve_data_root(data_root), key):
            return torch.from_numpy(packed[0]), torch.from_numpy(packed[1])
        images, labels = load_split(name, "train", data_root, download)
    if n_train is None or n_train <= 0 or n_train >= len(labels):
        return images, labels
    idx = balanced_subset(labels, n_train, dataset_spec(name).n_classes, seed)
    return images[idx], labels[idx]


def to_model_range(images: Tensor) -> Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return images.float().div(127.5).sub(1.0)


def to_uint8(images: Tensor) -> Tensor:
    """[-1, 1] -> uint8 [0, 255] (rounded, clamped)."""
    return images.add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)
