"""The CLI's normal paths: dry run, train, sample (hostile inputs: test_hostile_inputs.py)."""

import json

import pytest

from core.__main__ import main
from core.sampling import parse_seeds


def test_dry_run_prints_the_resolved_config(capsys, tmp_path):
    assert (
        main(
            [
                "train",
                "--model",
                "tgan",
                "--dataset",
                "fake",
                "--df",
                "10",
                "--dry-run",
                "--run-dir",
                str(tmp_path / "r"),
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["model"]["df"] == 10.0 and out["model"]["prior"] == "tmix"
    assert out["train"]["steps"] == 5000
    assert not (tmp_path / "r").exists()  # a dry run writes nothing


def test_train_then_sample(tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--model",
                "acgan",
                "--dataset",
                "fake",
                "--steps",
                "4",
                "--width",
                "8",
                "--batch-size",
                "16",
                "--run-dir",
                str(run),
                "--no-progress",
            ]
        )
        == 0
    )
    out = tmp_path / "grid.png"
    assert main(["sample", str(run), "--seeds", "0-9", "--labels", "3", "--out", str(out)]) == 0
    from PIL import Image

    assert Image.open(out).size[0] > 28


def test_unknown_option_is_rejected(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--dof", "3"])
    assert info.value.code == 2
    assert "unrecognized arguments: --dof" in capsys.readouterr().err


def test_parse_seeds():
    assert parse_seeds("0-3,10") == [0, 1, 2, 3, 10]
    assert parse_seeds("5") == [5]
    for bad in ("", "a", "3-1", "-2"):
        with pytest.raises(ValueError):
            parse_seeds(bad)
