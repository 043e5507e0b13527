"""The playground page (pages/playground.py): AppTest (renders, Step trains, settings and URL
state, the shipped study) and, in headless Chromium, the metrics changing while it plays."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from app_support import app, open_page

PAGE = "playground.py"


@pytest.fixture
def zoo(tmp_path, monkeypatch):
    """An empty zoo (the page needs no model) with a small toy study in it."""
    from core.explore import toy_study

    root = tmp_path / "pretrained"
    rows = toy_study.run_study(root / "toy", steps=2, seeds=2, datasets=("ring8",), log=print)
    toy_study.write_outputs(root / "toy", rows, 2, 2, "python -m core toy-study --steps 2")
    monkeypatch.setenv("TGAN_PRETRAINED", str(root))
    monkeypatch.setenv("TGAN_RUNS", str(tmp_path / "runs"))
    return root


def metric_values(at) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def steps_shown(at) -> list[int]:
    return [
        int(m.group(1).replace(",", ""))
        for c in at.caption
        if (m := re.match(r"step ([\d,]+) ", c.value))
    ]


def test_the_page_renders_three_panels_and_the_study(zoo):
    at = open_page(app(), PAGE)
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Playground: priors in 2-D"]
    assert [label for label, _ in metric_values(at)] == ["Modes covered", "High quality"] * 3
    assert steps_shown(at) == [0, 0, 0]
    assert len(at.get("plotly_chart")) == 7  # data + latents per panel, and the race
    text = " ".join(m.value for m in at.markdown)
    assert "| ring8 | tmix-v3 | 2 |" in text and "C5 in 2-D" in text


def test_step_trains_every_panel_and_changes_the_metrics(zoo):
    at = open_page(app(), PAGE, {"speed": "50"})
    before = metric_values(at)
    at.button(key="playground_step").click().run()
    assert not at.exception
    assert steps_shown(at) == [50, 50, 50]
    assert metric_values(at) != before
    at.button(key="playground_reset").click().run()
    assert steps_shown(at) == [0, 0, 0]


def test_settings_come_from_the_url_and_go_back_to_it(zoo):
    at = open_page(app(), PAGE, {"data": "grid25", "v": "10", "seed": "3", "gmm": "0"})
    assert not at.exception and not at.error
    assert [v for _, v in metric_values(at)][0].endswith("/ 25")
    assert len(at.metric) == 4  # the Gaussian-mixture panel is off
    assert at.session_state["playground.v"] == 10.0
    at.select_slider(key="playground.v").set_value(1.0).run()
    assert at.query_params["v"] == "1" and at.query_params["data"] == "grid25"
    assert any("v = 1" in m.value for m in at.markdown)


def test_a_bad_url_value_falls_back_with_one_error(zoo):
    at = open_page(app(), PAGE, {"data": "rings", "v": "7"})
    assert not at.exception
    assert len(at.error) == 1 and "data" in at.error[0].value
    assert at.session_state["playground.data"] == "ring8"
    assert at.session_state["playground.v"] == 5.0  # snapped to the nearest log-spaced v


def test_without_a_study_the_page_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.setenv("TGAN_PRETRAINED", str(tmp_path / "empty"))
    at = open_page(app(), PAGE)
    assert not at.exception
    assert any("python -m core toy-study" in i.value for i in at.info)


@pytest.mark.slow
@pytest.mark.browser
def test_metrics_change_while_it_plays_in_chromium(tmp_path):
    from playwright.sync_api import sync_playwright
    from space_support import running_app

    from explorer.headless import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is not installed (make install puts it there as root)")
    artifacts = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
    artifacts.mkdir(parents=True, exist_ok=True)
    env = {"TGAN_PRETRAINED": str(tmp_path / "pretrained"), "TGAN_RUNS": str(tmp_path / "runs")}
    read_steps = (
        "() => Array.from(document.querySelectorAll('[data-testid=\"stCaptionContainer\"]'))"
        ".map(e => e.innerText).filter(t => t.startsWith('step ')).map(t => t.split(' ')[1])"
        ".join('|')"
    )
    with running_app(env) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.set_default_timeout(60_000)
            tab.goto(f"{url}/playground?speed=10&gmm=0")
            tab.locator("h1").filter(has_text="Playground").first.wait_for(state="visible")
            tab.wait_for_function(f"() => ({read_steps})() === '0|0'")
            first = tab.locator('[data-testid="stMetricValue"]').all_inner_texts()
            tab.get_by_role("button", name="Play").click()
            # the fragment reruns on its own: both panels advance and the metrics move
            tab.wait_for_function(
                f"(old) => {{ const s = ({read_steps})().split('|').map(Number);"
                " const m = Array.from(document.querySelectorAll("
                "'[data-testid=\"stMetricValue\"]')).map(e => e.innerText).join('|');"
                " return s.length === 2 && s[0] >= 30 && s[0] === s[1] && m !== old; }",
                arg="|".join(first),
            )
            tab.get_by_role("button", name="Pause").click()
            tab.screenshot(path=str(artifacts / "playground-playing.png"), full_page=True)
            assert tab.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
