"""The one sampling path: per-seed latents follow the prior; grids tile in order."""

import numpy as np
import pytest
import torch
from scipy import special, stats

from core.models import GAN_PRESETS, build_model, model_config
from core.sampling import MAX_SEED, image_grid, latents_for_seeds, sample, seed_uniforms

EDGE_SEEDS = [0, 1, 2, 41, 12345, MAX_SEED, 2**31 - 1, 2**32, 2**32 + 5, 2**63 + 9]


def _fresh_generator_uniforms(seeds, width: int) -> torch.Tensor:
    """The definition of a seed's uniforms: a new CPU generator per seed, then torch.rand."""
    rows = [
        torch.rand(width, generator=torch.Generator().manual_seed(int(s)), dtype=torch.float64)
        for s in seeds
    ]
    return torch.stack(rows) if rows else torch.empty(0, width, dtype=torch.float64)


@pytest.mark.parametrize("width", [1, 32, 42, 102, 112, 700])  # 32-112: the presets' widths
def test_seed_uniforms_are_bit_identical_to_a_fresh_generator_per_seed(width):
    seeds = EDGE_SEEDS + list(range(100, 160))
    assert torch.equal(seed_uniforms(seeds, width), _fresh_generator_uniforms(seeds, width))
    assert seed_uniforms([], width).shape == (0, width)


def test_seed_uniforms_are_pinned():
    """torch's CPU generator (MT19937, 53-bit doubles) behind every shipped image: if a torch
    upgrade changes these, every seed gives a new image and the shipped grids go stale."""
    pinned = {
        0: [0.9700530018065531, 0.707819864399788, 0.45938294312745087],
        1: [0.06105327471962363, 0.2245545065676504, 0.23425251394483937],
        999_999: [0.7893761331564296, 0.3489937176563519, 0.17078699061126534],
    }
    got = seed_uniforms(list(pinned), 3)
    assert got.tolist() == list(pinned.values())


@pytest.mark.parametrize("preset", GAN_PRESETS)
@pytest.mark.parametrize(
    "override", [{}, {"component": 3}, {"df": 1.5}, {"df": float("inf")}, {"scale": 2.0}]
)
def test_latents_are_the_inverse_cdfs_of_each_seeds_uniforms(preset, override):
    """Seed s -> uniforms [component, chi-square, p normals, q codeword normals] -> draws, checked
    seed by seed against scipy's inverse CDFs: fails if any seed's latent changes."""
    model = build_model(model_config(preset, "fake", width=8), seed=0)
    prior, codewords = model.prior, model.codewords
    if "component" in override and prior.n_components <= 3:
        pytest.skip("a one-component prior has no component 3 to fix")
    seeds, labels = EDGE_SEEDS + list(range(40)), [i % 10 for i in range(len(EDGE_SEEDS) + 40)]
    lat = latents_for_seeds(model, seeds, labels, **override)
    p, q = prior.dim, codewords.dim if codewords is not None else 0
    u = _fresh_generator_uniforms(seeds, 2 + p + q).numpy().clip(1e-16, 1 - 1e-16)
    comp = override.get("component")
    comp = (u[:, 0] * prior.n_components).astype(int) if comp is None else np.full(len(u), comp)
    assert lat.component.tolist() == np.minimum(comp, prior.n_components - 1).tolist()
    df = override.get("df", prior.df)
    w = np.ones(len(u)) if df in (None, np.inf) else stats.chi2.ppf(u[:, 1], df) / df
    mu, sigma = prior.mu.detach().double().numpy(), prior.sigma.detach().double().numpy()
    t = special.ndtri(u[:, 2 : 2 + p]) / np.sqrt(w)[:, None]  # z = mu + scale sigma eps / sqrt(w)
    z = mu[comp] + override.get("scale", 1.0) * sigma[comp] * t
    torch.testing.assert_close(lat.z.double(), torch.from_numpy(z), rtol=2e-5, atol=2e-6)
    if q:
        means = codewords.mean(torch.tensor(labels)).double().numpy()
        cond = means + codewords.sd * special.ndtri(u[:, 2 + p :])
        torch.testing.assert_close(lat.cond.double(), torch.from_numpy(cond), rtol=0, atol=2e-6)


@pytest.mark.parametrize("n", [3, 7])
def test_one_batch_is_g_on_all_latents_and_batches_differ_by_rounding_only(n):
    """sample() decodes in batches of ``batch_size``: one batch is exactly G on every latent at
    once; a split changes an image by float rounding only (which is why the batch size, not
    just the seed, fixes an image's last bits)."""
    model = build_model(model_config("gan", "fake", width=8), seed=0).eval()
    seeds = list(range(10, 10 + n))
    whole = sample(model, seeds, batch_size=n)
    with torch.no_grad():
        assert torch.equal(whole.images, model.generate(whole.latents))
    split = sample(model, seeds, batch_size=2).images
    torch.testing.assert_close(whole.images, split, rtol=0, atol=1e-6)


def test_per_seed_latents_follow_the_multivariate_t():
    model = build_model(model_config("tgan", "fake", width=8), seed=0)
    n = 4000
    lat = latents_for_seeds(model, list(range(n)), [i % 10 for i in range(n)])
    prior = model.prior
    mu, sigma = prior.mu[lat.component], prior.sigma[lat.component]
    r2 = (((lat.z - mu) / sigma) ** 2).sum(1).detach().double().numpy() / prior.dim
    assert stats.kstest(r2, stats.f(prior.dim, prior.df).cdf).pvalue > 1e-3
    counts = torch.bincount(lat.component, minlength=prior.n_components).numpy()
    assert stats.chisquare(counts).pvalue > 1e-3  # components uniform, pi_i = 1/N
    # codeword noise is N(0, sd^2) around the class mean
    resid = (lat.cond - model.codewords.mean(lat.labels)) / model.codewords.sd
    assert stats.kstest(resid.flatten().numpy(), "norm").pvalue > 1e-3


def test_grid_places_image_i_at_row_i_div_nrow():
    images = torch.linspace(-1, 1, 7).view(7, 1, 1, 1).expand(7, 1, 3, 4).contiguous()
    grid = image_grid(images, nrow=3, pad=2)
    assert grid.shape == (3 * 5 + 2, 3 * 6 + 2, 1)
    expected = np.round((images[:, 0, 0, 0].numpy() + 1) * 127.5)
    for i in range(7):
        r, c = divmod(i, 3)
        tile = grid[2 + r * 5 : 2 + r * 5 + 3, 2 + c * 6 : 2 + c * 6 + 4, 0]
        assert (tile == expected[i]).all()
    assert grid[:2].max() == 0 and grid[:, :2].max() == 0  # padding stays black


@pytest.mark.parametrize(("b", "nrow", "pad"), [(1, None, 2), (3, 10, 2), (7, 4, 0), (100, 10, 2)])
def test_image_grid_tiles_row_major_with_black_padding(b, nrow, pad):
    """Tile k sits at row k // nrow, column k % nrow; padding and unused tiles are black;
    the grid keeps ``nrow`` columns even when there are fewer images (column k = class k)."""
    h, w = 3, 4
    values = torch.linspace(-0.9, 0.9, b)  # one distinct grey per image
    images = values.view(b, 1, 1, 1).expand(b, 1, h, w).contiguous()
    grid = image_grid(images, nrow, pad)
    cols = nrow or int(np.ceil(np.sqrt(b)))
    rows = int(np.ceil(b / cols))
    assert grid.shape == (rows * (h + pad) + pad, cols * (w + pad) + pad, 1)
    expected = np.zeros(grid.shape[:2], dtype=np.uint8)
    for k in range(b):
        top, left = pad + (k // cols) * (h + pad), pad + (k % cols) * (w + pad)
        grey = np.round((float(values[k]) + 1) * 127.5).clip(0, 255)
        expected[top : top + h, left : left + w] = grey
    assert np.abs(grid[..., 0].astype(int) - expected.astype(int)).max() <= 1
