"""Issue 22's classroom defects, each pinned by a test that failed before its fix: the Results
chart (data sets apart, real error bars, a score by default, short labels), the Training page's
per-visitor runs, the model choice carried between pages, and one bad zoo entry or run folder
that must not take a page down for everyone (issue 23, items 12-13)."""

from __future__ import annotations

import base64
import json
import shutil

import numpy as np
import pytest
from app_support import app, chart_specs, open_page

LONG = (
    "tgan[codeword_mean=onehot,d_classifies_fakes=False,d_projection=True,augment_shift=4,"
    "augment_color=True,augment_cutout=0.5]"
)
# The header `python -m core report` writes (pretrained/results.csv), three data sets.
REPORT_CSV = (
    "dataset,model,regime,n_samples,n_seeds,error_bars,is_mean,is_err,fidelity_mean,fidelity_err\n"
    "mnist,real data (test split),-,10000,0,within-run,9.6,0.15,0.99,0.003\n"
    "mnist,tgan,500,10000,3,seeds,4.5,0.29,0.30,0.02\n"
    f'mnist,"{LONG}",500,10000,3,seeds,9.6,0.02,0.95,0.01\n'
    "fashion,tgan,500,10000,3,seeds,2.3,0.34,0.40,0.03\n"
    "cifar10,tgan,2000,10000,3,seeds,2.9,0.33,0.55,0.02\n"
)


def _array(value) -> list:
    if isinstance(value, dict):  # plotly may ship arrays base64-encoded
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def test_results_chart_groups_by_data_set_with_the_csv_error_bars(env, tmp_path, monkeypatch):
    zoo = tmp_path / "pretrained"
    shutil.copytree(env / "pretrained", zoo)
    (zoo / "results.csv").write_text(REPORT_CSV)
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo))
    at = open_page(app(), "results.py")
    assert not at.exception, at.exception
    assert at.selectbox(key="results.metric").value == "is_mean"  # not n_samples
    traces = json.loads(chart_specs(at)[0])["data"]
    assert [t["name"] for t in traces] == ["mnist", "fashion", "cifar10"]
    # the three "tgan" rows stand in three places, not stacked on one x value
    places = [(d, lab) for t in traces for d, lab in zip(*t["x"], strict=True)]
    assert len(set(places)) == len(places) == 5
    assert [_array(t["error_y"]["array"]) for t in traces] == [[0.15, 0.29, 0.02], [0.34], [0.33]]
    assert all(t["error_y"]["visible"] for t in traces)
    labels = [lab for t in traces for lab in t["x"][1]]
    assert max(len(lab) for lab in labels) <= 32
    assert f"{LONG} (500)" in _array(traces[0]["customdata"])  # the full name is in the hover
    at.selectbox(key="results.metric").set_value("fidelity_mean").run()
    first = json.loads(chart_specs(at)[0])["data"][0]
    assert _array(first["error_y"]["array"]) == [0.003, 0.02, 0.01]


MINE, OTHER = "a" * 16, "b" * 16


def _run(folder, lines: list[dict]):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stats.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return folder


@pytest.fixture
def visitors(env, tmp_path, monkeypatch):
    """A zoo copy whose t-GAN keeps its training log, runs of two visitors, and this browser's
    cookie saying it is visitor MINE."""
    from explorer import visitor

    zoo = tmp_path / "pretrained"
    shutil.copytree(env / "pretrained", zoo)
    _run(zoo / "tgan-fake-rand", [{"step": 10, "d_adv": 1.3, "g_adv": 0.7}])
    runs = tmp_path / "runs"
    _run(runs / "app" / f"{MINE}-20260101-000000-tgan-fake", [{"step": 10, "d_adv": 1.0}])
    _run(runs / "app" / f"{OTHER}-20990101-000000-gan-fake", [{"step": 10, "d_adv": 1.0}])
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo))
    monkeypatch.setenv("TGAN_RUNS", str(runs))
    monkeypatch.setattr(visitor, "_cookie", lambda: MINE)
    return tmp_path


def test_training_lists_only_my_runs_and_opens_on_a_shipped_log(visitors):
    at = open_page(app(), "training.py")
    assert not at.exception, at.exception
    picker = at.selectbox(key="training.run")
    names = [str(o) for o in picker.options]
    assert not any(OTHER in n for n in names), names  # another visitor's newest run is hidden
    assert any(MINE in n for n in names) and any("tgan-fake-rand" in n for n in names)
    assert picker.value == str((visitors / "pretrained" / "tgan-fake-rand").resolve())
    assert at.query_params["run"].endswith("tgan-fake-rand")


def test_two_tabs_of_one_visitor_share_one_run(visitors):
    import os
    import time

    from core.atomic import atomic_write_json
    from explorer import training_jobs

    run_dir = visitors / "runs" / "app" / f"{MINE}-20260101-000000-tgan-fake"
    job = {
        "session": MINE,
        "pid": os.getpid(),  # alive for the test's length: "running"
        "run_dir": str(run_dir),
        "log": str(run_dir.with_suffix(".log")),
        "started": time.time(),
        "command": ["python"],
    }
    training_jobs.jobs_dir().mkdir(parents=True, exist_ok=True)
    atomic_write_json(training_jobs.jobs_dir() / f"{MINE}.json", job)
    for _tab in range(2):  # each AppTest is a new Streamlit session, i.e. a new tab
        at = open_page(app(), "training.py")
        assert not at.exception, at.exception
        assert any("Your run is going" in s.value for s in at.success)


def test_a_garbled_run_folder_is_a_warning_not_a_crash(visitors):
    bad = _run(
        visitors / "runs" / "broken",
        [{"step": 1, "d_adv": "x", "g_adv": 0.7}, {"step": "y", "d_adv": 1.0}, {"step": 2}],
    )
    (bad / "samples").mkdir()
    (bad / "samples" / "step_000002.png").write_text("not an image")
    at = open_page(app(), "training.py", {"run": str(bad)})
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and "broken" in warnings[0], warnings
    assert "step_000002.png" in warnings[0] and "not a number" in warnings[0]
    assert "D loss" in chart_specs(at)[0]  # the usable lines are still drawn


@pytest.fixture
def two_datasets(env, tmp_path, monkeypatch):
    from core.models import build_model, model_config
    from core.weights import save_pretrained

    zoo = tmp_path / "pretrained"
    shutil.copytree(env / "pretrained", zoo)
    save_pretrained(build_model(model_config("tgan", "fake32"), seed=0), zoo / "tgan-fake32-rand")
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo))
    return zoo


def _go(at, page_file: str):
    at.query_params.clear()  # a browser's page switch leaves the query string behind
    at.switch_page(f"../pages/{page_file}")
    return at.run()


def test_the_data_set_chosen_on_home_carries_to_every_model_page(two_datasets):
    at = open_page(app(), "home.py", {"dataset": "fake32"})
    assert at.selectbox(key="home.model").value == "tgan-fake32-rand"
    for page in ("latent_sliders", "interpolation", "home"):
        _go(at, f"{page}.py")
        assert not at.exception, at.exception
        assert at.selectbox(key=f"{page}.dataset").value == "fake32", page
        assert at.selectbox(key=f"{page}.model").value == "tgan-fake32-rand", page
    at.selectbox(key="home.model").set_value("tgan-fake32-rand")
    at.selectbox(key="home.dataset").set_value("fake").run()  # a new choice travels too
    chosen = at.selectbox(key="home.model").value
    _go(at, "latent_sliders.py")
    assert at.selectbox(key="latent_sliders.model").value == chosen


def test_a_shared_link_still_wins_over_the_carried_model(two_datasets):
    at = open_page(app(), "home.py", {"dataset": "fake32"})
    at.query_params.clear()
    at.query_params.update({"model": "dcgan-fake-rand"})
    at.switch_page("../pages/latent_sliders.py").run()
    assert at.selectbox(key="latent_sliders.model").value == "dcgan-fake-rand"


@pytest.mark.parametrize(
    ("query", "param", "default"),
    [({"cls": "15"}, "cls", 0), ({"component": "9999"}, "component", -1)],
)
def test_a_class_or_component_the_model_lacks_says_so(env, query, param, default):
    at = open_page(app(), "latent_sliders.py", {"model": "tgan-fake-rand", **query})
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and f"`{param}`" in errors[0], errors
    assert at.session_state[f"latent_sliders.{param}"] == default


@pytest.fixture
def bad_zoo(env, tmp_path, monkeypatch):
    """A zoo copy plus three folders whose config.json cannot be shown, all named to sort first:
    nested too deeply to parse, a class count no picker can list, sizes no machine can build."""
    zoo = tmp_path / "pretrained"
    shutil.copytree(env / "pretrained", zoo)
    good = zoo / "tgan-fake-rand"
    config = json.loads((good / "config.json").read_text())
    for name, change in (("tgan-aaa-classes", {"n_classes": 5000}), ("tgan-aaa-huge", None)):
        folder = zoo / name
        shutil.copytree(good, folder)
        block = dict(config["model"], **(change or {"width": 10**6, "latent_dim": 10**6}))
        (folder / "config.json").write_text(json.dumps(dict(config, model=block)))
    deep = zoo / "tgan-aaa-deep"
    shutil.copytree(good, deep)
    (deep / "config.json").write_text('{"model": ' + "[" * 100_000 + "]" * 100_000 + "}")
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo))
    return zoo


@pytest.mark.parametrize("page", ["home.py", "latent_sliders.py", "interpolation.py"])
def test_a_zoo_folder_that_cannot_be_built_is_skipped_with_one_warning(bad_zoo, page):
    at = open_page(app(), page)
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1, warnings
    for name in ("tgan-aaa-classes", "tgan-aaa-deep", "tgan-aaa-huge"):
        assert f"`{name}`" in warnings[0]
    model = at.selectbox(key=f"{page.removesuffix('.py')}.model")
    assert model.value == "tgan-fake-rand" and not any("aaa" in o for o in model.options)


def test_the_race_page_shows_the_lineup_side_by_side_and_the_curves(env, tmp_path, monkeypatch):
    from core.models import build_model, model_config
    from core.weights import save_pretrained
    from explorer import cache

    zoo = tmp_path / "pretrained"
    shutil.copytree(env / "pretrained", zoo)
    twin = build_model(model_config("tgan", "fake", prior="gmm"), seed=1)
    save_pretrained(twin, zoo / "tgan-fake-rand-gmm")
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo))
    at = open_page(app(), "compare.py", {"radius": "3"})
    assert not at.exception, at.exception
    assert at.selectbox(key="compare.model").value == "tgan-fake-rand"
    assert len(at.image) == 3  # the t-GAN, its twin, the DCGAN (same seeds, same radius)
    text = " ".join(m.value for m in at.markdown)
    assert "`tgan-fake-rand-gmm`" in text and "`dcgan-fake-rand`" in text
    assert any("twin" in c.value for c in at.caption)
    assert any("No judge" in i.value for i in at.info)  # this zoo ships no judge

    import torch

    class SureJudge:  # files every image under class 0, features = the pixels
        def logits_and_features(self, images):
            logits = torch.zeros(images.shape[0], 10)
            logits[:, 0] = 1.0
            return logits, images.flatten(1)

        def features(self, images):
            return images.flatten(1)

    monkeypatch.setattr(cache, "judge", lambda dataset: SureJudge())
    cache.race_curve.clear()
    cache.real_spread.clear()
    at = open_page(app(), "compare.py", {"cls": "0"})
    assert not at.exception, at.exception
    traces = json.loads(chart_specs(at)[0])["data"]
    assert {t["name"] for t in traces} == {"tgan-fake-rand", "tgan-fake-rand-gmm"}
    fidelity = [t for t in traces if t["xaxis"] == "x"]
    assert all(_array(t["y"]) == [1.0] * 8 for t in fidelity)  # the judge is always sure
    cache.race_curve.clear()
    cache.real_spread.clear()


def test_the_race_opens_on_the_data_set_chosen_elsewhere(two_datasets):
    at = open_page(app(), "home.py", {"dataset": "fake32"})
    _go(at, "compare.py")
    assert not at.exception, at.exception
    assert at.selectbox(key="compare.model").value == "tgan-fake32-rand"
