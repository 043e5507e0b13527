"""Fixtures shared by the app's tests: a tiny zoo per test module (``app_support.make_zoo``) and
the environment that points the app at it."""

from __future__ import annotations

import pytest
from app_support import make_zoo


@pytest.fixture(scope="module")
def zoo_dir(request, tmp_path_factory):
    """A tiny zoo for this test module (random-weight models on the synthetic data sets)."""
    return make_zoo(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))


@pytest.fixture
def env(zoo_dir, monkeypatch):
    """The app reads the module's tiny zoo and writes runs beside it."""
    monkeypatch.setenv("TGAN_PRETRAINED", str(zoo_dir / "pretrained"))
    monkeypatch.setenv("TGAN_RUNS", str(zoo_dir / "runs"))
    return zoo_dir
