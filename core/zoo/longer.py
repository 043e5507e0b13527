"""Zoo runs trained past their entry's budget, beside the zoo (issue 21: is the score curve flat
at the budget, and does a longer budget change a verdict?). The zoo's runs and pretrained/ stay
as they are: each longer run is a copy of the longest finished run of that entry and seed,
resumed in ``runs/longer/<steps>/<entry>-s<seed>/``, then scored like a zoo run.

    python -m core.reproduce longer tgan-fashion-500-modern --seeds 0,1,2 --steps 80000 --jobs 2
    python -m core.reproduce plateau tgan-fashion-500-modern --steps 80000

``plateau`` prints, per entry, the seeds' 10k scores (mean ± sd) and how far the seeds' mean FD
curve still moved over the last 25% of the steps (core/evaluate/curve.py's ``tail_drift``) and
what the last doubling of the steps bought (``doubling_gain``);
without --steps it reads the entry's own budget from pretrained/<entry>/seeds/.
"""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path

from core.atomic import read_json
from core.evaluate.curve import doubling_text, mean_curve, read_curve, tail_drift
from core.evaluate.report import run_value
from core.paths import repo_relative, zoo_root, zoo_runs_root
from core.run_dir import SCORES_NAME, run_finished, trained_steps
from core.zoo.batch import CORE_CLI, ZooError, run_pool
from core.zoo.recipes import entry

PLATEAU_METRICS = ("is", "mis", "fidelity", "diversity", "fd", "recall")


def longer_root() -> Path:
    """``runs/longer`` (beside runs/zoo; ``$TGAN_RUNS`` moves both)."""
    return zoo_runs_root().parent / "longer"


def longer_dir(name: str, seed: int, steps: int) -> Path:
    """``runs/longer/<steps>/<entry>-s<seed>``."""
    return longer_root() / str(steps) / f"{name}-s{seed}"


def longest_start(name: str, seed: int, steps: int) -> Path | None:
    """The finished run of ``name`` and ``seed`` with the most steps below ``steps``: the zoo's
    run or an earlier longer one (80,000 steps go on from 60,000 when that run is here)."""
    candidates = [entry(name).run_dir(seed)]
    candidates += sorted(longer_root().glob(f"*/{name}-s{seed}"))
    trained = [(trained_steps(run) or 0, run) for run in candidates]
    trained = [(n, run) for n, run in trained if 0 < n < steps]
    return max(trained, key=lambda t: t[0])[1] if trained else None


def _copy_run(source: Path, target: Path) -> None:
    """Copy a finished run to ``target`` whole or not at all (a ``.copying`` folder renamed)."""
    partial = target.with_name(target.name + ".copying")
    shutil.rmtree(partial, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, partial)
    partial.rename(target)


def longer(
    names: list[str], seeds: list[int], steps: int, jobs: int, device: str, n_eval: int
) -> list[Path]:
    """Train each entry x seed on to ``steps`` in ``longer_dir`` (copied from ``longest_start``
    the first time, resumed after a stop), score the finished ones on ``n_eval`` samples, and
    print ``plateau_lines``. Every name and seed is checked before any work starts: a start
    that is not on this machine is a ZooError naming the command that trains it."""
    plan, missing = [], []
    for name in names:
        if steps <= entry(name).steps:
            raise ValueError(
                f"--steps {steps}: {name} trains for {entry(name).steps} steps already; give more"
            )
        for seed in seeds:
            target = longer_dir(name, seed, steps)
            source = None if target.is_dir() else longest_start(name, seed, steps)
            if not target.is_dir() and source is None:
                missing.append(f"{name} s{seed}")
            plan.append((name, seed, target, source))
    if missing:
        raise ZooError(
            f"no finished run to go on from for {', '.join(missing)} (runs/zoo has none); train "
            "them first: python -m core.reproduce train <entry> --seeds <seeds>"
        )
    logs = longer_root() / "logs"
    train_jobs = []
    for name, seed, target, source in plan:
        if source is not None:
            print(f"{name} s{seed}: from {repo_relative(source)} ({trained_steps(source)} steps)")
            _copy_run(source, target)
        if not run_finished(target, steps):
            argv = ["train", "--run-dir", str(target), "--resume", "--steps", str(steps)]
            argv += ["--device", device, "--no-progress"]
            train_jobs.append(
                (f"{name} s{seed} -> {steps}", CORE_CLI + argv, logs / f"{target.name}-{steps}.log")
            )
    failed = run_pool(train_jobs, jobs)[0]
    eval_jobs = [
        (
            f"evaluate {target.name}",
            CORE_CLI + ["evaluate", str(target), "--n", str(n_eval), "--device", device],
            logs / f"{target.name}-{steps}.eval.log",
        )
        for _, _, target, _ in plan
        if run_finished(target, steps) and not (target / "metrics.json").exists()
    ]
    failed += run_pool(eval_jobs, jobs)[0]
    print("\n".join(plateau_lines(names, seeds, steps)))
    if failed:
        raise ZooError(f"{len(failed)} job(s) failed: {failed}; logs in {repo_relative(logs)}")
    return [target for *_, target, _ in plan]


def _seed_folders(name: str, seeds: list[int], steps: int | None) -> dict[int, Path]:
    """Where each seed's scores are: pretrained/<entry>/seeds/s<seed> at the entry's own budget,
    else the finished longer runs."""
    if steps is None or steps == entry(name).steps:
        root = zoo_root() / name / "seeds"
        return {s: root / f"s{s}" for s in seeds if (root / f"s{s}" / "metrics.json").is_file()}
    found = {s: longer_dir(name, s, steps) for s in seeds}
    return {s: run for s, run in found.items() if run_finished(run, steps)}


def plateau_lines(names: list[str], seeds: list[int], steps: int | None = None) -> list[str]:
    """A markdown table: per entry, the seeds found, their 10k scores (mean ± sd over seeds) and
    the seeds' mean FD curve's drift over its last 25% of steps (flat: within 10%) and what its
    last doubling bought (``doubling_gain``: the last quarter's mean FD against the same window
    of the curve cut at half the steps; negative: FD fell)."""
    head = [
        "entry",
        "steps",
        "seeds",
        *PLATEAU_METRICS,
        "FD drift (seed mean)",
        "flat",
        "per seed",
        "last doubling (seed mean)",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in names:
        folders = _seed_folders(name, seeds, steps)
        found = (read_json(f / "metrics.json") for f in folders.values())
        rows = [r for r in found if r and "metrics" in r and "n_samples" in r]
        cells = []
        for metric in PLATEAU_METRICS:
            got = [v for r in rows if (v := run_value(r, metric)[0]) is not None]
            sd = f" ± {statistics.stdev(got):.3f}" if len(got) > 1 else ""
            cells.append(f"{statistics.mean(got):.3f}{sd}" if got else "-")
        curves = [c for f in folders.values() if (c := read_curve(f / SCORES_NAME))]
        one = [tail_drift(c) for c in curves]
        mean = mean_curve(curves)
        both = tail_drift(mean)
        drift = f"{both['drift']:+.1%}" if both else "-"
        flat = ("yes" if both["flat"] else "no") if both else "-"
        each = ", ".join(f"{d['drift']:+.1%}" if d else "-" for d in one) or "-"
        trained = steps or entry(name).steps
        lines.append(
            f"| {name} | {trained} | {','.join(map(str, folders)) or 'none'} | "
            + " | ".join(cells)
            + f" | {drift} | {flat} | {each} | {doubling_text(mean)} |"
        )
    return lines
