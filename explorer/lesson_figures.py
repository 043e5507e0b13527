"""The Heavy-tails lesson's figures, built once per setting for every session.

Each builder returns a plotly Figure shared by all sessions (``explorer.perf.shared_resource``:
never copied; ``st.plotly_chart`` only reads it). Numbers come from ``explorer.cache.lesson_curve``
(``core.explore.lesson``); arrays go out as float32 and the 2-D grids at ``GRID_2D`` points a
side, a quarter of the bytes a class's browsers download per visit at 121.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer import cache, perf, presenter

GAUSS, T = "#1f77b4", "#d62728"
GRID_2D = 61  # contour grid per side
curve = cache.lesson_curve


@perf.shared_resource(max_entries=64)
def density_1d(v: float, log_scale: bool) -> go.Figure:
    x = np.linspace(-10, 10, 401)
    gauss, heavy = (curve("density_1d", x, df).astype(np.float32) for df in (None, v))
    fig = go.Figure()
    fig.add_scatter(x=x, y=gauss, name="Gaussian N(0, 1)", line_color=GAUSS)
    fig.add_scatter(x=x, y=heavy, name=f"Student-t, v = {v:g}", line_color=T)
    fig.update_layout(
        yaxis_type="log" if log_scale else "linear",
        yaxis_title="density" + (" (log scale)" if log_scale else ""),
        xaxis_title="x",
        height=330,
        margin=dict(t=30, b=30),
    )
    return fig


@perf.shared_resource(max_entries=64)
def density_2d(v: float, log_scale: bool) -> go.Figure:
    fig = make_subplots(1, 2, subplot_titles=("Gaussian", f"Student-t, v = {v:g}"))
    for col, df in ((1, None), (2, v)):
        grid = curve("density_2d", df, 5.0, GRID_2D)
        z = (np.log10(grid.density) if log_scale else grid.density).astype(np.float32)
        fig.add_contour(
            x=grid.x,
            y=grid.y,
            z=z,
            row=1,
            col=col,
            showscale=col == 2,
            colorscale="Viridis",
            contours_coloring="heatmap",
            ncontours=20,
            zmin=-8 if log_scale else 0,
            zmax=float(z.max()) if not log_scale else -0.7,
        )
    fig.update_layout(height=380, margin=dict(t=40, b=20))
    return fig


@perf.shared_resource(max_entries=64)
def samples(v: float, seed: int) -> go.Figure:
    g_pts = curve("standard_samples", 1000, 2, None, int(seed)).astype(np.float32)
    t_pts = curve("standard_samples", 1000, 2, v, int(seed)).astype(np.float32)
    fig = go.Figure()
    fig.add_scatter(
        x=g_pts[:, 0],
        y=g_pts[:, 1],
        mode="markers",
        name="Gaussian",
        marker=dict(size=4, color=GAUSS, opacity=0.6),
    )
    fig.add_scatter(
        x=t_pts[:, 0],
        y=t_pts[:, 1],
        mode="markers",
        name=f"t, v = {v:g}",
        marker=dict(size=4, color=T, opacity=0.6),
    )
    lim = float(np.percentile(np.abs(t_pts), 99.5)) + 0.5
    fig.update_layout(
        height=400, xaxis_range=[-lim, lim], yaxis_range=[-lim, lim], margin=dict(t=20, b=20)
    )
    return fig


@perf.shared_resource(max_entries=64)
def tail_mass(v: float, dim: int) -> go.Figure:
    r = np.linspace(0, 4 * np.sqrt(dim) + 4, 300)
    fig = go.Figure()
    fig.add_scatter(x=r, y=curve("tail_curve", r, dim, None), name="Gaussian", line_color=GAUSS)
    fig.add_scatter(x=r, y=curve("tail_curve", r, dim, v), name=f"t, v = {v:g}", line_color=T)
    fig.update_layout(
        yaxis_type="log",
        yaxis_range=[-12, 0.1],
        xaxis_title="r",
        yaxis_title="P(||z|| > r)",
        height=400,
        margin=dict(t=20, b=20),
    )
    return fig


@perf.shared_resource(max_entries=64)
def mixture(n_comp: int, v: float, seed: int, log_scale: bool) -> go.Figure:
    mix = cache.mixture_2d(int(n_comp), v, int(seed), GRID_2D)
    fig = go.Figure()
    dens = (np.log10(mix.grid.density + 1e-12) if log_scale else mix.grid.density).astype(
        np.float32
    )
    fig.add_contour(
        x=mix.grid.x,
        y=mix.grid.y,
        z=dens,
        colorscale="Greys",
        showscale=False,
        ncontours=15,
        opacity=0.6,
    )
    fig.add_scatter(
        x=mix.samples[:, 0],
        y=mix.samples[:, 1],
        mode="markers",
        marker=dict(size=4, color=mix.sample_component, colorscale="Turbo"),
        name="samples",
        text=[f"component {c}" for c in mix.sample_component],
    )
    fig.add_scatter(
        x=mix.means[:, 0],
        y=mix.means[:, 1],
        mode="markers",
        name="centres mu_i",
        marker=dict(symbol="x", size=12, color="black"),
    )
    # The view holds 99.5% of the samples (never less than +-3): the tails stay in the picture.
    lim = max(3.0, *np.abs(presenter.robust_range(mix.samples.ravel(), keep=99.5, pad=0.05)))
    fig.update_layout(
        height=450, xaxis_range=[-lim, lim], yaxis_range=[-lim, lim], margin=dict(t=20, b=20)
    )
    return fig


@perf.shared_resource(max_entries=64)
def limit(v: float) -> go.Figure:
    dfs = np.logspace(-0.3, 3, 60)
    fig = go.Figure()
    fig.add_scatter(x=dfs, y=curve("gap_to_gaussian", dfs), name="sup |t_v - N|", line_color=T)
    fig.add_scatter(
        x=[v],
        y=curve("gap_to_gaussian", np.array([v])),
        mode="markers",
        name="your v",
        marker=dict(size=12, color="black"),
    )
    fig.update_layout(
        xaxis_type="log",
        yaxis_type="log",
        xaxis_title="v",
        height=330,
        yaxis_title="largest density gap",
        margin=dict(t=20, b=20),
    )
    return fig
