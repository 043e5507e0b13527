"""Warm the shared caches: every page's default view computed once, before a class arrives.

A visitor's page and this warm-up take the same path: a protocol client
(``explorer.protocol``) opens each page once as a first visit would, so every cached result a
default view needs (sample grids, lesson figures, race curves, embeddings, the Results tables)
is computed once, under the exact keys the visitors' runs will look up, and shared by them all.

It runs by itself: the first real visitor's session starts it in a background thread (once per
server process; ``TGAN_APP_WARM=0`` turns it off), and the Space's start command runs it as soon
as the server answers (``python -m explorer.warm --wait 300``), so the first student does not
wait for the grids. Prints what each page took.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

if __package__ in (None, ""):  # python explorer/warm.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.protocol import ProtocolSession  # noqa: E402
from explorer.sitemap import PAGES  # noqa: E402

WARM_ENV = "TGAN_APP_WARM"
_started = threading.Event()


async def visit_all(url: str, timeout: float = 600.0) -> list[tuple[str, float, list[str]]]:
    """(page, seconds, exceptions shown) for each page of the sitemap, each opened as the first
    page of a fresh session: exactly the default view a new visitor gets (a page reached from
    another one may inherit that page's model)."""
    out = []
    for page in PAGES:
        session = ProtocolSession(url, timeout=timeout, default_page=PAGES[0].url_path)
        try:
            result = await session.open(page.url_path)
            out.append((page.url_path, result.seconds, result.exceptions))
        finally:
            await session.close()
    return out


def wait_healthy(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            if r.read().strip() == b"ok":
                return True
        time.sleep(0.5)
    return False


def local_url(address: str | None, port: int | str, base: str | None = "") -> str:
    """The server's address as seen from its own host (127.0.0.1 when it listens on every
    interface), with its base URL path."""
    if address in (None, "", "0.0.0.0", "::"):
        address = "127.0.0.1"
    base = (base or "").strip("/")
    return f"http://{address}:{port}" + (f"/{base}" if base else "")


def own_url() -> str:
    """This Streamlit server's own address (``local_url`` of its options)."""
    import streamlit as st  # lazy: the CLI above runs without a Streamlit server

    return local_url(
        st.get_option("server.address"),
        st.get_option("server.port"),
        st.get_option("server.baseUrlPath"),
    )


def start_in_background() -> bool:
    """Start the warm-up once per process, from a real visitor's session (not from tests, which
    have no HTTP server behind them). Returns whether this call started it."""
    import streamlit as st  # lazy: see own_url

    if os.environ.get(WARM_ENV, "1") == "0" or _started.is_set():
        return False
    try:
        if not st.context.headers.get("Host"):
            return False  # AppTest and bare mode: no server to visit
    except Exception:  # noqa: BLE001 - no request context: nothing to warm
        return False
    _started.set()
    url = own_url()
    threading.Thread(target=_run_quietly, args=(url,), name="tgan-warm", daemon=True).start()
    return True


def _run_quietly(url: str) -> None:
    with suppress(Exception):  # a warm-up that fails only leaves the caches cold
        asyncio.run(visit_all(url))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8501")
    ap.add_argument("--wait", type=float, default=120, help="seconds to wait for the server")
    args = ap.parse_args()
    if not wait_healthy(args.url, args.wait):
        print(f"warm: {args.url} did not answer in {args.wait:.0f} s", file=sys.stderr)
        return 1
    start = time.perf_counter()
    visits = asyncio.run(visit_all(args.url))
    for page, seconds, exceptions in visits:
        shown = f"  EXCEPTION: {exceptions[0]}" if exceptions else ""
        print(f"warm: {page:15s} {seconds * 1000:8.0f} ms{shown}")
    print(f"warm: every page's default view computed in {time.perf_counter() - start:.1f} s")
    return 1 if any(exc for _, _, exc in visits) else 0


if __name__ == "__main__":
    sys.exit(main())
