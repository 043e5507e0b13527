"""The Docker Space, simulated without Docker: the image's CMD runs as a non-root user (UID 1000
when the tests run as root) from an app folder that user cannot write, with the Dockerfile's ENV
(its home moved to a temporary folder), and a visitor starts a training run in Chromium. Before
the Dockerfile kept runs in the user's home, this showed a PermissionError traceback."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import pytest
from space_support import REPO, as_user, dockerfile_env, running_app

from explorer.headless import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SPACE_UID = 1000
APP_PARTS = ("core", "explorer", "pages", ".streamlit", "Dockerfile", "README.md")


def _read_only_copy(target: Path) -> Path:
    """The app's code in ``target`` without write permission (the shipped zoo linked in)."""
    for part in APP_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / part)
    (target / "pretrained").symlink_to(REPO / "pretrained")
    for folder, dirs, files in os.walk(target):
        for name in dirs + files + [""]:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return target


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make install puts it there as root)")
    root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="tgan-space-"))  # not under root's private tmp
    base.chmod(0o755)
    home = base / "home"
    home.mkdir()
    app = _read_only_copy(base / "app") if not root else REPO
    uid = SPACE_UID if root else None
    if root:
        os.chown(home, SPACE_UID, SPACE_UID)
    if root:  # the app folder is root's, as WORKDIR made it before the fix
        assert subprocess.run([*as_user(SPACE_UID), "test", "-w", str(app)]).returncode != 0
    else:
        assert not os.access(app, os.W_OK)
    env = dockerfile_env(home)
    env["TGAN_APP_LOG"] = str(base / "streamlit.log")
    try:
        with running_app(env, cwd=app, uid=uid, timeout=180) as url:
            yield url, Path(env.get("TGAN_RUNS") or app / "runs"), base
    finally:
        _stop_runs_under(base)
        shutil.rmtree(base, ignore_errors=True)


def _stop_runs_under(base: Path) -> None:
    """Kill the training runs this module started (their run folders lie under ``base``),
    should a test fail before its own cancel."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"train" in argv and any(str(base).encode() in a for a in argv):
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(int(proc.name), signal.SIGKILL)


def test_a_visitor_starts_a_training_run_on_the_space(space):
    from playwright.sync_api import sync_playwright

    url, runs, base = space
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.set_default_timeout(120_000)
            tab.goto(f"{url}/training?steps=10&dataset=fake")
            tab.locator("h1").filter(has_text="Training").first.wait_for()
            tab.get_by_text("Train a small model here").first.click()
            tab.get_by_role("button", name="Start training").click()
            markers = ("Your run is going", "Traceback", "Cannot write", "Error")
            text, deadline = "", time.monotonic() + 180
            while not any(m in text for m in markers) and time.monotonic() < deadline:
                tab.wait_for_timeout(500)  # the start and the rerun it asks for
                text = tab.locator("[data-testid='stMain']").first.text_content() or ""
        finally:
            browser.close()
    assert "PermissionError" not in text and "Traceback" not in text, text[:2000]
    assert "Your run is going" in text, text[text.find("Cannot") - 50 :][:600]
    deadline = time.monotonic() + 300
    stats: list[Path] = []
    while not stats and time.monotonic() < deadline:  # the run writes into $TGAN_RUNS/app
        stats = list((runs / "app").glob("*/stats.jsonl"))
        time.sleep(1)
    logs = "".join(p.read_text(errors="replace")[-1500:] for p in (runs / "app").glob("*.log"))
    assert stats, logs or (base / "streamlit.log").read_text(errors="replace")[-2000:]


def _main_text(tab, wanted: str | tuple[str, ...], seconds: float = 120) -> str:
    """The main area's text once it holds ``wanted`` (or one of them; or after ``seconds``)."""
    texts = (wanted,) if isinstance(wanted, str) else wanted
    text, deadline = "", time.monotonic() + seconds
    while not any(w in text for w in texts) and time.monotonic() < deadline:
        tab.wait_for_timeout(500)
        text = tab.locator("[data-testid='stMain']").first.text_content() or ""
    return text


def test_a_visitors_tabs_share_one_run_that_other_visitors_never_see(space):
    from playwright.sync_api import sync_playwright

    url, runs, _ = space
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            mine = browser.new_context(viewport={"width": 1400, "height": 1000})
            mine.set_default_timeout(120_000)  # every tab of this visitor, not only the first
            first = mine.new_page()
            first.goto(f"{url}/training?steps=2000&dataset=fake")
            first.get_by_text("Train a small model here").first.click()
            first.get_by_role("button", name="Start training").click()
            assert "Your run is going" in _main_text(first, "Your run is going")
            # the run's log is written before the page says so (its folder comes a moment later)
            run_name = max((runs / "app").glob("*-tgan-fake.log"), key=lambda q: q.name).stem
            second = mine.new_page()  # another tab of the same browser: the same visitor
            second.goto(f"{url}/training")
            assert "Your run is going" in _main_text(second, "Your run is going")
            theirs = browser.new_context()  # a second visitor
            theirs.set_default_timeout(120_000)  # playwright's own 30 s is short on a loaded CPU
            other = theirs.new_page()
            other.goto(f"{url}/training")
            # the run picker (a shipped log chosen), or the note that there is none to pick
            text = _main_text(other, ("Run directory", "No run directory yet"))
            assert "Run directory" in text or "No run directory yet" in text
            assert "Your run is going" not in text and run_name not in text
            other.locator("[data-testid='stSelectbox']").last.click()  # the run picker's list
            options = other.locator("[role='option']")
            options.first.wait_for()  # all_text_contents does not wait: on a loaded CPU the
            listed = options.all_text_contents()  # list can still be empty a moment after
            assert listed and not any(run_name in option for option in listed), listed
            first.get_by_role("button", name="Cancel my run").click()
        finally:
            browser.close()
