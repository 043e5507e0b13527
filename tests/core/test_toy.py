"""The 2-D toy GAN (core/explore/toy.py, toy_study.py): priors feed G with gradients, data sets are
what the docstring says, the VEEGAN / PacGAN metrics against closed forms, determinism per seed,
the CLI, the resumable study and its verdict rule."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from scipy import stats

from core.explore import toy, toy_study
from core.explore.toy import TOY_DATASETS, ToyConfig, ToyTrainer, toy_dataset, toy_metrics

GAUSSIAN_HQ = 1 - math.exp(-(toy.HQ_RADIUS**2) / 2)  # P(||eps|| < 3) for eps ~ N(0, I_2)


@pytest.mark.parametrize("prior", ["gmm", "tmix"])
def test_prior_samples_feed_g_with_gradients_to_mu_and_sigma(prior):
    trainer = ToyTrainer(ToyConfig(prior=prior, df=3.0))
    z, _ = trainer.prior.sample(64, torch.Generator().manual_seed(0))
    trainer.generator_net(z).pow(2).sum().backward()
    for p in (trainer.prior.mu, trainer.prior.sigma):
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
    mu, sigma = trainer.prior.mu.detach().clone(), trainer.prior.sigma.detach().clone()
    trainer.step(3)  # the training step moves them too (they are in G's optimiser)
    assert not torch.equal(mu, trainer.prior.mu) and not torch.equal(sigma, trainer.prior.sigma)


def test_gaussian_prior_is_the_standard_normal_and_learns_nothing():
    trainer = ToyTrainer(ToyConfig(prior="gaussian"))
    assert not list(trainer.prior.parameters())
    assert torch.equal(trainer.prior.mu, torch.zeros(1, 2))
    assert torch.equal(trainer.prior.sigma, torch.ones(1, 2))


def test_mode_centres_are_what_the_docstring_says():
    angle = 2 * np.pi * np.arange(8) / 8
    ring = 2 * np.stack([np.cos(angle), np.sin(angle)], 1)
    for name in ("ring8", "imbalanced", "heavy"):
        np.testing.assert_allclose(TOY_DATASETS[name].centres, ring, atol=1e-12)
    grid = {tuple(c) for c in TOY_DATASETS["grid25"].centres}
    assert grid == {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    spiral = TOY_DATASETS["spiral"].centres
    r, theta = np.linalg.norm(spiral, axis=1), np.unwrap(np.arctan2(spiral[:, 1], spiral[:, 0]))
    np.testing.assert_allclose(r, 0.35 * (theta - theta[0] + math.pi / 2), atol=1e-9)
    assert len(spiral) == 20 and len(TOY_DATASETS["moons"].centres) == 16
    sds = {n: d.sd for n, d in TOY_DATASETS.items()}
    assert sds == {
        "ring8": 0.05,
        "grid25": 0.1,
        "spiral": 0.1,
        "moons": 0.08,
        "imbalanced": 0.05,
        "heavy": 0.05,
    }
    w = TOY_DATASETS["imbalanced"].weights
    assert math.isclose(w.sum(), 1.0) and np.allclose(w[1:] / w[0], 20.0)


@pytest.mark.parametrize("name", list(TOY_DATASETS))
def test_points_scatter_around_their_centres_with_the_stated_sd(name):
    data = toy_dataset(name)
    points, mode = toy.sample_data(data, 40_000, torch.Generator().manual_seed(1))
    offset = (points.double().numpy() - data.centres[mode.numpy()]) / data.sd
    counts = np.bincount(mode.numpy(), minlength=data.n_modes)
    assert stats.chisquare(counts, data.weights * len(mode)).pvalue > 1e-4
    radius2 = (offset**2).sum(1) / 2
    if data.df is None:  # ||offset||^2 ~ chi2_2, i.e. ||offset||^2 / 2 ~ F(2, inf)
        assert stats.kstest(2 * radius2, stats.chi2(2).cdf).pvalue > 1e-4
        assert abs(offset.std() - 1) < 0.02
    else:  # elliptical t: ||offset||^2 / 2 ~ F(2, v)
        assert stats.kstest(radius2, stats.f(2, data.df).cdf).pvalue > 1e-4


def test_data_points_are_fixed_by_the_data_sets_seed():
    a, b = toy.data_points(toy_dataset("grid25")), toy.data_points(toy_dataset("grid25"))
    assert torch.equal(a, b) and a.shape == (toy.DATA_POINTS, 2)
    assert not torch.equal(a, toy.data_points(toy_dataset("ring8"))[:, :2])


@pytest.mark.parametrize("name", list(TOY_DATASETS))
def test_metrics_on_the_data_itself_cover_every_mode(name):
    data = toy_dataset(name)
    samples = toy.sample_data(data, toy.EVAL_SAMPLES, torch.Generator().manual_seed(7))[0]
    m = toy_metrics(samples, data)
    assert m.modes_covered == m.n_modes == data.n_modes
    expected = GAUSSIAN_HQ if data.df is None else stats.f(2, data.df).cdf(toy.HQ_RADIUS**2 / 2)
    se = math.sqrt(expected * (1 - expected) / len(samples))
    assert abs(m.high_quality - expected) < 4 * se + 1e-9
    assert 0 <= m.reverse_kl < 0.02
    assert abs(m.energy_distance) < 0.02  # another draw of the same law


def test_high_quality_on_gaussian_data_is_the_2d_three_sigma_mass():
    # 98.9% in 2-D (radial 3 sd), not the 1-D 99.7%.
    data = toy_dataset("ring8")
    samples = toy.sample_data(data, 200_000, torch.Generator().manual_seed(3))[0]
    _, good = toy.mode_histogram(samples.numpy(), data)
    assert abs(good.mean() - GAUSSIAN_HQ) < 0.001 and GAUSSIAN_HQ < 0.990


def test_a_one_mode_collapse_covers_one_mode():
    data = toy_dataset("ring8")
    g = torch.Generator().manual_seed(0)
    collapsed = torch.as_tensor(data.centres[3]).float() + 0.01 * torch.randn(2500, 2, generator=g)
    m = toy_metrics(collapsed, data)
    assert m.modes_covered == 1 and m.high_quality == 1.0
    assert math.isclose(m.reverse_kl, math.log(8), rel_tol=1e-12)  # KL(delta || uniform on 8)
    assert m.energy_distance > 1.0


def test_reverse_kl_is_scipys_and_its_empty_histogram_value():
    counts, weights = np.array([5, 0, 3, 2]), np.array([0.1, 0.2, 0.3, 0.4])
    assert math.isclose(toy.reverse_kl(counts, weights), stats.entropy(counts / 10, weights))
    assert math.isclose(toy.reverse_kl(np.zeros(4, int), weights), math.log(10))


def test_energy_distance_matches_the_formula():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    y = torch.tensor([[3.0, 1.0], [-1.0, -1.0]])
    xs, ys = x.double().numpy(), y.double().numpy()
    d = lambda a, b: float(np.linalg.norm(a - b))  # noqa: E731
    xy = np.mean([d(a, b) for a in xs for b in ys])
    xx = np.mean([d(a, b) for i, a in enumerate(xs) for j, b in enumerate(xs) if i != j])
    yy = np.mean([d(a, b) for i, a in enumerate(ys) for j, b in enumerate(ys) if i != j])
    assert math.isclose(toy.energy_distance(x, y), 2 * xy - xx - yy, rel_tol=1e-9)
    a, b = torch.zeros(50, 2), torch.ones(50, 2)
    assert math.isclose(toy.energy_distance(a, b), 2 * math.sqrt(2), rel_tol=1e-9)


def test_a_short_run_is_deterministic_per_seed():
    def run(seed: int):
        t = ToyTrainer(ToyConfig(data="grid25", prior="tmix", df=3.0, seed=seed))
        t.step(15)
        return [p.detach().clone() for p in t.generator_net.parameters()], t.evaluate()

    (w1, m1), (w2, m2), (w3, _) = run(4), run(4), run(5)
    assert all(torch.equal(a, b) for a, b in zip(w1, w2)) and m1 == m2
    assert not all(torch.equal(a, b) for a, b in zip(w1, w3))


def test_looking_does_not_change_training():
    a, b = ToyTrainer(ToyConfig(seed=2)), ToyTrainer(ToyConfig(seed=2))
    a.step(5)
    a.snapshot()
    a.step(5)
    b.step(10)
    assert all(
        torch.equal(p, q)
        for p, q in zip(a.discriminator.parameters(), b.discriminator.parameters())
    )


def test_snapshot_shapes():
    snap = ToyTrainer(ToyConfig(prior="gmm", n_components=10)).snapshot(n_show=100, grid_n=20)
    assert snap.real.shape == snap.fake.shape == snap.latent.shape == (100, 2)
    assert snap.component.shape == (100,) and snap.component.max() < 10
    assert snap.d_prob.shape == (20, 20) and ((snap.d_prob >= 0) & (snap.d_prob <= 1)).all()
    assert snap.warp.shape[1:] == (64, 2) and snap.mu.shape == snap.sigma.shape == (10, 2)


def test_history_keeps_one_entry_per_snapshotted_step():
    trainer = ToyTrainer(ToyConfig(prior="tmix"))
    trainer.snapshot(n_show=10, grid_n=4)
    trainer.snapshot(n_show=10, grid_n=4)  # the same step again: not a new point
    trainer.step(2)
    snap = trainer.snapshot(n_show=10, grid_n=4)
    assert [s for s, _ in trainer.history] == [0, 2]
    assert trainer.history[-1][1] == snap.metrics == trainer.evaluate()


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"data": "rings"}, "--data"), ({"prior": "t"}, "--prior"), ({"df": 0.0}, "df")],
)
def test_bad_configs_name_the_option(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        ToyConfig(**kwargs)


def test_cli_toy_prints_one_json_object(capsys):
    from core.__main__ import main

    assert main(["toy", "--data", "ring8", "--prior", "gmm", "--steps", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {
        "modes_covered",
        "n_modes",
        "high_quality",
        "reverse_kl",
        "energy_distance",
        "steps",
        "seconds",
        "steps_per_s",
    }
    assert out["n_modes"] == 8 and out["steps"] == 5


@pytest.mark.parametrize(
    "argv",
    [["--data", "rings"], ["--steps", "0"], ["--df", "-1"], ["--prior", "x"], ["--seed", "a"]],
)
def test_cli_toy_bad_options_give_one_error_line(argv, capsys):
    from core.__main__ import main

    try:
        code = main(["toy", "--steps", "1", *argv])
    except SystemExit as exc:  # argparse's own checks
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error:")


def test_the_study_resumes_from_its_runs_file(tmp_path):
    rows = toy_study.run_study(tmp_path, steps=3, seeds=2, datasets=("ring8",), log=lambda m: None)
    assert len(rows) == 2 * len(toy_study.STUDY_PRIORS)
    lines = (tmp_path / toy_study.RUNS_NAME).read_text().splitlines()
    again = toy_study.run_study(tmp_path, steps=3, seeds=2, datasets=("ring8",), log=lambda m: None)
    assert again == rows and (tmp_path / toy_study.RUNS_NAME).read_text().splitlines() == lines
    path = toy_study.write_outputs(tmp_path, rows, 3, 2, "python -m core toy-study --steps 3")
    text = toy_study.study_markdown(path)
    assert "| ring8 | tmix-v3 | 2 |" in text and "C5 in 2-D" in text
    assert (tmp_path / "study.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _cell(data: str, prior: str, modes: list[float], rkl: list[float]) -> dict:
    stat = lambda v: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1))}  # noqa: E731
    return {
        "data": data,
        "prior": prior,
        "seeds": len(modes),
        "modes_covered": stat(modes),
        "reverse_kl": stat(rkl),
    }


def test_c5_verdict_uses_two_standard_errors():
    t = _cell("ring8", "tmix-v3", [8, 8, 7, 8], [0.1, 0.12, 0.2, 0.1])
    clear = _cell("ring8", "gmm", [5, 4, 5, 6], [0.1, 0.12, 0.2, 0.1])
    assert toy_study.c5_verdict([t, clear])["verdict"] == "confirmed"
    close = _cell("ring8", "gmm", [8, 7, 7, 8], [0.1, 0.12, 0.2, 0.1])
    assert toy_study.c5_verdict([t, close])["verdict"].startswith("not confirmed (no gap")
    worse = _cell("ring8", "gmm", [8, 8, 8, 8], [0.01, 0.02, 0.01, 0.02])
    assert toy_study.c5_verdict([t, worse])["verdict"] == "not confirmed"


def test_the_report_carries_the_study_section_when_it_exists(tmp_path):
    from core.evaluate.report import build_report

    zoo = tmp_path / "pretrained"
    zoo.mkdir()
    md, csv = zoo / "RESULTS.md", zoo / "results.csv"
    build_report([zoo], md, csv)
    assert "2-D toy study" not in md.read_text()
    rows = toy_study.run_study(zoo / "toy", steps=2, seeds=2, datasets=("heavy",), log=print)
    toy_study.write_outputs(zoo / "toy", rows, 2, 2, "python -m core toy-study --steps 2")
    build_report([zoo], md, csv)
    text = md.read_text()
    assert "## The 2-D toy study" in text and "| heavy | gmm | 2 |" in text
    assert "![toy study](toy/study.png)" in text


def test_findings_name_the_leaders_and_the_comparison():
    hq = {"mean": 0.5, "sd": 0.1}
    t = {
        **_cell("ring8", "tmix-v3", [8, 8, 7, 8], [0.1, 0.12, 0.2, 0.1]),
        "n_modes": 8,
        "high_quality": {"mean": 0.2, "sd": 0.05},
    }
    g = {
        **_cell("ring8", "gmm", [5, 4, 5, 6], [0.1, 0.12, 0.2, 0.1]),
        "n_modes": 8,
        "high_quality": hq,
    }
    (line,) = toy_study.findings([t, g])
    assert line.startswith("ring8: most modes covered by tmix-v3 (7.8 of 8)")
    assert "most high-quality samples from gmm (50.0%)" in line
    assert "modes better, high quality worse, reverse KL tie" in line
