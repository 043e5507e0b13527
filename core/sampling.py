"""The one sampling path, used by the CLI, the app, evaluation and the tests.

One seed per image: image i's randomness comes from ``torch.Generator().manual_seed(seeds[i])``
on the CPU, so an image depends on its own seed and label only (not on the batch it is in, nor
on the device the network runs on, up to float rounding).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn
from torchvision.utils import make_grid

from core.atomic import atomic_write_bytes
from core.data import to_uint8
from core.gan import LatentBatch

MAX_SEED = 1_000_000  # the largest seed the app and the Gradio demo accept


@dataclass(frozen=True)
class Samples:
    """images: (B, C, H, W) float32 in [-1, 1] on the CPU; labels (B,); latents where a prior
    produced them (GAN family), else None."""

    images: Tensor
    labels: Tensor
    latents: LatentBatch | None


def default_labels(n: int, n_classes: int) -> list[int]:
    """0, 1, ..., K-1, 0, 1, ... : the labels used when none are given."""
    return [i % n_classes for i in range(n)]


def _check(model: nn.Module, seeds: Sequence[int], labels: Sequence[int] | None) -> list[int]:
    k = model.config.n_classes
    if labels is None:
        labels = default_labels(len(seeds), k)
    labels = [int(x) for x in labels]
    if len(labels) != len(seeds):
        raise ValueError(
            f"got {len(seeds)} seeds but {len(labels)} labels; give one label per seed"
        )
    bad = [x for x in labels if not 0 <= x < k]
    if bad:
        raise ValueError(f"labels must be in [0, {k - 1}], got {bad[:5]}")
    return labels


def seed_uniforms(seeds: Sequence[int], width: int) -> Tensor:
    """(len(seeds), width) float64 uniforms in [0, 1): row i is
    ``torch.rand(width, generator=torch.Generator().manual_seed(seeds[i]), dtype=float64)``.

    One generator re-seeded per row and ``uniform_`` on a view of the row (what ``torch.rand``
    runs) cost about half the per-seed time of a new generator and ``torch.rand(out=...)``.
    """
    uniforms = torch.empty(len(seeds), width, dtype=torch.float64)
    gen = torch.Generator()
    for row, seed in zip(uniforms.unbind(), seeds):
        gen.manual_seed(int(seed))
        row.uniform_(generator=gen)
    return uniforms


def latents_for_seeds(
    model: nn.Module,
    seeds: Sequence[int],
    labels: Sequence[int] | None = None,
    *,
    component: int | None = None,
    df: float | None = None,
    scale: float = 1.0,
) -> LatentBatch:
    """The latents (and conditioning) of a GAN for one seed per image, with prior overrides.

    Seed s gives one block of float64 uniforms, ``seed_uniforms``: [component, chi-square,
    p normals, q codeword normals], turned into draws by inverse CDFs in one vectorised pass.
    """
    labels = _check(model, seeds, labels)
    prior = model.prior
    q = model.codewords.dim if model.codewords is not None else 0
    width = 2 + prior.dim + q
    uniforms = seed_uniforms(seeds, width)
    noise = prior.noise_from_uniforms(uniforms[:, : 2 + prior.dim], component=component, df=df)
    z = prior.transform(noise, scale)
    label_t = torch.tensor(labels, dtype=torch.long, device=prior.mu.device)
    cond_noise = None
    if q:
        u = uniforms[:, 2 + prior.dim :].clamp(1e-16, 1 - 1e-16)
        cond_noise = torch.special.ndtri(u).to(torch.float32)
    cond = model.condition(label_t, cond_noise)
    return LatentBatch(z, noise.component.to(prior.mu.device), label_t, cond)


@torch.no_grad()
def decode(model: nn.Module, latents: LatentBatch, batch_size: int = 500) -> Tensor:
    """G(z, c) in eval mode, in batches: images (B, C, H, W) in [-1, 1] on the CPU."""
    model.eval()
    n = latents.z.shape[0]
    if 0 < n <= batch_size:  # one batch: no slices, no copy through torch.cat
        return model.generate(latents).float().cpu()
    out = []
    for start in range(0, n, batch_size):
        part = LatentBatch(
            *(
                getattr(latents, f)[start : start + batch_size]
                for f in ("z", "component", "labels", "cond")
            )
        )
        out.append(model.generate(part).float().cpu())
    return torch.cat(out) if out else torch.empty(0, *model.config.image_shape)


@torch.no_grad()
def sample(
    model: nn.Module,
    seeds: Sequence[int],
    labels: Sequence[int] | None = None,
    *,
    component: int | None = None,
    df: float | None = None,
    scale: float = 1.0,
    batch_size: int = 500,
) -> Samples:
    """Images for one seed per image (and one label per seed; default 0..K-1 repeating).

    Overrides (GAN family): ``component`` fixes the mixture component, ``df`` the degrees of
    freedom, ``scale`` stretches z away from the component mean.
    """
    labels = _check(model, seeds, labels)
    if model.config.family != "gan":
        images = model.sample_images(list(seeds), labels, batch_size=batch_size)
        return Samples(images.float().cpu(), torch.tensor(labels), None)
    latents = latents_for_seeds(model, seeds, labels, component=component, df=df, scale=scale)
    return Samples(decode(model, latents, batch_size), latents.labels.cpu(), latents)


def parse_seeds(text: str) -> list[int]:
    """'0-63' -> [0..63]; '1,5,9' -> [1, 5, 9]; mixes allowed ('0-3,10'). Seeds are >= 0."""
    seeds: list[int] = []
    try:
        for part in filter(None, (p.strip() for p in str(text).split(","))):
            lo, _, hi = part.partition("-")
            first, last = int(lo), int(hi or lo)
            if first < 0 or last < first or last - first >= 1_000_000:
                raise ValueError
            seeds.extend(range(first, last + 1))
    except ValueError:
        raise ValueError(f"cannot read seeds {text!r}: use e.g. '0-63' or '1,5,9'") from None
    if not seeds:
        raise ValueError("no seeds given: use e.g. '0-63' or '1,5,9'")
    return seeds


def image_grid(images: Tensor, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile images (B, C, H, W) in [-1, 1] into one uint8 array (H', W', C) with C in {1, 3}:
    ``nrow`` columns (default about sqrt(B); kept even when B < nrow, so column k stays class
    k), ``pad`` black pixels around each image. torchvision's ``make_grid`` lays the tiles."""
    b, channels, h, w = images.shape
    nrow = nrow or max(1, int(np.ceil(np.sqrt(b))))
    rows = int(np.ceil(b / nrow))
    tiles = to_uint8(images)
    # make_grid drops empty columns and returns a lone image unpadded: fill with black tiles
    blank = max(nrow - b, 0) + (1 if max(b, nrow) == 1 else 0)
    tiles = torch.cat([tiles, tiles.new_zeros(blank, channels, h, w)]) if blank else tiles
    grid = make_grid(tiles, nrow=max(nrow, 2) if max(b, nrow) == 1 else nrow, padding=pad)
    grid = grid[:channels, : rows * (h + pad) + pad, : nrow * (w + pad) + pad]  # 1 channel: 1
    return grid.permute(1, 2, 0).numpy()


def save_grid(images: Tensor, path: str | os.PathLike, nrow: int | None = None) -> Path:
    """Write a PNG grid atomically; returns the path."""
    grid = image_grid(images, nrow)
    mode_img = Image.fromarray(grid[..., 0] if grid.shape[2] == 1 else grid)
    buf = io.BytesIO()
    mode_img.save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)
