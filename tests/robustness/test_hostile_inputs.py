"""Hostile and broken inputs over every entry point of the CLI, table-driven (issues 8 §2, 23).

Each row gives ``python -m core`` (or ``python -m core.reproduce``: the row's ``module``) a bad
option, config.json, weights file, data file, special file or path and checks the answer: exit
status 2, exactly one ``error:`` line that names the problem (and the file/option to fix), no
traceback, and nothing written outside the run directory (a failed fresh run does not even
create it). Exit status 2 also means no row reaches the ``error: unexpected ...`` path (exit 1).
The CLIs run in-process through their ``main``; a few rows run again in a child process to
prove no traceback reaches the terminal and no special file makes it hang.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_cases import CLI_AND_CONFIG_CASES
from hostile_file_cases import FILE_CASES
from hostile_support import REPO, RUN
from hostile_zoo_cases import ZOO_AND_PATH_CASES

from core.__main__ import main
from core.reproduce import main as reproduce_main
from core.train import train

CASES = CLI_AND_CONFIG_CASES + FILE_CASES + ZOO_AND_PATH_CASES


@pytest.fixture(scope="module")
def template(tmp_path_factory, tiny_train_config) -> Path:
    """A finished two-step run (width 8, fake data) that each row copies and breaks."""
    root = tmp_path_factory.mktemp("template")
    cfg = tiny_train_config(n_train=100, steps=2, log_every=1, sample_every=2, checkpoint_every=2)
    train(cfg, root / "run", model_overrides={"width": 8}, progress=False)
    return root / "run"


@pytest.fixture
def workspace(tmp_path, template, monkeypatch) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(template, ws / RUN)
    monkeypatch.chdir(ws)
    for var in ("TGAN_DATA", "TGAN_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TGAN_RUNS", str(ws / "runs"))  # the runs root of this workspace
    monkeypatch.setenv("TGAN_PRETRAINED", str(ws / "pretrained"))  # and its zoo
    return ws


def _snapshot(root: Path, skip: Path | None) -> dict[str, tuple[int, bytes]]:
    """Every path under root (links not followed) with its size and content hash."""
    import hashlib

    files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if skip is not None and (path == skip or skip in path.parents):
                continue
            if path.is_file() and not path.is_symlink():
                files[str(path)] = (path.stat().st_size, hashlib.sha256(path.read_bytes()).digest())
            else:
                files[str(path)] = (-1, b"")
    return files


def run_cli(argv: list[str], capsys, module: str = "core") -> tuple[int, str]:
    """(exit status, stderr) of ``python -m MODULE ARGV`` run in this process."""
    entry = {"core": main, "core.reproduce": reproduce_main}[module]
    try:
        code = entry(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    return code, capsys.readouterr().err


def _assert_one_clean_error(code: int, err: str, expect: tuple[str, ...]) -> None:
    assert code == 2, f"exit status {code}, stderr: {err}"
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), f"not one error line: {err!r}"
    for fragment in expect:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_gets_one_clean_error_line(case, workspace, capsys, monkeypatch):
    for var, value in case.env.items():
        monkeypatch.setenv(var, value)
    if case.setup is not None:
        case.setup(workspace)
    allowed = workspace / case.writes_in if case.writes_in else None
    before = _snapshot(workspace.parent, allowed)
    code, err = run_cli(case.argv, capsys, case.module)
    _assert_one_clean_error(code, err, case.expect)
    assert _snapshot(workspace.parent, allowed) == before, "files written outside the run dir"
    assert not (workspace / "PWNED").exists(), "code from a file ran"


def test_the_table_is_big_enough():
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES)


SUBPROCESS_ROWS = [
    "weights-pickle",
    "config-future-version",
    "data-idx-wrong-magic",
    "cli-steps-not-int",
    "zoo-seeds-not-int",
    "config-fifo",
    "report-metrics-no-kind",
]


@pytest.mark.parametrize("row", SUBPROCESS_ROWS)
def test_no_traceback_reaches_the_terminal(row, workspace):
    case = next(c for c in CASES if c.id == row)
    if case.setup is not None:
        case.setup(workspace)
    env = dict(os.environ, PYTHONPATH=str(REPO), TGAN_OFFLINE="1", **case.env)
    proc = subprocess.run(
        [sys.executable, "-m", case.module, *case.argv],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    _assert_one_clean_error(proc.returncode, proc.stderr, case.expect)
    assert not (workspace / "PWNED").exists()


def test_an_unexpected_bug_is_still_one_line(workspace, capsys, monkeypatch):
    """The last-resort handler: an internal error prints one line, not a traceback."""
    import core.__main__

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(core.__main__, "sample", broken)
    code, err = run_cli(["sample", RUN, "--out", "x.png"], capsys)
    assert code == 1 and err.strip().splitlines() == [
        "error: unexpected ZeroDivisionError: boom (set TGAN_DEBUG=1 for the traceback, "
        "and please report it)"
    ]
    monkeypatch.setenv("TGAN_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["sample", RUN, "--out", "x.png"])


def test_weights_are_checked_against_the_config_before_the_model_is_built(workspace, monkeypatch):
    """latent_dim 4000 is within bounds but not what the weights hold: the header says so
    before a full-size model is allocated (only the meta-device build runs)."""
    import json

    import torch

    import core.weights

    config = json.loads((workspace / RUN / "config.json").read_text())
    config["model"]["latent_dim"] = 4000
    (workspace / RUN / "config.json").write_text(json.dumps(config))
    built_on = []
    real_build = core.weights.build_model

    def spy(cfg, *args, **kwargs):
        built_on.append(torch.empty(0).device.type)  # "meta" inside torch.device("meta")
        return real_build(cfg, *args, **kwargs)

    monkeypatch.setattr(core.weights, "build_model", spy)
    with pytest.raises(
        core.weights.WeightsError, match=r"weights do not match.*\(50, 30\), expected \(50, 4000\)"
    ):
        core.weights.load_pretrained(workspace / RUN)
    assert built_on == ["meta"]
