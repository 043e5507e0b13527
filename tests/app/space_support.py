"""The Space's Dockerfile read as data: its install (RUN pip ...) and start (CMD) commands, so the
tests run exactly those commands, and a helper that starts the app the way the CMD does."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        name, _, args = full.partition(" ")
        out.append((name.upper(), args.strip()))
    return out


def pip_installs() -> list[list[str]]:
    """The argv of every ``RUN pip install ...`` in the Dockerfile."""
    return [
        shlex.split(args)
        for name, args in dockerfile_instructions()
        if name == "RUN" and args.startswith("pip install")
    ]


def start_command() -> list[str]:
    """The CMD (exec form) as an argv."""
    cmds = [args for name, args in dockerfile_instructions() if name == "CMD"]
    if len(cmds) != 1:
        raise AssertionError(f"expected one CMD in {DOCKERFILE}, got {len(cmds)}")
    argv = json.loads(cmds[0])
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    return argv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def localised(argv: list[str], port: int) -> list[str]:
    """The CMD with this machine's venv executable, a free port and the loopback address."""
    out = []
    for arg in argv:
        if arg.startswith("--server.port="):
            arg = f"--server.port={port}"
        elif arg.startswith("--server.address="):
            arg = "--server.address=127.0.0.1"
        out.append(arg)
    exe = Path(sys.executable).parent / out[0]
    if exe.exists():
        out[0] = str(exe)
    return out


def dockerfile_env(home: Path) -> dict[str, str]:
    """Every ENV of the Dockerfile, ``/home/user`` (the image's home) moved to ``home``;
    ``$PATH`` inside a value is this machine's PATH."""
    env = {}
    for name, args in dockerfile_instructions():
        if name == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                value = value.replace("$PATH", os.environ.get("PATH", ""))
                env[key] = value.replace("/home/user", str(home))
    return env


def as_user(uid: int) -> list[str]:
    """The argv prefix that runs a command as ``uid`` (and its group, no others) from root;
    util-linux's setpriv (Popen's own ``user=`` is refused exec on some overlay file systems)."""
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]


def _site_packages() -> str:
    import site

    return os.pathsep.join(site.getsitepackages())


def _portable(argv: list[str], env: dict[str, str]) -> list[str]:
    """The CMD run by a Python every user may execute: the image's python is system-wide, but
    a test venv may link to an interpreter under root's home (then the system python 3.11 runs
    the CMD's module with the venv's packages on PYTHONPATH, and so does every run it starts)."""
    system = Path("/usr/bin") / f"python{sys.version_info.major}.{sys.version_info.minor}"
    name = Path(argv[0]).name
    if not system.exists() or not (name == "streamlit" or name.startswith("python")):
        return argv
    return [str(system), *(["-m", "streamlit"] if name == "streamlit" else []), *argv[1:]]


@contextmanager
def running_app(
    env_extra: dict[str, str],
    timeout: float = 90.0,
    cwd: Path = REPO,
    uid: int | None = None,
):
    """Start the Dockerfile's CMD (localised) from ``cwd`` (the repo root), as ``uid`` when
    given (needs root); yields the base URL; always kills the server's process group."""
    port = free_port()
    argv = localised(start_command(), port)
    # The tests visit pages themselves: a warm-up of every page would only compete with them.
    env = dict(os.environ, **{"TGAN_APP_WARM": "0", **env_extra})
    log = open(env_extra.get("TGAN_APP_LOG", os.devnull), "wb")  # noqa: SIM115
    if uid is not None:
        argv, env = as_user(uid) + _portable(argv, env), dict(env, PYTHONPATH=_site_packages())
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited with {proc.returncode}: {argv}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app did not answer on {url} in {timeout:.0f} s")
            time.sleep(0.3)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
