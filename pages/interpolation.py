"""Codeword interpolation: G(z', c(t)) from class A's codeword to class B's, linear or spherical,
as a strip and a GIF, with the judge's class probabilities along the path."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.sampling import MAX_SEED
from explorer import cache, state, widgets
from explorer.sitemap import TITLES

PAGE = "interpolation"

st.title(TITLES["interpolation.py"])
entries = widgets.zoo_or_info(require_conditional=True)
PARAMS = [
    *widgets.model_params(entries),
    state.Param("a", "int", 0, lo=0, hi=999),
    state.Param("b", "int", 9, lo=0, hi=999),
    state.Param("seed_a", "int", 0, lo=0, hi=MAX_SEED),
    state.Param("seed_b", "int", 0, lo=0, hi=MAX_SEED),
    state.Param("frames", "int", 10, lo=3, hi=24),
    state.Param("mode", "choice", "linear", ("linear", "spherical")),
]
url = state.seed_widgets(PAGE, PARAMS)
key = lambda name: state.widget_key(PAGE, name)  # noqa: E731

st.markdown(
    "The codeword c tells G which class to draw. Here z' stays fixed (or walks from seed A's "
    "draw to seed B's) while c walks from class A's codeword mean to class B's. **What to "
    "look at:** where along the path does the image switch class, and is the switch sudden "
    "or gradual? With the paper's codeword means (every coordinate = the class index), the "
    "straight path from 0 to 9 passes *through* the means of classes 1, 2, ..., 8: watch the "
    "judge's probabilities hand over from class to class."
)
st.latex(
    r"c(t) = (1-t)\,m_a + t\,m_b \;(+\,0.2\,\eta),\qquad "
    r"\text{slerp: } c(t)=\frac{\sin((1-t)\Omega)}{\sin\Omega}\hat m_a+"
    r"\frac{\sin(t\Omega)}{\sin\Omega}\hat m_b,\ \ x_t = G(z', c(t))"
)

entry = widgets.pick_model(PAGE, entries, url)
if entry is not None:
    if not entry.conditional:
        st.info(
            f"`{entry.name}` has no classes: only z' moves (from seed A to seed B).",
            icon=":material/info:",
        )
    k = entry.n_classes
    for name, fallback in (("a", 0), ("b", k - 1)):
        state.fit_range(PAGE, name, 0, k - 1, fallback, f"`{entry.name}` has classes 0-{k - 1}")
    with st.sidebar:
        fmt = lambda i: widgets.class_name(entry.dataset, i)  # noqa: E731
        class_a = st.selectbox("Class A", list(range(k)), key=key("a"), format_func=fmt)
        class_b = st.selectbox("Class B", list(range(k)), key=key("b"), format_func=fmt)
        seed_a = int(st.number_input("Seed A (z')", 0, MAX_SEED, key=key("seed_a")))
        seed_b = int(
            st.number_input(
                "Seed B (z' at the end; = A keeps z' fixed)", 0, MAX_SEED, key=key("seed_b")
            )
        )
        frames = st.slider("Frames N", 3, 24, key=key("frames"))
        mode = st.radio("Path", ("linear", "spherical"), key=key("mode"), horizontal=True)
    t, strip, gif, probs = cache.codeword_frames(
        str(entry.folder), int(class_a), int(class_b), int(frames), seed_a, seed_b, mode
    )
    st.image(
        strip,
        width="stretch",
        caption=f"t = 0 (class {fmt(class_a)}) ... t = 1 (class {fmt(class_b)}), "
        f"{frames} frames, {mode}",
    )
    left, right = st.columns([1, 3])
    with left:
        st.image(gif, width=160, caption="animated")
        st.download_button(
            "Download GIF",
            gif,
            file_name=f"{entry.name}-{class_a}-to-{class_b}-{mode}.gif",
            mime="image/gif",
            key="gif_download",
        )
    with right:
        if probs is None:
            st.info(
                f"No judge is shipped for `{entry.dataset}` yet, so no class probabilities "
                "(`python -m core train-judge --dataset "
                f"{entry.dataset}` makes one).",
                icon=":material/info:",
            )
        else:
            st.markdown("**The judge's p(class | image) along the path**")
            fig = go.Figure()
            for c in range(probs.shape[1]):
                if probs[:, c].max() < 0.05:
                    continue  # classes the judge never believes in stay off the legend
                fig.add_scatter(
                    x=t,
                    y=probs[:, c],
                    mode="lines+markers",
                    name=widgets.class_name(entry.dataset, c),
                )
            fig.update_layout(
                xaxis_title="t",
                yaxis_title="p(class | x_t)",
                height=320,
                yaxis_range=[0, 1.02],
                margin=dict(t=20, b=20),
            )
            st.plotly_chart(fig, key="probabilities")
            winners = np.argmax(probs, axis=1)
            st.caption(
                "Judge's verdict frame by frame: "
                + " -> ".join(
                    str(int(w)) for i, w in enumerate(winners) if i == 0 or w != winners[i - 1]
                )
            )

state.write_url(PAGE, PARAMS)
