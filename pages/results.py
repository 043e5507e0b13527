"""Results: the zoo's metrics (IS, m-IS, class fidelity ...) with error bars, and the paper's claims
with our verdicts, read from what ``python -m core report`` wrote (pretrained/RESULTS.md, the CSV
beside it, per-model metrics.json). Whatever is missing shows as st.info."""

from __future__ import annotations

import streamlit as st

from core.paths import zoo_root
from explorer import cache, results_data, state
from explorer.sitemap import TITLES

PAGE = "results"

st.title(TITLES["results.py"])
root = zoo_root()
table, claims, results_text = cache.results(root)
metrics = results_data.metric_columns(table) if table is not None else []
PARAMS = [state.Param("metric", "choice", metrics[0] if metrics else None, tuple(metrics))]
state.seed_widgets(PAGE, PARAMS)

st.markdown(
    "Every number here comes from the project's own commands (`python -m core evaluate`, "
    "`python -m core report`), scored by **our judges** (one classifier per data set): scores "
    "are only comparable under the same judge and the same number of samples. **What to look "
    "at:** the error bars. Two models whose bars overlap are not distinguishable by this "
    "protocol."
)
st.latex(
    r"\mathrm{IS}=\exp\big(\mathbb E_x\,\mathrm{KL}(p(y|x)\,\|\,p(y))\big),\qquad "
    r"\text{m-IS}=\exp\big(\mathbb E_{x_i,x_j\,\text{same class}}\,"
    r"\mathrm{KL}(p(y|x_i)\,\|\,p(y|x_j))\big)"
)

st.header("Metrics of the zoo")
if table is None:
    st.info(
        f"No metrics yet: neither `{root.name}/*.csv` nor any `{root.name}/<model>/"
        "metrics.json` exists. `python -m core evaluate` and `python -m core report` make "
        "them.",
        icon=":material/info:",
    )
else:
    st.dataframe(table, hide_index=True)
    if metrics:
        metric = st.selectbox("Metric", metrics, key=state.widget_key(PAGE, "metric"))
        err = results_data.error_column(table, metric)
        fig = cache.results_figure(root, metric)
        st.plotly_chart(fig, key="metric_chart")
        if not err:
            st.caption(f"No spread column for `{metric}` (e.g. `{metric}_std`): no error bars.")

curve_figures = sorted(root.glob("curves-*.png"))
if curve_figures:
    st.header("Trained to the plateau?")
    st.markdown(
        "Runs trained with a score curve (`--eval-every`) were scored on 2,000 fixed seeds "
        "every 1,000 steps (modern track) or 250 steps (paper track, one figure of its own). "
        "**What to look at:** the thick last quarter of each line. A curve that still falls "
        "there was stopped early; RESULTS.md gives each run's drift over that window."
    )
    # ~30 KB a figure: sent only when asked for
    if st.toggle("Show the score curves", key=state.widget_key(PAGE, "curves")):
        for png in curve_figures:
            st.image(str(png), caption=png.name)

st.header("The paper's claims, and our verdicts")
if results_text is None:
    st.info(
        f"`{root.name}/RESULTS.md` is not written yet (`python -m core report`).",
        icon=":material/info:",
    )
else:
    if claims:
        icon = {"confirmed": ":material/check_circle:", "not confirmed": ":material/cancel:"}
        for claim in claims:
            st.markdown(
                f"{icon.get(claim.verdict, ':material/help:')} **{claim.id}** "
                f"({claim.verdict}): {claim.text}"
            )
            if claim.evidence:
                st.caption("; ".join(claim.evidence))
    else:
        st.caption(f"No `{root.name}/claims.json` yet: `python -m core report` writes it.")
    # Sent only when asked for: ~80 KB a visit that most of a class would never open.
    if st.toggle("Show RESULTS.md in full", key=state.widget_key(PAGE, "full")):
        st.markdown(results_text)

state.write_url(PAGE, PARAMS)
