"""Score curves (core/evaluate/curve.py): ``train --eval-every`` leaves the training bit for bit
as it was, survives a kill and a resume without a repeated step, scores what ``evaluate``
scores, fails early without a judge; ``plateau`` reads the curve."""

import pytest
import torch

from core.__main__ import main
from core.atomic import read_jsonl
from core.config import ConfigError, TrainConfig
from core.evaluate import judges
from core.evaluate.curve import CurveScorer, curve_span, curve_values, plateau, read_curve
from core.evaluate.scoring import evaluate_model
from core.models import build_model, model_config
from core.run_dir import SCORES_NAME, TrainingError
from core.train import train
from core.weights import read_safetensors

CURVE_KEYS = ("fd40", "fidelity40", "diversity40", "is40", "precision40", "recall40")


def test_a_curve_changes_nothing_the_run_trains(tmp_path, tiny_train_config, fake_judge):
    """Same weights, optimiser and RNG state (the checkpoint's bytes), same losses, with and
    without --eval-every; the curve has a point every N steps and at the last one."""
    overrides = {"width": 8}
    plain = train(
        tiny_train_config(steps=7), tmp_path / "plain", model_overrides=overrides, progress=False
    )
    cfg = tiny_train_config(steps=7, eval_every=3, eval_samples=40)
    curved = train(
        cfg, tmp_path / "curved", model_overrides=overrides, progress=False, judge=fake_judge
    )
    assert (plain / "model.safetensors").read_bytes() == (curved / "model.safetensors").read_bytes()
    # the checkpoint: weights, Adam, the noise and global RNG states (its wall time differs)
    a, b = (read_safetensors(run / "checkpoint.safetensors") for run in (plain, curved))
    assert a.keys() == b.keys() and {"rng.noise", "rng.torch"} <= a.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    drop = ("images_per_s", "wall_time")
    rows = [
        [{k: v for k, v in r.items() if k not in drop} for r in read_jsonl(run / "stats.jsonl")]
        for run in (plain, curved)
    ]
    assert rows[0] == rows[1]
    assert not (plain / SCORES_NAME).exists()
    curve = read_curve(curved)
    assert [r["step"] for r in curve] == [3, 6, 7]
    for row in curve:
        assert row["judge"] == fake_judge.name and row["n_samples"] == 40
        assert row["sample_seeds"] == "0-39" and row["wall_time"] >= 0 and row["eval_s"] >= 0
    # the run's clock is read before each scoring and runs on through it (rounded to 1 ms)
    for before, after in zip(curve, curve[1:], strict=False):
        assert after["wall_time"] >= before["wall_time"] + before["eval_s"] - 0.002
        for key in CURVE_KEYS:
            assert isinstance(row[key], float), key


def test_the_last_point_is_what_evaluate_scores(tmp_path, tiny_train_config, fake_judge):
    """The final point is ``evaluate --n 40`` of the finished run: the same seeds, labels,
    reference images and metric functions."""
    cfg = tiny_train_config(steps=4, eval_every=4, eval_samples=40)
    run = train(cfg, tmp_path / "r", model_overrides={"width": 8}, progress=False, judge=fake_judge)
    last = read_curve(run)[-1]
    result = evaluate_model(run, n=40, judge=fake_judge, write=False)["metrics"]
    for key in CURVE_KEYS:
        want = result[key]
        want = want["mean"] if isinstance(want, dict) else want
        assert last[key] == pytest.approx(want, rel=1e-9, abs=1e-12), key


def test_a_killed_run_resumes_its_curve_without_a_repeated_step(
    tmp_path, tiny_train_config, fake_judge
):
    cfg = tiny_train_config(steps=8, checkpoint_every=4, eval_every=2, eval_samples=40)
    kw = {"model_overrides": {"width": 8}, "progress": False, "judge": fake_judge}
    full = train(cfg, tmp_path / "full", **kw)
    part = tmp_path / "part"
    train(cfg, part, stop_after=6, **kw)  # killed after step 6: the checkpoint holds step 4
    assert [r["step"] for r in read_jsonl(part / SCORES_NAME)] == [2, 4, 6]
    with open(part / SCORES_NAME, "a") as fh:  # a torn line from the kill
        fh.write('{"step": 7, "fd4')
    train(cfg, part, resume=True, **kw)
    rows = read_jsonl(part / SCORES_NAME)
    assert [r["step"] for r in rows] == [2, 4, 6, 8]  # 6 dropped and scored again, once
    timing = ("wall_time", "eval_s")
    strip = lambda r: {k: v for k, v in r.items() if k not in timing}  # noqa: E731
    assert [strip(r) for r in rows] == [strip(r) for r in read_jsonl(full / SCORES_NAME)]


def test_no_judge_fails_before_the_run_dir_exists(tmp_path, monkeypatch, capsys, tiny_train_config):
    monkeypatch.setattr(judges, "JUDGES_ROOT", tmp_path / "judges")
    cfg = tiny_train_config(dataset="mnist", eval_every=100)
    with pytest.raises(TrainingError, match=r"judges/mnist.*train-judge --dataset mnist"):
        train(cfg, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
    argv = ["train", "--dataset", "mnist", "--eval-every", "100", "--run-dir", str(tmp_path / "c")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "python -m core train-judge --dataset mnist" in err
    assert str(tmp_path / "judges" / "mnist") in err and not (tmp_path / "c").exists()


def test_scoring_leaves_the_model_and_the_global_rng_as_they_were(fake_judge):
    """An unconditional model has no fidelity but a diversity over the judge's classes."""
    scorer = CurveScorer("fake", 40, judge=fake_judge)
    model = build_model(model_config("dcgan", "fake", width=8), seed=0).train()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    values = scorer.score(model)
    assert torch.equal(torch.get_rng_state(), state) and model.training
    assert values["fidelity40"] is None and values["diversity40"] > 0
    assert values == scorer.score(model)  # fixed seeds: the same model scores the same


def test_a_diverged_generator_scores_null_and_the_run_goes_on(tmp_path, fake_judge):
    scorer = CurveScorer("fake", 40, judge=fake_judge)
    model = build_model(model_config("dcgan", "fake", width=8), seed=0).train()
    with torch.no_grad():
        for p in model.generator.parameters():
            p.fill_(float("nan"))  # what a blown-up run looks like
    row = scorer.append(tmp_path, model, step=10, wall_time=1.0)
    assert row["fd40"] is None  # NaN is not JSON: it is written as null
    assert read_curve(tmp_path)[0]["step"] == 10


def test_eval_options_are_checked():
    with pytest.raises(ConfigError, match="eval_samples"):
        TrainConfig(eval_samples=10)
    with pytest.raises(ConfigError, match="eval_every"):
        TrainConfig(eval_every=-1)


def _curve(values, n=500, metric="fd"):
    return [
        {"step": 100 * (i + 1), "n_samples": n, f"{metric}500": v} for i, v in enumerate(values)
    ]


def test_plateau_is_the_spread_of_the_last_k_points():
    falling = _curve([9.0, 5.0, 3.0, 2.0, 1.5])
    flat = _curve([9.0, 5.0, 2.02, 2.0, 1.99, 2.01])
    assert not plateau(falling, k=3, tol=0.05)
    assert plateau(flat, k=4, tol=0.05)  # span 0.03 <= 5% of 2.01
    assert not plateau(flat, k=5, tol=0.05)  # 5.0 is in the window
    assert curve_span(flat, 4) == pytest.approx(0.03)
    assert plateau(flat, k=4, tol=0.031, relative=False)
    assert not plateau(flat, k=4, tol=0.02, relative=False)
    assert not plateau(flat[:3], k=4, tol=10.0)  # too few points to tell
    assert curve_span(flat[:3], 4) is None


def test_plateau_reads_any_metric_and_skips_missing_values():
    rows = _curve([0.5, 0.9, 0.91], metric="fidelity") + [
        {"step": 400, "n_samples": 500, "fidelity500": None}
    ]
    assert curve_values(rows, "fidelity") == [0.5, 0.9, 0.91]
    assert plateau(rows, k=2, tol=0.02, metric="fidelity", relative=False)
    assert curve_values(rows, "fd") == []
    with pytest.raises(ValueError, match="k must be"):
        plateau(rows, k=1)
    with pytest.raises(ValueError, match="tol"):
        plateau(rows, k=2, tol=-1.0)
