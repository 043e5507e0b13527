"""The Gradio demo, launched for real on a free local port and called through gradio_client."""

from __future__ import annotations

import numpy as np
import pytest
from app_support import make_zoo
from PIL import Image
from space_support import free_port


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    root = make_zoo(tmp_path_factory.mktemp("gradio"))
    mp = pytest.MonkeyPatch()
    mp.setenv("TGAN_PRETRAINED", str(root / "pretrained"))
    mp.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    from explorer import gradio_demo

    demo = gradio_demo.build_demo()
    port = free_port()
    demo.queue().launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
    )
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close(verbose=False)
        mp.undo()


@pytest.fixture(scope="module")
def client(demo_url):
    from gradio_client import Client

    return Client(demo_url, verbose=False, download_files=True)


def read_png(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_sample_grid_is_8x8_and_depends_on_v_and_seed(client):
    a = read_png(client.predict("tgan-fake-rand", 3, 3.0, 0, 1.0, api_name="/sample_grid"))
    assert a.shape[:2] == (8 * 30 + 2, 8 * 30 + 2)  # 28-px tiles, 2-px padding
    again = read_png(client.predict("tgan-fake-rand", 3, 3.0, 0, 1.0, api_name="/sample_grid"))
    np.testing.assert_array_equal(a, again)  # one seed per image: reproducible
    heavier = read_png(client.predict("tgan-fake-rand", 3, 0.5, 0, 1.0, api_name="/sample_grid"))
    other = read_png(client.predict("tgan-fake-rand", 3, 3.0, 64, 1.0, api_name="/sample_grid"))
    assert not np.array_equal(a, heavier) and not np.array_equal(a, other)


def test_interpolation_strip_has_the_frames(client):
    strip = read_png(
        client.predict("tgan-fake-rand", 0, 9, 5, 0, "spherical", api_name="/interpolate")
    )
    assert strip.shape[:2] == (30 + 2, 5 * 30 + 2)


def test_bad_inputs_are_errors_not_crashes(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="not in the list of choices|unknown model"):
        client.predict("../etc", 0, 3.0, 0, 1.0, api_name="/sample_grid")
    with pytest.raises(AppError, match="class must be|not in the list of choices"):
        client.predict("tgan-fake-rand", 0, 42, 5, 0, "linear", api_name="/interpolate")


def test_the_demo_opens_on_the_featured_mnist_t_gan_with_class_names(tmp_path, monkeypatch):
    import json

    from core.models import build_model, model_config
    from core.weights import save_pretrained
    from explorer import gradio_demo

    zoo = tmp_path / "pretrained"
    for name, dataset in (
        ("tgan-cifar10-2000", "cifar10"),  # sorts first by name: the old default
        ("tgan-fashion-500", "fashion"),
        ("tgan-mnist-500", "mnist"),
        ("tgan-mnist-500-proj", "mnist"),
    ):
        save_pretrained(build_model(model_config("tgan", dataset), seed=0), zoo / name)
    (zoo / "tgan-mnist-500-proj" / "entry.json").write_text(json.dumps({"featured": True}))
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo))
    config = gradio_demo.build_demo().get_config_file()
    dropdowns = {
        c["props"]["label"]: c["props"] for c in config["components"] if c.get("type") == "dropdown"
    }
    assert dropdowns["Model (data set in the name)"]["value"] == "tgan-mnist-500-proj"
    assert dropdowns["Model"]["value"] == "tgan-mnist-500-proj"
    assert [c[1] for c in dropdowns["Class"]["choices"]] == list(range(10))
    assert dropdowns["Class B"]["value"] == 9
    fashion = gradio_demo.entries()["tgan-fashion-500"]
    assert ("3: Dress", 3) in gradio_demo.class_choices(fashion)


def test_a_zoo_folder_that_cannot_be_built_is_left_out_of_the_demo(tmp_path, monkeypatch):
    import json
    import shutil

    from explorer import gradio_demo

    root = make_zoo(tmp_path)
    zoo = root / "pretrained"
    huge = zoo / "tgan-aaa-huge"  # sorts first: it would be the demo's default
    shutil.copytree(zoo / "tgan-fake-rand", huge)
    config = json.loads((huge / "config.json").read_text())
    config["model"]["width"] = 10**6
    (huge / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo))
    names = list(gradio_demo.entries())
    assert "tgan-aaa-huge" not in names and names[0] == "tgan-fake-rand"
