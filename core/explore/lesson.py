"""The heavy-tail lesson's numbers: Gaussian vs Student-t densities in 1-D and 2-D, tail mass
curves, side-by-side samples, a 2-D mixture of t with its components, and the v -> infinity limit.
paper.md §1. Everything returns NumPy arrays (float64) ready to plot.

Densities are written out from the formula (not scipy) so the page's formula and the code match;
the tests pin them to scipy.stats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from core.priors import LatentPrior, tail_mass


def _check_df(df: float | None) -> None:
    if df is not None and not df > 0:
        raise ValueError(f"degrees of freedom must be > 0 (or None for Gaussian), got {df}")


def log_density(x: np.ndarray, df: float | None) -> np.ndarray:
    """log density of the standard p-dim Gaussian (df None or inf) or Student-t at points
    x (n, p) (mu = 0, Sigma = I): returns (n,)."""
    _check_df(df)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    p = x.shape[1]
    sq = np.sum(x * x, axis=1)
    if df is None or math.isinf(df):
        return -0.5 * p * math.log(2 * math.pi) - 0.5 * sq
    v = float(df)
    const = math.lgamma((v + p) / 2) - math.lgamma(v / 2) - 0.5 * p * math.log(v * math.pi)
    return const - 0.5 * (v + p) * np.log1p(sq / v)


def density_1d(x: np.ndarray, df: float | None) -> np.ndarray:
    """(n,) density of the standard 1-D Gaussian (df None) or Student-t at x (n,)."""
    return np.exp(log_density(np.asarray(x, dtype=np.float64)[:, None], df))


@dataclass(frozen=True)
class Grid2D:
    """A density on a square grid: x (n,), y (n,), density (n, n) with density[i, j] at
    (x[j], y[i]) (Plotly's contour convention)."""

    x: np.ndarray
    y: np.ndarray
    density: np.ndarray


def density_2d(df: float | None, extent: float = 4.0, n: int = 121) -> Grid2D:
    """Standard 2-D Gaussian (df None) or Student-t density on [-extent, extent]^2."""
    axis = np.linspace(-extent, extent, n)
    xx, yy = np.meshgrid(axis, axis)
    pts = np.stack([xx.ravel(), yy.ravel()], axis=1)
    return Grid2D(axis, axis, np.exp(log_density(pts, df)).reshape(n, n))


def tail_curve(radii: np.ndarray, dim: int, df: float | None) -> np.ndarray:
    """(n,) P(||z|| > r) for standard z in ``dim`` dims at each radius (closed form)."""
    _check_df(df)
    return tail_mass(torch.as_tensor(np.asarray(radii, dtype=np.float64)), dim, df).numpy()


def standard_samples(n: int, dim: int, df: float | None, seed: int) -> np.ndarray:
    """(n, dim) draws of the standard Gaussian (df None) or multivariate Student-t, seeded.
    Both use the same eps, so the t draws are the Gaussian draws stretched by 1/sqrt(u/v)."""
    _check_df(df)
    prior = LatentPrior("gaussian", dim)
    gen = torch.Generator().manual_seed(int(seed))
    z, _ = prior.sample(n, gen, df=df)
    return z.double().numpy()


@dataclass(frozen=True)
class Mixture2D:
    """A 2-D mixture of t with N components: means (N, 2), sigmas (N, 2), the mixture density
    and each component's weighted density on one grid, and seeded samples with their component."""

    means: np.ndarray
    sigmas: np.ndarray
    grid: Grid2D
    component_density: np.ndarray  # (N, n, n), weighted by 1/N; sums to grid.density
    samples: np.ndarray  # (m, 2)
    sample_component: np.ndarray  # (m,) int


def mixture_2d(
    n_components: int,
    df: float | None,
    seed: int,
    n_samples: int = 600,
    sigma: float = 0.3,
    extent: float = 3.0,
    n: int = 101,
) -> Mixture2D:
    """A 2-D mixture of t (df None: Gaussian mixture) with DeLiGAN-style means mu_i ~ U(-1, 1)^2
    spread x1.5, equal scales ``sigma``; same seed, same means whatever df is."""
    _check_df(df)
    gen = torch.Generator().manual_seed(int(seed))
    prior = LatentPrior("tmix", 2, n_components=n_components, df=3.0, generator=gen)
    with torch.no_grad():
        prior.mu.mul_(1.5)
        prior.sigma.fill_(float(sigma))
    axis = np.linspace(-extent, extent, n)
    xx, yy = np.meshgrid(axis, axis)
    pts = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], axis=1), dtype=torch.float64)
    # component_log_prob uses the prior's own df: swap in the lesson's (None = Gaussian).
    prior.df = None if df is None or math.isinf(df) else float(df)
    with torch.no_grad():
        comp = prior.component_log_prob(pts).numpy() - math.log(n_components)
        z, c = prior.sample(n_samples, torch.Generator().manual_seed(int(seed) + 1), df=df)
    comp_density = np.exp(comp).T.reshape(n_components, n, n)
    return Mixture2D(
        means=prior.mu.detach().double().numpy(),
        sigmas=prior.sigma.detach().double().numpy(),
        grid=Grid2D(axis, axis, comp_density.sum(axis=0)),
        component_density=comp_density,
        samples=z.detach().double().numpy(),
        sample_component=c.numpy(),
    )


def gap_to_gaussian(dfs: np.ndarray, x_max: float = 6.0, n: int = 2001) -> np.ndarray:
    """(len(dfs),) sup_x |t_v(x) - N(x)| on [-x_max, x_max] in 1-D: goes to 0 as v -> infinity
    (t_v converges to the standard normal)."""
    x = np.linspace(-x_max, x_max, n)
    gauss = density_1d(x, None)
    return np.array([np.max(np.abs(density_1d(x, float(v)) - gauss)) for v in dfs])


def tail_ratio(r: float, dim: int, df: float) -> float:
    """P_t(||z|| > r) / P_gauss(||z|| > r): how many times more often the t lands beyond r."""
    t = float(tail_curve(np.array([r]), dim, df)[0])
    g = float(tail_curve(np.array([r]), dim, None)[0])
    return t / g if g > 0 else math.inf
