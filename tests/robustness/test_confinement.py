"""Confinement (issue 8 §4): paths that resolve outside the configured roots are refused.

``core.paths.confine`` is what the app calls on a run/model folder named in a URL or a form; the
CLI calls ``confine_run_dir`` on ``--run-dir`` and the training loop refuses run-dir files that
are symlinks out of the run dir.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.__main__ import main
from core.paths import REPO_ROOT, RUNS_ENV, ConfinementError, confine, confine_run_dir, runs_root
from core.run_dir import TrainingError
from core.train import train


@pytest.fixture
def tree(tmp_path) -> Path:
    """root/ (allowed: runs/, with a run and links in and out) and outside/ (not allowed)."""
    (tmp_path / "root" / "runs" / "a").mkdir(parents=True)
    (tmp_path / "outside" / "secret").mkdir(parents=True)
    runs = tmp_path / "root" / "runs"
    (runs / "out-link").symlink_to(tmp_path / "outside")
    (runs / "in-link").symlink_to(runs / "a")
    (runs / "file-out").symlink_to(tmp_path / "outside" / "passwd")
    return tmp_path


def test_a_path_inside_is_returned_resolved(tree):
    runs = tree / "root" / "runs"
    assert confine(runs / "a", [runs]) == (runs / "a").resolve()
    assert confine(runs / "b" / "new", [runs]) == runs.resolve() / "b" / "new"  # need not exist
    assert confine(runs / "in-link", [runs]) == (runs / "a").resolve()


@pytest.mark.parametrize(
    "rel",
    [
        "../../outside",
        "a/../../../outside/secret",
        "out-link",
        "out-link/secret",
        "out-link/new/deeper",
        "file-out",
    ],
)
def test_escapes_are_refused(tree, rel):
    runs = tree / "root" / "runs"
    with pytest.raises(ConfinementError, match="outside the allowed folder") as info:
        confine(runs / rel, [runs], what="?run=")
    message = str(info.value)
    assert message.startswith("?run=") and str(runs.resolve()) in message
    assert "choose a path inside" in message and "\n" not in message


def test_absolute_paths_elsewhere_are_refused(tree):
    with pytest.raises(ConfinementError):
        confine("/etc/passwd", [tree / "root" / "runs"])
    with pytest.raises(ConfinementError):
        confine(tree / "root", [tree / "root" / "runs"])  # the parent of a root


def test_a_root_that_is_a_symlink_still_works(tree):
    (tree / "big-disk" / "runs").mkdir(parents=True)
    (tree / "linked-runs").symlink_to(tree / "big-disk" / "runs")
    assert (
        confine(tree / "linked-runs" / "r", [tree / "linked-runs"]).parent
        == (tree / "big-disk" / "runs").resolve()
    )


def test_several_roots_and_the_root_itself(tree):
    runs, other = tree / "root" / "runs", tree / "outside"
    assert confine(other / "secret", [runs, other]) == (other / "secret").resolve()
    assert confine(runs, [runs]) == runs.resolve()
    with pytest.raises(ConfinementError):
        confine(runs, [runs], allow_root=False)
    with pytest.raises(ConfinementError, match="no allowed folder"):
        confine(runs / "a", [])


@pytest.mark.parametrize("bad", ["", "   ", "runs/a\x00b"])
def test_empty_and_nul_paths_are_refused(tree, bad):
    with pytest.raises(ConfinementError):
        confine(bad, [tree / "root" / "runs"])
    assert issubclass(ConfinementError, ValueError)  # the CLI prints it as one error line


def test_runs_root_order(monkeypatch, tmp_path):
    monkeypatch.delenv(RUNS_ENV, raising=False)
    assert runs_root() == REPO_ROOT / "runs"  # wherever the command runs from
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "env-runs"))
    assert runs_root() == tmp_path / "env-runs"
    assert runs_root(tmp_path / "cli") == tmp_path / "cli"


def test_confine_run_dir(tree, monkeypatch):
    monkeypatch.chdir(tree / "root")
    monkeypatch.setenv(RUNS_ENV, str(tree / "root" / "runs"))
    assert confine_run_dir("runs/new") == Path("runs/new")
    for bad in ("runs/out-link", "runs/out-link/x", "runs/out-link/../x", "runs"):
        with pytest.raises(ConfinementError, match="--run-dir"):
            confine_run_dir(bad)
    # a folder the operator names outside the runs root: fine, unless it is a link out of it
    assert confine_run_dir(tree / "elsewhere" / "r") == tree / "elsewhere" / "r"
    (tree / "elsewhere").mkdir()
    (tree / "elsewhere" / "r").symlink_to(tree / "outside")
    with pytest.raises(ConfinementError, match="through a symlink"):
        confine_run_dir(tree / "elsewhere" / "r")
    monkeypatch.setenv(RUNS_ENV, str(tree / "root" / "runs"))
    with pytest.raises(ConfinementError):
        confine_run_dir(tree / "root" / "runs" / "out-link" / "r")


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_the_cli_refuses_a_run_dir_through_an_escaping_symlink(tree, monkeypatch, capsys):
    monkeypatch.chdir(tree / "root")
    monkeypatch.setenv(RUNS_ENV, str(tree / "root" / "runs"))
    before = _listing(tree / "outside")
    argv = [
        "train",
        "--dataset",
        "fake",
        "--width",
        "8",
        "--steps",
        "1",
        "--batch-size",
        "16",
        "--n-train",
        "100",
        "--no-progress",
        "--run-dir",
        "runs/out-link/r",
    ]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --run-dir 'runs/out-link/r' resolves to")
    assert _listing(tree / "outside") == before


@pytest.mark.parametrize("name", ["stats.jsonl", "samples", "checkpoint.safetensors"])
def test_training_refuses_run_dir_files_that_link_out(tmp_path, name, tiny_train_config):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("untouched")
    run = tmp_path / "run"
    run.mkdir()
    target = victim if name == "samples" else victim / "keep.txt"
    (run / name).symlink_to(target)
    cfg = tiny_train_config(n_train=100, steps=2, log_every=1, sample_every=1, checkpoint_every=1)
    with pytest.raises(TrainingError, match=f"{name} of the run .* outside"):
        train(cfg, run, model_overrides={"width": 8}, progress=False)
    assert _listing(victim) == ["keep.txt"] and (victim / "keep.txt").read_text() == "untouched"
    assert sorted(os.listdir(run)) == [name]  # nothing written: refused before config.json


def test_the_cli_the_zoo_and_the_app_share_one_runs_root(monkeypatch, tmp_path, capsys):
    """One runs root for every part of the project: the CLI's default run dir, the zoo's runs
    (core.reproduce) and the app's Training page and its jobs all come from core.paths."""
    import ast

    import explorer.training_jobs
    from core.__main__ import main
    from core.zoo.recipes import entry

    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "my-runs"))
    assert explorer.training_jobs.runs_root is runs_root
    page = ast.parse((REPO_ROOT / "pages" / "training.py").read_text())
    imported = {
        (n.module, a.name) for n in ast.walk(page) if isinstance(n, ast.ImportFrom) for a in n.names
    }
    assert ("core.paths", "runs_root") in imported
    assert entry("tgan-mnist-500").run_dir(0).parent == tmp_path / "my-runs" / "zoo"
    assert main(["train", "--dataset", "fake", "--dry-run"]) == 0
    import json

    run_dir = Path(json.loads(capsys.readouterr().out)["run_dir"])
    assert run_dir.parent == tmp_path / "my-runs"
    monkeypatch.delenv(RUNS_ENV)
    assert runs_root() == REPO_ROOT / "runs" and entry("gan-mnist-500").run_dir(1).parent == (
        REPO_ROOT / "runs" / "zoo"
    )
