"""Heavy tails, the lesson: Gaussian vs Student-t in 1-D and 2-D, tail mass, samples, a 2-D
mixture of t, and the limit v -> infinity. Numbers from core.explore.lesson."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.explore import lesson
from explorer import cache, presenter, state
from explorer.sitemap import TITLES

PAGE = "heavy_tails"
PARAMS = [
    state.Param("v", "float", 3.0, lo=0.5, hi=200.0),
    state.Param("dim", "int", 30, lo=1, hi=200),
    state.Param("components", "int", 4, lo=1, hi=12),
    state.Param("seed", "int", 0, lo=0, hi=1_000_000),
    state.Param("log", "bool", True),
]
GAUSS, T = "#1f77b4", "#d62728"
GRID_2D = 61  # contour grid per side: smooth enough, a quarter of the bytes of 121
curve = cache.lesson_curve  # every curve is computed once for all sessions

st.title(TITLES["heavy_tails.py"])
state.seed_widgets(PAGE, PARAMS)
key = lambda name: state.widget_key(PAGE, name)  # noqa: E731

st.markdown(
    "A Student-t looks like a Gaussian near its centre but keeps far more mass in its **tails**. "
    "Drag **v** (the degrees of freedom): small v = heavy tails, large v = almost Gaussian. "
    "What to look at: on the log scale the Gaussian falls off like a parabola, the t like a "
    "straight-ish line, so at 5 or 10 standard units the t is thousands of times more likely."
)
st.latex(
    r"t_\nu(x;\mu,\Sigma)=\frac{\Gamma\!\left(\frac{\nu+p}{2}\right)}"
    r"{\Gamma\!\left(\frac{\nu}{2}\right)(\nu\pi)^{p/2}|\Sigma|^{1/2}}"
    r"\left[1+\frac{(x-\mu)^\top\Sigma^{-1}(x-\mu)}{\nu}\right]^{-\frac{\nu+p}{2}}"
)

with st.sidebar:
    v = presenter.v_slider("Degrees of freedom v", key("v"), 0.5, 200.0)
    dim = st.slider("Latent dimension p (tail mass)", 1, 200, key=key("dim"))
    log_scale = st.toggle("Log-scale densities", key=key("log"))
    n_comp = st.slider("Mixture components N", 1, 12, key=key("components"))
    seed = st.number_input("Seed", 0, 1_000_000, key=key("seed"))

# --- 1-D densities ---------------------------------------------------------------------------
st.header("1. One dimension")
x = np.linspace(-10, 10, 801)
fig = go.Figure()
fig.add_scatter(x=x, y=curve("density_1d", x, None), name="Gaussian N(0, 1)", line_color=GAUSS)
fig.add_scatter(x=x, y=curve("density_1d", x, v), name=f"Student-t, v = {v:g}", line_color=T)
fig.update_layout(
    yaxis_type="log" if log_scale else "linear",
    yaxis_title="density" + (" (log scale)" if log_scale else ""),
    xaxis_title="x",
    height=330,
    margin=dict(t=30, b=30),
)
st.plotly_chart(fig, key="density_1d")
ratio = lesson.density_1d(np.array([5.0]), v)[0] / lesson.density_1d(np.array([5.0]), None)[0]
st.caption(f"At x = 5 the t density is {ratio:,.0f} times the Gaussian's.")

# --- 2-D densities ---------------------------------------------------------------------------
st.header("2. Two dimensions")
st.markdown(
    "Multivariate t: **one** radial draw u ~ chi2_v per sample stretches the whole vector, so "
    "the contours stay circles (elliptical) but are spaced further and further apart."
)
st.latex(
    r"z = \mu + \sigma \odot \frac{\varepsilon}{\sqrt{u/\nu}},\quad "
    r"\varepsilon\sim\mathcal N(0,I_p),\ u\sim\chi^2_\nu"
)
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
st.plotly_chart(fig, key="density_2d")

left, right = st.columns(2)
with left:
    st.subheader("Samples, same noise")
    st.caption(
        "Point i of both clouds has the same eps: the t's points are the Gaussian's, "
        "each pushed out by its own 1/sqrt(u/v)."
    )
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
    st.plotly_chart(fig, key="samples")
with right:
    st.subheader(f"Tail mass in {dim} dimensions")
    st.caption(
        "How often a latent lands farther than r from its centre. In p dims the "
        "Gaussian's norm concentrates near sqrt(p); the t's does not."
    )
    st.latex(
        r"P(\|z\|>r):\ \|z\|^2\sim\chi^2_p\ \text{(Gaussian)},\quad "
        r"\|z\|^2/p\sim F(p,\nu)\ \text{(t)}"
    )
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
    st.plotly_chart(fig, key="tail_mass")
    r2 = 2 * np.sqrt(dim)
    st.caption(
        f"At r = 2 sqrt(p) = {r2:.1f}: the t lands beyond it "
        f"{curve('tail_ratio', r2, dim, v):,.3g} times as often as the Gaussian."
    )

# --- mixture ---------------------------------------------------------------------------------
st.header("3. A mixture of t")
st.markdown(
    "The t-GAN's prior is a mixture: N components, each with its own centre and scale "
    "(learned in training), equal weights. Colours are components; crosses their "
    "centres. Heavy tails make the components overlap and fill the space between them."
)
st.latex(
    r"p(z')=\sum_{i=1}^{N}\tfrac{1}{N}\,t_\nu\!\left(z';\mu_i,\operatorname{diag}"
    r"(\sigma_i^2)\right)"
)
mix = cache.mixture_2d(int(n_comp), v, int(seed), GRID_2D)
fig = go.Figure()
dens = (np.log10(mix.grid.density + 1e-12) if log_scale else mix.grid.density).astype(np.float32)
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
st.plotly_chart(fig, key="mixture")

# --- the limit -------------------------------------------------------------------------------
st.header("4. The limit v -> infinity")
st.markdown(
    "As v grows, u/v -> 1 and the t becomes the Gaussian: a t-GAN with v = inf **is** "
    "DeLiGAN (a learned Gaussian mixture). The largest gap between the two 1-D "
    "densities shrinks like 1/v."
)
st.latex(
    r"\lim_{\nu\to\infty} t_\nu(x) = \mathcal N(x;0,1),\qquad "
    r"\sup_x |t_\nu(x)-\mathcal N(x)| = O(1/\nu)"
)
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
st.plotly_chart(fig, key="limit")

state.write_url(PAGE, PARAMS)
