"""Home: what a t-GAN is, a live sample grid from the default t-GAN, the guided path."""

from __future__ import annotations

import streamlit as st

from core.sampling import MAX_SEED
from explorer import cache, presenter, state, widgets
from explorer.sitemap import PAGES, TITLES

PAGE = "home"
N_IMAGES = 60  # 6 rows of the 10 classes
st.title(TITLES["home.py"])

entries = widgets.zoo_or_info()
PARAMS = [*widgets.model_params(entries), state.Param("seed", "int", 0, lo=0, hi=MAX_SEED)]
url = state.seed_widgets(PAGE, PARAMS)

st.markdown(
    "A **GAN** turns random noise *z* into images with a generator *G*, trained against a "
    "discriminator *D* that tells real images from generated ones. "
    "A **t-GAN** (Sun et al., 2020) draws that noise from a *learned mixture of multivariate "
    "Student-t distributions* instead of one Gaussian: the mixture gives every mode of the data a "
    "component, and the t's **heavy tails** keep sending some latents far from the components' "
    "centres, where G has to produce something too. "
    "A **class codeword** *c*, a small vector around a class-specific mean, is fed to G with "
    "*z'*, so you choose the class and still get variety within it. "
    "An **auxiliary classifier** on D's features adds a classification loss to both networks. "
    "The paper's claim: more diverse images than Gaussian-noise GANs, from as few as 500 "
    "training images."
)
st.latex(
    r"z' \sim \sum_{i=1}^{N} \pi_i\, t_\nu(\mu_i, \Sigma_i), \qquad x = G(z', c), \qquad "
    r"c \sim \mathcal{N}(l\,\mathbf{1}_q,\ 0.2^2 I)"
)

entry = widgets.pick_model(PAGE, entries, url)
if entry is not None:
    seed = st.sidebar.number_input(
        "First seed",
        0,
        MAX_SEED,
        step=N_IMAGES,
        key=state.widget_key(PAGE, "seed"),
        help="Image i uses seed (first seed + i): the same seed always gives the same image.",
    )
    st.subheader(f"Live samples from `{entry.name}`")
    st.caption(
        f"{N_IMAGES} images, one seed each; column k is class k (for conditional "
        "models). Change the first seed in the sidebar for a fresh batch."
    )
    seeds = tuple(range(int(seed), int(seed) + N_IMAGES))
    labels = tuple(i % entry.n_classes for i in range(N_IMAGES)) if entry.conditional else None
    nrow = entry.n_classes if entry.conditional else 10
    if presenter.on() and entry.conditional:  # full width, the class named over each column
        grid = cache.sample_grid(str(entry.folder), seeds, labels, None, 1.0, None, nrow)
        names = [widgets.class_name(entry.dataset, k) for k in range(entry.n_classes)]
        tile = cache.model(entry).config.image_shape[-1]
        st.plotly_chart(presenter.labelled_grid(grid, names, tile), key="home_grid")
        right = st.container()
    else:
        left, right = st.columns([2, 3])
        left.image(
            cache.sample_png(str(entry.folder), seeds, labels, None, 1.0, None, nrow),
            caption=f"{entry.preset} on {entry.dataset}, seeds {seeds[0]}-{seeds[-1]}",
            width="stretch",
        )
    right.markdown(
        "**What to look at.** Do the digits (or garments, or objects) look like the class they "
        "were asked for? Within one class, how different are they from each other? That "
        "within-class variety is what the heavy tails and the codeword noise are there for."
    )
    mcfg = cache.model(entry).config
    train_cfg = cache.train_config(str(entry.folder))
    shift = train_cfg.get("augment_shift", 0)
    seen = ["colour-jittered"] if train_cfg.get("augment_color") else []
    seen += [f"shifted by up to {shift} px"] if shift else []
    seen += ["with a square cut out"] if train_cfg.get("augment_cutout") else []
    if entry.conditional and getattr(mcfg, "codeword_mean", None) == "onehot":
        right.caption(
            "This model departs from the formula above: class l's codeword is centred on the "
            "one-hot vector e_l, not on l·1"
            + (f"; D saw every image {', '.join(seen)} while it trained" if seen else "")
            + (
                "; its classifier C learned from real images only"
                if getattr(mcfg, "d_classifies_fakes", True) is False
                else ""
            )
            + (
                "; its D judged each image together with its label (a projection "
                "discriminator), so a sample of the wrong class looked fake"
                if getattr(mcfg, "d_projection", False)
                else ""
            )
            + ". With the paper's codeword the MNIST judge finds only about a quarter of the "
            "samples in their class (pretrained/RESULTS.md)."
        )
    elif entry.conditional and getattr(mcfg, "codeword_mean", None) == "index":
        right.caption(
            "This model uses the paper's codeword (centred on l·1). Few of its samples land in "
            "their class (pretrained/RESULTS.md); pick a `-realc-proj` model to see a "
            "t-GAN whose columns are its classes."
        )

st.subheader("A guided path")
for number, page in enumerate(PAGES[1:], start=1):
    st.page_link(
        f"../pages/{page.file}", label=f"{number}. {page.title} — {page.blurb}", icon=page.icon
    )

state.write_url(PAGE, PARAMS if entries else PARAMS[2:])
