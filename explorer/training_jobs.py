"""Background training runs started from the app: one per visitor (``explorer.visitor``: a
browser, not a tab; the ``session`` argument below is that id), a global cap on concurrent runs
(so a class of 30 cannot overload the host), cancellable.

Each run is a ``python -m core train ... --no-progress`` subprocess in its own process group,
writing into ``<runs>/app/<visitor>-<time>-<model>-<dataset>/``; a visitor lists only their own
runs (``visitor_runs``) and the shipped models' logs (``shipped_logs``). Bookkeeping lives in
``<runs>/app/jobs/``: one JSON file per visitor (pid, run dir, log), and a lock file taken with
``fcntl.flock`` while checking the cap and starting, so two visitors cannot both take the last
slot. Any app process on the host
sees the same files, so the cap holds across server processes too.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from core.atomic import atomic_write_json
from core.data import DEBIAN_FASHION_DIR, IDX_FILES, IDX_FOLDER, resolve_data_root
from core.paths import REPO_ROOT, runs_root

MAX_RUNS_ENV = "TGAN_APP_MAX_RUNS"
DEFAULT_MAX_RUNS = 2
MODELS = ("tgan", "deligan", "dcgan", "gan", "acgan")
TRAINABLE_DATASETS = ("fake", "mnist", "fashion")
MAX_STEPS = 2000
_SESSION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


QUEUE_NAME = "queue.json"
QUEUE_STALE_S = 60.0  # a place in line is kept while the visitor's page keeps asking (every 5 s)


class BusyError(RuntimeError):
    """Every training slot on this host is taken; the message says how many and what to do."""


@dataclass(frozen=True)
class Job:
    session: str
    pid: int
    run_dir: str
    log: str
    started: float
    command: list[str]


def available_datasets() -> tuple[str, ...]:
    """The data sets a run can train on here: ``fake`` always (made on the fly), MNIST and
    Fashion-MNIST when their training images are in the data root (``make data``)."""
    root = resolve_data_root()
    found = ["fake"]
    for name in ("mnist", "fashion"):
        folders = [root / IDX_FOLDER[name] / "raw"]
        if name == "fashion":
            folders.append(DEBIAN_FASHION_DIR)
        stem = IDX_FILES["train"][0]
        if any((f / stem).is_file() or (f / f"{stem}.gz").is_file() for f in folders):
            found.append(name)
    return tuple(found)


def app_dir() -> Path:
    return runs_root() / "app"


def jobs_dir() -> Path:
    return app_dir() / "jobs"


def max_runs() -> int:
    try:
        return max(0, int(os.environ.get(MAX_RUNS_ENV, DEFAULT_MAX_RUNS)))
    except ValueError:
        return DEFAULT_MAX_RUNS


def _check_session(session: str) -> str:
    if not _SESSION.match(session):
        raise ValueError(f"session id {session!r} must be 1-64 letters, digits, '-' or '_'")
    return session


@contextmanager
def _locked() -> Iterator[None]:
    jobs_dir().mkdir(parents=True, exist_ok=True)
    with open(jobs_dir() / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as finished; it is reaped here if ours)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass  # not our child: ask /proc
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _read_job(path: Path) -> Job | None:
    try:
        return Job(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def job_for(session: str) -> Job | None:
    """The session's latest job (running or finished), or None."""
    return _read_job(jobs_dir() / f"{_check_session(session)}.json")


def running_jobs() -> list[Job]:
    """Jobs whose process is alive, across every session on this host."""
    if not jobs_dir().is_dir():
        return []
    jobs = [_read_job(p) for p in sorted(jobs_dir().glob("*.json"))]
    return [j for j in jobs if j is not None and pid_alive(j.pid)]


def is_running(job: Job | None) -> bool:
    return job is not None and pid_alive(job.pid)


def start(session: str, model: str, dataset: str, steps: int, seed: int = 0) -> Job:
    """Start a small CPU run for ``session``. Raises BusyError past the global cap, ValueError
    for a bad option or when the session already has a run going."""
    _check_session(session)
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if dataset not in available_datasets():
        raise ValueError(f"data set must be one of {available_datasets()}, got {dataset!r}")
    if not 1 <= int(steps) <= MAX_STEPS:
        raise ValueError(f"steps must be in [1, {MAX_STEPS}], got {steps}")
    with _locked():
        if is_running(job_for(session)):
            raise ValueError("this session already has a run going; cancel it first")
        busy = running_jobs()
        line = _fresh_queue()
        if len(busy) >= max_runs():
            raise BusyError(
                f"all {max_runs()} training slots on this server are busy; join the line and "
                "your run starts by itself when a slot frees up, or pick an existing run below"
            )
        if line and line[0]["session"] != session:
            raise BusyError(
                f"{len(line)} visitor(s) are waiting for a training slot; join the line and "
                "your run starts by itself in turn"
            )
        job = _spawn(session, model, dataset, steps, seed)
        _write_queue([e for e in line if e["session"] != session])
    return job


def _spawn(session: str, model: str, dataset: str, steps: int, seed: int) -> Job:
    """Start the run (the caller holds the lock and has checked the cap)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = app_dir() / f"{_run_prefix(session)}{stamp}-{model}-{dataset}"
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    log = run_dir.with_suffix(".log")
    command = [
        sys.executable,
        "-m",
        "core",
        "train",
        "--model",
        model,
        "--dataset",
        dataset,
        "--steps",
        str(int(steps)),
        "--n-train",
        "500",
        "--batch-size",
        "32",
        "--log-every",
        "10",
        "--sample-every",
        str(max(10, int(steps) // 5)),
        "--checkpoint-every",
        str(int(steps)),
        "--seed",
        str(int(seed)),
        "--device",
        "cpu",
        "--run-dir",
        str(run_dir),
        "--no-progress",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TGAN_OFFLINE="1")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    job = Job(session, proc.pid, str(run_dir), str(log), time.time(), command)
    atomic_write_json(jobs_dir() / f"{session}.json", asdict(job))
    return job


# --- the line of visitors waiting for a slot ----------------------------------------------------
def _queue_path() -> Path:
    return jobs_dir() / QUEUE_NAME


def _fresh_queue() -> list[dict]:
    """The waiting line, oldest first, without visitors whose page stopped asking (the caller
    holds the lock)."""
    try:
        line = json.loads(_queue_path().read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(line, list):
        return []
    now = time.time()
    return [
        entry
        for entry in line
        if isinstance(entry, dict)
        and isinstance(entry.get("session"), str)
        and isinstance(entry.get("seen"), int | float)
        and now - entry["seen"] <= QUEUE_STALE_S
    ]


def _write_queue(line: list[dict]) -> None:
    atomic_write_json(_queue_path(), line)


def enqueue(session: str, model: str, dataset: str, steps: int) -> int:
    """Put ``session`` in line for a slot with this run (or refresh its place and request);
    returns its place, 1 = next."""
    _check_session(session)
    with _locked():
        line = _fresh_queue()
        request = {"model": model, "dataset": dataset, "steps": int(steps), "seen": time.time()}
        for entry in line:
            if entry["session"] == session:
                entry.update(request)
                break
        else:
            line.append({"session": session, **request})
        _write_queue(line)
        return next(i for i, e in enumerate(line, 1) if e["session"] == session)


def queue_place(session: str) -> int | None:
    """``session``'s place in line (1 = next), or None when it is not waiting."""
    with _locked():
        line = _fresh_queue()
    return next((i for i, e in enumerate(line, 1) if e["session"] == _check_session(session)), None)


def leave_queue(session: str) -> None:
    with _locked():
        _write_queue([e for e in _fresh_queue() if e["session"] != _check_session(session)])


def start_when_my_turn(session: str) -> Job | int | None:
    """Called every few seconds by a waiting visitor's page: starts their queued run when they
    are first in line and a slot is free (returns the Job); else keeps their place and returns
    it; None when they are not in line."""
    _check_session(session)
    with _locked():
        line = _fresh_queue()
        place = next((i for i, e in enumerate(line, 1) if e["session"] == session), None)
        if place is None:
            return None
        entry = line[place - 1]
        entry["seen"] = time.time()
        if place == 1 and len(running_jobs()) < max_runs() and not is_running(job_for(session)):
            job = _spawn(session, entry["model"], entry["dataset"], entry["steps"], 0)
            _write_queue(line[1:])
            return job
        _write_queue(line)
        return place


def _run_prefix(session: str) -> str:
    return f"{session[:16]}-"


def visitor_runs(session: str) -> list[Path]:
    """The run directories this visitor started from the app, newest first."""
    prefix = _run_prefix(_check_session(session))
    if not app_dir().is_dir():
        return []
    found = [p for p in app_dir().iterdir() if p.is_dir() and p.name.startswith(prefix)]
    return sorted(found, key=lambda p: p.name, reverse=True)


def shipped_logs(zoo: Path, first: str | None = None) -> list[Path]:
    """The zoo's model folders that keep their training log (``stats.jsonl``), ``first`` (a
    folder name, e.g. the featured model's) leading, then by name."""
    if not zoo.is_dir():
        return []
    found = [p for p in zoo.iterdir() if p.is_dir() and (p / "stats.jsonl").is_file()]
    return sorted(found, key=lambda p: (p.name != first, p.name))


def cancel(session: str, wait_s: float = 5.0) -> bool:
    """Stop the session's run: SIGINT first (the trainer saves a checkpoint), SIGKILL after
    ``wait_s``. Returns True if a running job was stopped."""
    job = job_for(session)
    if not is_running(job):
        return False
    try:
        os.killpg(job.pid, signal.SIGINT)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if not pid_alive(job.pid):
            return True
        time.sleep(0.05)
    with suppress(ProcessLookupError):
        os.killpg(job.pid, signal.SIGKILL)
    for _ in range(40):
        if not pid_alive(job.pid):
            break
        time.sleep(0.05)
    return True


def log_tail(job: Job, lines: int = 8) -> str:
    try:
        return "\n".join(Path(job.log).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
