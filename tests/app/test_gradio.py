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
    with pytest.raises(AppError, match="class must be"):
        client.predict("tgan-fake-rand", 0, 42, 5, 0, "linear", api_name="/interpolate")
