"""End to end: the Dockerfile's CMD (`streamlit run explorer/Home.py --server.headless=true`, on a
free local port) driven in a real headless Chromium (Debian's, through Playwright): every page
opens with its title and no exception, a slider move changes the image and the URL. Screenshots
go to artifacts/browser/."""

from __future__ import annotations

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from app_support import make_zoo
from space_support import running_app

from explorer.headless import CHROMIUM
from explorer.headless import CHROMIUM_ARGS as ARGS
from explorer.protocol import ProtocolSession
from explorer.sitemap import PAGES
from explorer.warm import visit_all

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is not installed (make install puts it there as root)")
    root = make_zoo(tmp_path_factory.mktemp("browser"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = {
        "TGAN_PRETRAINED": str(root / "pretrained"),
        "TGAN_RUNS": str(root / "runs"),
        "TGAN_APP_LOG": str(ARTIFACTS / "streamlit.log"),
    }
    with running_app(env) as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.set_default_timeout(TIMEOUT_MS)
            yield tab
        finally:
            browser.close()


def wait_for_title(tab, title: str) -> None:
    tab.locator("h1").filter(has_text=title).first.wait_for(state="visible")
    settle(tab)


def settle(tab) -> None:
    """Wait until the script run is over: no "running" status, no skeleton placeholders, twice
    in a row half a second apart."""
    idle = (
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
    )
    for _ in range(2):
        tab.wait_for_function(idle, timeout=TIMEOUT_MS)
        tab.wait_for_timeout(500)


@pytest.mark.parametrize("info", PAGES, ids=[p.url_path for p in PAGES])
def test_every_page_opens_in_chromium(app_url, page, info):
    path = "" if info.url_path == "home" else info.url_path
    page.goto(f"{app_url}/{path}")
    wait_for_title(page, info.title)
    assert page.locator("h1").first.inner_text().strip().startswith(info.title)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(ARTIFACTS / f"{info.url_path}.png"), full_page=True)


def test_slider_move_changes_the_image(app_url, page):
    page.goto(f"{app_url}/latent_sliders")
    wait_for_title(page, "Latent sliders")
    image = page.locator('[data-testid="stMain"] img').first
    image.wait_for(state="visible")
    before = image.get_attribute("src")
    thumb = page.locator('[data-testid="stMain"] input[type="range"][aria-label="z1"]')
    thumb.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "(old) => { const img = document.querySelector('[data-testid=\"stMain\"] img');"
        " return img && img.getAttribute('src') !== old; }",
        arg=before,
        timeout=TIMEOUT_MS,
    )
    page.wait_for_function("() => location.search.includes('s0=1')", timeout=TIMEOUT_MS)
    page.screenshot(path=str(ARTIFACTS / "latent_sliders-moved.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_shared_link_opens_that_view(app_url, page):
    page.goto(f"{app_url}/heavy_tails?v=10&dim=5&log=0&components=2&seed=1")
    wait_for_title(page, "Heavy tails")
    assert page.locator('[data-testid="stAlert"]').filter(has_text="URL parameter").count() == 0
    assert "v=10" in page.url and "dim=5" in page.url
    page.goto(f"{app_url}/heavy_tails?v=-3")
    wait_for_title(page, "Heavy tails")
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="URL parameter")
    alert.first.wait_for(state="visible")
    page.screenshot(path=str(ARTIFACTS / "bad-url.png"))


def run_async(coro):
    """asyncio.run in its own thread (Playwright's sync API keeps a loop in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_every_page_opens_over_the_protocol_with_no_exception(app_url):
    # What the warm-up does at start-up: each page opened as a new visitor's first page.
    visits = run_async(visit_all(app_url, timeout=120))
    assert [page for page, _, _ in visits] == [p.url_path for p in PAGES]
    assert [exc for _, _, exc in visits if exc] == []


def test_a_slider_move_reruns_only_its_fragment(app_url):
    async def drive():
        session = ProtocolSession(app_url, timeout=120)
        try:
            full = await session.open("latent_sliders")
            moved = await session.move("z1", 1.5)
            return full, moved
        finally:
            await session.close()

    full, moved = run_async(drive())
    assert full.titles == ["Latent sliders"] and not full.exceptions
    assert not full.fragment and moved.fragment and not moved.exceptions
    # the move sends the hand-moved latent's new image, not the page again
    assert len(moved.images) == 1 and moved.images[0] not in full.images
    assert moved.message_bytes < full.message_bytes / 2
