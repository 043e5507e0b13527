"""No code from files (issue 8 §3): a planted pickle never runs, whatever name it hides under.

The payload's ``__reduce__`` creates a marker file when unpickled. Each test first proves the
payload is live (plain ``pickle`` / ``torch.load(weights_only=False)`` do create the marker), then
loads it through every loader of the project and asserts a clean WeightsError (or one ``error:``
line from the CLI) and no marker. A scan of the source checks that no loader can unpickle.
"""

from __future__ import annotations

import ast
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from core.__main__ import main
from core.config import TrainConfig
from core.run_dir import load_checkpoint
from core.train import train
from core.weights import WeightsError, load_pretrained, load_torch_state, read_safetensors

REPO = Path(__file__).resolve().parents[2]


class Payload:
    """Unpickling this creates ``marker``: proof that code from the file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _plain_pickle(marker: Path) -> bytes:
    return pickle.dumps({"generator.project.0.weight": Payload(marker)})


def _torch_zip_pickle(marker: Path) -> bytes:
    path = marker.with_name("payload.pt")
    torch.save({"generator.project.0.weight": Payload(marker)}, path)
    data = path.read_bytes()
    path.unlink()
    return data


FORMATS: dict[str, Callable[[Path], bytes]] = {
    "pickle": _plain_pickle,
    "torch-zip": _torch_zip_pickle,
}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory, tiny_train_config) -> Path:
    root = tmp_path_factory.mktemp("pickle")
    cfg = tiny_train_config(n_train=100, steps=2, log_every=1, sample_every=2, checkpoint_every=2)
    return train(cfg, root / "run", model_overrides={"width": 8}, progress=False)


@pytest.fixture(params=sorted(FORMATS))
def planted(request, tmp_path, good_run) -> tuple[Path, Path, bytes]:
    """(run dir copy, marker path, payload bytes); the payload is shown to be live first."""
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    marker = tmp_path / "PWNED"
    payload = FORMATS[request.param](marker)
    probe = tmp_path / "probe.bin"
    probe.write_bytes(payload)
    if request.param == "pickle":
        pickle.loads(payload)
    else:
        torch.load(probe, weights_only=False)
    assert marker.exists(), "the payload is not live: the test would prove nothing"
    marker.unlink()
    probe.unlink()
    return run, marker, payload


def test_model_weights_loaders_refuse_a_pickle(planted, capsys):
    run, marker, payload = planted
    (run / "model.safetensors").write_bytes(payload)
    with pytest.raises(WeightsError, match="model.safetensors: not a valid safetensors file"):
        read_safetensors(run / "model.safetensors")
    with pytest.raises(WeightsError, match="model.safetensors: not a valid safetensors file"):
        load_pretrained(run)
    assert main(["sample", str(run), "--out", str(run / "grid.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not a valid safetensors" in err
    assert len(err.splitlines()) == 1
    assert not marker.exists(), "code from the weights file ran"


def test_checkpoint_loaders_refuse_a_pickle(planted, capsys):
    run, marker, payload = planted
    (run / "checkpoint.safetensors").write_bytes(payload)
    from core.gan import GANTrainer
    from core.models import build_model, model_config

    cfg = TrainConfig(model="tgan", dataset="fake", device="cpu")
    model = build_model(model_config("tgan", "fake", width=8))
    with pytest.raises(WeightsError, match="checkpoint.safetensors: not a valid safetensors"):
        load_checkpoint(run, model, GANTrainer(model, cfg), torch.Generator())
    assert main(["train", "--run-dir", str(run), "--resume", "--steps", "4", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "checkpoint.safetensors: not a valid" in err
    assert not marker.exists(), "code from the checkpoint file ran"


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
def test_legacy_torch_files_load_weights_only(planted):
    run, marker, payload = planted
    path = run / "legacy.pth"
    path.write_bytes(payload)
    with pytest.raises(WeightsError, match="refused: not a plain tensor file"):
        load_torch_state(path)
    assert not marker.exists()
    torch.save({"w": torch.ones(2)}, path)  # a plain state dict still loads
    assert load_torch_state(path)["w"].equal(torch.ones(2))


def test_a_pickled_npy_never_runs(tmp_path):
    """The data loaders read .npy with allow_pickle=False."""
    from core.data import DataError, load_split

    marker = tmp_path / "PWNED"
    folder = tmp_path / "data" / "cifar10"
    folder.mkdir(parents=True)
    np.save(folder / "x_train.npy", np.array([Payload(marker)], dtype=object), allow_pickle=True)
    np.save(folder / "y_train.npy", np.zeros(1, np.int64))
    with pytest.raises(DataError, match="unreadable"):
        load_split("cifar10", "train", tmp_path / "data", download=False)
    assert not marker.exists()


def test_the_inception_judge_runs_no_code_from_its_file(tmp_path, monkeypatch):
    judges = pytest.importorskip("core.evaluate.judges")
    marker = tmp_path / "PWNED"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    path = judges.inception_weights_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(_torch_zip_pickle(marker))
    with pytest.raises(Exception):  # noqa: B017 (any refusal; what matters is the marker)
        judges.inception_judge()
    assert not marker.exists()


def _calls(tree: ast.AST) -> list[tuple[str, ast.Call]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            out.append((ast.unparse(node.func), node))
    return out


def test_no_loader_in_the_source_can_unpickle():
    """Every torch.load passes weights_only=True; no pickle.load(s), no allow_pickle=True."""
    problems = []
    files = [
        *sorted((REPO / "core").rglob("*.py")),
        *sorted((REPO / "explorer").rglob("*.py")),
        *sorted((REPO / "pages").rglob("*.py")),
    ]
    for path in files:
        tree = ast.parse(path.read_text(), str(path))
        for name, call in _calls(tree):
            kw = {k.arg: ast.unparse(k.value) for k in call.keywords}
            where = f"{path.relative_to(REPO)}:{call.lineno}"
            if name.endswith("torch.load") and kw.get("weights_only") != "True":
                problems.append(f"{where}: torch.load without weights_only=True")
            if name in ("pickle.load", "pickle.loads", "dill.load", "joblib.load"):
                problems.append(f"{where}: {name}")
            if kw.get("allow_pickle") == "True":
                problems.append(f"{where}: allow_pickle=True")
    assert not problems, problems
