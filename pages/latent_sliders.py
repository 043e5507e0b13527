"""Latent sliders: one latent by hand (coordinates or principal directions), its component, v and
a radius that pushes it into the tails; 8 neighbours; the 8x8 grid under the same settings."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from core.explore.latent_edit import apply_sliders, coordinate_directions, neighbours
from core.sampling import MAX_SEED
from explorer import cache, perf, presenter, state, widgets
from explorer.sitemap import TITLES

PAGE = "latent_sliders"
N_SLIDERS = 4
SLIDER_RANGE = 6.0

st.title(TITLES["latent_sliders.py"])
entries = widgets.zoo_or_info()
PARAMS = [
    *widgets.model_params(entries),
    state.Param("cls", "int", 0, lo=0, hi=999),
    state.Param("seed", "int", 0, lo=0, hi=MAX_SEED),
    state.Param("component", "int", -1, lo=-1, hi=9999),
    state.Param("v", "float", 3.0, lo=0.5, hi=1000.0),
    state.Param("tails", "bool", True),
    state.Param("radius", "float", 1.0, lo=0.0, hi=8.0),
    state.Param("axes", "choice", "coordinates", ("coordinates", "principal")),
    state.Param("neighbours", "bool", False),
    *[
        state.Param(f"s{j}", "float", 0.0, lo=-SLIDER_RANGE, hi=SLIDER_RANGE)
        for j in range(N_SLIDERS)
    ],
]
url = state.seed_widgets(PAGE, PARAMS)
key = lambda name: state.widget_key(PAGE, name)  # noqa: E731

st.markdown(
    "One latent, by hand. The seed draws a latent z' from the model's prior; the sliders move "
    "it, in units of its component's own scale. **What to look at:** small moves change style "
    "(slant, thickness); pushing the **radius** up sends z' into the tails, where a Gaussian "
    "prior almost never goes in training but a t prior does. Does G still make a clean image "
    "out there?"
)
st.latex(
    r"z' = \mu_c + r\,\sigma_c \odot \Big(d + \sum_j a_j\,e_j\Big),\qquad "
    r"d=\frac{\varepsilon}{\sqrt{u/\nu}}"
)


@perf.fragment(PAGE)
def your_latent(entry, seed: int, label: int, df: float, comp_arg, radius: float, axes: str, dim):
    """The hand-moved latent: its sliders, its image and its neighbours. A fragment: a slider
    move reruns only this (the 8x8 grid beside it does not depend on the sliders)."""
    folder = str(entry.folder)
    st.subheader("Your latent")
    values = [
        st.slider(
            f"{'z' if axes == 'coordinates' else 'PC'}{j + 1}",
            -SLIDER_RANGE,
            SLIDER_RANGE,
            step=0.1,
            key=key(f"s{j}"),
        )
        for j in range(min(N_SLIDERS, dim))
    ]
    base = cache.seed_latent(folder, seed, label, df, comp_arg)
    if axes == "principal":
        directions, _ = cache.principal_directions(folder, N_SLIDERS, df)
    else:
        directions = coordinate_directions(dim, N_SLIDERS)
    d = apply_sliders(base.deviation, values, directions)
    single = cache.edited_png(folder, seed, label, df, comp_arg, (tuple(d.tolist()),), radius, 1)
    st.image(
        single,
        width=presenter.width(220),
        caption=f"component {base.component}, |d| = {np.linalg.norm(d):.2f}, r = {radius:g}",
    )
    if st.toggle("Show 8 neighbours", key=key("neighbours")):
        nb = neighbours(d, 8, step=0.5, seed=seed)
        stacked = np.vstack([nb[:4], d[None, :], nb[4:]])
        rows = tuple(tuple(row) for row in stacked.tolist())
        st.image(
            cache.edited_png(folder, seed, label, df, comp_arg, rows, radius, 3),
            width=presenter.width(220),
            caption="centre: your latent; around it: d + 0.5 e, 8 random e",
        )
    if perf.fragment_rerun():  # a full run writes the URL at its end
        state.write_url(PAGE, PARAMS)  # the sliders' new values go into the link


entry = widgets.pick_model(PAGE, entries, url)
if entry is not None:
    net = cache.model(entry)
    n_comp = int(net.prior.n_components)
    dim = int(net.prior.dim)
    with st.sidebar:
        label = widgets.pick_class(PAGE, entry) if entry.conditional else 0
        seed = int(st.number_input("Seed", 0, MAX_SEED, key=key("seed")))
        why = f"`{entry.name}`'s prior has {n_comp} component(s); -1 = the seed's own"
        state.fit_range(PAGE, "component", -1, n_comp - 1, -1, why)
        component = int(
            st.number_input(
                "Mixture component (-1 = the seed's own)",
                -1,
                n_comp - 1,
                key=key("component"),
                help=f"This prior has {n_comp} component(s).",
            )
        )
        heavy = st.toggle("Student-t tails (off: v = inf, Gaussian)", key=key("tails"))
        v = presenter.v_slider("Degrees of freedom v", key("v"), 0.5, 1000.0, disabled=not heavy)
        radius = st.slider("Radius r (push into the tails)", 0.0, 8.0, step=0.25, key=key("radius"))
        axes = st.radio(
            "Sliders move",
            ("coordinates", "principal"),
            key=key("axes"),
            format_func={
                "coordinates": "latent coordinates 1-4",
                "principal": "leading principal directions",
            }.get,
        )
    df = float(v) if heavy else math.inf  # None would mean "the prior's own v"
    comp_arg = None if component < 0 else component
    left, right = st.columns([1, 2])
    with left:
        your_latent(entry, seed, int(label), df, comp_arg, float(radius), axes, dim)
    with right:
        st.subheader("64 seeds under the same v, radius and component")
        st.caption(
            "Seeds (seed ... seed + 63), all of the chosen class. Raise the radius: "
            "the t-GAN's images stay digits longer than a Gaussian-prior GAN's."
        )
        seeds = tuple(range(seed, seed + 64))
        labels = (int(label),) * 64 if entry.conditional else None
        grid = cache.sample_png(str(entry.folder), seeds, labels, df, float(radius), comp_arg, 8)
        st.image(grid, width="stretch")

state.write_url(PAGE, PARAMS)
