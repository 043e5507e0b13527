"""Heavy tails, the lesson: Gaussian vs Student-t in 1-D and 2-D, tail mass, samples, a 2-D
mixture of t, and the limit v -> infinity. Numbers from core.explore.lesson."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.explore import lesson
from explorer import cache, presenter, state
from explorer import lesson_figures as figures
from explorer.sitemap import TITLES

PAGE = "heavy_tails"
PARAMS = [
    state.Param("v", "float", 3.0, lo=0.5, hi=200.0),
    state.Param("dim", "int", 30, lo=1, hi=200),
    state.Param("components", "int", 4, lo=1, hi=12),
    state.Param("seed", "int", 0, lo=0, hi=1_000_000),
    state.Param("log", "bool", True),
]

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
st.plotly_chart(figures.density_1d(v, log_scale), key="density_1d")
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
st.plotly_chart(figures.density_2d(v, log_scale), key="density_2d")

left, right = st.columns(2)
with left:
    st.subheader("Samples, same noise")
    st.caption(
        "Point i of both clouds has the same eps: the t's points are the Gaussian's, "
        "each pushed out by its own 1/sqrt(u/v)."
    )
    st.plotly_chart(figures.samples(v, int(seed)), key="samples")
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
    st.plotly_chart(figures.tail_mass(v, int(dim)), key="tail_mass")
    r2 = 2 * np.sqrt(dim)
    st.caption(
        f"At r = 2 sqrt(p) = {r2:.1f}: the t lands beyond it "
        f"{cache.lesson_curve('tail_ratio', r2, dim, v):,.3g} times as often as the Gaussian."
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
st.plotly_chart(figures.mixture(int(n_comp), v, int(seed), log_scale), key="mixture")

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
st.plotly_chart(figures.limit(v), key="limit")

state.write_url(PAGE, PARAMS)
