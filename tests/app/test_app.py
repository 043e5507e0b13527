"""The app through Streamlit's AppTest: start from explorer/Home.py, switch to every page, check
its title, no exception, and drive one or more widgets per page, checking what changes."""

from __future__ import annotations

import math

import pytest
from app_support import app, chart_specs, image_urls, make_zoo, open_page, write_results

from explorer.sitemap import PAGES


def test_entry_opens_home():
    at = app()
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["t-GAN Explorer"]


@pytest.mark.parametrize("page", PAGES, ids=[p.url_path for p in PAGES])
def test_every_page_has_its_title_and_no_exception(env, page):
    at = open_page(app(), page.file)
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == [page.title]
    assert not at.error, [e.value for e in at.error]


def test_titles_are_distinct():
    # A test that switches to page X and reads Y's title must fail: titles are unique.
    assert len({p.title for p in PAGES}) == len(PAGES)


def test_home_seed_changes_the_grid_and_the_url(env):
    at = open_page(app(), "home.py")
    before = image_urls(at)
    assert len(before) == 1
    at.number_input(key="home.seed").set_value(64).run()
    assert not at.exception
    assert image_urls(at) != before
    assert at.query_params["seed"] == "64"
    assert at.query_params["model"] == "tgan-fake-rand"  # t-GANs come first in the zoo


def test_heavy_tails_v_slider_changes_the_curves(env):
    at = open_page(app(), "heavy_tails.py")
    assert len(at.get("plotly_chart")) == 6
    before = chart_specs(at)
    at.slider(key="heavy_tails.v").set_value(1.0).run()
    after = chart_specs(at)
    assert not at.exception
    assert after[0] != before[0]  # the 1-D densities
    assert after[2] != before[2]  # the samples
    assert at.query_params["v"] == "1"
    at.toggle(key="heavy_tails.log").set_value(False).run()
    assert '"type":"log"' not in chart_specs(at)[0].replace(" ", "")


def test_latent_slider_changes_the_image(env):
    at = open_page(app(), "latent_sliders.py")
    single, grid = image_urls(at)
    at.slider(key="latent_sliders.s0").set_value(3.0).run()
    assert not at.exception
    new_single, new_grid = image_urls(at)
    assert new_single != single  # the edited latent moved
    assert new_grid == grid  # the 64-seed grid does not depend on the sliders
    at.slider(key="latent_sliders.radius").set_value(4.0).run()
    assert image_urls(at)[1] != grid  # the radius pushes every seed into the tails
    at.toggle(key="latent_sliders.neighbours").set_value(True).run()
    assert len(image_urls(at)) == 3
    assert at.query_params["s0"] == "3" and at.query_params["neighbours"] == "1"


def test_latent_principal_axes_and_gaussian_tails(env):
    at = open_page(app(), "latent_sliders.py", {"axes": "principal", "s1": "-2"})
    assert not at.exception and not at.error
    assert at.radio(key="latent_sliders.axes").value == "principal"
    assert at.slider(key="latent_sliders.s1").value == -2.0
    before = image_urls(at)
    at.toggle(key="latent_sliders.tails").set_value(False).run()
    assert not at.exception
    assert image_urls(at)[1] != before[1]


def test_interpolation_frames_and_classes(env):
    at = open_page(app(), "interpolation.py")
    strip = image_urls(at)[0]
    assert len(at.get("download_button")) == 1
    # No judge is shipped for the synthetic data set: an info, not a crash.
    assert any("No judge" in i.value for i in at.info)
    at.slider(key="interpolation.frames").set_value(5).run()
    assert not at.exception
    assert image_urls(at)[0] != strip
    at.selectbox(key="interpolation.b").set_value(3).run()
    assert at.query_params["b"] == "3" and at.query_params["frames"] == "5"
    at.radio(key="interpolation.mode").set_value("spherical").run()
    assert not at.exception and at.query_params["mode"] == "spherical"


def test_interpolation_with_a_judge_draws_probabilities(env, monkeypatch):
    import torch

    from explorer import cache

    class UniformJudge:
        def predict_proba(self, images):
            return torch.full((images.shape[0], 10), 0.1)

    cache.codeword_frames.clear()
    monkeypatch.setattr(cache, "judge", lambda dataset: UniformJudge())
    at = open_page(app(), "interpolation.py", {"a": "1", "b": "2"})
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1
    cache.codeword_frames.clear()


def test_tsne_opens_the_shipped_embedding_and_shows_a_point(env):
    at = open_page(app(), "tsne.py")
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2  # t-SNE and PCA, no compute button needed
    assert not [b for b in at.button if b.key == "tsne_compute"]
    first = image_urls(at)
    at.number_input(key="tsne.point").set_value(301).run()  # seed 1, Gaussian side
    assert image_urls(at) != first
    assert "Gaussian" in at.image[0].captions[0]
    specs = chart_specs(at)
    at.radio(key="tsne.colour").set_value("class").run()
    assert chart_specs(at)[0] != specs[0]
    assert at.query_params["colour"] == "class" and at.query_params["point"] == "301"


def test_tsne_on_demand_run(env):
    at = open_page(app(), "tsne.py", {"n": "50"})
    assert len(at.get("plotly_chart")) == 0
    at.button(key="tsne_compute").click().run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2
    assert at.number_input(key="tsne.point").max == 99


def test_tsne_on_demand_is_refused_while_another_runs(env):
    from explorer import cache

    at = open_page(app(), "tsne.py", {"n": "60"})
    slot = cache.compute_slot()
    assert slot.acquire(blocking=False)  # another session is computing
    try:
        at.button(key="tsne_compute").click().run()
    finally:
        slot.release()
    assert not at.exception
    assert any("Busy" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) == 0


def test_training_page_replays_a_run(env):
    # a CLI run is not listed (only the visitor's own and shipped logs are): a link names it
    at = open_page(app(), "training.py", {"run": str(env / "runs" / "demo-run")})
    assert not at.exception
    spec = chart_specs(at)[0]
    assert "D loss" in spec and "G loss" in spec
    assert f"{2 * math.log(2):.4f}"[:5] in spec and f"{math.log(2):.4f}"[:5] in spec
    assert len(image_urls(at)) == 1  # the latest sample grid
    assert at.query_params["run"] == "runs/demo-run"  # shareable: relative to its root


def test_training_page_busy_when_every_slot_is_taken(env, monkeypatch):
    monkeypatch.setenv("TGAN_APP_MAX_RUNS", "0")
    at = open_page(app(), "training.py")
    at.number_input(key="training.steps").set_value(20)
    at.button[0].click().run()
    assert not at.exception
    assert any("Busy" in w.value for w in at.warning)
    assert not at.success  # nothing started


def error_bars(spec: str) -> list[float]:
    """The error-bar values of a Plotly bar chart's spec (arrays may come base64-encoded)."""
    import base64
    import json

    import numpy as np

    array = json.loads(spec)["data"][0]["error_y"]["array"]
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def test_results_page_reads_the_csv_and_the_claims(env, tmp_path, monkeypatch):
    import shutil

    zoo = tmp_path / "pretrained"
    shutil.copytree(env / "pretrained", zoo)
    write_results(zoo)
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo))
    at = open_page(app(), "results.py")
    assert not at.exception
    assert len(at.dataframe) == 1
    spec = chart_specs(at)[0]
    assert error_bars(spec) == [0.25, 0.5]  # IS's spreads, in the CSV's row order
    at.selectbox(key="results.metric").set_value("mis").run()
    assert chart_specs(at)[0] != spec
    text = " ".join(m.value for m in at.markdown)
    assert "C1" in text and "confirmed" in text and "C3" in text
    assert "**C5** (not measured)" in text  # the old regex scrape never saw "not measured"
    assert "IS 9.6 vs 4.1" in " ".join(c.value for c in at.caption)
    assert "<br>" not in text
    assert "Trained to the plateau?" not in [h.value for h in at.header]  # no curves: no section


def test_results_page_shows_the_score_curves_when_asked(env, tmp_path, monkeypatch):
    import shutil

    from PIL import Image

    zoo = tmp_path / "pretrained"
    shutil.copytree(env / "pretrained", zoo)
    write_results(zoo)
    Image.new("RGB", (40, 30), "white").save(zoo / "curves-mnist.png")
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo))
    at = open_page(app(), "results.py")
    assert not at.exception
    assert "Trained to the plateau?" in [h.value for h in at.header]
    assert len(at.image) == 0  # not sent until asked for
    at.toggle(key="results.curves").set_value(True).run()
    assert not at.exception
    assert len(at.image) == 1 and at.image[0].captions == ["curves-mnist.png"]


def test_every_page_degrades_to_info_with_an_empty_zoo(tmp_path, monkeypatch):
    monkeypatch.setenv("TGAN_PRETRAINED", str(tmp_path / "nothing"))
    monkeypatch.setenv("TGAN_RUNS", str(tmp_path / "no-runs"))
    at = app()
    at.run()
    for page in PAGES:
        at.query_params.clear()
        at.switch_page(f"../pages/{page.file}").run()
        assert not at.exception, (page.file, at.exception)
        assert [t.value for t in at.title] == [page.title]
        if page.file not in ("heavy_tails.py",):
            assert at.info, page.file


def test_a_broken_model_folder_is_an_info_not_a_crash(env, tmp_path, monkeypatch):
    import shutil

    zoo = tmp_path / "pretrained"
    shutil.copytree(env / "pretrained", zoo)
    weights = zoo / "tgan-fake-rand" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # truncated
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo))
    for page in ("home.py", "latent_sliders.py", "interpolation.py", "tsne.py"):
        at = open_page(app(), page, {"model": "tgan-fake-rand"})
        assert not at.exception, (page, at.exception)
        assert any("cannot be loaded" in i.value for i in at.info), page


def test_interpolation_uses_the_shipped_mnist_judge(env, tmp_path, monkeypatch):
    from core.evaluate.judges import judge_available
    from core.models import build_model, model_config
    from core.weights import save_pretrained

    if not judge_available("mnist"):
        pytest.skip("the MNIST judge is not shipped in pretrained/judges/mnist")
    save_pretrained(build_model(model_config("tgan", "mnist")), tmp_path / "z" / "tgan-mnist-rand")
    monkeypatch.setenv("TGAN_PRETRAINED", str(tmp_path / "z"))
    at = open_page(app(), "interpolation.py", {"a": "0", "b": "9", "frames": "4"})
    assert not at.exception
    assert not any("No judge" in i.value for i in at.info)
    spec = chart_specs(at)[0]
    assert "p(class | x_t)" in spec


def test_home_says_how_a_departing_model_was_trained(tmp_path, monkeypatch):
    """A featured-recipe model (one-hot codewords, DiffAugment, C on real images, projection D)
    gets a caption naming each departure from the paper; the paper's model gets the other one."""
    from core.models import build_model, model_config
    from core.weights import save_pretrained

    zoo = make_zoo(tmp_path)
    cfg = model_config(
        "tgan", "fake", codeword_mean="onehot", d_classifies_fakes=False, d_projection=True
    )
    save_pretrained(
        build_model(cfg, seed=0),
        zoo / "pretrained" / "tgan-fake-proj",
        extra={"train": {"augment_shift": 2}},
    )
    save_pretrained(
        build_model(cfg, seed=0),
        zoo / "pretrained" / "tgan-fake-diffaug",
        extra={"train": {"augment_shift": 4, "augment_color": True, "augment_cutout": 0.5}},
    )
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo / "pretrained"))
    monkeypatch.setenv("TGAN_RUNS", str(zoo / "runs"))
    at = open_page(app(), "home.py", {"model": "tgan-fake-proj"})
    assert not at.exception
    text = " ".join(c.value for c in at.caption)
    for phrase in (
        "one-hot vector",
        "shifted by up to 2 px",
        "real images only",
        "projection discriminator",
    ):
        assert phrase in text, phrase
    at = open_page(app(), "home.py", {"model": "tgan-fake-diffaug"})
    text = " ".join(c.value for c in at.caption)
    assert "colour-jittered, shifted by up to 4 px, with a square cut out" in text
    at = open_page(app(), "home.py", {"model": "tgan-fake-rand"})
    text = " ".join(c.value for c in at.caption)
    assert "paper's codeword" in text and "projection discriminator" not in text
