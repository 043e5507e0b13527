"""Hostile and broken inputs over every entry point of the CLI, table-driven (issue 8 §2).

Each row gives ``python -m core`` a bad option, config.json, weights file or data file and
checks the answer: exit status 2, exactly one ``error:`` line that names the problem (and the
file/option to fix), no traceback, and nothing written outside the run directory (a failed fresh
run does not even create it). The CLI runs in-process through ``core.__main__.main``; a few rows
run again in a child process to prove no traceback reaches the terminal.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from core.__main__ import main
from core.models import build_model, model_config
from core.train import TrainConfig, train
from core.weights import read_safetensors, state_to_bytes

REPO = Path(__file__).resolve().parents[1]
RUN = "runs/run"  # relative to the workspace (the test's working directory)
TRAIN = ["train", "--dataset", "fake", "--width", "8", "--steps", "2", "--batch-size", "16",
         "--n-train", "100", "--no-progress", "--run-dir", "runs/new"]  # fmt: skip
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
DATA_TRAIN = ["train", "--dataset", "mnist", "--data-root", "data", "--width", "8",
              "--no-progress", "--run-dir", "runs/new"]  # fmt: skip
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


# --- the table --------------------------------------------------------------------------------

CASES = [
    # CLI options: unknown, wrong type, out of range, missing value, bad choice
    Case("cli-unknown-option", [*TRAIN, "--dof", "3"], ("unrecognized arguments: --dof",)),
    Case("cli-no-command", [], ("required: COMMAND",)),
    Case("cli-unknown-command", ["fly"], ("invalid choice: 'fly'",)),
    Case("cli-steps-not-int", [*TRAIN, "--steps", "abc"], ("--steps", "whole number")),
    Case("cli-steps-zero", [*TRAIN, "--steps", "0"], ("--steps", ">= 1")),
    Case("cli-width-float", [*TRAIN, "--width", "1.5"], ("--width", "whole number")),
    Case("cli-lr-negative", [*TRAIN, "--lr", "-1"], ("--lr", "> 0")),
    Case("cli-lr-nan", [*TRAIN, "--lr", "nan"], ("--lr", "finite")),
    Case("cli-df-inf", [*TRAIN, "--df", "inf"], ("--df", "finite")),
    Case("cli-seed-negative", [*TRAIN, "--seed", "-5"], ("--seed", ">= 0")),
    Case("cli-missing-value", [*TRAIN, "--batch-size"], ("--batch-size", "expected one argument")),
    Case("cli-beta1-out-of-range", [*TRAIN, "--beta1", "1.5"], ("betas", "--beta1")),
    Case("cli-unknown-model", [*TRAIN, "--model", "vae"], ("unknown model 'vae'", "choose one")),
    Case("cli-unknown-dataset", [*TRAIN, "--dataset", "svhn"], ("unknown data set 'svhn'",)),
    Case("cli-unknown-prior", [*TRAIN, "--prior", "cauchy"], ("prior must be one of",)),
    Case("cli-bad-conditioning", [*TRAIN, "--conditioning", "x"], ("conditioning must be one",)),
    Case("cli-bad-device", [*TRAIN, "--device", "tpu"], ("--device 'tpu'", "cpu")),
    Case("cli-n-train-not-balanced", [*TRAIN, "--n-train", "15"], ("--n-train 15", "multiple")),
    Case("cli-batch-too-big", [*TRAIN, "--batch-size", "500"], ("--batch-size 500", "exceeds")),
    Case("cli-resume-without-run-dir", ["train", "--resume"], ("--resume needs --run-dir",)),
    Case("cli-run-exists", [*TRAIN[:-1], RUN], ("already holds a run", "--resume")),
    Case("cli-resume-changed-option", [*RESUME, "--df", "9"], ("differ", "model.df"),
         writes_in=RUN),  # fmt: skip
    Case("cli-run-dir-symlink-escape", [*TRAIN[:-1], "runs/escape/r"], ("--run-dir", "outside"),
         setup=_symlink_out),  # fmt: skip
    Case("cli-run-dir-is-a-file", [*TRAIN[:-1], "afile"], ("afile", "--run-dir"),
         setup=_write("afile", b"x")),  # fmt: skip
    Case("cli-stats-symlink-escape", RESUME, ("stats.jsonl", "outside"),
         setup=lambda ws: (ws / RUN / "stats.jsonl").unlink()
         or (ws / RUN / "stats.jsonl").symlink_to(ws / "victim.txt")),  # fmt: skip
    Case("cli-sample-bad-seeds", ["sample", RUN, "--seeds", "5-1"], ("cannot read seeds '5-1'",)),
    Case("cli-sample-label-range", ["sample", RUN, "--labels", "99"], ("must be in [0, 9]",)),
    Case("cli-sample-label-type", ["sample", RUN, "--labels", "a,b"], ("--labels 'a,b'",)),
    Case("cli-sample-label-count", ["sample", RUN, "--seeds", "0-2", "--labels", "1,2"],
         ("3 seeds but 2 labels",)),  # fmt: skip
    Case("cli-sample-component", ["sample", RUN, "--component", "999"], ("component must be",)),
    Case("cli-sample-scale-zero", ["sample", RUN, "--scale", "0"], ("--scale", "> 0")),
    Case("cli-sample-no-cuda", ["sample", RUN, "--device", "cuda:7"], ("--device cuda:7",)),
    Case("cli-sample-bad-out", ["sample", RUN, "--out", "nowhere/x.png"],
         ("--out nowhere/x.png", "writable")),  # fmt: skip
    Case("cli-sample-missing-folder", ["sample", "runs/nothing"], ("config.json: not found",)),
    # config.json: broken, missing/extra keys, wrong types, future format
    Case("config-not-json", ["sample", RUN], ("config.json: not valid JSON",),
         setup=_write(f"{RUN}/config.json", b"{nope")),  # fmt: skip
    Case("config-not-utf8", ["sample", RUN], ("config.json: not valid JSON",),
         setup=_write(f"{RUN}/config.json", b"\xff\xfe{}")),  # fmt: skip
    Case("config-a-list", ["sample", RUN], ("expected a JSON object",),
         setup=_write(f"{RUN}/config.json", b"[1, 2]")),  # fmt: skip
    Case("config-is-a-folder", ["sample", RUN], ("config.json: cannot read",),
         setup=lambda ws: (ws / RUN / "config.json").unlink()
         or (ws / RUN / "config.json").mkdir()),  # fmt: skip
    Case("config-no-version", ["sample", RUN], ("'format_version'",),
         setup=_edit_config(RUN, lambda c: c.pop("format_version"))),  # fmt: skip
    Case("config-version-string", ["sample", RUN], ("non-integer 'format_version'",),
         setup=_edit_config(RUN, lambda c: c.update(format_version="1"))),  # fmt: skip
    Case("config-future-version", ["sample", RUN], ("format_version 99 is newer", "update"),
         setup=_edit_config(RUN, lambda c: c.update(format_version=99))),  # fmt: skip
    Case("config-no-model", ["sample", RUN], ("missing the 'model' block",),
         setup=_edit_config(RUN, lambda c: c.pop("model"))),  # fmt: skip
    Case("config-model-missing-key", ["sample", RUN], ("missing model key(s) ['n_classes']",),
         setup=_edit_config(RUN, lambda c: c["model"].pop("n_classes"))),  # fmt: skip
    Case("config-model-extra-key", ["sample", RUN], ("unknown model key(s) ['depth']",),
         setup=_edit_config(RUN, lambda c: c["model"].update(depth=3))),  # fmt: skip
    Case("config-model-wrong-type", ["sample", RUN], ("'width' must be int",),
         setup=_edit_config(RUN, lambda c: c["model"].update(width="8"))),  # fmt: skip
    Case("config-model-bool-as-int", ["sample", RUN], ("'latent_dim' must be int",),
         setup=_edit_config(RUN, lambda c: c["model"].update(latent_dim=True))),  # fmt: skip
    Case("config-model-bad-value", ["sample", RUN], ("prior must be one of",),
         setup=_edit_config(RUN, lambda c: c["model"].update(prior="cauchy"))),  # fmt: skip
    Case("config-model-not-object", ["sample", RUN], ("model block must be a JSON object",),
         setup=_edit_config(RUN, lambda c: c.update(model=[1]))),  # fmt: skip
    Case("config-train-extra-key", RESUME, ("unknown train key(s) ['epochs']",),
         setup=_edit_config(RUN, lambda c: c["train"].update(epochs=3))),  # fmt: skip
    Case("config-train-wrong-type", RESUME, ("train key 'seed' must be int",),
         setup=_edit_config(RUN, lambda c: c["train"].update(seed="0"))),  # fmt: skip
    Case("config-train-not-object", RESUME, ("'train' block must be a JSON object",),
         setup=_edit_config(RUN, lambda c: c.update(train=None))),  # fmt: skip
    Case("config-overrides-not-object", RESUME, ("'model_overrides' must be a JSON object",),
         setup=_edit_config(RUN, lambda c: c.update(model_overrides=[]))),  # fmt: skip
    # weights: truncated, wrong shapes/dtypes, missing/extra tensors, a pickle in disguise
    Case("weights-missing", ["sample", RUN], ("model.safetensors: not found",),
         setup=lambda ws: (ws / RUN / "model.safetensors").unlink()),  # fmt: skip
    Case("weights-truncated", ["sample", RUN], ("not a valid safetensors file",),
         setup=_truncate("model.safetensors")),  # fmt: skip
    Case("weights-empty", ["sample", RUN], ("not a valid safetensors file",),
         setup=_write(f"{RUN}/model.safetensors", b"")),  # fmt: skip
    Case("weights-huge-header", ["sample", RUN], ("not a valid safetensors file",),
         setup=_write(f"{RUN}/model.safetensors", struct.pack("<Q", 1 << 60) + b"{}")),
    Case("weights-pickle", ["sample", RUN], ("model.safetensors: not a valid safetensors",),
         setup=_write(f"{RUN}/model.safetensors", _pickle_bytes)),  # fmt: skip
    Case("weights-wrong-shapes", ["sample", RUN], ("weights do not match", "shape"),
         setup=_write(f"{RUN}/model.safetensors", _wider_weights)),  # fmt: skip
    Case("weights-int-dtype", ["sample", RUN], ("dtype torch.int32",),
         setup=_edit_weights("model.safetensors", lambda s: s.update(
             {k: v.to(torch.int32) for k, v in s.items() if v.is_floating_point()}))),
    Case("weights-int8-no-scale", ["sample", RUN], ("int8 tensors without their scale",),
         setup=_edit_weights("model.safetensors", lambda s: s.update(
             {k: v.to(torch.int8) for k, v in s.items() if v.is_floating_point()}))),
    Case("weights-float64", ["sample", RUN], ("expected float32 or float16",),
         setup=_edit_weights("model.safetensors", lambda s: s.update(
             {k: v.double() for k, v in s.items() if v.is_floating_point()}))),
    Case("weights-missing-tensor", ["sample", RUN], ("missing tensors",),
         setup=_edit_weights("model.safetensors", lambda s: s.pop(_first_float(s)))),
    Case("weights-extra-tensor", ["sample", RUN], ("unexpected tensors ['backdoor']",),
         setup=_edit_weights("model.safetensors", lambda s: s.update(backdoor=torch.zeros(2)))),
    Case("weights-nan", ["sample", RUN], ("holds NaN or Inf",),
         setup=_edit_weights("model.safetensors",
                             lambda s: s[_first_float(s)].fill_(float("nan")))),  # fmt: skip
    Case("checkpoint-truncated", RESUME, ("checkpoint.safetensors: not a valid safetensors",),
         setup=_truncate("checkpoint.safetensors"), writes_in=RUN),  # fmt: skip
    Case("checkpoint-pickle", RESUME, ("checkpoint.safetensors: not a valid safetensors",),
         setup=_write(f"{RUN}/checkpoint.safetensors", _pickle_bytes), writes_in=RUN),
    Case("checkpoint-no-rng", RESUME, ("checkpoint", "damaged", "delete it"),
         setup=_edit_weights("checkpoint.safetensors", lambda s: s.pop("rng.noise")),
         writes_in=RUN),  # fmt: skip
    Case("checkpoint-no-metadata", RESUME, ("checkpoint metadata is incomplete",),
         setup=_edit_weights("checkpoint.safetensors", lambda s: None, meta={}),
         writes_in=RUN),  # fmt: skip
    Case("checkpoint-wrong-shapes", RESUME, ("checkpoint.safetensors", "shape"),
         setup=_edit_weights("checkpoint.safetensors",
                             lambda s: s.update({_first_key(s, "model."): torch.zeros(3)})),
         writes_in=RUN),  # fmt: skip
    Case("checkpoint-adam-wrong-shape", RESUME, ("checkpoint", "opt_g", "shape", "delete it"),
         setup=_edit_weights("checkpoint.safetensors",
                             lambda s: s.update({_first_key(s, "opt_g."): torch.zeros(3)})),
         writes_in=RUN),  # fmt: skip
    # data: missing root, truncated or wrong-magic idx, checksum mismatch, hostile npy
    Case("data-missing-root", DATA_TRAIN, ("'mnist' not found", "make data", "--data-root")),
    Case("data-env-missing", [*DATA_TRAIN[:3], *DATA_TRAIN[5:]], ("not found", "$TGAN_DATA"),
         env={"TGAN_DATA": "nowhere"}),  # fmt: skip
    Case("data-root-is-file", DATA_TRAIN, ("'mnist' not found",), setup=_write("data", b"x")),
    Case("data-idx-truncated", DATA_TRAIN, ("train-images-idx3-ubyte", "truncated", "make data"),
         setup=_with_labels(f"{MNIST}/train-images-idx3-ubyte",
                      _idx(2051, 10, (28, 28), payload=500))),  # fmt: skip
    Case("data-idx-tiny", DATA_TRAIN, ("truncated idx file (4 bytes)",),
         setup=_with_labels(f"{MNIST}/train-images-idx3-ubyte", b"\x00\x00\x08\x03")),  # fmt: skip
    Case("data-idx-wrong-magic", DATA_TRAIN, ("not an idx file (magic 1234", "make data"),
         setup=_with_labels(f"{MNIST}/train-images-idx3-ubyte", _idx(1234, 10, (28, 28)))),
    Case("data-idx-bad-gzip", DATA_TRAIN, ("train-images-idx3-ubyte.gz: cannot read",),
         setup=_with_labels(f"{MNIST}/train-images-idx3-ubyte.gz", b"\x1f\x8bnot gzip")),
    Case("data-idx-checksum", DATA_TRAIN, ("checksum mismatch", "make data"),
         setup=_with_labels(f"{MNIST}/train-images-idx3-ubyte.gz",
                      gzip.compress(_idx(2051, 10, (28, 28))))),  # fmt: skip
    Case("data-labels-missing", DATA_TRAIN, ("'mnist' not found", "train-labels-idx1-ubyte"),
         setup=_write(f"{MNIST}/train-images-idx3-ubyte", _idx(2051, 10, (28, 28)))),
    Case("data-idx-oversized", DATA_TRAIN, ("truncated or oversized", "expected 7840"),
         setup=_with_labels(f"{MNIST}/train-images-idx3-ubyte",
                            _idx(2051, 10, (28, 28), payload=9000))),  # fmt: skip
    Case("data-cifar-pickled-npy", CIFAR_TRAIN, ("cifar10", "unreadable", "allow_pickle"),
         setup=_both(_write("data/cifar10/x_train.npy", _pickled_npy),
                     _write("data/cifar10/y_train.npy", _npy(np.zeros(1, np.int64))))),
    Case("data-cifar-wrong-dtype", CIFAR_TRAIN, ("x_train.npy: expected uint8",),
         setup=_both(_write("data/cifar10/x_train.npy", _npy(np.zeros((2, 32, 32, 3)))),
                     _write("data/cifar10/y_train.npy", _npy(np.zeros(2, np.int64))))),
]  # fmt: skip


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A finished two-step run (width 8, fake data) that each row copies and breaks."""
    root = tmp_path_factory.mktemp("template")
    cfg = TrainConfig(model="tgan", dataset="fake", n_train=100, steps=2, batch_size=16,
                      log_every=1, sample_every=2, checkpoint_every=2, device="cpu")  # fmt: skip
    train(cfg, root / "run", model_overrides={"width": 8}, progress=False)
    return root / "run"


@pytest.fixture
def workspace(tmp_path, template, monkeypatch) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(template, ws / RUN)
    monkeypatch.chdir(ws)
    for var in ("TGAN_DATA", "TGAN_RUNS", "TGAN_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    return ws


def _snapshot(root: Path, skip: Path | None) -> dict[str, tuple[int, bytes]]:
    """Every path under root (links not followed) with its size and content hash."""
    import hashlib

    files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if skip is not None and (path == skip or skip in path.parents):
                continue
            if path.is_file() and not path.is_symlink():
                files[str(path)] = (path.stat().st_size, hashlib.sha256(path.read_bytes()).digest())
            else:
                files[str(path)] = (-1, b"")
    return files


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """(exit status, stderr) of ``python -m core ARGV`` run in this process."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    return code, capsys.readouterr().err


def _assert_one_clean_error(code: int, err: str, expect: tuple[str, ...]) -> None:
    assert code == 2, f"exit status {code}, stderr: {err}"
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), f"not one error line: {err!r}"
    for fragment in expect:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_gets_one_clean_error_line(case, workspace, capsys, monkeypatch):
    for var, value in case.env.items():
        monkeypatch.setenv(var, value)
    if case.setup is not None:
        case.setup(workspace)
    allowed = workspace / case.writes_in if case.writes_in else None
    before = _snapshot(workspace.parent, allowed)
    code, err = run_cli(case.argv, capsys)
    _assert_one_clean_error(code, err, case.expect)
    assert _snapshot(workspace.parent, allowed) == before, "files written outside the run dir"
    assert not (workspace / "PWNED").exists(), "code from a file ran"


def test_the_table_is_big_enough():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


SUBPROCESS_ROWS = ["weights-pickle", "config-future-version", "data-idx-wrong-magic",
                   "cli-steps-not-int"]  # fmt: skip


@pytest.mark.parametrize("row", SUBPROCESS_ROWS)
def test_no_traceback_reaches_the_terminal(row, workspace):
    case = next(c for c in CASES if c.id == row)
    if case.setup is not None:
        case.setup(workspace)
    env = dict(os.environ, PYTHONPATH=str(REPO), TGAN_OFFLINE="1", **case.env)
    proc = subprocess.run([sys.executable, "-m", "core", *case.argv], cwd=workspace, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    _assert_one_clean_error(proc.returncode, proc.stderr, case.expect)
    assert not (workspace / "PWNED").exists()


def test_an_unexpected_bug_is_still_one_line(workspace, capsys, monkeypatch):
    """The last-resort handler: an internal error prints one line, not a traceback."""
    import core.sampling

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(core.sampling, "sample", broken)
    code, err = run_cli(["sample", RUN, "--out", "x.png"], capsys)
    assert code == 1 and err.strip().splitlines() == [
        "error: unexpected ZeroDivisionError: boom (set TGAN_DEBUG=1 for the traceback, "
        "and please report it)"
    ]
    monkeypatch.setenv("TGAN_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["sample", RUN, "--out", "x.png"])
