"""URL query parameters are validated: each bad value gives one st.error line naming the parameter
and the page falls back to that parameter's default; run directories must resolve inside the
configured roots (runs/, pretrained/), symlink escapes refused. Table-driven, through AppTest."""

from __future__ import annotations

import os

import pytest
from app_support import app, make_zoo, open_page

LONG = "x" * 10_000


@pytest.fixture(scope="module")
def zoo_dir(tmp_path_factory):
    root = make_zoo(tmp_path_factory.mktemp("query"))
    outside = root / "outside-run"
    outside.mkdir()
    (outside / "stats.jsonl").write_text('{"step": 1, "d_adv": 1.0, "g_adv": 1.0}\n')
    os.symlink(outside, root / "runs" / "escape")  # a symlink that leaves runs/
    return root


@pytest.fixture
def env(zoo_dir, monkeypatch):
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo_dir / "pretrained"))
    monkeypatch.setenv("TGAN_RUNS", str(zoo_dir / "runs"))
    return zoo_dir


# (page file, query, parameter that must be refused, widget key, the default it falls back to)
BAD = [
    ("home.py", {"model": "no-such-model"}, "model", "home.model", "tgan-fake-rand"),
    ("home.py", {"dataset": "imagenet"}, "dataset", "home.dataset", "fake"),
    ("home.py", {"model": LONG}, "model", "home.model", "tgan-fake-rand"),
    ("home.py", {"seed": "-5"}, "seed", "home.seed", 0),
    ("heavy_tails.py", {"v": "1e9"}, "v", "heavy_tails.v", 3.0),
    ("heavy_tails.py", {"v": "nan"}, "v", "heavy_tails.v", 3.0),
    ("heavy_tails.py", {"dim": "../etc"}, "dim", "heavy_tails.dim", 30),
    ("heavy_tails.py", {"log": "maybe"}, "log", "heavy_tails.log", True),
    ("latent_sliders.py", {"radius": "99"}, "radius", "latent_sliders.radius", 1.0),
    ("latent_sliders.py", {"s0": "inf"}, "s0", "latent_sliders.s0", 0.0),
    ("latent_sliders.py", {"axes": "diagonal"}, "axes", "latent_sliders.axes", "coordinates"),
    ("latent_sliders.py", {"seed": "1.5"}, "seed", "latent_sliders.seed", 0),
    ("interpolation.py", {"frames": "1000"}, "frames", "interpolation.frames", 10),
    ("interpolation.py", {"mode": LONG}, "mode", "interpolation.mode", "linear"),
    ("tsne.py", {"n": "100000"}, "n", "tsne.n", 300),
    ("tsne.py", {"colour": "<script>"}, "colour", "tsne.colour", "prior"),
    ("training.py", {"run": "../../etc"}, "run", "training.run", None),
    ("training.py", {"run": "/etc"}, "run", "training.run", None),
    ("training.py", {"run": "runs/escape"}, "run", "training.run", None),
    ("training.py", {"run": LONG}, "run", "training.run", None),
    ("training.py", {"model": "pixelcnn++"}, "model", "training.model", "tgan"),
    ("training.py", {"steps": "999999"}, "steps", "training.steps", 200),
]


@pytest.mark.parametrize(
    ("page", "query", "param", "key", "default"),
    BAD,
    ids=[f"{p}-{q}-{list(v.values())[0][:12]}" for p, v, q, _, _ in BAD],
)
def test_bad_query_value_gives_one_error_and_the_default(env, page, query, param, key, default):
    at = open_page(app(), page, query)
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert f"`{param}`" in errors[0] and "\n" not in errors[0]
    assert len(errors[0]) < 400  # one line, never the 10 kB value echoed back
    if default is None:  # the run picker falls back to a shipped log (this zoo keeps none)
        assert at.session_state[key] is None
    else:
        assert at.session_state[key] == default
    # The URL is rewritten from the widgets: the bad value is gone.
    assert at.query_params.get(param) != query[param]


GOOD = [
    ("home.py", {"model": "dcgan-fake-rand", "seed": "7"}, {"home.model": "dcgan-fake-rand"}),
    ("heavy_tails.py", {"v": "10", "dim": "5", "log": "0"}, {"heavy_tails.v": 10.0}),
    ("latent_sliders.py", {"radius": "2.5", "cls": "3"}, {"latent_sliders.cls": 3}),
    ("interpolation.py", {"a": "2", "b": "7", "mode": "spherical"}, {"interpolation.b": 7}),
    ("tsne.py", {"space": "image", "point": "5"}, {"tsne.point": 5}),
    ("training.py", {"run": "runs/demo-run"}, {}),
]


@pytest.mark.parametrize(("page", "query", "expected"), GOOD, ids=[g[0] for g in GOOD])
def test_good_query_opens_exactly_that_view(env, page, query, expected):
    at = open_page(app(), page, query)
    assert not at.exception and not at.error, [e.value for e in at.error]
    for key, value in expected.items():
        assert at.session_state[key] == value
    if page == "training.py":
        assert at.session_state["training.run"] == str(env / "runs" / "demo-run")
    for name, value in query.items():
        if name != "run":
            assert at.query_params[name] == value


def test_model_in_the_url_brings_its_data_set(env):
    at = open_page(app(), "latent_sliders.py", {"model": "dcgan-fake-rand"})
    assert not at.error
    assert at.session_state["latent_sliders.model"] == "dcgan-fake-rand"


def test_resolve_inside_refuses_escapes(env):
    from core.paths import PathError, resolve_inside

    roots = [env / "runs", env / "pretrained"]
    assert resolve_inside(env / "runs" / "demo-run", roots) == (env / "runs" / "demo-run")
    for bad in ("../../etc", "/etc/passwd", str(env / "runs" / "escape"), "", "a\x00b"):
        with pytest.raises(PathError):
            resolve_inside(bad, roots)
