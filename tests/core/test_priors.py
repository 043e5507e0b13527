"""Priors against scipy and closed forms (paper.md §1-§2)."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from core.priors import ClassCodewords, LatentPrior, sample_chi2, tail_mass


def make_prior(kind, dim=4, n=3, df=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    prior = LatentPrior(kind, dim, n_components=n, df=df, generator=gen)
    if kind != "gaussian":
        with torch.no_grad():  # distinct, non-trivial scales per component and dim
            prior.sigma.copy_(0.3 + torch.rand(prior.sigma.shape, generator=gen))
    return prior


@pytest.mark.parametrize(
    "kind,df", [("tmix", 3.0), ("tmix", 0.7), ("gmm", None), ("gaussian", None)]
)
def test_log_prob_matches_scipy(kind, df):
    prior = make_prior(kind, dim=5, n=4, df=df)
    z = torch.randn(200, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 2
    ours = prior.log_prob(z).detach().numpy()
    mu = prior.mu.double().detach().numpy()
    sig = prior.sigma.double().detach().numpy()
    comps = []
    for i in range(prior.n_components):
        cov = np.diag(sig[i] ** 2)
        if kind == "tmix":
            comps.append(stats.multivariate_t(loc=mu[i], shape=cov, df=df).logpdf(z.numpy()))
        else:
            comps.append(stats.multivariate_normal(mean=mu[i], cov=cov).logpdf(z.numpy()))
    ref = np.logaddexp.reduce(np.stack(comps), axis=0) - math.log(prior.n_components)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_chi2_sampler_matches_scipy():
    gen = torch.Generator().manual_seed(3)
    for df in (0.5, 1.0, 3.0, 30.0):
        draws = sample_chi2(20000, df, gen).numpy()
        assert stats.kstest(draws, stats.chi2(df).cdf).pvalue > 1e-3, df


def test_t_sampler_moments():
    # v > 4 so the fourth moment exists; covariance v/(v-2) Sigma.
    df, dim = 7.0, 6
    prior = make_prior("tmix", dim=dim, n=1, df=df)
    z, comp = prior.sample(200_000, torch.Generator().manual_seed(5))
    z = z.detach().double()
    mu, sig = prior.mu[0].double().detach(), prior.sigma[0].double().detach()
    assert (comp == 0).all()
    se_mean = sig * math.sqrt(df / (df - 2)) / math.sqrt(len(z))
    assert ((z.mean(0) - mu).abs() < 5 * se_mean).all()
    var = z.var(0)
    expected = df / (df - 2) * sig**2
    assert ((var / expected - 1).abs() < 0.05).all()


def test_t_sampler_is_elliptical_not_a_product_of_univariate_t():
    """||(z - mu)/sigma||^2 / p ~ F(p, v) for one chi-square per sample; a chi-square per
    coordinate (product of univariate t's) gives the wrong radial law and fails this test."""
    df, dim, n = 3.0, 10, 100_000
    prior = make_prior("tmix", dim=dim, n=1, df=df)
    z, _ = prior.sample(n, torch.Generator().manual_seed(7))
    r2 = (((z - prior.mu[0]) / prior.sigma[0]) ** 2).sum(1).detach().double().numpy() / dim
    assert stats.kstest(r2, stats.f(dim, df).cdf).pvalue > 1e-3
    # Tail frequencies against the closed form P(||x|| > r).
    radius = np.sqrt(r2 * dim)
    for r in (3.0, 6.0, 12.0):
        expected = float(tail_mass(r, dim, df))
        observed = (radius > r).mean()
        assert abs(observed - expected) < 5 * math.sqrt(expected * (1 - expected) / n) + 1e-4

    # The wrong construction (a chi-square per coordinate) is rejected by the same test.
    gen = torch.Generator().manual_seed(8)
    eps = torch.randn(n, dim, generator=gen, dtype=torch.float64)
    w = sample_chi2(n * dim, df, gen).reshape(n, dim) / df
    wrong = ((eps / w.sqrt()) ** 2).sum(1).numpy() / dim
    assert stats.kstest(wrong, stats.f(dim, df).cdf).pvalue < 1e-6


def test_gaussian_tail_mass_closed_form():
    for dim in (1, 2, 30):
        for r in (0.5, 2.0, 5.0):
            assert float(tail_mass(r, dim, None)) == pytest.approx(stats.chi2(dim).sf(r * r))
            assert float(tail_mass(r, dim, 4.0)) == pytest.approx(stats.f(dim, 4.0).sf(r * r / dim))


def test_gradients_reach_mu_and_sigma():
    for kind, df in (("tmix", 3.0), ("gmm", None)):
        prior = make_prior(kind, dim=3, n=5, df=df)
        z, _ = prior.sample(64, torch.Generator().manual_seed(0))
        (z**2).sum().backward()
        assert prior.mu.grad is not None and prior.mu.grad.abs().sum() > 0
        assert prior.sigma.grad is not None and prior.sigma.grad.abs().sum() > 0


def test_large_df_recovers_gaussian_mixture():
    gmm = make_prior("gmm", dim=4, n=3)
    tmix = make_prior("tmix", dim=4, n=3, df=1e9)
    with torch.no_grad():
        tmix.mu.copy_(gmm.mu)
        tmix.sigma.copy_(gmm.sigma)
    z = torch.randn(100, 4, dtype=torch.float64)
    np.testing.assert_allclose(
        tmix.log_prob(z).detach().numpy(), gmm.log_prob(z).detach().numpy(), rtol=1e-6
    )
    # Same seed, same component and eps draws: the samples converge too.
    a, ca = gmm.sample(1000, torch.Generator().manual_seed(4))
    b, cb = tmix.sample(1000, torch.Generator().manual_seed(4), df=1e12)
    assert torch.equal(ca, cb)
    assert torch.allclose(a, b, atol=1e-4)


def test_sampling_is_seeded_and_overrides_apply():
    prior = make_prior("tmix", dim=4, n=6, df=3.0)
    a = prior.sample(10, torch.Generator().manual_seed(1))
    b = prior.sample(10, torch.Generator().manual_seed(1))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    z, comp = prior.sample(10, torch.Generator().manual_seed(1), component=2)
    assert (comp == 2).all()
    near = prior.sample(10, torch.Generator().manual_seed(1), component=2, scale=1.0)[0]
    far = prior.sample(10, torch.Generator().manual_seed(1), component=2, scale=3.0)[0]
    mu = prior.mu[2]
    assert torch.allclose(far - mu, 3.0 * (near - mu), atol=1e-5)
    with pytest.raises(ValueError):
        prior.sample(2, torch.Generator(), component=6)
    with pytest.raises(ValueError):
        prior.sample(2, torch.Generator(), df=0.0)


def test_codewords_index_and_onehot_means_and_interpolation():
    cw = ClassCodewords(10, dim=10, mean="index", sd=0.2)
    assert torch.equal(cw.mean(torch.tensor([3]))[0], torch.full((10,), 3.0))
    c = cw.sample(torch.full((5000,), 4), torch.Generator().manual_seed(0))
    assert abs(c.mean().item() - 4.0) < 0.01 and abs(c.std().item() - 0.2) < 0.01
    t = torch.linspace(0, 1, 10)
    path = cw.interpolate(0, 9, t)
    assert torch.allclose(path[:, 0], 9 * t)  # passes through the means of classes 1..8
    assert torch.allclose(path[0], cw.mean(torch.tensor([0]))[0])
    assert torch.allclose(path[-1], cw.mean(torch.tensor([9]))[0])
    onehot = ClassCodewords(10, dim=12, mean="onehot", sd=0.0)
    assert torch.equal(onehot.sample(torch.tensor([2]), torch.Generator())[0], torch.eye(12)[2])
    sph = onehot.interpolate(1, 5, torch.tensor([0.0, 0.5, 1.0]), mode="spherical")
    assert torch.allclose(sph[0], torch.eye(12)[1]) and torch.allclose(sph[2], torch.eye(12)[5])
    assert sph[1].norm().item() == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError):
        ClassCodewords(10, dim=5, mean="onehot")
    with pytest.raises(ValueError):
        cw.mean(torch.tensor([10]))
