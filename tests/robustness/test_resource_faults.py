"""Resource faults (issue 8 §6): a full disk or a read-only run dir while training writes.

Faults are injected at the file-system calls of ``core.atomic`` (the temp file of one target
fills the disk half-way, or cannot be created), and for real with a read-only folder when the
tests do not run as root. Each test checks: one TrainingError naming the run dir and the fix, the
previous checkpoint intact and loadable, no temp file left, and a resume that then finishes the
run bit-identically to an uninterrupted one.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

import pytest

import core.atomic
from core.__main__ import main
from core.config import TrainConfig
from core.run_dir import TrainingError, load_checkpoint
from core.train import train
from core.weights import load_pretrained, read_safetensors

OVERRIDES = {"width": 8}


def _cfg(**kw) -> TrainConfig:
    base = dict(
        model="tgan",
        dataset="fake",
        n_train=100,
        steps=4,
        batch_size=16,
        log_every=1,
        sample_every=100,
        checkpoint_every=2,
        device="cpu",
        seed=0,
    )
    base.update(kw)
    return TrainConfig(**base)


class _HalfWriter:
    """A file whose write stores half the bytes, then fails as a full disk does."""

    def __init__(self, fh) -> None:
        self._fh = fh

    def write(self, data: bytes) -> int:
        self._fh.write(data[: len(data) // 2])
        self._fh.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()


class DiskFault:
    """The ``nth`` atomic write whose target name starts with ``prefix`` fails with ``kind``:
    "full" (ENOSPC half-way through the data) or "readonly" (EACCES creating the temp file)."""

    def __init__(self, monkeypatch, prefix: str, nth: int, kind: str) -> None:
        self.prefix, self.nth, self.kind = prefix, nth, kind
        self.seen = 0
        self.fired = False
        self._doomed: set[int] = set()
        real_mkstemp, real_fdopen = tempfile.mkstemp, os.fdopen

        def mkstemp(*args, **kwargs):
            if not str(kwargs.get("prefix", "")).startswith(f".{prefix}"):
                return real_mkstemp(*args, **kwargs)
            self.seen += 1
            if self.seen != self.nth:
                return real_mkstemp(*args, **kwargs)
            self.fired = True
            if kind == "readonly":
                folder = kwargs.get("dir")
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
            fd, name = real_mkstemp(*args, **kwargs)
            self._doomed.add(fd)
            return fd, name

        def fdopen(fd, *args, **kwargs):
            fh = real_fdopen(fd, *args, **kwargs)
            return _HalfWriter(fh) if fd in self._doomed else fh

        monkeypatch.setattr(core.atomic.tempfile, "mkstemp", mkstemp)
        monkeypatch.setattr(core.atomic.os, "fdopen", fdopen)


def _temps(run: Path) -> list[str]:
    return [p.name for p in run.rglob(".*.tmp")]


def _checkpoint_step(run: Path) -> int:
    from safetensors import safe_open

    with safe_open(str(run / "checkpoint.safetensors"), framework="pt") as fh:
        return int(fh.metadata()["step"])


def _assert_previous_checkpoint_loads(run: Path, step: int) -> None:
    from core.gan import GANTrainer
    from core.models import build_model, model_config

    model = build_model(model_config("tgan", "fake", **OVERRIDES))
    got, _ = load_checkpoint(run, model, GANTrainer(model, _cfg()), __import__("torch").Generator())
    assert got == step
    load_pretrained(run)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    return train(
        _cfg(),
        tmp_path_factory.mktemp("faults") / "full",
        model_overrides=OVERRIDES,
        progress=False,
    )


def _same_weights(a: Path, b: Path) -> bool:
    x, y = read_safetensors(a / "model.safetensors"), read_safetensors(b / "model.safetensors")
    return x.keys() == y.keys() and all(x[k].equal(y[k]) for k in x)


@pytest.mark.parametrize("kind", ["full", "readonly"])
@pytest.mark.parametrize("target", ["checkpoint.safetensors", "model.safetensors"])
def test_a_failed_checkpoint_write_keeps_the_previous_one(
    kind, target, tmp_path, monkeypatch, uninterrupted
):
    run = tmp_path / "run"
    fault = DiskFault(monkeypatch, target, nth=2, kind=kind)  # the step-4 checkpoint fails
    with pytest.raises(TrainingError) as info:
        train(_cfg(), run, model_overrides=OVERRIDES, progress=False)
    assert fault.fired
    message = str(info.value)
    assert str(run) in message and "\n" not in message
    # model.safetensors failing means checkpoint.safetensors of step 4 landed whole before it
    expected = 2 if target == "checkpoint.safetensors" else 4
    assert f"the last checkpoint (step {expected}) is intact" in message
    assert f"python -m core train --run-dir {run} --resume" in message
    reason = "No space left on device" if kind == "full" else "Permission denied"
    assert reason in message and "Free disk space or make the folder writable" in message
    assert _temps(run) == [], "a half-written temp file was left behind"
    assert _checkpoint_step(run) == expected
    _assert_previous_checkpoint_loads(run, expected)
    monkeypatch.undo()
    train(_cfg(), run, model_overrides=OVERRIDES, progress=False, resume=True)
    assert _same_weights(run, uninterrupted)


def test_a_full_disk_while_logging_leaves_a_repairable_log(tmp_path, monkeypatch, uninterrupted):
    """A stats line cut short by a full disk is dropped on resume (no torn line, no repeat)."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to tell which file a descriptor writes")
    run = tmp_path / "run"
    real_write = os.write
    state = {"lines": 0}

    def write(fd: int, data: bytes) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("stats.jsonl"):
            state["lines"] += 1
            if state["lines"] == 3:
                real_write(fd, data[: len(data) // 2])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(core.atomic.os, "write", write)
    with pytest.raises(TrainingError, match=r"No space left on device.*step 2\) is intact"):
        train(_cfg(), run, model_overrides=OVERRIDES, progress=False)
    monkeypatch.undo()
    assert not (run / "stats.jsonl").read_text().endswith("\n")  # the torn line is there
    train(_cfg(), run, model_overrides=OVERRIDES, progress=False, resume=True)
    lines = (run / "stats.jsonl").read_text().splitlines()
    import json

    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3, 4]
    assert _same_weights(run, uninterrupted)


def test_the_cli_prints_one_line_for_a_full_disk(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    DiskFault(monkeypatch, "checkpoint.safetensors", nth=2, kind="full")
    code = main(
        [
            "train",
            "--dataset",
            "fake",
            "--width",
            "8",
            "--steps",
            "4",
            "--batch-size",
            "16",
            "--n-train",
            "100",
            "--checkpoint-every",
            "2",
            "--no-progress",
            "--run-dir",
            str(run),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: cannot write to {run} (No space left on device")
    assert "--resume" in err and "Traceback" not in err


def test_a_run_dir_that_cannot_be_created_names_the_option(tmp_path, monkeypatch):
    DiskFault(monkeypatch, "config.json", nth=1, kind="full")
    with pytest.raises(TrainingError, match=r"cannot write .*No space left.*choose a writable"):
        train(_cfg(), tmp_path / "run", model_overrides=OVERRIDES, progress=False)
    assert _temps(tmp_path / "run") == []
    assert not (tmp_path / "run" / "config.json").exists()


def _permissions_enforced(folder: Path) -> bool:
    """False where this user writes into read-only folders anyway (root, CAP_DAC_OVERRIDE)."""
    probe = folder / "probe"
    probe.mkdir()
    probe.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        (probe / "x").write_bytes(b"")
    except PermissionError:
        return True
    finally:
        probe.chmod(stat.S_IRWXU)
    return False


def test_a_really_read_only_run_dir(tmp_path, monkeypatch, uninterrupted):
    """The folder turns read-only between checkpoints (no injection: the kernel refuses)."""
    import core.train

    if not _permissions_enforced(tmp_path):
        pytest.skip("this user (root?) can write into read-only folders")

    run = tmp_path / "run"
    real_grid = core.train.write_sample_grid

    def grid_then_lock(model, run_dir, step):
        out = real_grid(model, run_dir, step)
        if step == 3:
            run_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)
        return out

    monkeypatch.setattr(core.train, "write_sample_grid", grid_then_lock)
    try:
        with pytest.raises(TrainingError, match=r"Permission denied.*step 2\) is intact"):
            train(_cfg(sample_every=3), run, model_overrides=OVERRIDES, progress=False)
        assert _checkpoint_step(run) == 2
        _assert_previous_checkpoint_loads(run, 2)
    finally:
        run.chmod(stat.S_IRWXU)
    monkeypatch.undo()
    train(_cfg(), run, model_overrides=OVERRIDES, progress=False, resume=True)
    assert _same_weights(run, uninterrupted)
