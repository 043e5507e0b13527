"""Judges: every shipped judge loads strictly and matches the sha256 in its config and card;
loading errors name the path and the training command; the judge API's shapes and batching."""

import hashlib
import json
import re
import shutil

import pytest
import torch

from core.augment import shift_and_flip
from core.evaluate import judges
from core.evaluate.judge_training import accuracy
from core.paths import JUDGES_ROOT
from core.weights import WeightsError

SHIPPED = [d for d in judges.JUDGE_DATASETS if judges.judge_available(d)]


def test_mnist_and_fashion_judges_are_shipped():
    assert "mnist" in SHIPPED and "fashion" in SHIPPED, (
        "pretrained/judges/{mnist,fashion} missing: train them with "
        + judges.judge_train_command("mnist")
    )


@pytest.mark.parametrize("dataset", SHIPPED)
def test_shipped_judge_sha256_config_and_card(dataset):
    folder = JUDGES_ROOT / dataset
    sha = hashlib.sha256((folder / judges.WEIGHTS_NAME).read_bytes()).hexdigest()
    config = json.loads((folder / judges.CONFIG_NAME).read_text())
    assert config["weights_sha256"] == sha
    card = (folder / judges.CARD_NAME).read_text()
    assert sha in card
    assert config["command"] and config["command"] in card
    assert config["command"] == judges.judge_train_command(dataset)  # the card's command is today's
    assert f"{config['test_accuracy']:.2%}" in card
    assert (folder / judges.WEIGHTS_NAME).stat().st_size < 5 * 2**20
    judge = judges.load_judge(dataset)
    assert sha[:12] in judge.name and dataset in judge.name


def _config(dataset: str) -> dict:
    return json.loads((JUDGES_ROOT / dataset / judges.CONFIG_NAME).read_text())


def _target_cases():
    """One case per shipped judge; a judge whose card states a miss is a strict xfail, so the
    miss shows in every test run and the marker must go once a retrained judge meets it."""
    cases = []
    for dataset in SHIPPED:
        config = _config(dataset)
        target = judges.TARGET_ACCURACY[dataset]
        miss = config["test_accuracy"] < target
        reason = f"{dataset} judge: {config['test_accuracy']:.2%} < {target:.1%}, see its card"
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if miss else []
        cases.append(pytest.param(dataset, marks=marks))
    return cases


@pytest.mark.parametrize("dataset", _target_cases())
def test_shipped_judge_meets_its_target(dataset):
    config = _config(dataset)
    assert config["test_accuracy"] >= judges.TARGET_ACCURACY[dataset]
    assert "misses" not in (JUDGES_ROOT / dataset / judges.CARD_NAME).read_text()


def test_a_missed_target_is_stated_in_the_card():
    for dataset in SHIPPED:
        config = _config(dataset)
        card = (JUDGES_ROOT / dataset / judges.CARD_NAME).read_text()
        if config["test_accuracy"] < judges.TARGET_ACCURACY[dataset]:
            assert "misses the" in card and "## Limits" in card


COMPASS = ["mnist", "fashion"]  # pretrained/judges/compass/<dataset>: trained, not in use yet


@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize(
    "dataset, folder",
    [(d, JUDGES_ROOT / d) for d in SHIPPED] + [(d, JUDGES_ROOT / "compass" / d) for d in COMPASS],
)
def test_shipped_judge_accuracy_reproduces_on_the_test_split(dataset, folder):
    from core.data import load_split

    config = json.loads((folder / judges.CONFIG_NAME).read_text())
    images, labels = load_split(dataset, "test")
    acc = accuracy(judges.load_judge(dataset, root=folder).net, images, labels)
    assert acc == pytest.approx(config["test_accuracy"], abs=2e-4)


@pytest.mark.parametrize("dataset", COMPASS)
def test_the_compass_judges_meet_the_compass_and_were_trained_by_their_recipe(dataset):
    """The candidates for the next judge swap: sha256-checked weights, the compass recipe as it
    is in the code (its command reproduces them), and a test accuracy at the target."""
    from dataclasses import asdict

    folder = JUDGES_ROOT / "compass" / dataset
    config = json.loads((folder / judges.CONFIG_NAME).read_text())
    recipe = judges.compass_recipe(dataset)
    assert config["recipe"] == json.loads(json.dumps(asdict(recipe)))
    assert config["command"].startswith(judges.judge_train_command(dataset, recipe) + " --out ")
    assert config["test_accuracy"] >= judges.TARGET_ACCURACY[dataset]
    sha = hashlib.sha256((folder / judges.WEIGHTS_NAME).read_bytes()).hexdigest()
    assert config["weights_sha256"] == sha and sha in (folder / judges.CARD_NAME).read_text()
    judge = judges.load_judge(dataset, root=folder)
    assert sha[:12] in judge.name and judge.net.arch.widths == (32, 64, 128)
    assert judge.name != judges.load_judge(dataset).name  # not the judge in use


def test_judge_api_shapes_and_batching(fake_judge_dir):
    judge = judges.load_judge("fake", root=fake_judge_dir)
    images = torch.rand(37, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    probs = judge.predict_proba(images)
    feats = judge.features(images)
    assert probs.shape == (37, 10) and feats.shape == (37, 16)
    assert torch.allclose(probs.sum(1), torch.ones(37, dtype=probs.dtype))
    judge.batch_size = 5
    assert torch.allclose(judge.predict_proba(images), probs, atol=1e-6)
    logits, feats2 = judge.logits_and_features(images)
    assert torch.allclose(feats2, feats, atol=1e-6)
    assert torch.allclose(torch.softmax(logits.double(), 1), probs, atol=1e-6)
    assert not judge.net.training


def test_save_judge_writes_a_consistent_card(fake_judge_dir):
    config = json.loads((fake_judge_dir / "config.json").read_text())
    sha = hashlib.sha256((fake_judge_dir / "model.safetensors").read_bytes()).hexdigest()
    assert config["weights_sha256"] == sha
    card = (fake_judge_dir / "card.md").read_text()
    assert sha in card and config["command"] in card
    assert re.search(r"Wall time: [0-9.]+ min", card)


def test_missing_judge_names_path_and_command(tmp_path):
    assert not judges.judge_available("mnist", root=tmp_path)
    with pytest.raises(WeightsError) as info:
        judges.load_judge("mnist", root=tmp_path)
    assert str(tmp_path) in str(info.value)
    assert "python -m core train-judge --dataset mnist" in str(info.value)
    with pytest.raises(ValueError, match="no judge for data set"):
        judges.load_judge("imagenet")


def test_tampered_weights_fail_the_sha256_check(fake_judge_dir, tmp_path):
    folder = tmp_path / "fake"
    shutil.copytree(fake_judge_dir, folder)
    blob = bytearray((folder / "model.safetensors").read_bytes())
    blob[-1] ^= 0xFF
    (folder / "model.safetensors").write_bytes(bytes(blob))
    with pytest.raises(WeightsError, match="sha256"):
        judges.load_judge("fake", root=folder)


def test_weights_that_do_not_match_the_arch_fail_strictly(fake_judge_dir, tmp_path):
    folder = tmp_path / "fake"
    shutil.copytree(fake_judge_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    config["arch"]["widths"] = [8, 32]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match="do not match"):
        judges.load_judge("fake", root=folder)


def test_augment_shifts_and_flips():
    gen = torch.Generator().manual_seed(0)
    x = torch.full((64, 1, 8, 8), -1.0)
    x[:, :, 3, 3] = 1.0  # one bright pixel
    out = shift_and_flip(x, shift=2, hflip=False, generator=gen)
    assert out.shape == x.shape
    rows, cols = torch.nonzero(out[:, 0] > 0, as_tuple=True)[1:]
    assert rows.min() >= 1 and rows.max() <= 5 and cols.min() >= 1 and cols.max() <= 5
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 5  # really random
    flipped = shift_and_flip(x, shift=0, hflip=True, generator=gen)
    moved = (flipped[:, 0, 3, 4] > 0).sum()
    assert 10 < moved < 54 and ((flipped[:, 0, 3, 3] > 0).sum() + moved) == 64


def test_inception_scorer_without_local_weights_says_where(monkeypatch, tmp_path):
    monkeypatch.setattr(judges, "inception_weights_path", lambda: tmp_path / "missing.pth")
    with pytest.raises(WeightsError, match="never downloads"):
        judges.inception_judge()


@pytest.mark.parametrize("precision", ["float32", "bf16"])
def test_a_judge_trains_at_its_recipes_precision_and_says_so(precision, tmp_path, monkeypatch):
    """Under bf16 the judge's convolutions run in bfloat16 while it trains (the loss, weights and
    SGD stay float32); the config, the reproducing command and the card record the precision."""
    import dataclasses

    from core.evaluate.judge_training import fit_judge, save_judge

    recipe = dataclasses.replace(judges.default_recipe("fake"), epochs=1, precision=precision)
    seen = []  # the dtype of the first convolution's output at each training step
    original_init = judges.JudgeNet.__init__

    def init(self, arch):
        original_init(self, arch)
        self.body[0].register_forward_hook(
            lambda m, i, out: seen.append(out.dtype) if m.training else None
        )

    monkeypatch.setattr(judges.JudgeNet, "__init__", init)
    net, info = fit_judge(recipe, log=lambda m: None)
    expected = torch.bfloat16 if precision == "bf16" else torch.float32
    assert seen and set(seen) == {expected}
    assert all(p.dtype == torch.float32 for p in net.parameters())
    config = save_judge(net, recipe, info, tmp_path / "fake")
    assert config["recipe"]["precision"] == precision
    card = (tmp_path / "fake" / judges.CARD_NAME).read_text()
    if precision == "bf16":
        assert " --precision bf16 " in config["command"]
        assert "bfloat16 autocast" in card
    else:
        assert "--precision" not in config["command"] and "bfloat16" not in card


def test_the_cli_names_the_recipe_and_precision_it_trained_with(tmp_path, capsys):
    """``train-judge --recipe compass`` is the wider recipe, and its command says so; the
    shipped recipe's command stays as it was; an unknown recipe is refused by name."""
    from core.__main__ import main

    compass = judges.compass_recipe("mnist")
    assert compass.arch != judges.default_recipe("mnist").arch
    assert judges.judge_train_command("mnist", compass).startswith(
        "python -m core train-judge --dataset mnist --recipe compass --precision bf16 --epochs 15"
    )
    assert "--recipe" not in judges.judge_train_command("mnist")
    with pytest.raises(ValueError, match="no compass judge recipe for 'cifar10'"):
        judges.compass_recipe("cifar10")
    assert main(["train-judge", "--dataset", "fake", "--recipe", "widest"]) != 0
    assert "--recipe 'widest'" in capsys.readouterr().err
    out = tmp_path / "fake"
    argv = ["train-judge", "--dataset", "fake", "--epochs", "1", "--precision", "bf16"]
    assert main(argv + ["--out", str(out)]) == 0
    config = json.loads((out / judges.CONFIG_NAME).read_text())
    assert config["recipe"]["precision"] == "bf16"
    assert config["command"] == (
        "python -m core train-judge --dataset fake --precision bf16 --epochs 1 --batch-size 128 "
        "--lr 0.05 --seed 0"
    )
