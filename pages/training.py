"""Training & loss curves: start a small CPU run (one per visitor, global cap), or pick one of your
runs or a shipped model's log (pretrained/; the default); D and G losses update live. Another
visitor's runs are never listed (a shared link may still name one)."""

from __future__ import annotations

import math
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from core.paths import RUNS_ENV, runs_root, zoo_root
from explorer import cache, run_logs, state, training_jobs
from explorer.sitemap import TITLES
from explorer.visitor import visitor_id

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
session = visitor_id()  # one per browser: your tabs share your run, others never see it

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


@st.fragment(run_every=5)
def waiting_line() -> None:
    """A visitor in line for a slot: their place, refreshed every 5 s; their run starts by
    itself when it is their turn (the page then reruns to show it)."""
    turn = training_jobs.start_when_my_turn(session)
    if turn is None:
        return
    if isinstance(turn, training_jobs.Job):
        st.session_state[key("run")] = str(Path(turn.run_dir).resolve())
        st.rerun(scope="app")
    st.info(
        f"You are number {turn} in line for a training slot ({training_jobs.max_runs()} on this "
        "server). Your run starts by itself when it is your turn; keep this page open.",
        icon=":material/hourglass_top:",
    )
    if st.button("Leave the line", key="training_leave_line"):
        training_jobs.leave_queue(session)
        st.rerun(scope="app")


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
                training_jobs.enqueue(session, model, dataset, int(steps))
            except ValueError as exc:
                st.error(str(exc))
            except OSError as exc:  # e.g. a read-only app folder on a Docker host
                st.error(
                    f"Cannot write the run folder under `{training_jobs.app_dir()}` "
                    f"({exc.strerror or exc}). Point `${RUNS_ENV}` at a writable folder "
                    "(the Dockerfile sets it to one in the user's home) and restart the app.",
                    icon=":material/folder_off:",
                )
            else:
                st.session_state[key("run")] = str(Path(job.run_dir).resolve())
                st.rerun()
    st.caption(
        f"{len(training_jobs.running_jobs())} of {training_jobs.max_runs()} training "
        "slots on this server in use; one run per visitor."
    )
    if not running:
        waiting_line()
    if job is not None:
        tail = training_jobs.log_tail(job)
        if tail:
            st.code(tail, language=None)

# --- pick a run: yours and the shipped models' logs, never another visitor's ------------------
entries = cache.zoo(str(zoo_root()))
featured = next((e.name for e in entries if e.dataset == "mnist" and e.featured), None)
shipped = training_jobs.shipped_logs(zoo_root(), first=featured)
runs = [str(p.resolve()) for p in [*training_jobs.visitor_runs(session), *shipped]]
chosen = st.session_state.get(key("run"))
if chosen and chosen not in runs:
    runs.insert(0, chosen)  # named in a shared link (checked to lie inside the roots)
if not runs:
    st.info(
        "No run directory yet: start a run above, or train one with "
        "`python -m core train --model tgan --dataset fake --steps 200`.",
        icon=":material/info:",
    )
else:
    if chosen not in runs:
        own = training_jobs.visitor_runs(session)
        # a shipped log by default; your own run while it is going
        default = own[0] if own and running else (shipped[0] if shipped else Path(runs[0]))
        st.session_state[key("run")] = str(default.resolve())

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
        log = run_logs.loss_log(run_dir)
        grid = run_logs.latest_grid(run_dir)
        problems = log.problems + grid.problems
        if problems:
            st.warning(
                f"`{run_dir.name}`: skipped {'; '.join(problems)}.", icon=":material/warning:"
            )
        left, right = st.columns([3, 2])
        with left:
            if not log.steps:
                st.info("No losses logged yet (the first line comes after `log_every` steps).")
            else:
                fig = go.Figure()
                for name, label in (("d_adv", "D loss"), ("g_adv", "G loss"), ("cls", "L_C")):
                    if name in log.curves:
                        fig.add_scatter(
                            x=log.steps,
                            y=log.curves[name],
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
                last = {name: values[-1] for name, values in log.curves.items()}
                st.caption(
                    f"step {log.steps[-1]:g}: D {last.get('d_adv', math.nan):.3f}, "
                    f"G {last.get('g_adv', math.nan):.3f}"
                )
        with right:
            if grid.image is not None:
                st.image(grid.image, caption=grid.name, width="stretch", output_format="PNG")
            else:
                st.info("No sample grid yet.")

    live_view(run_dir)

state.write_url(PAGE, PARAMS)
