"""Kill-safety of the two commands that rewrite finished folders: ``python -m core.reproduce
ship`` and ``evaluate`` (issue 23 §1, §4). Each trial starts the real command in a child
process, SIGKILLs it at a random moment (a timer, or just after a file it writes changes) and
checks what a reader then finds:

- ship: the entry loads (``load_pretrained``) and is wholly the old entry or wholly the new one,
  file for file, byte for byte; shipping again then gives the new one and leaves no staging folder;
- evaluate: metrics.json is one of metrics.jsonl's lines (never a score the history lacks), every
  line of metrics.jsonl parses; evaluating again leaves no temp file.

CI runs ``TGAN_KILL_TRIALS`` trials of each (default 3). The issue's count:

    TGAN_KILL_TRIALS=20 python -m pytest -q tests/robustness/test_kill_safety_zoo.py
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.atomic import read_jsonl
from core.config import TrainConfig
from core.models import build_model, model_config
from core.sampling import sample, save_grid
from core.weights import load_pretrained, save_pretrained

REPO = Path(__file__).resolve().parents[2]
TRIALS = int(os.environ.get("TGAN_KILL_TRIALS", "3"))
ENTRY = "gan-mnist-500"  # a real zoo name; its run is a tiny hand-made one
MODES = ("timer", "staging", "config", "swapped")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, TGAN_OFFLINE="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **extra)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _snapshot(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under folder."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_run(run: Path, seed: int, metrics: bool) -> None:
    """A finished-looking run of a width-8 GAN: what ``ship`` reads, made by hand."""
    if run.exists():
        shutil.rmtree(run)
    model = build_model(model_config("gan", "mnist", width=8), seed=seed)
    train = TrainConfig(model="gan", dataset="mnist", steps=10, seed=seed).to_dict()
    save_pretrained(model, run, extra={"train": train, "model_overrides": {"width": 8}})
    (run / "summary.json").write_text(json.dumps({"steps": 10, "wall_time_s": 1.0 + seed}))
    (run / "stats.jsonl").write_text(
        "".join(json.dumps({"step": s, "d_adv": seed + s / 10}) + "\n" for s in range(1, 11))
    )
    if metrics:
        (run / "metrics.json").write_text(json.dumps({"format_version": 1, "seed": seed}))
    (run / "samples").mkdir()
    save_grid(sample(model, list(range(10)), list(range(10))).images, run / "samples/step_10.png")


@pytest.fixture(scope="module")
def zoo(tmp_path_factory) -> dict:
    """The old entry (shipped from a run with metrics.json) and what shipping the new run
    (another seed, no metrics.json) gives, each as a snapshot; the new run stays in place."""
    from core.zoo.ship import ship

    root = tmp_path_factory.mktemp("zoo")
    runs = root / "runs"
    run = runs / "zoo" / f"{ENTRY}-s0"
    mp = pytest.MonkeyPatch()
    mp.setenv("TGAN_RUNS", str(runs))
    try:
        make_run(run, seed=1, metrics=True)
        old = ship(ENTRY, 0, root / "old")
        make_run(run, seed=2, metrics=False)
        new = ship(ENTRY, 0, root / "new")
    finally:
        mp.undo()
    return {
        "runs": runs,
        "old": old,
        "new": new,
        "old_files": _snapshot(old),
        "new_files": _snapshot(new),
    }


def test_ship_replaces_every_file_and_drops_a_stale_metrics_json(zoo):
    assert "metrics.json" in zoo["old_files"]
    assert "metrics.json" not in zoo["new_files"]  # the new run has none: the old one must go
    assert zoo["old_files"]["model.safetensors"] != zoo["new_files"]["model.safetensors"]
    assert zoo["old_files"]["stats.jsonl"] != zoo["new_files"]["stats.jsonl"]


@pytest.mark.parametrize("target", ["model.safetensors", "stats.jsonl", "card.md"])
def test_a_full_disk_during_ship_keeps_the_old_entry(target, tmp_path, zoo, monkeypatch, capsys):
    """ENOSPC half-way through one file of the new entry: one error line, the old entry whole."""
    from test_resource_faults import DiskFault

    from core.reproduce import main

    dest_root = tmp_path / "pretrained"
    shutil.copytree(zoo["old"], dest_root / ENTRY)
    monkeypatch.setenv("TGAN_PRETRAINED", str(dest_root))
    monkeypatch.setenv("TGAN_RUNS", str(zoo["runs"]))
    fault = DiskFault(monkeypatch, target, nth=1, kind="full")
    code = main(["ship", ENTRY, "--seeds", "0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert fault.fired, f"{target} was not written atomically"
    assert code == 2 and len(err) == 1 and err[0].startswith("error: "), err
    assert "No space left on device" in err[0] and f"{dest_root / ENTRY} is unchanged" in err[0]
    assert _snapshot(dest_root / ENTRY) == zoo["old_files"]
    assert sorted(os.listdir(dest_root)) == [ENTRY], "the half-built entry was left behind"
    monkeypatch.undo()
    monkeypatch.setenv("TGAN_PRETRAINED", str(dest_root))
    monkeypatch.setenv("TGAN_RUNS", str(zoo["runs"]))
    assert main(["ship", ENTRY, "--seeds", "0"]) == 0
    assert _snapshot(dest_root / ENTRY) == zoo["new_files"]


def _ship_child(dest_root: Path, runs: Path, log: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "core.reproduce", "ship", ENTRY, "--seeds", "0"]
    with open(log, "wb") as out:
        return subprocess.Popen(
            argv,
            cwd=REPO,
            env=_env(TGAN_PRETRAINED=str(dest_root), TGAN_RUNS=str(runs)),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_then_kill(proc: subprocess.Popen, ready, rng: random.Random, delay: float) -> str:
    """SIGKILL ``proc`` ``delay`` s after ``ready()`` turns true (at once for a timer)."""
    while not ready() and proc.poll() is None:
        time.sleep(0.001)
    end = time.monotonic() + delay
    while time.monotonic() < end and proc.poll() is None:
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    return "exited" if proc.wait(timeout=120) == 0 else "killed"


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_killed_ship_leaves_the_old_entry_or_the_new_one(trial, tmp_path, zoo):
    rng = random.Random(2300 + trial)
    dest_root = tmp_path / "pretrained"
    dest = dest_root / ENTRY
    shutil.copytree(zoo["old"], dest)
    staging = dest_root / f".{ENTRY}.shipping"
    mode = MODES[trial % len(MODES)]
    old_weights = _stamp(dest / "model.safetensors")
    ready = {
        "timer": lambda: True,
        "staging": staging.exists,  # the new entry is being built beside the old one
        "config": lambda: (staging / "config.json").exists(),  # the 0-30 ms window
        "swapped": lambda: _stamp(dest / "model.safetensors") != old_weights,  # old going
    }[mode]
    delay = {"timer": rng.uniform(0.5, 12.0), "staging": rng.uniform(0, 0.15)}.get(
        mode, rng.uniform(0, 0.03)
    )
    proc = _ship_child(dest_root, zoo["runs"], tmp_path / "ship.log")
    outcome = _wait_then_kill(proc, ready, rng, delay)
    load_pretrained(dest)  # a reader can always load it
    found = _snapshot(dest)
    assert found in (zoo["old_files"], zoo["new_files"]), f"{mode}+{delay:.3f}s: a mixed entry"
    print(
        f"trial {trial}: {mode} +{delay * 1000:.0f} ms, {outcome}, entry is "
        f"{'new' if found == zoo['new_files'] else 'old'}"
    )
    proc = _ship_child(dest_root, zoo["runs"], tmp_path / "again.log")
    assert proc.wait(timeout=300) == 0, (tmp_path / "again.log").read_text()
    assert _snapshot(dest) == zoo["new_files"]
    assert sorted(p.name for p in dest_root.iterdir()) == [ENTRY]  # no staging folder left


# --- evaluate ----------------------------------------------------------------------------------

EVALUATE = """
import sys
from core.evaluate.judges import load_judge
from core.evaluate.scoring import evaluate_model
evaluate_model(sys.argv[1], n=int(sys.argv[2]), judge=load_judge("fake", root=sys.argv[3]))
"""


def _evaluate_child(run: Path, judge_dir: Path, n: int, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", EVALUATE, str(run), str(n), str(judge_dir)],
            cwd=REPO,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory, fake_judge_dir) -> tuple[Path, float]:
    """A tiny run on the fake data, evaluated once (so there is an old metrics.json), and how
    long that evaluation took (the timer kills spread over it)."""
    from core.train import train

    cfg = TrainConfig(
        model="tgan", dataset="fake", n_train=100, steps=2, batch_size=16, device="cpu"
    )
    run = train(
        cfg, tmp_path_factory.mktemp("eval") / "run", model_overrides={"width": 8}, progress=False
    )
    started = time.monotonic()
    proc = _evaluate_child(run, fake_judge_dir, 40, run.parent / "first.log")
    assert proc.wait(timeout=300) == 0, (run.parent / "first.log").read_text()
    return run, time.monotonic() - started


def _check_metrics(run: Path) -> list[dict]:
    text = (run / "metrics.jsonl").read_text()
    assert text.endswith("\n"), "torn last line in metrics.jsonl"
    lines = [json.loads(line) for line in text.splitlines()]
    if (run / "metrics.json").exists():
        current = json.loads((run / "metrics.json").read_text())
        assert current in lines, "metrics.json holds a score that metrics.jsonl lacks"
    return lines


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_killed_evaluate_keeps_metrics_json_in_its_history(
    trial, tmp_path, scored_run, fake_judge_dir
):
    rng = random.Random(4600 + trial)
    run = tmp_path / "run"
    shutil.copytree(scored_run[0], run)
    (run / ".notes.tmp").write_text("mine")  # a person's file: evaluate must not delete it
    mode = ("timer", "jsonl", "json", "tmp")[trial % 4]
    watched = {"jsonl": run / "metrics.jsonl", "json": run / "metrics.json"}.get(mode)
    before = _stamp(watched) if watched else None
    ready = {
        "timer": lambda: True,
        "tmp": lambda: any(run.glob(".metrics.json.*.tmp")),  # metrics.json half-written
    }.get(mode, lambda: _stamp(watched) != before)
    delay = {"timer": rng.uniform(0.3, 1.1) * scored_run[1], "jsonl": rng.uniform(0, 0.01)}.get(
        mode,
        0.0,  # at once: the next write follows within a millisecond
    )
    n = 40 + 20 * (trial % 2)  # results differ in size, so a torn write would show
    proc = _evaluate_child(run, fake_judge_dir, n, tmp_path / "eval.log")
    outcome = _wait_then_kill(proc, ready, rng, delay)
    lines = _check_metrics(run)
    print(f"trial {trial}: {mode} +{delay * 1000:.0f} ms, {outcome}, {len(lines)} lines")
    proc = _evaluate_child(run, fake_judge_dir, n, tmp_path / "again.log")
    assert proc.wait(timeout=300) == 0, (tmp_path / "again.log").read_text()
    lines = _check_metrics(run)
    assert json.loads((run / "metrics.json").read_text()) == lines[-1]
    assert [p.name for p in run.glob(".metrics.json.*.tmp")] == []
    assert (run / ".notes.tmp").read_text() == "mine"
    assert read_jsonl(run / "metrics.jsonl") == lines
