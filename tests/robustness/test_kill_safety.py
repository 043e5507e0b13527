"""Kill-safety: SIGKILL a real ``python -m core train`` at random moments, resume, check the run.

Each trial trains the same tiny run (CPU, fixed seed) in a child process, SIGKILLs it up to
``KILLS_PER_TRIAL`` times (while a checkpoint, the weights, a sample grid or a stats line is
being written, just after a checkpoint lands, or after a random delay) and resumes it with
``--resume`` each time. After every kill and at the end it checks that:

- the run dir holds no partial or corrupt file (temp files ``.NAME.XXXX.tmp`` may be left by the
  kill; the resumed run deletes them, and none may remain at the end);
- stats.jsonl parses line by line: no torn line, steps strictly increasing, none duplicated;
- the resumed process starts from the step of the checkpoint the kill left;
- the finished run equals an uninterrupted one: model.safetensors and every sample grid byte for
  byte, and every logged loss exactly.

CI runs ``TGAN_KILL_TRIALS`` trials (default 3). The full count of the issue:

    TGAN_KILL_TRIALS=20 python -m pytest -q tests/robustness/test_kill_safety.py
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from core.atomic import read_jsonl
from core.weights import load_pretrained, read_config, read_safetensors

REPO = Path(__file__).resolve().parents[2]
TRIALS = int(os.environ.get("TGAN_KILL_TRIALS", "3"))
KILLS_PER_TRIAL = 2
STEPS = 8
TRAIN_ARGS = [
    "--model",
    "tgan",
    "--dataset",
    "fake",
    "--width",
    "8",
    "--n-train",
    "200",
    "--batch-size",
    "16",
    "--steps",
    str(STEPS),
    "--log-every",
    "1",
    "--checkpoint-every",
    "2",
    "--sample-every",
    "3",
    "--seed",
    "3",
    "--device",
    "cpu",
    "--no-progress",
]
# The moments a kill aims at: a temp file of that name exists, a file just changed, or a timer.
MODES = ("checkpoint_tmp", "weights_tmp", "sample_tmp", "new_checkpoint", "stats_line", "timer")
TEMP_NAME = re.compile(r"^\..+\.tmp$")
RUN_FILES = {
    "config.json",
    "stats.jsonl",
    "checkpoint.safetensors",
    "model.safetensors",
    "summary.json",
}
TIMING_KEYS = {"images_per_s", "wall_time"}


def _env() -> dict[str, str]:
    env = dict(os.environ, TGAN_OFFLINE="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _launch(run_dir: Path, log: Path, resume: bool) -> subprocess.Popen:
    argv = [sys.executable, "-m", "core", "train", *TRAIN_ARGS, "--run-dir", str(run_dir)]
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            argv + (["--resume"] if resume else []),
            cwd=REPO,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _last_logged_step(run_dir: Path) -> int:
    rows = read_jsonl(run_dir / "stats.jsonl")
    return rows[-1]["step"] if rows else 0


def _listing(run_dir: Path) -> list[str]:
    names = []
    for folder in (run_dir, run_dir / "samples"):
        with contextlib.suppress(FileNotFoundError):
            names += [e.name for e in os.scandir(folder)]
    return names


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def _wait_for_moment(proc: subprocess.Popen, run_dir: Path, mode: str, rng: random.Random) -> str:
    """Block until the moment ``mode`` aims at (or the run is nearly over); returns what hit."""
    if mode == "timer":
        deadline = time.monotonic() + rng.uniform(0.3, 8.0)
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        return "timer"
    prefix = {
        "checkpoint_tmp": ".checkpoint.safetensors.",
        "weights_tmp": ".model.safetensors.",
        "sample_tmp": ".step_",
    }.get(mode)
    watched = run_dir / ("checkpoint.safetensors" if mode == "new_checkpoint" else "stats.jsonl")
    skip = rng.randint(0, 2)  # let a few events pass, so kills land at different steps
    before = _stamp(watched)
    while proc.poll() is None:
        if prefix is not None:
            hit = any(
                name.startswith(prefix) and name.endswith(".tmp") for name in _listing(run_dir)
            )
        else:
            now = _stamp(watched)
            hit, before = now != before and now is not None, now
        if hit:
            if skip == 0:
                return mode
            skip -= 1
            if prefix is not None:
                time.sleep(0.02)  # let this temp file go before looking for the next one
        if _last_logged_step(run_dir) >= STEPS - 1:  # missed it: kill before the run ends
            return "fallback"
        time.sleep(0.001)
    return "exited"


def _check_run_dir(run_dir: Path, finished: bool) -> int:
    """Every file whole and valid; returns the checkpoint's step (0 if none yet)."""
    if not run_dir.exists():
        return 0
    names = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*"))
    temps = [n for n in names if TEMP_NAME.match(Path(n).name)]
    assert not (finished and temps), f"temp files left after a finished run: {temps}"
    for name in names:
        path = run_dir / name
        base = Path(name).name
        if base in temps or TEMP_NAME.match(base) or path.is_dir():
            continue
        if name.startswith("samples/"):
            assert re.fullmatch(r"samples/step_\d{6}\.png", name), name
            with Image.open(path) as img:
                img.verify()
        else:
            assert name in RUN_FILES, f"unexpected file {name}"
    step = 0
    if (run_dir / "config.json").exists():
        read_config(run_dir)
    if (run_dir / "checkpoint.safetensors").exists():
        from safetensors import safe_open

        read_safetensors(run_dir / "checkpoint.safetensors")
        with safe_open(str(run_dir / "checkpoint.safetensors"), framework="pt") as fh:
            step = int(fh.metadata()["step"])
    if (run_dir / "model.safetensors").exists():
        load_pretrained(run_dir)
    if (run_dir / "summary.json").exists():
        json.loads((run_dir / "summary.json").read_text())
    stats = run_dir / "stats.jsonl"
    if stats.exists():
        text = stats.read_text()
        assert text == "" or text.endswith("\n"), "torn last line in stats.jsonl"
        steps = [json.loads(line)["step"] for line in text.splitlines()]
        assert steps == sorted(set(steps)), f"stats steps not strictly increasing: {steps}"
    return step


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The same run, never interrupted."""
    run_dir = tmp_path_factory.mktemp("kill") / "reference"
    proc = _launch(run_dir, run_dir.parent / "reference.log", resume=False)
    assert proc.wait(timeout=300) == 0, (run_dir.parent / "reference.log").read_text()
    return run_dir


def _stats_without_timings(run_dir: Path) -> list[dict]:
    rows = read_jsonl(run_dir / "stats.jsonl")
    return [{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in rows]


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_killed_and_resumed_run_equals_an_uninterrupted_one(trial, tmp_path, reference):
    rng = random.Random(1000 + trial)
    run_dir = tmp_path / "run"
    kills: list[str] = []
    checkpoint_step, launches = 0, 0
    while True:
        log = tmp_path / f"launch{launches}.log"
        proc = _launch(run_dir, log, resume=launches > 0)
        launches += 1
        if len(kills) < KILLS_PER_TRIAL:
            mode = rng.choice(MODES) if kills else rng.choice(MODES[:-1])
            moment = _wait_for_moment(proc, run_dir, mode, rng)
            proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=300)
        output = log.read_text()
        assert "Traceback" not in output, output
        resumed = re.search(r"resuming at step (\d+)", output)
        if resumed:  # the resumed process starts from the checkpoint the kill left
            assert int(resumed.group(1)) == checkpoint_step, output
        if code == -signal.SIGKILL:
            kills.append(moment)
            new_step = _check_run_dir(run_dir, finished=False)
            assert new_step >= checkpoint_step, "the checkpoint went back in time"
            checkpoint_step = new_step
            continue
        assert code == 0, output
        if checkpoint_step:
            assert resumed, f"the last launch did not resume from step {checkpoint_step}"
        break
    assert kills, "no kill landed: the run ended before the first kill"
    print(f"trial {trial}: {launches} launches, kills at {kills}")
    assert _check_run_dir(run_dir, finished=True) == STEPS
    assert not [n for n in _listing(run_dir) if TEMP_NAME.match(n)]
    # bit for bit: the weights, the sample grids, and every logged value but the timings
    ref_weights = (reference / "model.safetensors").read_bytes()
    assert (run_dir / "model.safetensors").read_bytes() == ref_weights, f"kills: {kills}"
    ref_ckpt = read_safetensors(reference / "checkpoint.safetensors")
    ckpt = read_safetensors(run_dir / "checkpoint.safetensors")
    assert ckpt.keys() == ref_ckpt.keys()
    assert all(ckpt[k].equal(ref_ckpt[k]) for k in ckpt), "optimiser/RNG state differs"
    ref_grids = sorted((reference / "samples").glob("*.png"))
    grids = sorted((run_dir / "samples").glob("*.png"))
    assert [p.name for p in grids] == [p.name for p in ref_grids]
    for ours, theirs in zip(grids, ref_grids):
        assert ours.read_bytes() == theirs.read_bytes(), ours.name
    assert [r["step"] for r in read_jsonl(run_dir / "stats.jsonl")] == list(range(1, STEPS + 1))
    assert _stats_without_timings(run_dir) == _stats_without_timings(reference)
    assert json.loads((run_dir / "summary.json").read_text())["steps"] == STEPS


# --- the same guarantees in-process, fast, each aimed at one moment of a kill ---------------


def _weights_equal(a: Path, b: Path) -> bool:
    x, y = read_safetensors(a), read_safetensors(b)
    return x.keys() == y.keys() and all(x[k].equal(y[k]) for k in x)


def test_resume_removes_temp_files_a_kill_left(tmp_path, tiny_train_config):
    from core.train import train

    cfg = tiny_train_config(steps=4, checkpoint_every=2)
    run = train(cfg, tmp_path / "r", model_overrides={"width": 8}, progress=False, stop_after=3)
    planted = [  # the names atomic_write_bytes gives its temp files (mkstemp: 8 characters)
        run / ".checkpoint.safetensors.k1ll3d_x.tmp",
        run / ".stats.jsonl.abcd1234.tmp",
        run / "samples" / ".step_000004.png.x9y8z7w6.tmp",
    ]
    theirs = [  # a person's own files that happen to look like temp files: never deleted
        run / ".notes.tmp",
        run / ".model.safetensors.mine.tmp",
        run / "samples" / ".draft.png.abcd1234.tmp",
    ]
    for path in planted + theirs:
        path.write_bytes(b"half a file")
    train(cfg, run, model_overrides={"width": 8}, progress=False, resume=True)
    assert not any(p.exists() for p in planted)
    assert all(p.read_bytes() == b"half a file" for p in theirs)


def test_kill_between_checkpoint_and_weights_is_repaired_on_resume(tmp_path, tiny_train_config):
    from core.train import train

    cfg = tiny_train_config(steps=8, checkpoint_every=2)
    run = train(cfg, tmp_path / "r", model_overrides={"width": 8}, progress=False, stop_after=2)
    older = (run / "model.safetensors").read_bytes()  # the weights of step 2
    train(cfg, run, model_overrides={"width": 8}, progress=False, resume=True, stop_after=2)
    (run / "model.safetensors").write_bytes(older)  # as if killed before the step-4 weights
    train(cfg, run, model_overrides={"width": 8}, progress=False, resume=True, stop_after=0)
    ckpt = read_safetensors(run / "checkpoint.safetensors")
    weights = read_safetensors(run / "model.safetensors")
    assert all(weights[k].equal(ckpt[f"model.{k}"]) for k in weights)
    assert (run / "model.safetensors").read_bytes() != older


def test_ctrl_c_mid_step_saves_a_consistent_checkpoint(tmp_path, tiny_train_config, monkeypatch):
    """SIGINT between D's and G's update must not save a half-done step as a finished one."""
    from core import losses
    from core.run_dir import TrainingError
    from core.train import train

    cfg = tiny_train_config(steps=6, checkpoint_every=4)
    full = train(cfg, tmp_path / "full", model_overrides={"width": 8}, progress=False)
    calls = {"n": 0}
    original = losses.g_adversarial_loss

    def interrupting(logits):  # called after D's update, before G's: mid-step
        calls["n"] += 1
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return original(logits)

    monkeypatch.setattr(losses, "g_adversarial_loss", interrupting)
    with pytest.raises(TrainingError, match=r"interrupted at step 3; checkpoint saved"):
        train(cfg, tmp_path / "part", model_overrides={"width": 8}, progress=False)
    monkeypatch.setattr(losses, "g_adversarial_loss", original)
    part = train(cfg, tmp_path / "part", model_overrides={"width": 8}, progress=False, resume=True)
    assert [r["step"] for r in read_jsonl(part / "stats.jsonl")] == [2, 4, 6]
    assert _weights_equal(full / "model.safetensors", part / "model.safetensors")


@pytest.mark.parametrize("stop_after", [3, 5, 7])
def test_stats_after_a_resume_equal_an_uninterrupted_run(stop_after, tmp_path, tiny_train_config):
    """--checkpoint-every 3, --log-every 4: a resume from step 3 or 6 must still average the
    row of step 4 or 8 over all four steps (the pending steps travel in the checkpoint)."""
    from core.train import train

    cfg = tiny_train_config(steps=10, log_every=4, checkpoint_every=3, sample_every=100)
    full = train(cfg, tmp_path / "full", model_overrides={"width": 8}, progress=False)
    run = tmp_path / "part"
    train(cfg, run, model_overrides={"width": 8}, progress=False, stop_after=stop_after)
    train(cfg, run, model_overrides={"width": 8}, progress=False, resume=True)
    assert [r["step"] for r in read_jsonl(run / "stats.jsonl")] == [4, 8, 10]
    assert _stats_without_timings(run) == _stats_without_timings(full)
    assert _weights_equal(full / "model.safetensors", run / "model.safetensors")
