"""What a student feels, in Chromium: slider move -> new image visible, and page switch -> the
new page's title visible (and the run settled), on the real zoo's featured MNIST t-GAN; beside
them the compute-only time of the same work in-process (no browser, no server). Prints p50 /
p95; asserts nothing.

    python benchmarks/bench_browser_latency.py [--moves 30] [--rounds 3] [--threads 2]

Targets (issue 22, an idle 2-core machine): slider -> new image p95 < 300 ms (MNIST), page
switch p95 < 1.5 s. One browser session, one server (``streamlit run explorer/Home.py``) on
127.0.0.1; the load average is printed first, since a shared machine inflates every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app_server import free_port, kill_group, wait_healthy  # noqa: E402

from explorer.headless import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from explorer.sitemap import PAGES  # noqa: E402
from explorer.warm import WARM_ENV, visit_all  # noqa: E402

TIMEOUT_MS = 60_000
IDLE = (
    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
)
CHANGED = (
    "([index, old]) => { const imgs = document.querySelectorAll('[data-testid=\"stMain\"] img');"
    " const img = imgs[index < 0 ? imgs.length + index : index];"
    " return img && img.getAttribute('src') !== old; }"
)


def pct(times: list[float]) -> str:
    ms = np.array(times) * 1000
    return (
        f"p50 {np.percentile(ms, 50):7.1f} ms   p95 {np.percentile(ms, 95):7.1f} ms  (n={len(ms)})"
    )


def settle(tab) -> None:
    tab.wait_for_function(IDLE, timeout=TIMEOUT_MS)


def slider_moves(tab, label: str, index: int, moves: int) -> list[float]:
    """Press the right arrow on slider ``label`` ``moves`` times (each a value not seen yet, so
    never a cache hit); time each until image ``index`` of the page has a new src."""
    slider = tab.locator(f'[role="slider"][aria-label="{label}"]')
    if not slider.count():
        slider = tab.locator(f'input[aria-label="{label}"]')
    out = []
    for _ in range(moves):
        settle(tab)
        img = tab.locator('[data-testid="stMain"] img').nth(index)
        before = img.get_attribute("src")
        slider.first.focus()
        start = time.perf_counter()
        tab.keyboard.press("ArrowRight")
        tab.wait_for_function(CHANGED, arg=[index, before], timeout=TIMEOUT_MS)
        out.append(time.perf_counter() - start)
    return out


def page_switches(tab, rounds: int) -> tuple[list[float], list[float], dict[str, list[float]]]:
    titled, settled, per_page = [], [], {}
    for _ in range(rounds):
        for page in [*PAGES[1:], PAGES[0]]:
            link = tab.locator('[data-testid="stSidebarNav"] a').filter(has_text=page.title).first
            settle(tab)
            start = time.perf_counter()
            link.click()
            tab.locator("h1").filter(has_text=page.title).first.wait_for(state="visible")
            titled.append(time.perf_counter() - start)
            per_page.setdefault(page.url_path, []).append(titled[-1])
            settle(tab)
            settled.append(time.perf_counter() - start)
    return titled, settled, per_page


def compute_only(folder: Path, moves: int) -> dict[str, list[float]]:
    """The same work in-process: the 8x8 grid at a new radius, and one edited latent."""
    import torch
    from PIL import Image

    from core.explore import latent_edit
    from core.sampling import image_grid, sample
    from core.weights import load_pretrained

    net = load_pretrained(folder).requires_grad_(False)

    def png(grid: np.ndarray) -> None:
        Image.fromarray(grid[..., 0] if grid.shape[2] == 1 else grid).save(io.BytesIO(), "PNG")

    seeds, labels = list(range(64)), [0] * 64
    png(image_grid(sample(net, seeds, labels, scale=1.0).images, nrow=8))  # warm-up
    out: dict[str, list[float]] = {"radius -> 8x8 grid": [], "z1 -> one edited image": []}
    base = latent_edit.seed_latent(net, 0, 0, df=3.0)
    for i in range(moves):
        start = time.perf_counter()
        png(image_grid(sample(net, seeds, labels, scale=1.0 + 0.25 * (i + 1)).images, nrow=8))
        out["radius -> 8x8 grid"].append(time.perf_counter() - start)
        start = time.perf_counter()
        d = latent_edit.apply_sliders(base.deviation, [0.1 * (i + 1)], np.eye(net.prior.dim)[:1])
        png(image_grid(latent_edit.decode_deviations(net, base, d[None, :], 1.0), nrow=1))
        out["z1 -> one edited image"].append(time.perf_counter() - start)
    del torch
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--moves", type=int, default=28, help="radius 1 -> 8 in 0.25 steps: 28")
    ap.add_argument("--rounds", type=int, default=3, help="rounds through every page")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cold", action="store_true", help="no warm-up before the first visit")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from core.zoo.discover import discover_models

    entry = next(e for e in discover_models() if e.dataset == "mnist" and e.preset == "tgan")
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
        f"(figures mean something only on an idle machine); model {entry.name}"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    exe = Path(sys.executable).parent / "streamlit"
    argv = [str(exe), "run", "explorer/Home.py", "--server.headless", "true"]
    argv += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    env = dict(os.environ, TGAN_OFFLINE="1", OMP_NUM_THREADS=str(args.threads))
    env[WARM_ENV] = "0"  # warmed below, as the Space's command does, before the first visit
    log = open(Path(tempfile.mkdtemp(prefix="bench-browser-")) / "streamlit.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_healthy(proc, url)
        if not args.cold:
            start = time.perf_counter()
            asyncio.run(visit_all(url))
            print(f"warm-up (python -m explorer.warm): {time.perf_counter() - start:.1f} s")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.set_default_timeout(TIMEOUT_MS)
            tab.goto(f"{url}/latent_sliders?model={entry.name}&radius=1")
            tab.locator("h1").filter(has_text="Latent sliders").first.wait_for()
            settle(tab)
            grid = slider_moves(tab, "Radius r (push into the tails)", -1, args.moves)
            single = slider_moves(tab, "z1", 0, args.moves)
            titled, settled, per_page = page_switches(tab, args.rounds)
            browser.close()
    finally:
        kill_group(proc.pid)
        log.close()
    print("\nin Chromium (server + websocket + render):")
    print(f"  radius slider -> new 8x8 grid     {pct(grid)}")
    print(f"  z1 slider -> new edited image     {pct(single)}")
    print(f"  page switch -> title visible      {pct(titled)}")
    print(f"  page switch -> run settled        {pct(settled)}")
    for page, times in per_page.items():
        shown = ", ".join(f"{t * 1000:.0f}" for t in times)
        print(f"    -> {page:16s} title visible after {shown} ms")
    print(f"\ncompute only (in-process, {args.threads} threads, no server, no browser):")
    import torch

    torch.set_num_threads(args.threads)
    for name, times in compute_only(entry.folder, args.moves).items():
        print(f"  {name:33s} {pct(times)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
