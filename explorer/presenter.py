"""Presenter mode, for a projector: a sidebar toggle (``?present=1`` in the URL, kept across
pages) that makes text and grids larger, puts class names over the grid's columns and gives v a
log-scale slider. Also the plot helpers every mode uses so plots keep the tails: robust axis
limits and a palette with as many colours as groups."""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

PARAM = "present"
KEY = "_presenter.on"
WRITTEN = "_presenter.written"  # what the app last put in the URL (so a link's value is news)
# v on a log scale: 0.5 .. 1000 in roughly even steps of log v
V_STEPS = (
    0.5,
    0.7,
    1.0,
    1.5,
    2.0,
    3.0,
    5.0,
    7.0,
    10.0,
    15.0,
    20.0,
    30.0,
    50.0,
    70.0,
    100.0,
    150.0,
    200.0,
    300.0,
    500.0,
    700.0,
    1000.0,
)
IMAGE_SCALE = 2.2  # fixed-width images grow by this much
CSS = (
    "<style>html, body, [data-testid='stMarkdownContainer'] p, li {font-size: 1.35rem;}"
    "h1 {font-size: 3rem !important;} h2, h3 {font-size: 2.1rem !important;}</style>"
)


def toggle() -> bool:
    """The sidebar toggle (seeded once from ``?present=1``); injects the larger text."""
    url = st.query_params.get(PARAM)
    if KEY not in st.session_state or (url is not None and url != st.session_state.get(WRITTEN)):
        st.session_state[KEY] = url in ("1", "true")  # a link's setting (not our own echo)
    on = st.sidebar.toggle(
        "Presenter mode",
        key=KEY,
        help="For a projector: larger text and grids, class names over the columns, v on a "
        "log scale. Kept in the link as ?present=1.",
    )
    if on:
        st.markdown(CSS, unsafe_allow_html=True)
    return on


def on() -> bool:
    return bool(st.session_state.get(KEY, False))


def width(base: int) -> int:
    """A fixed image width, larger in presenter mode."""
    return int(base * IMAGE_SCALE) if on() else base


def v_slider(label: str, key: str, lo: float, hi: float, **kw) -> float:
    """The degrees of freedom v: a linear slider, or in presenter mode a log-scale one (the
    held value snaps to the nearest step in log v)."""
    if not on():
        return float(st.slider(label, lo, hi, step=0.5, key=key, **kw))
    steps = [s for s in V_STEPS if lo <= s <= hi]
    held = float(st.session_state.get(key, steps[0]))
    if held not in steps:
        st.session_state[key] = min(steps, key=lambda s: abs(np.log(s) - np.log(max(held, lo))))
    return float(
        st.select_slider(
            label + " (log scale)", steps, key=key, format_func=lambda s: f"{s:g}", **kw
        )
    )


def robust_range(values: np.ndarray, keep: float = 99.0, pad: float = 0.08) -> list[float]:
    """Axis limits that hold the central ``keep``% of ``values`` (plus a margin): one outlier
    no longer squashes every other point into a corner."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return [-1.0, 1.0]
    lo, hi = np.percentile(values, [(100 - keep) / 2, 100 - (100 - keep) / 2])
    margin = max(hi - lo, 1e-9) * pad
    return [float(lo - margin), float(hi + margin)]


def palette(n: int) -> list[str]:
    """``n`` distinguishable colours (evenly spaced hues, alternating lightness): one per group,
    never a 10-colour cycle reused across 50 components."""
    out = []
    for i in range(n):
        r, g, b = colorsys.hls_to_rgb(i / max(n, 1), 0.45 if i % 2 else 0.6, 0.75)
        out.append(f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}")
    return out


def labelled_grid(grid: np.ndarray, names: Sequence[str], tile: int, pad: int = 2) -> go.Figure:
    """A sample grid (H, W, C) uint8 whose columns are classes, with the class names over the
    columns (for a projector: readable from the back of the room)."""
    rgb = np.repeat(grid, 3, axis=2) if grid.shape[2] == 1 else grid
    centres = [pad + i * (tile + pad) + tile / 2 for i in range(len(names))]
    fig = go.Figure(go.Image(z=rgb, hoverinfo="skip"))
    fig.update_xaxes(
        side="top", tickvals=centres, ticktext=list(names), tickfont=dict(size=20), showgrid=False
    )
    fig.update_yaxes(showticklabels=False, showgrid=False)
    fig.update_layout(height=900, margin=dict(t=60, b=0, l=0, r=0))
    return fig
