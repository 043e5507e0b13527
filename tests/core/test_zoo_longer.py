"""``reproduce longer`` / ``plateau``: runs trained past their entry's budget beside the zoo
(runs/longer/<steps>/), each from the longest finished run of its seed, the zoo untouched; the
plateau table is the seeds' 10k scores and their mean FD curve's tail drift."""

import dataclasses
import json

import pytest

from core.run_dir import run_finished
from core.zoo import batch, longer
from core.zoo.batch import ZooError
from core.zoo.recipes import ENTRIES

NAME = "tgan-mnist-500-modern"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("TGAN_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("TGAN_PRETRAINED", str(tmp_path / "pretrained"))
    # the entry's budget is the tiny run's 6 steps, so a fake-data run stands in for its zoo run
    monkeypatch.setattr(longer, "entry", lambda n: dataclasses.replace(ENTRIES[n], steps=6))
    return tmp_path


def _metrics(fd, mis):
    return {"n_samples": 10000, "metrics": {"fd10k": fd, "mis10k": {"mean": mis, "std": 0.01}}}


def test_longer_goes_on_from_the_longest_run_and_leaves_the_zoo_alone(
    workspace, tiny_train_config, monkeypatch
):
    from core.train import train

    zoo_run = workspace / "runs" / "zoo" / f"{NAME}-s0"
    train(tiny_train_config(steps=6), zoo_run, progress=False)
    before = {p.name: p.read_bytes() for p in zoo_run.iterdir() if p.is_file()}
    seen = []

    def pool(commands, jobs, time_limit=None):  # training for real; scoring faked (no judge)
        seen.extend(argv for _, argv, _ in commands)
        train_jobs = [c for c in commands if "train" in c[1]]
        for _, argv, _ in commands:
            if "evaluate" in argv:
                folder = workspace / argv[argv.index("evaluate") + 1]
                (folder / "metrics.json").write_text(json.dumps(_metrics(0.5, 1.2)))
        return real_pool(train_jobs, jobs) if train_jobs else ([], [])

    real_pool = batch.run_pool
    monkeypatch.setattr(longer, "run_pool", pool)
    [ten] = longer.longer([NAME], [0], steps=10, jobs=1, device="cpu", n_eval=20)
    assert ten == longer.longer_dir(NAME, 0, 10) and run_finished(ten, 10)
    assert json.loads((ten / "config.json").read_text())["train"]["steps"] == 10
    assert json.loads((ten / "metrics.json").read_text()) == _metrics(0.5, 1.2)
    assert {p.name: p.read_bytes() for p in zoo_run.iterdir() if p.is_file()} == before
    train_argv = next(a for a in seen if "train" in a)
    assert train_argv[train_argv.index("--steps") + 1] == "10" and "--resume" in train_argv

    # 14 steps go on from the 10-step run, not the zoo's 6; a finished run is not trained again
    assert longer.longest_start(NAME, 0, 14) == ten
    seen.clear()
    [fourteen] = longer.longer([NAME], [0], steps=14, jobs=1, device="cpu", n_eval=20)
    assert json.loads((fourteen / "summary.json").read_text())["steps"] == 14
    stats = [json.loads(x)["step"] for x in (fourteen / "stats.jsonl").read_text().splitlines()]
    assert max(stats) == 14 and 8 in stats  # its history holds the 10-step run's steps
    seen.clear()
    longer.longer([NAME], [0], steps=14, jobs=1, device="cpu", n_eval=20)
    assert seen == []


def test_longer_checks_every_seed_and_the_budget_before_any_work(workspace, monkeypatch):
    monkeypatch.setattr(longer, "run_pool", lambda *a, **k: pytest.fail("no job may start"))
    zoo_run = workspace / "runs" / "zoo" / f"{NAME}-s0"
    zoo_run.mkdir(parents=True)
    (zoo_run / "summary.json").write_text(json.dumps({"steps": 6}))
    with pytest.raises(ZooError, match=f"{NAME} s1.*reproduce train"):
        longer.longer([NAME], [0, 1], steps=10, jobs=1, device="cpu", n_eval=20)
    assert not longer.longer_dir(NAME, 0, 10).exists()  # seed 0 was not copied either
    with pytest.raises(ValueError, match="trains for 6 steps already"):
        longer.longer([NAME], [0], steps=6, jobs=1, device="cpu", n_eval=20)


def _curve(fds):
    return [{"step": 1000 * (i + 1), "n_samples": 2000, "fd2k": v} for i, v in enumerate(fds)]


def test_plateau_table_is_the_seeds_scores_and_their_mean_curves_drift(workspace):
    for seed, (fds, fd, mis) in enumerate(
        [([4, 3, 2, 2, 2, 2, 2, 2], 0.4, 1.1), ([4, 3, 2, 2.2, 2.1, 2.0, 1.9, 1.8], 0.6, 1.3)]
    ):
        run = longer.longer_dir(NAME, seed, 8000)
        run.mkdir(parents=True)
        (run / "summary.json").write_text(json.dumps({"steps": 8000}))
        (run / "metrics.json").write_text(json.dumps(_metrics(fd, mis)))
        (run / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _curve(fds)))
    unfinished = longer.longer_dir(NAME, 2, 8000)
    unfinished.mkdir(parents=True)
    (unfinished / "summary.json").write_text(json.dumps({"steps": 7000}))
    head, rule, row = longer.plateau_lines([NAME], [0, 1, 2], 8000)
    cells = [c.strip() for c in row.strip("|").split("|")]
    named = dict(zip([c.strip() for c in head.strip("|").split("|")], cells, strict=True))
    assert named["seeds"] == "0,1" and named["steps"] == "8000"  # seed 2 stopped early
    assert named["fd"] == "0.500 ± 0.141" and named["mis"] == "1.200 ± 0.141"
    assert named["is"] == "-"
    # the window is steps 6000-8000: seed 0 flat, seed 1 falls 2.0 -> 1.8 (-0.2 / mean 1.9),
    # their mean 2.0 -> 1.9 (-0.1 / 1.95): within 10%, flat
    assert named["FD drift (seed mean)"] == "-5.1%" and named["flat"] == "yes"
    assert named["per seed"] == "+0.0%, -10.5%"
    assert named["last doubling (seed mean)"] == "-"  # the curve cut at 4000: too few points
    assert rule.count("---") == len(cells)


def test_plateau_table_says_what_the_last_doubling_bought(workspace):
    """16 points: the last quarter (12000-16000, FD 1.5) against the same window of the curve
    cut at 8000 (6000-8000, FD 2.0): the doubling cut FD by 25%, though the tail is flat."""
    run = longer.longer_dir(NAME, 0, 16000)
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"steps": 16000}))
    (run / "metrics.json").write_text(json.dumps(_metrics(0.4, 1.1)))
    fds = [4, 3, 2, 2, 2, 2, 2, 2] + [1.5] * 8
    (run / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _curve(fds)))
    head, _, row = longer.plateau_lines([NAME], [0], 16000)
    named = dict(zip(head.strip("|").split("|"), row.strip("|").split("|"), strict=True))
    named = {k.strip(): v.strip() for k, v in named.items()}
    assert named["flat"] == "yes" and named["last doubling (seed mean)"] == "-25.0%"
