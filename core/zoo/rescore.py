"""After the scorers or labels changed: ``rescore`` (score every shipped seed again with the
judges as they are now) and ``relabel`` (re-derive the report labels of shipped scores).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from core.atomic import atomic_copy, atomic_write_json, read_json
from core.evaluate.judges import load_judge
from core.evaluate.scoring import model_label
from core.paths import repo_relative, zoo_root, zoo_runs_root
from core.run_dir import run_finished
from core.weights import WEIGHTS_NAME
from core.zoo.batch import CORE_CLI, ZooError, run_pool
from core.zoo.recipes import entry, train_command
from core.zoo.ship import shipped_seed, write_card


def _rescore_plan(name: str) -> tuple[list[tuple[int, Path]], list[int], int]:
    """The folders ``rescore`` scores for one shipped entry: (seed, folder) for every seed in
    its seeds/ or with a finished run here (the run when it has its float32 weights, else the
    shipped folder for the shipped seed), the seeds with no weights on this machine, and the
    shipped seed."""
    e, dest = entry(name), zoo_root() / name
    shipped = shipped_seed(dest)
    if shipped is None:
        raise ValueError(f"{dest} is not a shipped entry (no readable entry.json); ship it first")
    seeds = {shipped} | {int(p.name[1:]) for p in (dest / "seeds").glob("s*") if p.is_dir()}
    pattern = re.compile(rf"{re.escape(name)}-s(\d+)")
    for run in zoo_runs_root().glob(f"{name}-s*"):
        found = pattern.fullmatch(run.name)
        if found and (run / WEIGHTS_NAME).exists() and run_finished(run, e.steps):
            seeds.add(int(found.group(1)))
    plan, missing = [], []
    for seed in sorted(seeds):
        run = e.run_dir(seed)
        if (run / WEIGHTS_NAME).exists() and run_finished(run, e.steps):
            plan.append((seed, run))
        elif seed == shipped:
            plan.append((seed, dest))
        else:
            missing.append(seed)
    return plan, missing, shipped


def rescore(
    names: list[str], jobs: int, device: str, n_eval: int, drop_missing: bool = False
) -> list[str]:
    """Score every seed of each shipped entry again with the judges as they are now (after a
    judge was retrained, say): each seed from its run's float32 weights where this machine has
    them, else the shipped seed from the shipped weights. A seed with neither (its weights
    never reached this machine) keeps its scores when the judge that made them is the current
    one (same N): rescoring then only adds columns the seed lacks, and the report counts the
    seeds behind each column. Scored by another judge (or N), such a seed cannot stay: unless
    ``drop_missing`` the rescore refuses before any work, naming the seeds and the command that
    retrains them; with it they leave the entry's seeds/. Cards follow; returns the failed
    jobs."""
    logs = zoo_runs_root() / "logs"
    plans = {name: _rescore_plan(name) for name in names}  # every entry checked before any work
    # today's judge of each data set with seeds to check, loaded (and sha256-checked) once
    datasets = {entry(name).dataset for name, (_, missing, _) in plans.items() if missing}
    today = {dataset: load_judge(dataset).name for dataset in datasets}
    stale = {}
    for name, (_, missing, _) in plans.items():
        if seeds := [s for s in missing if _stale(name, s, today[entry(name).dataset], n_eval)]:
            stale[name] = seeds
    if stale and not drop_missing:
        listed = "; ".join(f"{name} s{','.join(map(str, s))}" for name, s in stale.items())
        raise ZooError(
            f"{sum(map(len, stale.values()))} seed(s) have no weights on this machine and were "
            f"scored by another judge or N, so re-scoring would drop them from seeds/: {listed}. "
            "Retrain them first (python -m core.reproduce batch <entry> --seeds <those seeds> "
            "--retrain: it scores them with today's judge), or pass --drop-missing"
        )
    jobs_list = [
        (
            f"evaluate {name} s{seed}",
            CORE_CLI + ["evaluate", str(folder), "--n", str(n_eval), "--device", device],
            logs / f"{name}-s{seed}.rescore.log",
        )
        for name, (plan, _, _) in plans.items()
        for seed, folder in plan
    ]
    failed = run_pool(jobs_list, jobs)[0]
    for name, (plan, missing, shipped) in plans.items():
        e, dest = entry(name), zoo_root() / name
        for seed, folder in plan:
            if f"evaluate {name} s{seed}" in failed:
                continue
            target = dest / "seeds" / f"s{seed}"
            target.mkdir(parents=True, exist_ok=True)
            atomic_copy(folder / "metrics.json", target / "metrics.json")
            if seed == shipped and folder != dest:
                atomic_copy(folder / "metrics.json", dest / "metrics.json")
            if folder == dest and e.run_dir(seed).is_dir():  # keep the run's record in step
                atomic_copy(folder / "metrics.json", e.run_dir(seed) / "metrics.json")
        for seed in missing:
            if seed not in stale.get(name, []):
                print(
                    f"{name} s{seed}: no weights on this machine; its scores stand (same judge, "
                    "same N; a column added since is missing from this seed)",
                    flush=True,
                )
                continue
            shutil.rmtree(dest / "seeds" / f"s{seed}", ignore_errors=True)
            print(
                f"{name} s{seed}: no weights on this machine, dropped from seeds/ (its scores "
                f"came from another judge); retrain: {train_command(e, seed)}",
                flush=True,
            )
        write_card(dest)
    return failed


def _stale(name: str, seed: int, judge: str, n_eval: int) -> bool:
    """Whether another judge than ``judge`` (today's) or another N made the shipped scores of a
    seed with no weights here: it can be neither re-scored nor kept beside today's judge."""
    old = read_json(zoo_root() / name / "seeds" / f"s{seed}" / "metrics.json") or {}
    return (old.get("judge"), old.get("n_samples")) != (judge, n_eval)


def relabel(names: list[str]) -> list[Path]:
    """Re-derive the report label ("model") of every metrics.json of each shipped entry (its
    own and its seeds/) from the config it records (``model_config``) and the entry's training
    options, with ``model_label`` as it is now. A preset whose defaults changed (acgan: a label
    embedding, then one-hot) otherwise keeps the old label on scores of the old recipe. Scores
    are untouched; returns the files changed."""
    changed = []
    for name in names:
        dest = zoo_root() / name
        config = read_json(dest / "config.json")
        if config is None:
            raise ValueError(f"{dest} is not a shipped entry (no readable config.json)")
        for path in [dest / "metrics.json", *sorted(dest.glob("seeds/s*/metrics.json"))]:
            data = read_json(path)
            if data is None or not isinstance(data.get("model_config"), dict):
                continue
            label = model_label(data["model_config"], config.get("train"))
            if data.get("model") != label:
                print(f"{repo_relative(path)}: {data.get('model')} -> {label}", flush=True)
                atomic_write_json(path, {**data, "model": label})
                changed.append(path)
        if any(path.is_relative_to(dest) for path in changed):
            write_card(dest)
    return changed
