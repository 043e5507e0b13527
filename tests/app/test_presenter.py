"""Presenter mode (a projector: larger grids, class names over the columns, v on a log scale)
and the plots that keep the tails in every mode (the mixture's view, robust t-SNE/PCA axes, one
colour per component)."""

from __future__ import annotations

import json

import numpy as np
from app_support import app, chart_specs, open_page

from explorer import presenter


def test_presenter_home_names_the_classes_over_a_full_width_grid(env):
    at = open_page(app(), "home.py", {"present": "1"})
    assert not at.exception, at.exception
    assert at.toggle(key=presenter.KEY).value is True
    assert not at.image  # the grid is a full-width figure now, not the 2/5-width image
    layout = json.loads(chart_specs(at)[0])["layout"]
    assert layout["xaxis"]["ticktext"] == [str(k) for k in range(10)]
    assert layout["xaxis"]["side"] == "top" and layout["height"] >= 2 * 400
    assert at.query_params["present"] == "1"  # kept in the link


def test_presenter_latent_sliders_puts_v_on_a_log_scale(env):
    at = open_page(app(), "latent_sliders.py", {"present": "1", "v": "7"})
    assert not at.exception, at.exception
    v = at.select_slider(key="latent_sliders.v")
    steps = [float(s) for s in v.options]
    assert steps[0] == 0.5 and steps[-1] == 1000.0
    ratios = np.diff(np.log(steps))
    assert ratios.max() < 2.5 * ratios.min()  # roughly even in log v: a log scale
    assert v.value == 7.0


def test_the_presenter_setting_follows_the_visitor_to_other_pages(env):
    at = open_page(app(), "home.py", {"present": "1"})
    at.query_params.clear()
    at.switch_page("../pages/heavy_tails.py").run()
    assert not at.exception
    assert at.query_params["present"] == "1"
    assert at.select_slider(key="heavy_tails.v").value == 3.0


def test_the_mixture_plot_keeps_its_tails(env):
    at = open_page(app(), "heavy_tails.py", {"v": "1", "components": "3"})
    assert not at.exception
    from core.explore.lesson import mixture_2d

    mix = mixture_2d(3, 1.0, 0)
    spec = next(json.loads(s) for s in chart_specs(at) if "centres mu_i" in s)
    lo, hi = spec["layout"]["xaxis"]["range"]
    inside = np.mean((np.abs(mix.samples) <= hi).all(axis=1))
    assert hi > 3 and inside >= 0.99  # the +-3 view hid the heavy tails


def test_robust_range_ignores_one_outlier_and_palette_has_a_colour_per_group():
    values = np.concatenate([np.random.default_rng(0).normal(size=999), [1e6]])
    lo, hi = presenter.robust_range(values)
    assert hi < 10 and lo > -10
    colours = presenter.palette(50)
    assert len(set(colours)) == 50


def test_tsne_axes_are_robust_and_components_get_distinct_colours(env):
    at = open_page(app(), "tsne.py", {"colour": "component"})
    assert not at.exception, at.exception
    spec = json.loads(chart_specs(at)[0])
    colours = [t["marker"]["color"] for t in spec["data"]]
    assert len(colours) == len(set(colours)) == 40  # 40 components shown, 40 colours
    assert spec["layout"]["xaxis"]["range"][1] < 10  # fixed from the central 99%
