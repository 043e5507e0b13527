"""Editing one latent by hand (the app's latent sliders).

A latent of a mixture prior is z = mu_c + scale * sigma_c * d, with d = eps / sqrt(u / v) the
standardised deviation from its component's mean. Sliders edit d (in units of sigma_c), either
coordinate by coordinate or along the leading principal directions of d over many prior draws;
``scale`` (the radius control) pushes z outward into the tails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from core.gan import LatentBatch
from core.sampling import decode, latents_for_seeds


@dataclass(frozen=True)
class SeedLatent:
    """One seed's draw: component c, label, standardised deviation d (p,), conditioning (q,)."""

    component: int
    label: int
    deviation: np.ndarray
    cond: Tensor


def seed_latent(
    model: nn.Module,
    seed: int,
    label: int,
    *,
    df: float | None = None,
    component: int | None = None,
) -> SeedLatent:
    """The latent of ``seed`` (and its class ``label``) in standardised form."""
    lat = latents_for_seeds(model, [seed], [label], df=df, component=component)
    comp = int(lat.component[0])
    mu, sigma = model.prior.mu[comp], model.prior.sigma[comp]
    d = ((lat.z[0] - mu) / sigma).detach().double().numpy()
    return SeedLatent(comp, int(label), d, lat.cond[0].detach())


@torch.no_grad()
def decode_deviations(
    model: nn.Module, base: SeedLatent, deviations: np.ndarray, scale: float = 1.0
) -> Tensor:
    """Images G(mu_c + scale * sigma_c * d, cond) for each row d of ``deviations`` (B, p);
    returns (B, C, H, W) in [-1, 1]."""
    d = torch.as_tensor(np.asarray(deviations, dtype=np.float32))
    if d.ndim != 2 or d.shape[1] != model.prior.dim:
        raise ValueError(f"deviations must be (B, {model.prior.dim}), got {tuple(d.shape)}")
    b = d.shape[0]
    comp = torch.full((b,), base.component, dtype=torch.long)
    z = model.prior.mu[comp] + float(scale) * model.prior.sigma[comp] * d.to(model.prior.mu)
    labels = torch.full((b,), base.label, dtype=torch.long)
    cond = base.cond.reshape(1, -1).expand(b, -1)
    return decode(model, LatentBatch(z, comp, labels, cond))


def principal_directions(
    model: nn.Module, k: int, n: int = 2000, seed: int = 0, df: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The k leading principal directions (k, p) of standardised deviations d over n prior draws,
    and the standard deviation of d along each (k,). Orthonormal rows."""
    gen = torch.Generator().manual_seed(int(seed))
    noise = model.prior.draw_noise(n, gen, df=df)
    d = (noise.eps * noise.chi2_over_df.rsqrt().unsqueeze(1)).double().numpy()
    d = d - d.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(d, full_matrices=False)
    k = min(k, vt.shape[0])
    return vt[:k], s[:k] / np.sqrt(max(n - 1, 1))


def apply_sliders(
    deviation: np.ndarray, values: Sequence[float], directions: np.ndarray
) -> np.ndarray:
    """A new deviation (p,): d + sum_j values[j] * directions[j] (directions (k, p); the identity's
    rows move coordinates one by one, principal directions move along the prior's main axes)."""
    d = np.asarray(deviation, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    return d + vals @ np.asarray(directions, dtype=np.float64)[: len(vals)]


def coordinate_directions(dim: int, k: int) -> np.ndarray:
    """(k, dim) the first k coordinate axes."""
    return np.eye(dim)[:k]


def neighbours(deviation: np.ndarray, n: int = 8, step: float = 0.5, seed: int = 0) -> np.ndarray:
    """(n, p) nearby deviations d + step * e_j, e_j seeded standard normal directions."""
    rng = np.random.default_rng(int(seed))
    d = np.asarray(deviation, dtype=np.float64)
    return d[None, :] + step * rng.standard_normal((n, d.shape[0]))
