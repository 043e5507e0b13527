"""The hostile-input table's building blocks: the workspace every row starts from (a finished
tiny run in ``runs/run``), the ``Case`` record and the surgery that breaks one file of it."""

from __future__ import annotations

import json
import os
import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.models import build_model, model_config
from core.weights import read_safetensors, state_to_bytes

REPO = Path(__file__).resolve().parents[2]
RUN = "runs/run"  # relative to the workspace (the test's working directory)
TRAIN = [
    "train",
    "--dataset",
    "fake",
    "--width",
    "8",
    "--steps",
    "2",
    "--batch-size",
    "16",
    "--n-train",
    "100",
    "--no-progress",
    "--run-dir",
    "runs/new",
]
RESUME = ["train", "--run-dir", RUN, "--resume", "--steps", "4", "--no-progress"]


class Marker:
    """Unpickling this creates ``path``: proof that code from a file ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@dataclass(frozen=True)
class Case:
    """One hostile input: ``setup`` breaks the workspace, ``argv`` runs the CLI on it."""

    id: str
    argv: list[str]
    expect: tuple[str, ...]  # fragments of the one error line: the problem and where to fix it
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    writes_in: str | None = None  # the run dir a refused resume may rewrite; nothing else
    module: str = "core"  # the command line: ``python -m core`` or ``python -m core.reproduce``


# --- workspace surgery ------------------------------------------------------------------------


def _edit_config(folder: str, change: Callable[[dict], object]) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        path = ws / folder / "config.json"
        config = json.loads(path.read_text())
        change(config)  # in place
        path.write_text(json.dumps(config))

    return setup


def _write(folder_file: str, data: bytes | Callable[[Path], bytes]) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        path = ws / folder_file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data(ws) if callable(data) else data)

    return setup


def _edit_weights(name: str, change: Callable[[dict], None], meta=None) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        path = ws / RUN / name
        state = read_safetensors(path)
        if meta is None:
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as fh:
                metadata = fh.metadata()
        else:
            metadata = meta
        change(state)
        path.write_bytes(state_to_bytes(state, metadata))

    return setup


def _first_float(state: dict) -> str:
    return next(k for k, v in state.items() if v.is_floating_point() and v.ndim >= 2)


def _first_key(state: dict, prefix: str) -> str:
    return sorted(k for k in state if k.startswith(prefix) and not k.endswith(".step"))[0]


def _wider_weights(ws: Path) -> bytes:
    wider = build_model(model_config("tgan", "fake", width=16)).state_dict()
    return state_to_bytes(wider, {"format": "pt"})


def _pickle_bytes(ws: Path) -> bytes:
    return pickle.dumps({"weight": Marker(str(ws / "PWNED"))})


def _truncate(name: str) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        path = ws / RUN / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return setup


def _idx(magic: int, count: int, dims: tuple[int, ...] = (), payload: int | None = None) -> bytes:
    header = struct.pack(">II", magic, count) + b"".join(struct.pack(">I", d) for d in dims)
    size = count * int(np.prod(dims or (1,))) if payload is None else payload
    return header + bytes(size)


MNIST = "data/MNIST/raw"
GOOD_LABELS = _write(f"{MNIST}/train-labels-idx1-ubyte", _idx(2049, 10))
DATA_TRAIN = [
    "train",
    "--dataset",
    "mnist",
    "--data-root",
    "data",
    "--width",
    "8",
    "--no-progress",
    "--run-dir",
    "runs/new",
]
CIFAR_TRAIN = [*DATA_TRAIN[:2], "cifar10", *DATA_TRAIN[3:]]


def _with_labels(name: str, data: bytes) -> Callable[[Path], None]:
    """The images file ``name`` with ``data``, next to a well-formed labels file."""
    return _both(_write(name, data), GOOD_LABELS)


def _both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        for s in setups:
            s(ws)

    return setup


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def _pickled_npy(ws: Path) -> bytes:
    return _npy(np.array([Marker(str(ws / "PWNED"))], dtype=object), allow_pickle=True)


def _symlink_out(ws: Path) -> None:
    (ws / "runs").mkdir(exist_ok=True)
    (ws.parent / "outside").mkdir(exist_ok=True)
    (ws / "runs" / "escape").symlink_to(ws.parent / "outside")


def _fifo(rel: str) -> Callable[[Path], None]:
    """``rel`` becomes a FIFO nobody writes to: a reader that opens it plainly hangs."""

    def setup(ws: Path) -> None:
        path = ws / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        os.mkfifo(path)

    return setup


def _link(rel: str, target: str) -> Callable[[Path], None]:
    """``rel`` becomes a symlink to ``target`` (absolute, or relative to the workspace)."""

    def setup(ws: Path) -> None:
        path = ws / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        path.symlink_to(target if target.startswith("/") else ws / target)

    return setup


def _deep_json(depth: int = 200_000) -> bytes:
    return b"[" * depth + b"]" * depth


def _gzip_bomb(ws: Path) -> bytes:
    """~100 KiB of gzip that inflates to 100 MiB of zeros, in a valid idx header."""
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = struct.pack(">IIII", 2051, 60000, 28, 28)
    parts = [packer.compress(head)]
    zeros = bytes(1 << 20)
    parts += [packer.compress(zeros) for _ in range(100)]
    return b"".join(parts) + packer.flush()


def _tarball(members: dict[str, bytes]) -> Callable[[Path], bytes]:
    def make(ws: Path) -> bytes:
        import io
        import tarfile

        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    return make


def _config_literal(key: str, literal: str) -> Callable[[Path], None]:
    """model.<key> of the run's config.json becomes the raw JSON text ``literal``."""

    def setup(ws: Path) -> None:
        path = ws / RUN / "config.json"
        config = json.loads(path.read_text())
        config["model"][key] = "@@"
        path.write_text(json.dumps(config).replace('"@@"', literal))

    return setup
