"""Race into the tails: a t-GAN and its Gaussian-prior twin (and the DeLiGAN / DCGAN of the same
track) side by side under the same seeds, class and radius, and the race curve of judge
fidelity and within-class diversity against the radius (``core.explore.compare``)."""

from __future__ import annotations

import math

import streamlit as st
from plotly.subplots import make_subplots

from core.explore.compare import N_PER_POINT, RADII, default_racer, lineup
from core.sampling import MAX_SEED
from explorer import cache, state, widgets
from explorer.sitemap import TITLES

PAGE = "compare"
N_SIDE = 16  # images per model, 4 x 4

st.title(TITLES["compare.py"])
entries = widgets.zoo_or_info()
racers = [e.name for e in entries if e.prior == "tmix" and e.conditional]
PARAMS = [
    state.Param("model", "choice", default_racer(entries), tuple(racers)),
    state.Param("cls", "int", 0, lo=0, hi=999),
    state.Param("seed", "int", 0, lo=0, hi=MAX_SEED),
    state.Param("radius", "float", 2.0, lo=0.0, hi=8.0),
]
state.seed_widgets(PAGE, PARAMS)
key = lambda name: state.widget_key(PAGE, name)  # noqa: E731
by_name = {e.name: e for e in entries}
shared = by_name.get(st.session_state.get(widgets.SHARED_MODEL))
held = by_name.get(st.session_state.get(key("model")))
if (
    st.session_state.get(widgets.LAST_PAGE) != PAGE
    and "model" not in st.query_params
    and shared is not None
    and (held is None or held.dataset != shared.dataset)
):  # arriving with another data set chosen: race on it (its exact twin pair first)
    same = [e for e in entries if e.dataset == shared.dataset]
    st.session_state[key("model")] = default_racer(same) or st.session_state.get(key("model"))
st.session_state[widgets.LAST_PAGE] = PAGE

st.markdown(
    "Two generators, the same seeds, the same class, the same push into the tails. The t-GAN "
    "drew its latents from a heavy-tailed t mixture while it trained, so it has *seen* latents "
    "far from the centre; its twin only ever saw Gaussian ones. **What to look at:** raise "
    "the radius. Whose digits stay digits (fidelity), and whose stay *different from each "
    "other* (diversity) the longest?"
)
st.latex(r"z = \mu_c + r\,\sigma_c\,d \qquad\text{(the same } d \text{ for both models)}")

if entries and not racers:
    st.info("The zoo has no conditional t-mixture model to race.", icon=":material/info:")
elif racers:
    with st.sidebar:
        state.ensure_choice(PAGE, "model", racers)
        name = st.selectbox("t-GAN", racers, key=key("model"))
    st.session_state[widgets.SHARED_MODEL] = name
    race = lineup(entries, name)
    entry = race.tgan
    with st.sidebar:
        label = widgets.pick_class(PAGE, entry)
        seed = int(st.number_input("First seed", 0, MAX_SEED, key=key("seed")))
        radius = st.slider("Radius r", 0.0, 8.0, step=0.25, key=key("radius"))
    (st.caption if race.twin is not None and "twin:" in race.note else st.info)(race.note)

    shown = [race.tgan, *([race.twin] if race.twin else []), *race.rivals]
    seeds = tuple(range(seed, seed + N_SIDE))
    columns = st.columns(len(shown))
    for column, model in zip(columns, shown, strict=True):
        labels = (int(label),) * N_SIDE if model.conditional else None
        grid = cache.sample_png(str(model.folder), seeds, labels, None, float(radius), None, 4)
        prior = {"tmix": "t mixture", "gmm": "Gaussian mixture"}.get(model.prior, "Gaussian")
        column.image(grid, width="stretch")
        column.markdown(
            f"**`{model.name}`**  \n{prior} prior"
            + ("" if model.conditional else "; unconditional: any class")
        )

    st.subheader("The race: fidelity and diversity against the radius")
    st.caption(
        f"{N_PER_POINT} samples of the class per point (seeds 0-{N_PER_POINT - 1}), scored by "
        "the data set's judge. Fidelity: the share the judge files under the class asked for. "
        "Diversity: their mean pairwise distance in the judge's features over that of real "
        "test images of the class (1 = as varied as the real class). Conditional rivals "
        "(the modern track's, given a one-hot label) race too; unconditional ones cannot be "
        "asked for a class, so they do not."
    )
    racing = race.racers
    with st.spinner("Scoring the race (once per model and class, then cached) ..."):
        curves = {
            m.name: cache.race_curve(str(m.folder), int(label), RADII, N_PER_POINT) for m in racing
        }
    if any(c is None for c in curves.values()):
        st.info(
            f"No judge for `{entry.dataset}` (pretrained/judges/{entry.dataset}): no race curve. "
            f"`python -m core train-judge --dataset {entry.dataset}` makes one.",
            icon=":material/info:",
        )
    else:
        fig = make_subplots(rows=1, cols=2, subplot_titles=("fidelity", "within-class diversity"))
        for i, (model_name, points) in enumerate(curves.items()):
            colour = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd")[i % 4]
            xs = [p.radius for p in points]
            for col, values in (
                (1, [p.fidelity for p in points]),
                (2, [p.diversity for p in points]),
            ):
                fig.add_scatter(
                    x=xs,
                    y=values,
                    name=model_name,
                    legendgroup=model_name,
                    showlegend=col == 1,
                    mode="lines+markers",
                    line=dict(color=colour),
                    row=1,
                    col=col,
                )
        fig.add_vline(x=float(radius), line_dash="dot", annotation_text="your r")
        fig.update_xaxes(title_text="radius r")
        fig.update_yaxes(range=[0, 1.05], row=1, col=1)
        fig.update_layout(height=380, margin=dict(t=40, b=20), legend=dict(orientation="h"))
        st.plotly_chart(fig, key="race_chart")
        if any(math.isnan(p.diversity) for pts in curves.values() for p in pts):
            st.caption(
                f"Diversity needs the real `{entry.dataset}` test images (`make data`): "
                "not in the data root here."
            )

state.write_url(PAGE, PARAMS)
