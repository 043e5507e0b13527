"""The browser side of benchmarks/load_app.py: real Chromium sessions (the witnesses of what a
visitor sees end to end, drawing included) and the training-cap check (cap+1 sessions press
"Start training" at once)."""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress

from explorer.sitemap import PAGES

TIMEOUT_MS = 60_000
TITLES = {p.url_path: p.title for p in PAGES}
SLIDER = '[data-testid="stMain"] input[type="range"][aria-label="z1"]'
NEW_SRC = (
    "(old) => { const img = document.querySelector('[data-testid=\"stMain\"] img');"
    " return img && img.getAttribute('src') !== old; }"
)
EXCEPTION = '[data-testid="stException"]'
VIEWPORT = {"width": 1400, "height": 1000}


class BrowserSession:
    """One Chromium tab in its own context, with the ProtocolSession-like calls load_app uses:
    each returns the exceptions the page shows (their first lines)."""

    def __init__(self, browser, url: str):
        self.browser, self.url = browser, url
        self.ctx = self.tab = None

    async def open(self, page: str) -> list[str]:
        self.ctx = await self.browser.new_context(viewport=VIEWPORT)
        self.tab = await self.ctx.new_page()
        self.tab.set_default_timeout(TIMEOUT_MS)
        await self.tab.goto(f"{self.url}/{page}")
        await self._title(page)
        return await self._exceptions()

    async def switch(self, page: str) -> list[str]:
        nav = self.tab.locator('[data-testid="stSidebarNav"] a')
        await nav.filter(has_text=TITLES[page]).first.click()
        await self._title(page)
        return await self._exceptions()

    async def move(self, key: str) -> list[str]:
        """Press ``key`` (ArrowLeft / ArrowRight) on slider z1; wait for the new image."""
        image = self.tab.locator('[data-testid="stMain"] img').first
        await image.wait_for(state="visible")
        before = await image.get_attribute("src")
        await self.tab.locator(SLIDER).focus()
        await self.tab.keyboard.press(key)
        await self.tab.wait_for_function(NEW_SRC, arg=before, timeout=TIMEOUT_MS)
        return await self._exceptions()

    async def reload(self, page: str) -> None:
        with suppress(Exception):
            await self.tab.goto(f"{self.url}/{page}")
            await self._title(page)

    async def close(self) -> None:
        if self.ctx is not None:
            await self.ctx.close()

    async def _title(self, page: str) -> None:
        await self.tab.locator("h1").filter(has_text=TITLES[page]).first.wait_for(state="visible")

    async def _exceptions(self) -> list[str]:
        shown = self.tab.locator(EXCEPTION)
        out = []
        for i in range(await shown.count()):
            with suppress(Exception):
                text = (await shown.nth(i).inner_text(timeout=2_000)).strip().splitlines()
                out.append(" | ".join(text[:3])[:300])
        return out


async def _press_start(browser, url: str):
    ctx = await browser.new_context(viewport=VIEWPORT)
    try:
        tab = await ctx.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        await tab.goto(f"{url}/training?steps=2000")
        await tab.locator("h1").filter(has_text=TITLES["training"]).first.wait_for()
        await tab.get_by_text("Train a small model here").first.click()
        await tab.get_by_role("button", name="Start training").wait_for(state="visible")
        return ctx, tab
    except Exception:
        await ctx.close()
        raise


async def _outcome(tab) -> str:
    started, busy = tab.get_by_text("Your run is going"), tab.get_by_text("Busy:")
    for _ in range(600):  # at most 60 s
        if await busy.count():
            return "busy"
        if await started.count():
            return "started"
        await tab.wait_for_timeout(100)
    return "no answer"


async def training_cap(browser, url: str, cap: int, poller) -> None:
    """cap+1 fresh visitors press Start training at once: one must be told the app is busy, and
    no more than ``cap`` runs may ever go at once (the poller counts them)."""
    print(f"\nTraining cap: {cap + 1} sessions press Start training (cap {cap})")
    opened = await asyncio.gather(
        *(_press_start(browser, url) for _ in range(cap + 1)), return_exceptions=True
    )
    tabs = [o for o in opened if not isinstance(o, BaseException)]
    for o in opened:
        if isinstance(o, BaseException):
            print(f"  a session could not open the form: {type(o).__name__}: {o}")
    poller.phase = "cap"
    await asyncio.gather(
        *(tab.get_by_role("button", name="Start training").click() for _, tab in tabs)
    )
    results = await asyncio.gather(*(_outcome(tab) for _, tab in tabs))
    await asyncio.sleep(3)  # let the poller see the runs going
    counts = {r: results.count(r) for r in sorted(set(results))}
    busy = counts.get("busy", 0)
    seen = poller.max_train.get("cap", 0)
    print(f"  outcomes: {counts}")
    print(f"  the extra session saw the busy message: {'yes' if busy else 'NO'} ({busy} saw it)")
    print(f"  most `core train` processes at once: {seen} (cap {cap}: ", end="")
    print("never exceeded)" if seen <= cap else "EXCEEDED)")
    for ctx, _ in tabs:
        await ctx.close()


def now() -> float:
    return time.perf_counter()
