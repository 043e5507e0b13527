"""Load test of the Streamlit app, like a class on a 2-vCPU Space: N visitors for D seconds, each
moving the z1 slider of Latent sliders three times, then visiting another page and coming back;
then cap+1 visitors press "Start training" at once. Prints figures; asserts nothing.

    python benchmarks/load_app.py [--sessions 30] [--seconds 60] [--browsers 2] [--think 1]
                                  [--server-cpus 0] [--client-cpus 1] [--cold] [--no-cap]

The server is pinned to ``--server-cpus`` and this script (and its Chromium) to
``--client-cpus`` (``taskset`` / ``sched_setaffinity``; ``all`` leaves a side unpinned). Most
visitors are protocol clients (``explorer.protocol``: the app's own websocket messages and
image downloads, no drawing), so the one client core is not the bottleneck and the figures bound
a Space whose visitors' browsers run on their own laptops; ``--browsers`` of them are real
Chromium tabs, the witnesses of what a visitor sees end to end. Each visitor waits ``--think``
seconds (uniform 0.5x-1.5x; 0 = none) before each action, as a student looks at an image.

Before the visitors arrive the server is warmed as the Space's start command does
(``python -m explorer.warm``); ``--cold`` skips that. Figures: p50 / p95 / max per interaction
(first load, slider move -> new image downloaded, page switch -> page finished and its images
downloaded), errors with their text, a per-page profile (the server's script time per run from
``$TGAN_APP_PROFILE``, cached-function calls and computes, bytes sent), the server's peak RSS,
and the training cap. Server, browser and training runs are stopped and their ``runs/app/``
entries removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
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
from load_browser import BrowserSession, now, training_cap  # noqa: E402

from explorer.headless import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from explorer.perf import PROFILE_ENV  # noqa: E402
from explorer.protocol import ProtocolSession  # noqa: E402
from explorer.warm import WARM_ENV, visit_all  # noqa: E402

START = "latent_sliders"
OTHER_PAGES = ["home", "heavy_tails", "interpolation", "results"]
KINDS = ("first load", "slider move", "page switch")


class Stats:
    def __init__(self) -> None:
        # (client, interaction, page) -> seconds; per page: bytes of messages and media
        self.times: dict[tuple[str, str, str], list[float]] = defaultdict(list)
        self.bytes: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.errors: Counter[str] = Counter()

    def add(self, client, kind, page, seconds, exceptions, sent=None) -> None:
        self.times[client, kind, page].append(seconds)
        for text in exceptions:
            self.errors[f"page exception on {page}: {text}"] += 1
        if sent is not None:
            self.bytes[f"{page} ({'fragment' if sent.fragment else 'run'})"].append(
                (sent.message_bytes, sent.media_bytes)
            )

    def pooled(self, kind: str, client: str | None = None) -> list[float]:
        return [
            t
            for (c, k, _), ts in self.times.items()
            if k == kind and (client is None or c == client)
            for t in ts
        ]


class Clock:
    """The D seconds start once every visitor has its first page up (or has failed to)."""

    def __init__(self, sessions: int, seconds: float):
        self.left, self.seconds, self.deadline = sessions, seconds, 0.0
        self.go = asyncio.Event()

    def ready(self) -> None:
        self.left -= 1
        if self.left == 0:
            self.deadline = time.monotonic() + self.seconds
            self.go.set()


async def visitor(make, client: str, index: int, clock: Clock, stats: Stats, think: float):
    rng = random.Random(index)

    async def pause() -> None:
        if think > 0:
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))

    async def act(kind: str, page: str, call) -> None:
        start = now()
        out = await call
        sent = out if client == "protocol" else None
        exceptions = out.exceptions if sent is not None else out
        stats.add(client, kind, page, now() - start, exceptions, sent)

    session = make()
    try:
        await act("first load", START, session.open(START))
    except Exception as exc:  # noqa: BLE001 - counted, the visitor gives up
        stats.errors[f"first load: {type(exc).__name__}: {str(exc)[:160]}"] += 1
        await session.close()
        return
    finally:
        clock.ready()
    await clock.go.wait()
    position, direction, turn = 0, 1, index
    while time.monotonic() < clock.deadline:
        try:
            for _ in range(3):
                await pause()
                if abs(position + direction) > 20:  # stay inside the slider's range
                    direction = -direction
                position += direction
                move = (
                    session.move("z1", round(0.1 * position, 1))
                    if client == "protocol"
                    else session.move("ArrowRight" if direction > 0 else "ArrowLeft")
                )
                await act("slider move", START, move)
            other = OTHER_PAGES[turn % len(OTHER_PAGES)]
            turn += 1
            await pause()
            await act("page switch", other, session.switch(other))
            await pause()
            await act("page switch", START, session.switch(START))
        except Exception as exc:  # noqa: BLE001 - counted, then start over on the page
            stats.errors[f"{type(exc).__name__}: {str(exc)[:160]}"] += 1
            await session.close()
            session = make()
            try:
                await session.open(START)
            except Exception:  # noqa: BLE001
                await asyncio.sleep(1)
    await session.close()


def row(name: str, times: list[float]) -> str:
    if not times:
        return f"  {name:34s} n=    0"
    ms = np.array(times) * 1000
    return (
        f"  {name:34s} n={len(ms):5d}   p50 {np.percentile(ms, 50):7.0f} ms"
        f"   p95 {np.percentile(ms, 95):7.0f} ms   max {ms.max():7.0f} ms"
    )


def report(stats: Stats, profile: list[dict], n_protocol: int, n_browser: int) -> None:
    print(f"\nAll {n_protocol + n_browser} visitors (protocol clients and browsers together)")
    for kind in KINDS:
        print(row(kind, stats.pooled(kind)))
    if n_browser:
        print(f"The {n_browser} Chromium witnesses alone (drawing included)")
        for kind in KINDS:
            print(row(kind, stats.pooled(kind, "browser")))
    total = sum(stats.errors.values())
    print(f"  errors: {total}")
    for text, count in stats.errors.most_common():
        print(f"    {count:4d} x {text}")

    print("\nPer page, as the visitors saw it (protocol clients: wall time, bytes per run)")
    for (client, kind, page), times in sorted(stats.times.items()):
        if client == "protocol":
            print(row(f"{kind}: {page}", times))
    for key, sent in sorted(stats.bytes.items()):
        msg, media = np.mean([s[0] for s in sent]) / 1024, np.mean([s[1] for s in sent]) / 1024
        print(f"  {key:34s} sent per run: messages {msg:7.1f} KiB, images {media:7.1f} KiB")

    print("\nPer page, as the server spent it (script time per run; cached-function calls)")
    groups: dict[str, list[dict]] = defaultdict(list)
    for rec in profile:
        groups[f"{rec['page']} ({'fragment' if rec['fragment'] else 'run'})"].append(rec)
    for key, recs in sorted(groups.items()):
        calls = sum(r["calls"] for r in recs)
        computes = sum(r["computes"] for r in recs)
        hits = f"{100 * (calls - computes) / calls:5.1f}% hits" if calls else "no cached calls"
        print(row(key, [r["seconds"] for r in recs]) + f"   {calls} calls, {hits}")
    busy = sum(r["seconds"] for r in profile)
    print(f"  script time in all: {busy:.1f} s over {len(profile)} runs")


async def drive(args, url: str, poller: Poller, profile_path: Path) -> None:
    from playwright.async_api import async_playwright

    if not args.cold:
        start = time.monotonic()
        visits = await visit_all(url)
        bad = [(p, e) for p, _, e in visits if e]
        print(f"warm-up (python -m explorer.warm): {time.monotonic() - start:.1f} s; {bad or 'ok'}")
    skip = len(profile_path.read_text().splitlines()) if profile_path.exists() else 0

    async with async_playwright() as p:
        browser = None
        if args.browsers or not args.no_cap:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            stats, clock = Stats(), Clock(args.sessions, args.seconds)
            n_browser = min(args.browsers, args.sessions)
            poller.phase = "load"
            t0 = time.monotonic()
            tasks = [
                visitor(
                    (lambda: BrowserSession(browser, url))
                    if i < n_browser
                    else (lambda: ProtocolSession(url, timeout=60.0)),
                    "browser" if i < n_browser else "protocol",
                    i,
                    clock,
                    stats,
                    args.think,
                )
                for i in range(args.sessions)
            ]
            await asyncio.gather(*tasks)
            poller.phase = "after load"
            print(
                f"\n{args.sessions} visitors ({n_browser} in Chromium) for {args.seconds:.0f} s"
                f" after all first loads ({time.monotonic() - t0:.0f} s in all), think time"
                f" {args.think:g} s"
            )
            lines = profile_path.read_text().splitlines()[skip:] if profile_path.exists() else []
            report(stats, [json.loads(x) for x in lines], args.sessions - n_browser, n_browser)
            print(f"  server peak RSS (streamlit + children, summed): {mib(poller.peak_rss)}")
            print(f"  streamlit process VmHWM: {rss_kib(poller.pid, 'VmHWM') / 1024:.0f} MiB")
            if not args.no_cap:
                await training_cap(browser, url, args.cap, poller)
                print(f"  server peak RSS with the runs going: {mib(poller.peak_rss, 'cap')}")
        finally:
            if browser is not None:
                await browser.close()


def cpu_list(text: str) -> set[int] | None:
    """'0', '0,1' or '0-3' -> a set of CPU numbers; 'all' -> None (unpinned)."""
    if text == "all":
        return None
    cpus: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    available = os.sched_getaffinity(0)
    if not cpus <= available:
        sys.exit(f"error: CPUs {sorted(cpus - available)} are not available (have {available})")
    return cpus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--browsers", type=int, default=2, help="visitors that are Chromium tabs")
    ap.add_argument("--think", type=float, default=1.0, help="mean seconds before each action")
    ap.add_argument("--port", type=int, default=0, help="default: a free port")
    ap.add_argument("--cap", type=int, default=2, help="TGAN_APP_MAX_RUNS for the server")
    ap.add_argument("--no-cap", action="store_true", help="skip the training-cap check")
    ap.add_argument("--cold", action="store_true", help="no warm-up before the visitors")
    ap.add_argument("--server-cpus", default="0", help="CPU list for the server, or 'all'")
    ap.add_argument("--client-cpus", default="1", help="CPU list for the clients, or 'all'")
    args = ap.parse_args()
    server_cpus, client_cpus = cpu_list(args.server_cpus), cpu_list(args.client_cpus)
    if (args.browsers or not args.no_cap) and not Path(CHROMIUM).exists():
        sys.exit(f"error: {CHROMIUM} is not installed (or pass --browsers 0 --no-cap)")

    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}"
    app_dir = runs_app()
    app_existed, before = app_dir.exists(), listing(app_dir)
    tmp = Path(tempfile.mkdtemp(prefix="load_app-"))
    profile_path = tmp / "profile.jsonl"
    exe = Path(sys.executable).parent / "streamlit"
    pin = [] if server_cpus is None else ["taskset", "-c", ",".join(map(str, sorted(server_cpus)))]
    argv = [*pin, str(exe) if exe.exists() else "streamlit", "run", "explorer/Home.py"]
    argv += ["--server.headless", "true", "--server.port", str(port)]
    argv += ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    env = dict(os.environ, TGAN_APP_MAX_RUNS=str(args.cap), TGAN_OFFLINE="1")
    env.update({PROFILE_ENV: str(profile_path), WARM_ENV: "0"})  # the warm-up is explicit here
    log = open(tmp / "streamlit.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    poller = Poller(proc.pid)
    try:
        wait_healthy(proc, url)
        if client_cpus is not None:  # Chromium, started later, inherits it
            os.sched_setaffinity(0, client_cpus)
        print(
            f"streamlit on {url} (pid {proc.pid}), {os.cpu_count()} CPU cores; server on CPUs"
            f" {args.server_cpus}, clients on CPUs {args.client_cpus}"
        )
        poller.start()
        asyncio.run(drive(args, url, poller, profile_path))
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
