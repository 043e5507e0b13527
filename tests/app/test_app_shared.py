"""A class shares the work: a page's default view is computed once for many sessions
(``explorer.perf`` counts what the shared caches really compute), each run can be profiled, and
a slider move reruns only its fragment."""

from __future__ import annotations

import json

import pytest
from app_support import app, image_urls, open_page

from explorer import cache, perf


def test_a_default_view_is_computed_once_for_many_sessions(env):
    for fn in (cache.sample_png, cache.edited_png, cache.seed_latent):
        fn.clear()
    start = {n: (perf.calls(n), perf.computes(n)) for n in ("sample_png", "edited_png")}
    first = open_page(app(), "latent_sliders.py")
    assert not first.exception
    once = {n: perf.computes(n) - start[n][1] for n in start}
    # Home's 60-image grid and the page's 8x8 grid; the hand-moved latent's image
    assert once == {"sample_png": 2, "edited_png": 1}

    sessions = [open_page(app(), "latent_sliders.py") for _ in range(3)]
    for at in sessions:
        assert not at.exception
        assert image_urls(at) == image_urls(first)  # the same view for everyone
    for name, (calls, computes) in start.items():
        assert perf.computes(name) - computes == once[name], name  # nothing more for 3 more
        assert perf.calls(name) - calls >= 4 * once[name], name  # though every session asked


def test_each_run_writes_a_profile_line_when_asked(env, tmp_path, monkeypatch):
    path = tmp_path / "profile.jsonl"
    monkeypatch.setenv(perf.PROFILE_ENV, str(path))
    at = open_page(app(), "heavy_tails.py")
    assert not at.exception
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["page"] for r in records] == ["home", "heavy_tails"]
    tails = records[-1]
    assert tails["fragment"] is False and tails["seconds"] > 0
    assert tails["calls"] >= tails["computes"] >= 0 and tails["calls"] > 0


def test_no_profile_is_written_without_the_variable(env, tmp_path, monkeypatch):
    monkeypatch.delenv(perf.PROFILE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    open_page(app(), "home.py")
    assert list(tmp_path.iterdir()) == []


def test_a_slider_move_keeps_the_grid_and_writes_the_link(env):
    at = open_page(app(), "latent_sliders.py")
    grid_before = image_urls(at)[1]
    at.slider(key="latent_sliders.s0").set_value(2.5).run()
    assert not at.exception
    urls = image_urls(at)
    assert urls[1] == grid_before  # the 8x8 grid does not depend on the sliders
    assert at.query_params["s0"] == "2.5"


def test_the_lesson_curves_are_computed_once_per_setting(env):
    cache.lesson_curve.clear()
    before = perf.computes("lesson_curve")
    open_page(app(), "heavy_tails.py")
    first = perf.computes("lesson_curve") - before
    assert first > 0
    open_page(app(), "heavy_tails.py")
    assert perf.computes("lesson_curve") - before == first  # a second visitor computes nothing
    with pytest.raises(ValueError, match="not a lesson curve"):
        cache.lesson_curve("__import__", "os")


def test_an_overloaded_server_says_busy_and_retries_instead_of_an_exception(env, monkeypatch):
    calls = {"n": 0}
    real = cache.sample_png

    def flaky(*args):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(24, "Too many open files")  # EMFILE: out of descriptors for now
        return real(*args)

    monkeypatch.setattr(perf, "RETRY_WAIT_S", 0.0)
    monkeypatch.setattr(cache, "sample_png", flaky)
    at = app()
    at.run()
    assert not at.exception  # retried once: the page is there
    assert [t.value for t in at.title] == ["t-GAN Explorer"] and len(image_urls(at)) == 1
    assert calls["n"] == 2

    def always(*args):
        raise MemoryError

    monkeypatch.setattr(cache, "sample_png", always)
    at = app()
    at.run()
    assert not at.exception
    assert any("very busy" in w.value for w in at.warning)  # gave up politely after the retries


def test_a_real_bug_is_not_hidden_as_busy(env, monkeypatch):
    def broken(*args):
        raise KeyError("a bug")

    monkeypatch.setattr(cache, "sample_png", broken)
    at = app()
    at.run()
    assert at.exception and "a bug" in at.exception[0].value
