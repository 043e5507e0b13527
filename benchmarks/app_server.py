"""The app server's side of benchmarks/load_app.py: a free port, the server's process tree and
its memory (polled from /proc), waiting for it to be healthy and killing it with its children.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

from core.paths import runs_root  # load_app.py puts the repository on sys.path first


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def runs_app() -> Path:
    """Where the app's Training page puts its runs."""
    return runs_root() / "app"


# --- /proc polling ---------------------------------------------------------------------------
def proc_tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(stat[1])
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    with suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def is_train(pid: int) -> bool:
    with suppress(OSError):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        return b"core" in argv and b"train" in argv
    return False


class Poller(threading.Thread):
    """Every 0.2 s: summed RSS of the server's process tree and its count of training children,
    peaks kept per phase."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.phase, self.stop = pid, "start", threading.Event()
        self.peak_rss: dict[str, int] = {}
        self.max_train: dict[str, int] = {}
        self.train_pids: set[int] = set()

    def run(self) -> None:
        while not self.stop.is_set():
            tree = proc_tree(self.pid)
            total = sum(rss_kib(p) for p in tree)
            trains = [p for p in tree if p != self.pid and is_train(p)]
            self.train_pids.update(trains)
            ph = self.phase
            self.peak_rss[ph] = max(self.peak_rss.get(ph, 0), total)
            self.max_train[ph] = max(self.max_train.get(ph, 0), len(trains))
            self.stop.wait(0.2)


# --- browser sessions ------------------------------------------------------------------------
def mib(peaks: dict[str, int], phase: str = "load") -> str:
    return f"{peaks.get(phase, 0) / 1024:.0f} MiB"


# --- server ----------------------------------------------------------------------------------
def wait_healthy(proc: subprocess.Popen, url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        with suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            if r.read().strip() == b"ok":
                return
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer on {url} in {timeout:.0f} s")


def kill_group(pid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    for _ in range(50):
        try:
            os.killpg(pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.1)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def listing(folder: Path) -> set[Path]:
    if not folder.is_dir():
        return set()
    return set(folder.iterdir()) | (
        set((folder / "jobs").iterdir()) if (folder / "jobs").is_dir() else set()
    )
