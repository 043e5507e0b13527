"""The one sampling path: per-seed latents follow the prior; grids tile in order."""

import numpy as np
import pytest
import torch
from scipy import stats

from core.models import build_model, model_config
from core.sampling import image_grid, latents_for_seeds


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
