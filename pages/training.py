"""Training & loss curves: start a small CPU run (one per session, global cap), or pick an existing
run directory (runs/ or a shipped model's log in pretrained/); D and G losses update live."""

from __future__ import annotations

import math
import uuid
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from core.atomic import read_jsonl
from core.paths import runs_root, zoo_root
from core.zoo.discover import list_run_dirs
from explorer import state, training_jobs
from explorer.sitemap import TITLES

PAGE = "training"
ROOTS = (runs_root(), zoo_root())

st.title(TITLES["training.py"])
PARAMS = [
    state.Param("model", "choice", "tgan", training_jobs.MODELS),
    state.Param("dataset", "choice", "fake", training_jobs.TRAINABLE_DATASETS),
    state.Param("steps", "int", 200, lo=10, hi=training_jobs.MAX_STEPS),
    state.Param("run", "path", None, roots=ROOTS),
]
state.seed_widgets(PAGE, PARAMS)
key = lambda name: state.widget_key(PAGE, name)  # noqa: E731
session = st.session_state.setdefault("training._session", uuid.uuid4().hex[:16])

st.markdown(
    "D and G play a game; at the ideal equilibrium D cannot tell real from fake and outputs "
    "1/2 everywhere. Then the losses below sit on the dashed lines. **What to look at:** do "
    "the curves settle near their lines (the paper reports t-GAN's both near 2 log 2 on "
    "Fashion-MNIST), or does D win (its loss falls to 0, G's climbs)? Beside the curves, the "
    "latest fixed-seed sample grid: column k is class k."
)
st.latex(
    r"L_D=-\mathbb E\log D(x)-\mathbb E\log(1-D(G(z',c)))\ \to\ 2\log 2\approx1.386,"
    r"\qquad L_G=-\mathbb E\log D(G(z',c))\ \to\ \log 2\approx0.693"
)

# --- start / cancel a run --------------------------------------------------------------------
job = training_jobs.job_for(session)
running = training_jobs.is_running(job)
with st.expander("Train a small model here (CPU, a few minutes)", expanded=running):
    if running:
        st.success(f"Your run is going: `{Path(job.run_dir).name}`.")
        if st.button("Cancel my run", key="training_cancel"):
            training_jobs.cancel(session)
            st.rerun()
    else:
        with st.form("start_run"):
            c1, c2, c3 = st.columns(3)
            model = c1.selectbox("Model", training_jobs.MODELS, key=key("model"))
            state.ensure_choice(PAGE, "dataset", list(training_jobs.available_datasets()))
            dataset = c2.selectbox(
                "Data set",
                training_jobs.available_datasets(),
                key=key("dataset"),
                help="fake: synthetic digits, no download needed; MNIST and Fashion-MNIST "
                "appear once `make data` has put them in the data root",
            )
            steps = c3.number_input("Steps", 10, training_jobs.MAX_STEPS, step=10, key=key("steps"))
            submitted = st.form_submit_button("Start training", type="primary")
        if submitted:
            try:
                job = training_jobs.start(session, model, dataset, int(steps))
            except training_jobs.BusyError as exc:
                st.warning(f"Busy: {exc}.", icon=":material/hourglass_top:")
            except ValueError as exc:
                st.error(str(exc))
            else:
                st.session_state[key("run")] = str(Path(job.run_dir).resolve())
                st.rerun()
    st.caption(
        f"{len(training_jobs.running_jobs())} of {training_jobs.max_runs()} training "
        "slots on this server in use; one run per visitor."
    )
    if job is not None:
        tail = training_jobs.log_tail(job)
        if tail:
            st.code(tail, language=None)

# --- pick a run ------------------------------------------------------------------------------
runs = [str(p) for p in list_run_dirs(list(ROOTS))]
chosen = st.session_state.get(key("run"))
if chosen and chosen not in runs:
    runs.insert(0, chosen)
if not runs:
    st.info(
        "No run directory yet: start a run above, or train one with "
        "`python -m core train --model tgan --dataset fake --steps 200`.",
        icon=":material/info:",
    )
else:
    if chosen not in runs:
        st.session_state[key("run")] = runs[0]

    def short(path: str) -> str:
        for root in ROOTS:
            try:
                return str(Path(path).relative_to(root.resolve()).as_posix()) + (
                    "  (shipped model)" if root == zoo_root() else ""
                )
            except ValueError:
                continue
        return path

    run_dir = Path(st.selectbox("Run directory", runs, key=key("run"), format_func=short))

    @st.fragment(run_every=2.0 if running else None)
    def live_view(run_dir: Path) -> None:
        if running and not training_jobs.is_running(job):
            st.rerun(scope="app")  # the run just ended: redraw the page, stop polling
        rows = (
            [r for r in read_jsonl(run_dir / "stats.jsonl") if "step" in r]
            if (run_dir / "stats.jsonl").exists()
            else []
        )
        left, right = st.columns([3, 2])
        with left:
            if not rows:
                st.info("No losses logged yet (the first line comes after `log_every` steps).")
            else:
                steps = [r["step"] for r in rows]
                fig = go.Figure()
                for name, label in (("d_adv", "D loss"), ("g_adv", "G loss"), ("cls", "L_C")):
                    if any(name in r for r in rows):
                        fig.add_scatter(
                            x=steps,
                            y=[r.get(name) for r in rows],
                            name=label,
                            mode="lines",
                            visible=True if name != "cls" else "legendonly",
                        )
                for value, text in ((2 * math.log(2), "2 log 2"), (math.log(2), "log 2")):
                    fig.add_hline(y=value, line_dash="dash", annotation_text=text)
                fig.update_layout(
                    xaxis_title="step", yaxis_title="loss", height=380, margin=dict(t=20, b=20)
                )
                st.plotly_chart(fig, key="loss_chart")
                last = rows[-1]
                st.caption(
                    f"step {last['step']}: D {last.get('d_adv', float('nan')):.3f}, "
                    f"G {last.get('g_adv', float('nan')):.3f}"
                )
        with right:
            grids = sorted((run_dir / "samples").glob("step_*.png"))
            if not grids and (run_dir / "samples.png").is_file():
                grids = [run_dir / "samples.png"]  # a shipped model keeps its final grid only
            if grids:
                st.image(str(grids[-1]), caption=f"{grids[-1].stem}", width="stretch")
            else:
                st.info("No sample grid yet.")

    live_view(run_dir)

state.write_url(PAGE, PARAMS)
