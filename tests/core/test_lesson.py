"""core.explore.lesson: densities pinned to scipy.stats, tail curves to Monte Carlo, the
mixture's parts to its whole, and the v -> infinity limit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from core.explore import lesson


@pytest.mark.parametrize("df", [0.7, 1.0, 3.0, 30.0])
def test_density_1d_matches_scipy(df):
    x = np.linspace(-12, 12, 97)
    np.testing.assert_allclose(lesson.density_1d(x, df), stats.t.pdf(x, df), rtol=1e-10)
    np.testing.assert_allclose(lesson.density_1d(x, None), stats.norm.pdf(x), rtol=1e-10)


def test_log_density_matches_scipy_multivariate_t():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 5)) * 3
    ref = stats.multivariate_t(loc=np.zeros(5), shape=np.eye(5), df=3.0).logpdf(x)
    np.testing.assert_allclose(lesson.log_density(x, 3.0), ref, rtol=1e-10)


def test_density_2d_is_a_density():
    grid = lesson.density_2d(3.0, extent=40.0, n=801)
    cell = (grid.x[1] - grid.x[0]) ** 2
    assert grid.density.sum() * cell == pytest.approx(1.0, abs=0.02)  # heavy tails beyond 40
    gauss = lesson.density_2d(None, extent=6.0, n=301)
    assert gauss.density.sum() * (gauss.x[1] - gauss.x[0]) ** 2 == pytest.approx(1.0, abs=1e-3)


def test_tail_curve_matches_monte_carlo_and_orders():
    dim, df = 10, 3.0
    z = lesson.standard_samples(20_000, dim, df, seed=1)
    norms = np.linalg.norm(z, axis=1)
    r = np.array([2.0, 4.0, 8.0])
    mc = (norms[:, None] > r[None, :]).mean(axis=0)
    np.testing.assert_allclose(lesson.tail_curve(r, dim, df), mc, atol=0.01)
    far = np.array([4.0, 8.0])  # beyond sqrt(p) the t holds more mass (below, less)
    assert np.all(lesson.tail_curve(far, dim, df) > lesson.tail_curve(far, dim, None))


def test_standard_samples_share_eps_and_one_radial_draw_per_sample():
    g = lesson.standard_samples(500, 4, None, seed=3)
    t = lesson.standard_samples(500, 4, 3.0, seed=3)
    ratio = t / g  # the same eps stretched by one factor per sample (multivariate, not product)
    np.testing.assert_allclose(ratio, ratio[:, :1].repeat(4, axis=1), rtol=1e-5)


def test_mixture_components_sum_to_the_mixture_and_tails_spread():
    heavy = lesson.mixture_2d(4, 1.0, seed=0, n_samples=2000)
    light = lesson.mixture_2d(4, None, seed=0, n_samples=2000)
    np.testing.assert_allclose(heavy.component_density.sum(0), heavy.grid.density, rtol=1e-12)
    np.testing.assert_allclose(heavy.means, light.means)  # same seed, same centres
    assert heavy.component_density.shape == (4, 101, 101)
    spread = lambda m: np.abs(m.samples - m.means[m.sample_component]).max()  # noqa: E731
    assert spread(heavy) > 3 * spread(light)


def test_gap_to_gaussian_shrinks_with_v():
    gaps = lesson.gap_to_gaussian(np.array([1.0, 10.0, 100.0, 1000.0]))
    assert np.all(np.diff(gaps) < 0)
    assert gaps[-1] < 1e-3
    assert lesson.tail_ratio(5.0, 2, 3.0) > 100


def test_bad_df_is_refused():
    with pytest.raises(ValueError, match="degrees of freedom"):
        lesson.density_1d(np.zeros(3), -1.0)
