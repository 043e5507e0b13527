"""Codeword interpolation: G(z', c(t)) for t from 0 to 1 between two classes' codewords
(paper.md §2), as frames and as an animated GIF.

z' is one prior draw (from ``seed_a``), or the path between the draws of ``seed_a`` and
``seed_b`` (same mode as the codewords). For models conditioned on a learned embedding or a
one-hot vector, the conditioning vectors are interpolated the same way; unconditional models
only interpolate z'.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from core.gan import LatentBatch
from core.priors import slerp
from core.sampling import decode, image_grid, latents_for_seeds

MODES = ("linear", "spherical")


def _path(a: Tensor, b: Tensor, t: Tensor, mode: str) -> Tensor:
    """(T, d) path between vectors a, b (d,) at t (T,)."""
    t = t.reshape(-1, 1).to(a.dtype)
    if mode == "spherical":
        return slerp(a, b, t)
    return (1 - t) * a + t * b


@dataclass(frozen=True)
class Interpolation:
    """t (T,) in [0, 1]; latents (what went into G); images (T, C, H, W) in [-1, 1]."""

    t: Tensor
    latents: LatentBatch
    images: Tensor


def codeword_latents(
    model: nn.Module,
    class_a: int,
    class_b: int,
    n_frames: int,
    seed_a: int = 0,
    seed_b: int | None = None,
    mode: str = "linear",
) -> tuple[Tensor, LatentBatch]:
    """t (T,) and the latents of T frames from class_a to class_b; see the module docstring."""
    if mode not in MODES:
        raise ValueError(f"interpolation mode must be one of {MODES}, got {mode!r}")
    if n_frames < 2:
        raise ValueError(f"need at least 2 frames, got {n_frames}")
    k = model.config.n_classes
    for name, c in (("class_a", class_a), ("class_b", class_b)):
        if not 0 <= int(c) < k:
            raise ValueError(f"{name} must be in [0, {k - 1}], got {c}")
    seed_b = seed_a if seed_b is None else seed_b
    t = torch.linspace(0.0, 1.0, n_frames)
    ends = latents_for_seeds(model, [seed_a, seed_b], [class_a, class_b])
    z = (
        _path(ends.z[0], ends.z[1], t, mode)
        if seed_b != seed_a
        else ends.z[:1].expand(n_frames, -1)
    )
    cond_dim = ends.cond.shape[1]
    if cond_dim == 0:
        cond = ends.cond[:1].expand(n_frames, 0)
    elif model.codewords is not None:
        # One shared codeword noise draw (seed_a's), as paper.md §2 describes.
        noise = (ends.cond[0] - model.codewords.mean(torch.tensor([class_a]))[0]) / max(
            model.codewords.sd, 1e-12
        )
        noise = noise if model.codewords.sd > 0 else None
        cond = model.codewords.interpolate(class_a, class_b, t, noise, mode=mode)
    else:
        cond = _path(ends.cond[0], ends.cond[1], t, mode)
    labels = torch.where(t < 0.5, class_a, class_b).long()
    component = torch.full((n_frames,), int(ends.component[0]), dtype=torch.long)
    return t, LatentBatch(z.contiguous(), component, labels, cond.contiguous())


def interpolate(
    model: nn.Module,
    class_a: int,
    class_b: int,
    n_frames: int = 9,
    seed_a: int = 0,
    seed_b: int | None = None,
    mode: str = "linear",
) -> Interpolation:
    """Frames G(z'(t), c(t)) between two classes; images (T, C, H, W) in [-1, 1]."""
    t, latents = codeword_latents(model, class_a, class_b, n_frames, seed_a, seed_b, mode)
    return Interpolation(t, latents, decode(model, latents))


def strip(images: Tensor, pad: int = 2) -> np.ndarray:
    """One row of frames: uint8 (H, W', C)."""
    return image_grid(images, nrow=images.shape[0], pad=pad)


def gif_bytes(images: Tensor, frame_ms: int = 120, upscale: int = 4, bounce: bool = True) -> bytes:
    """An animated GIF (looping; forth and back when ``bounce``) of frames (T, C, H, W)."""
    from PIL import Image

    if images.shape[0] < 1:
        raise ValueError("no frames to animate")
    frames = []
    for i in range(images.shape[0]):
        tile = image_grid(images[i : i + 1], nrow=1, pad=0)
        img = Image.fromarray(tile[..., 0] if tile.shape[2] == 1 else tile)
        frames.append(img.resize((img.width * upscale, img.height * upscale), Image.NEAREST))
    if bounce and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    buf = io.BytesIO()
    frames[0].save(
        buf, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0
    )
    return buf.getvalue()
