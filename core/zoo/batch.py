"""Many zoo runs at once: ``train_entries`` (one after another, in the foreground) and ``batch``
(train, score, ship and report a set of entries x seeds with N processes at a time; the GPU
script); ``run_pool`` runs the jobs, of a batch and of core/zoo/rescore.py. Every job is a
``python -m core`` process, so a killed batch resumes where it stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.atomic import atomic_copy
from core.device import threads_per_process
from core.errors import UserError
from core.evaluate.report import build_report
from core.paths import REPO_ROOT, repo_relative, zoo_root, zoo_runs_root
from core.run_dir import SCORES_NAME, checkpoint_step, run_finished
from core.weights import WEIGHTS_NAME
from core.zoo.recipes import entry
from core.zoo.ship import ship, shipped_seed, write_manifest

CORE_CLI = [sys.executable, "-m", "core"]


class ZooError(UserError):
    """A batch job failed; the message names the jobs and where their logs are."""


def train_entries(names: list[str], seeds: list[int], device: str = "auto") -> list[Path]:
    """Train (or resume, or skip when finished) each entry x seed in turn, one
    ``python -m core train`` process at a time, its output shown as it comes."""
    done = []
    for name in names:
        for seed in seeds:
            e = entry(name)
            run = e.run_dir(seed)
            if run_finished(run, e.steps):
                done.append(run)
                continue
            argv = e.train_argv(seed, device)
            if (run / "config.json").exists():
                argv.append("--resume")
            print(f"[zoo] python -m core {' '.join(argv)}", flush=True)
            if subprocess.run(CORE_CLI + argv, cwd=REPO_ROOT).returncode != 0:
                raise ZooError(f"training {name} seed {seed} failed; see the message above")
            done.append(run)
    return done


def pool_env(jobs: int) -> dict[str, str]:
    """The environment of a pool's processes: each gets ``threads_per_process(jobs)`` OpenMP
    threads unless OMP_NUM_THREADS is set already (without it every process starts one
    thread a core)."""
    env = dict(os.environ)
    if not env.get("OMP_NUM_THREADS"):
        env["OMP_NUM_THREADS"] = str(threads_per_process(jobs))
    return env


def run_pool(
    commands: list[tuple[str, list[str], Path]], jobs: int, time_limit: float | None = None
) -> tuple[list[str], list[str]]:
    """Run (label, argv, log) commands, ``jobs`` at a time (``pool_env``). After
    ``time_limit`` seconds no new command starts and running ones get SIGTERM (a training run
    then saves its checkpoint and exits, resumable by the same command). Returns (failed
    labels, stopped labels)."""
    env = pool_env(jobs)
    pending, running, failed, stopped = list(commands), [], [], []
    started = time.perf_counter()
    while pending or running:
        out_of_time = time_limit is not None and time.perf_counter() - started > time_limit
        if out_of_time:
            stopped += [label for label, _, _ in pending]
            pending = []
            for label, proc, _ in running:
                if proc.poll() is None and label not in stopped:
                    print(
                        f"[{time.perf_counter() - started:7.0f}s] {label}: time limit, stopping",
                        flush=True,
                    )
                    proc.send_signal(signal.SIGTERM)
                    stopped.append(label)
        while pending and len(running) < jobs:
            label, argv, log = pending.pop(0)
            log.parent.mkdir(parents=True, exist_ok=True)
            fh = open(log, "a")  # noqa: SIM115 (closed when the process ends)
            proc = subprocess.Popen(
                argv, cwd=REPO_ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env
            )
            running.append((label, proc, fh))
        time.sleep(0.2)
        for item in list(running):
            label, proc, fh = item
            if proc.poll() is not None:
                fh.close()
                running.remove(item)
                status = "ok" if proc.returncode == 0 else f"FAILED ({proc.returncode})"
                if label in stopped:
                    status = "stopped (resumable)"
                elif proc.returncode:
                    failed.append(label)
                print(f"[{time.perf_counter() - started:7.0f}s] {label}: {status}", flush=True)
    return failed, [label for label in stopped if label not in failed]


def batch(
    names: list[str],
    seeds: list[int],
    jobs: int,
    device: str,
    n_eval: int,
    time_limit: float | None = None,
    pack: bool = False,
    retrain: bool = False,
    train_only: bool = False,
) -> None:
    """Train every entry x seed (``jobs`` processes at once; every entry's first seed before
    any entry's second), score each run, ship each entry's lowest seed (``_ship_first``) with
    every seed's metrics and score curve (seeds/s<seed>/), then write the report.
    ``time_limit`` caps the training phase in seconds (runs still going are stopped,
    resumable, and left unscored).
    Re-runnable: finished runs are skipped, stopped ones resumed. ``pack``: each entry's
    seeds train in one process, one packed step for all (``packed_train_jobs``).
    A seed the zoo already scored (``zoo_seeds``) and this machine has no run of is not
    trained again (on a fresh clone it would start from scratch) unless ``retrain``.
    ``train_only`` stops after training (a GPU call whose data is a travel pack: the runs are
    scored and shipped where the full data is, by the same command without it)."""
    logs = zoo_runs_root() / "logs"
    plan = {name: _seeds_to_train(name, seeds, retrain) for name in names}
    if pack:
        train_jobs = [
            job for name in names for job in packed_train_jobs([name], plan[name], device, logs)
        ]
    else:
        train_jobs = [
            _lone_job(entry(name), seed, device, logs)
            for seed in seeds
            for name in names
            if seed in plan[name] and not _finished(name, seed)
        ]
    failed, stopped = run_pool(train_jobs, jobs, time_limit)
    if train_only:
        _say_stopped_or_failed(stopped, failed, logs)
        return
    eval_jobs = []
    for name in names:
        for seed in seeds:
            run = entry(name).run_dir(seed)
            if _finished(name, seed) and not (run / "metrics.json").exists():
                argv = CORE_CLI + ["evaluate", str(run), "--n", str(n_eval), "--device", device]
                eval_jobs.append((f"evaluate {run.name}", argv, logs / f"{run.name}.eval.log"))
    failed += run_pool(eval_jobs, jobs)[0]
    for name in names:
        done = [s for s in seeds if _finished(name, s)]
        if not done:
            continue
        dest = _ship_first(name, done)
        for seed in done:
            run = entry(name).run_dir(seed)
            if (run / "metrics.json").exists():
                target = dest / "seeds" / f"s{seed}"
                target.mkdir(parents=True, exist_ok=True)
                atomic_copy(run / "metrics.json", target / "metrics.json")
                if (run / SCORES_NAME).is_file():  # every seed's score curve, for the report
                    atomic_copy(run / SCORES_NAME, target / SCORES_NAME)
    report_and_manifest()
    _say_stopped_or_failed(stopped, failed, logs)


def _say_stopped_or_failed(stopped: list[str], failed: list[str], logs: Path) -> None:
    if stopped:
        print(
            f"{len(stopped)} job(s) stopped at the time limit, resumable by the same command: "
            f"{stopped}",
            flush=True,
        )
    if failed:
        raise ZooError(f"{len(failed)} job(s) failed: {failed}; logs in {logs}")


def _finished(name: str, seed: int) -> bool:
    """Whether the entry's run of ``seed`` trained to the entry's steps (``run_finished``)."""
    e = entry(name)
    return run_finished(e.run_dir(seed), e.steps)


def zoo_seeds(name: str) -> set[int]:
    """The seeds whose scores ``pretrained/<name>/`` already holds: its shipped seed and every
    ``seeds/s<seed>/metrics.json``."""
    dest = zoo_root() / name
    found = {
        int(p.parent.name[1:])
        for p in dest.glob("seeds/s*/metrics.json")
        if p.parent.name[1:].isdigit()
    }
    shipped = shipped_seed(dest) if (dest / "metrics.json").exists() else None
    return found | ({shipped} if shipped is not None else set())


def _seeds_to_train(name: str, seeds: list[int], retrain: bool) -> list[int]:
    """``seeds`` less those the zoo already scored and this machine has no run of (printed,
    with how to train them anyway); every seed when ``retrain``."""
    e = entry(name)
    done = set() if retrain else {s for s in zoo_seeds(name) if not e.run_dir(s).is_dir()}
    skip = [s for s in seeds if s in done]
    if skip:
        print(
            f"{name}: seeds {skip} are in the zoo already (pretrained/{name}) and have no run "
            "here; not trained again (--retrain trains them from scratch)",
            flush=True,
        )
    return [s for s in seeds if s not in done]


def _ship_first(name: str, finished: list[int]) -> Path:
    """Ship the lowest finished seed, unless the entry already ships a lower seed that this
    batch did not train (a batch adding seed 2 to a shipped seed 0 adds its scores only; the
    app and its twins keep the weights they had). Returns the entry's folder."""
    dest = zoo_root() / name
    shipped = shipped_seed(dest) if (dest / WEIGHTS_NAME).exists() else None
    if shipped is not None and shipped < min(finished):
        print(f"{name}: keeps the weights of seed {shipped}; adds seeds {finished}", flush=True)
        return dest
    return ship(name, min(finished))


def _resume_step(run: Path) -> int | None:
    """Where a run would resume: None when it has no config.json yet (a fresh run), else the
    step of its checkpoint (0 without one)."""
    if not (run / "config.json").exists():
        return None
    return checkpoint_step(run) or 0


def _lone_job(e, seed: int, device: str, logs: Path) -> tuple[str, list[str], Path]:
    """The ``python -m core train`` job of one entry and seed (resumed when it was started)."""
    run = e.run_dir(seed)
    argv = e.train_argv(seed, device) + (["--resume"] if (run / "config.json").exists() else [])
    return f"train {e.name} s{seed}", CORE_CLI + argv, logs / f"{run.name}.train.log"


def packed_train_jobs(
    names: list[str], seeds: list[int], device: str, logs: Path
) -> list[tuple[str, list[str], Path]]:
    """One ``python -m core train --seeds ...`` job per entry and resume point: the seeds of an
    entry that are not finished and would resume from the same step (or are all new) share one
    packed process (core/packed.py). PixelCNN entries train one seed a job."""
    out = []
    for name in names:
        e = entry(name)
        groups: dict[int | None, list[int]] = {}
        for seed in seeds:
            run = e.run_dir(seed)
            if not run_finished(run, e.steps):
                groups.setdefault(_resume_step(run), []).append(seed)
        for at, group in groups.items():
            if e.model == "pixelcnn" or len(group) == 1:
                out += [_lone_job(e, seed, device, logs) for seed in group]
                continue
            argv = e.train_argv(group[0], device)
            i = argv.index("--seed")
            argv[i : i + 2] = ["--seeds", ",".join(map(str, group))]
            i = argv.index("--run-dir")
            argv[i + 1] = str(zoo_runs_root() / f"{name}-s{{seed}}")
            argv += [] if at is None else ["--resume"]
            tag = "-".join(map(str, group))
            out.append(
                (
                    f"train {name} s{tag} (packed)",
                    CORE_CLI + argv,
                    logs / f"{name}-s{tag}.train.log",
                )
            )
    return out


def report_and_manifest() -> None:
    """pretrained/RESULTS.md and results.csv from the zoo, then the manifest."""
    root = zoo_root()
    md_path, csv_path, n_rows = build_report([root], root / "RESULTS.md", root / "results.csv")
    print(f"{n_rows} rows: wrote {repo_relative(md_path)} and {repo_relative(csv_path)}")
    write_manifest(root)
