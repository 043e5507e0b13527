"""Load test of the Streamlit app: N concurrent browser sessions (one headless Chromium, N
contexts) for D seconds, each moving a latent slider and switching pages; then cap+1 sessions
press "Start training" at once. Prints figures; asserts nothing.

    python benchmarks/load_app.py [--sessions 30] [--seconds 60] [--port P] [--cap 2]

Figures: p50 / p95 latency per interaction (slider move -> new image visible, page switch -> new
page title visible), errors (timeouts, exceptions shown on the page), the server's peak RSS (the
streamlit process and its children, polled from /proc) and the training cap: how many sessions
saw the busy message, and the most ``core train`` child processes seen at once. The server
(``streamlit run explorer/Home.py --server.headless true``) listens on 127.0.0.1 only; server,
browser and any training run started here are killed, and their ``runs/app/`` entries removed,
at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app_server import (  # noqa: E402
    Poller,
    free_port,
    is_train,
    kill_group,
    listing,
    mib,
    proc_tree,
    rss_kib,
    runs_app,
    wait_healthy,
)

from explorer.headless import CHROMIUM  # noqa: E402
from explorer.headless import CHROMIUM_ARGS as ARGS  # noqa: E402
from explorer.sitemap import PAGES  # noqa: E402

TIMEOUT_MS = 60_000
TITLES = {p.url_path: p.title for p in PAGES}
OTHER_PAGES = ["home", "heavy_tails", "interpolation", "results"]
SLIDER = '[data-testid="stSidebar"] input[type="range"][aria-label="z1"]'
NEW_SRC = (
    "(old) => { const img = document.querySelector('[data-testid=\"stMain\"] img');"
    " return img && img.getAttribute('src') !== old; }"
)
EXCEPTION = '[data-testid="stException"]'


class Stats:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {
            "first load": [],
            "slider move": [],
            "page switch": [],
        }
        self.errors: dict[str, int] = {"timeout": 0, "page exception": 0, "other": 0}

    def error(self, exc: BaseException) -> None:
        name = type(exc).__name__
        self.errors["timeout" if "Timeout" in name else "other"] += 1


async def wait_title(tab, url_path: str) -> None:
    await tab.locator("h1").filter(has_text=TITLES[url_path]).first.wait_for(state="visible")


async def check_exception(tab, stats: Stats) -> None:
    if await tab.locator(EXCEPTION).count():
        stats.errors["page exception"] += 1


async def switch(tab, url_path: str, stats: Stats) -> None:
    link = tab.locator('[data-testid="stSidebarNav"] a').filter(has_text=TITLES[url_path]).first
    start = time.perf_counter()
    await link.click()
    await wait_title(tab, url_path)
    stats.times["page switch"].append(time.perf_counter() - start)
    await check_exception(tab, stats)


async def slider_move(tab, key: str, stats: Stats) -> None:
    image = tab.locator('[data-testid="stMain"] img').first
    await image.wait_for(state="visible")
    before = await image.get_attribute("src")
    await tab.locator(SLIDER).focus()
    start = time.perf_counter()
    await tab.keyboard.press(key)
    await tab.wait_for_function(NEW_SRC, arg=before, timeout=TIMEOUT_MS)
    stats.times["slider move"].append(time.perf_counter() - start)
    await check_exception(tab, stats)


class Clock:
    """The D seconds start once every session has its first page up (or has failed to)."""

    def __init__(self, sessions: int, seconds: float):
        self.left, self.seconds, self.deadline = sessions, seconds, 0.0
        self.go = asyncio.Event()

    def ready(self) -> None:
        self.left -= 1
        if self.left == 0:
            self.deadline = time.monotonic() + self.seconds
            self.go.set()


async def session(browser, url: str, index: int, clock: Clock, stats: Stats) -> None:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        tab = await ctx.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        try:
            start = time.perf_counter()
            await tab.goto(f"{url}/latent_sliders")
            await wait_title(tab, "latent_sliders")
            stats.times["first load"].append(time.perf_counter() - start)
            await check_exception(tab, stats)
        except Exception as exc:  # noqa: BLE001 - counted, the session gives up
            stats.error(exc)
            return
        finally:
            clock.ready()
        await clock.go.wait()
        deadline = clock.deadline
        position, direction, turn = 0, 1, index
        for _ in range(100_000):  # bounded; the deadline ends it long before
            if time.monotonic() > deadline:
                break
            try:
                for _ in range(3):
                    if abs(position + direction) > 20:  # stay inside the slider's range
                        direction = -direction
                    await slider_move(tab, "ArrowRight" if direction > 0 else "ArrowLeft", stats)
                    position += direction
                    if time.monotonic() > deadline:
                        break
                if time.monotonic() > deadline:
                    break
                await switch(tab, OTHER_PAGES[turn % len(OTHER_PAGES)], stats)
                turn += 1
                await switch(tab, "latent_sliders", stats)
            except Exception as exc:  # noqa: BLE001 - counted, then start over on the page
                stats.error(exc)
                with suppress(Exception):
                    await tab.goto(f"{url}/latent_sliders")
                    await wait_title(tab, "latent_sliders")
    finally:
        await ctx.close()


async def press_start(browser, url: str):
    """Open the Training page in a fresh session with its form showing; return (context, tab)."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        tab = await ctx.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        await tab.goto(f"{url}/training?steps=2000")
        await wait_title(tab, "training")
        await tab.get_by_text("Train a small model here").first.click()
        button = tab.get_by_role("button", name="Start training")
        await button.wait_for(state="visible")
        return ctx, tab
    except Exception:
        await ctx.close()
        raise


async def outcome(tab) -> str:
    started = tab.get_by_text("Your run is going")
    busy = tab.get_by_text("Busy:")
    for _ in range(600):  # at most 60 s
        if await busy.count():
            return "busy"
        if await started.count():
            return "started"
        await tab.wait_for_timeout(100)
    return "no answer"


async def drive(url: str, sessions: int, seconds: float, cap: int, poller: Poller) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            stats = Stats()
            poller.phase = "load"
            clock = Clock(sessions, seconds)
            t0 = time.monotonic()
            await asyncio.gather(*(session(browser, url, i, clock, stats) for i in range(sessions)))
            wall = time.monotonic() - t0
            poller.phase = "after load"
            print(
                f"\n{sessions} sessions for {seconds:.0f} s after all first loads"
                f" ({wall:.0f} s in all)"
            )
            for kind, times in stats.times.items():
                if times:
                    ms = np.array(times) * 1000
                    print(
                        f"  {kind:12s} n={len(ms):5d}   p50 {np.percentile(ms, 50):8.0f} ms"
                        f"   p95 {np.percentile(ms, 95):8.0f} ms   max {ms.max():8.0f} ms"
                    )
                else:
                    print(f"  {kind:12s} n=0")
            total = sum(stats.errors.values())
            detail = ", ".join(f"{k} {v}" for k, v in stats.errors.items())
            print(f"  errors       {total} ({detail})")
            print(f"  server peak RSS (streamlit + children, summed): {mib(poller.peak_rss)}")
            print(f"  streamlit process VmHWM: {rss_kib(poller.pid, 'VmHWM') / 1024:.0f} MiB")

            # --- the training cap: cap+1 sessions press Start training at once -------------
            print(f"\nTraining cap: {cap + 1} sessions press Start training (cap {cap})")
            opened = await asyncio.gather(
                *(press_start(browser, url) for _ in range(cap + 1)), return_exceptions=True
            )
            tabs = [o for o in opened if not isinstance(o, BaseException)]
            for o in opened:
                if isinstance(o, BaseException):
                    print(f"  a session could not open the form: {type(o).__name__}: {o}")
            poller.phase = "cap"
            await asyncio.gather(
                *(tab.get_by_role("button", name="Start training").click() for _, tab in tabs)
            )
            results = await asyncio.gather(*(outcome(tab) for _, tab in tabs))
            await asyncio.sleep(3)  # let the poller see the runs going
            counts = {r: results.count(r) for r in sorted(set(results))}
            print(f"  outcomes: {counts}")
            busy = counts.get("busy", 0)
            print(
                f"  the extra session saw the busy message: {'yes' if busy >= 1 else 'NO'}"
                f" ({busy} of {len(tabs)} sessions saw it)"
            )
            seen = poller.max_train.get("cap", 0)
            print(
                f"  most `core train` processes at once: {seen} (cap {cap}: "
                f"{'never exceeded' if seen <= cap else 'EXCEEDED'})"
            )
            print(f"  server peak RSS with the runs going: {mib(poller.peak_rss, 'cap')}")
            for ctx, _ in tabs:
                await ctx.close()
        finally:
            await browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--port", type=int, default=0, help="default: a free port")
    ap.add_argument("--cap", type=int, default=2, help="TGAN_APP_MAX_RUNS for the server")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"error: {CHROMIUM} is not installed")

    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}"
    app_dir = runs_app()
    app_existed = app_dir.exists()
    before = listing(app_dir)
    tmp = Path(tempfile.mkdtemp(prefix="load_app-"))
    exe = Path(sys.executable).parent / "streamlit"
    argv = [
        str(exe) if exe.exists() else "streamlit",
        "run",
        "explorer/Home.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    env = dict(os.environ, TGAN_APP_MAX_RUNS=str(args.cap), TGAN_OFFLINE="1")
    log = open(tmp / "streamlit.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    poller = Poller(proc.pid)
    try:
        wait_healthy(proc, url)
        print(f"streamlit on {url} (pid {proc.pid}), {os.cpu_count()} CPU cores")
        poller.start()
        asyncio.run(drive(url, args.sessions, args.seconds, args.cap, poller))
    finally:
        poller.stop.set()
        # Training runs live in their own process groups: stop them first, then the server.
        for pid in poller.train_pids | set(proc_tree(proc.pid)) - {proc.pid}:
            if is_train(pid):
                kill_group(pid)
        kill_group(proc.pid)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        log.close()
        for path in sorted(listing(app_dir) - before, key=lambda p: -len(p.parts)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        if not app_existed:
            shutil.rmtree(app_dir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
