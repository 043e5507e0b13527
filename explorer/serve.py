"""The Space's start command: the app, warmed as soon as it answers.

    python -m explorer.serve [streamlit options, e.g. --server.port=8501]

Runs ``streamlit run explorer/Home.py <options>`` and, once the server answers, the warm-up
(``explorer.warm``: every page's default view computed once), so the first student of a class
does not wait for the grids (``TGAN_APP_WARM=0``: no warm-up). Signals go to Streamlit; its exit
status is ours.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

if __package__ in (None, ""):  # python explorer/serve.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.warm import WARM_ENV, local_url, visit_all, wait_healthy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def option(argv: list[str], name: str, default: str) -> str:
    """The value of ``--name=value`` or ``--name value`` in ``argv``."""
    for i, arg in enumerate(argv):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and i + 1 < len(argv):
            return argv[i + 1]
    return default


def warm_up(url: str) -> None:
    if not wait_healthy(url, 300):
        print(f"serve: {url} did not answer in 300 s; no warm-up", file=sys.stderr, flush=True)
        return
    try:
        visits = asyncio.run(visit_all(url))
    except Exception as exc:  # noqa: BLE001 - the app works cold too
        print(f"serve: warm-up failed ({type(exc).__name__}: {exc})", file=sys.stderr, flush=True)
        return
    seconds = sum(s for _, s, _ in visits)
    print(f"serve: {len(visits)} pages warmed in {seconds:.1f} s", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    # The app would start its own warm-up on the first visit (ours): once is enough.
    env = dict(os.environ, **{WARM_ENV: "0"})
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "explorer" / "Home.py"), *argv]
    proc = subprocess.Popen(cmd, env=env)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: proc.send_signal(number))
    if os.environ.get(WARM_ENV, "1") != "0":  # TGAN_APP_WARM=0: no warm-up at all
        url = local_url(
            option(argv, "server.address", ""),
            option(argv, "server.port", "8501"),
            option(argv, "server.baseUrlPath", ""),
        )
        threading.Thread(target=warm_up, args=(url,), daemon=True).start()
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
