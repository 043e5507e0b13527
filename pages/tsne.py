"""t-SNE: Gaussian vs t-mixture. The same seeds under the model's t prior and under its v -> inf
twin, as latents and as generated images (judge features), embedded by t-SNE with PCA beside;
click a point to see its image. Shipped embeddings open instantly; others compute on demand."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.explore import embedding
from explorer import cache, perf, presenter, state, widgets
from explorer.sitemap import TITLES

PAGE = "tsne"
DEFAULT_N = 300
COLOURS = ("prior", "class", "component")

st.title(TITLES["tsne.py"])
entries = widgets.zoo_or_info()
PARAMS = [
    *widgets.model_params(entries),
    state.Param("space", "choice", "latent", ("latent", "image")),
    state.Param("colour", "choice", "prior", COLOURS),
    state.Param("n", "int", DEFAULT_N, lo=50, hi=embedding.MAX_POINTS // 2),
    state.Param("point", "int", 0, lo=0, hi=embedding.MAX_POINTS - 1),
]
url = state.seed_widgets(PAGE, PARAMS)
key = lambda name: state.widget_key(PAGE, name)  # noqa: E731

st.markdown(
    "Both clouds use the **same seeds**, so point i of the t set and point i of the Gaussian "
    "set share their component, class and direction; only the radial factor differs. **What "
    "to look at:** in latent space the t points spread far around each component's cluster, "
    "the Gaussian ones stay tight. In image space (the judge's features), do the t-prior "
    "images cover more ground within a class, or do they fall off the data?"
)
st.latex(
    r"z_t=\mu_c+\sigma_c\odot\frac{\varepsilon}{\sqrt{u/\nu}},\qquad "
    r"z_{\mathcal N}=\mu_c+\sigma_c\odot\varepsilon\quad(\text{same }c,\ \varepsilon)"
)


@perf.shared_data(max_entries=8, name="tsne_shipped")
def shipped(folder: str, root: str) -> embedding.EmbeddingSet | None:
    """The precomputed embeddings of a zoo model, if shipped and made from these weights."""
    path = embedding.precomputed_path(folder, root)
    if not path.is_file():
        return None
    try:
        emb = embedding.load_embeddings(path)
    except (OSError, ValueError, KeyError):
        return None
    return emb if emb.weights_sha256 == embedding.weights_sha256(folder) else None


entry = widgets.pick_model(PAGE, entries, url)
if entry is not None:
    with st.sidebar:
        space = st.radio(
            "Embed",
            ("latent", "image"),
            key=key("space"),
            horizontal=True,
            format_func={"latent": "latents z'", "image": "generated images"}.get,
        )
        colour = st.radio("Colour by", COLOURS, key=key("colour"), horizontal=True)
        n = int(
            st.number_input(
                "Points per prior (on demand)", 50, embedding.MAX_POINTS // 2, step=50, key=key("n")
            )
        )
    folder = str(entry.folder)
    results = st.session_state.setdefault("tsne._computed", {})
    emb = results.get((folder, n))
    if emb is None and n == DEFAULT_N:
        emb = shipped(folder, str(entry.folder.parent))
    if emb is None:
        st.info(
            f"No precomputed embedding of `{entry.name}` with {n} points per prior. "
            f"Compute one here ({2 * n} points; t-SNE takes a little while on a CPU).",
            icon=":material/info:",
        )
        if st.button("Compute the embeddings", key="tsne_compute", type="primary"):
            slot = cache.compute_slot()
            if not slot.acquire(blocking=False):
                st.warning(
                    "Busy: another visitor's embedding is being computed on this server; "
                    "try again in a minute (the shipped default opens instantly).",
                    icon=":material/hourglass_top:",
                )
            else:
                try:
                    bar = st.progress(0.0, text="starting")
                    jd = cache.judge(entry.dataset)
                    emb = embedding.compute_embeddings(
                        cache.model(entry),
                        n,
                        0,
                        features=None if jd is None else jd.features,
                        weights_sha=embedding.weights_sha256(folder),
                        progress=lambda f, text: bar.progress(min(max(f, 0.0), 1.0), text=text),
                    )
                    results[(folder, n)] = emb
                    bar.empty()
                finally:
                    slot.release()
    if emb is not None:
        if space == "image" and emb.feature_space == "pixels":
            st.info(
                "No judge is shipped for this data set: images are embedded from their "
                "raw pixels instead of the judge's features.",
                icon=":material/info:",
            )
        names = emb.prior_names()
        prior_colours = dict(zip(names, ("#d62728", "#1f77b4"), strict=True))  # as on Heavy tails
        if colour == "prior":
            groups = [(names[g], emb.prior == g) for g in (0, 1)]
        elif colour == "class":
            groups = [
                (widgets.class_name(entry.dataset, int(c)), emb.labels == c)
                for c in np.unique(emb.labels)
            ]
        else:
            groups = [
                (f"component {int(c)}", emb.component == c) for c in np.unique(emb.component)[:40]
            ]
        # one colour per group (prior: the Heavy tails page's two; else as many as groups)
        colours = (
            prior_colours
            if colour == "prior"
            else dict(zip([g for g, _ in groups], presenter.palette(len(groups)), strict=True))
        )

        def scatter(coords: np.ndarray, chart_key: str, title: str):
            fig = go.Figure()
            for name, mask in groups:
                idx = np.flatnonzero(mask)
                fig.add_scattergl(
                    x=coords[idx, 0],
                    y=coords[idx, 1],
                    mode="markers",
                    name=name,
                    customdata=idx,
                    marker=dict(size=5, opacity=0.75, color=colours.get(name)),
                    hovertemplate="point %{customdata}<extra>" + name + "</extra>",
                )
            fig.update_layout(
                title=title,
                height=460,
                margin=dict(t=40, b=10),
                legend=dict(itemsizing="constant"),
                # the central 99% of the points: one far outlier must not squash the rest
                xaxis_range=presenter.robust_range(coords[:, 0]),
                yaxis_range=presenter.robust_range(coords[:, 1]),
            )
            return st.plotly_chart(fig, key=chart_key, on_select="rerun", selection_mode="points")

        tsne_xy = emb.latent_tsne if space == "latent" else emb.image_tsne
        pca_xy = emb.latent_pca if space == "latent" else emb.image_pca
        left, right = st.columns(2)
        with left:
            ev_t = scatter(tsne_xy, "tsne_chart", "t-SNE")
        with right:
            ev_p = scatter(pca_xy, "pca_chart", "PCA")
        for event in (ev_t, ev_p):
            points = (event or {}).get("selection", {}).get("points", []) if event else []
            if points and "customdata" in points[0]:
                st.session_state[key("point")] = int(points[0]["customdata"])
        state.fit_range(PAGE, "point", 0, emb.n_points - 1, 0, f"{emb.n_points} points")
        st.markdown("**Click a point** (or type its number) to see its image.")
        point = int(st.number_input("Point", 0, emb.n_points - 1, key=key("point")))
        prior = int(emb.prior[point])
        seed, label = int(emb.seeds[point]), int(emb.labels[point])
        df = emb.df if prior == 0 else float("inf")
        img = cache.sample_png(
            folder, (seed,), (label,) if entry.conditional else None, df, 1.0, None, 1
        )
        st.image(
            img,
            width=140,
            caption=f"point {point}: {names[prior]}, seed {seed}, class {label}, "
            f"component {int(emb.component[point])}",
        )
        st.caption(
            f"{emb.n_points} points; images embedded in "
            f"{'the judge' if emb.feature_space == 'judge' else 'pixel'} space."
        )

state.write_url(PAGE, PARAMS)
