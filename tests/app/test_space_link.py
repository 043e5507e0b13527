"""Shared links on a Hugging Face Space: the app posts its query string (page included) to the
huggingface.co page around it, and such a link, coming back to the app's root, opens that page
with that state."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from app_support import app, make_zoo, open_page


@pytest.fixture(scope="module")
def zoo_dir(tmp_path_factory):
    return make_zoo(tmp_path_factory.mktemp("space_link"))


@pytest.fixture
def env(zoo_dir, monkeypatch):
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo_dir / "pretrained"))
    monkeypatch.setenv("TGAN_RUNS", str(zoo_dir / "runs"))
    monkeypatch.delenv("SPACE_ID", raising=False)
    return zoo_dir


def posted(at) -> list[dict]:
    """The messages the page's scripts post to the Space page (parsed from the frames' HTML)."""
    out = []
    for element in at.get("iframe"):
        html = element.proto.srcdoc
        if "postMessage(" in html:
            body = html.split("postMessage(", 1)[1]
            message, origin = body.split(", ", 1)
            out.append({"message": json.loads(message), "origin": origin.split(")")[0]})
    return out


def test_a_space_link_opens_its_page_with_its_state(env):
    at = app()
    at.query_params.update({"page": "latent_sliders", "cls": "3", "radius": "2.5"})
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Latent sliders"]
    assert at.session_state["latent_sliders.cls"] == 3
    assert at.session_state["latent_sliders.radius"] == 2.5
    assert not at.error


def test_an_unknown_page_in_a_link_is_one_error_line(env):
    at = app()
    at.query_params.update({"page": "../etc"})
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["t-GAN Explorer"]
    assert len(at.error) == 1 and "`page`" in at.error[0].value


def test_on_a_space_each_view_posts_its_query_string_to_huggingface(env, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/t-gan-explorer")
    at = open_page(app(), "latent_sliders.py", {"cls": "3"})
    assert not at.exception
    [post] = posted(at)
    assert post["origin"] == '"https://huggingface.co"'  # never "*": only the Space page
    query = parse_qs(post["message"]["queryString"].removeprefix("?"))
    assert query["page"] == ["latent_sliders"] and query["cls"] == ["3"]
    assert query["model"] == ["tgan-fake-rand"]


def test_off_a_space_nothing_is_posted(env):
    at = open_page(app(), "latent_sliders.py", {"cls": "3"})
    assert posted(at) == []
