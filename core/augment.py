"""Augmentation, all of it: DiffAugment (Zhao et al. 2020: colour, translation, cutout, applied
differentiably to every image D sees, real and fake, so D cannot memorise a small training set)
and the judges' training augmentation (shift + horizontal flip). Every draw comes from the
caller's ``torch.Generator``, so a run's augmentation is a pure function of its seed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from core.config import TrainConfig


def shift_and_flip(images: Tensor, shift: int, hflip: bool, generator: torch.Generator) -> Tensor:
    """Random translation (padded with the background value -1) and optional horizontal flip;
    images (B, C, H, W). Differentiable in ``images``: DiffAugment's translation, and the
    judges' training augmentation."""
    b, _, h, w = images.shape
    dev = generator.device  # the random draws live on the generator's device
    if hflip:
        flip = (torch.rand(b, generator=generator, device=dev) < 0.5).to(images.device)
        images = torch.where(flip[:, None, None, None], images.flip(3), images)
    if shift <= 0:
        return images
    padded = F.pad(images, (shift, shift, shift, shift), value=-1.0)
    dy = torch.randint(0, 2 * shift + 1, (b,), generator=generator, device=dev).to(images.device)
    dx = torch.randint(0, 2 * shift + 1, (b,), generator=generator, device=dev).to(images.device)
    rows = (dy[:, None] + torch.arange(h, device=images.device))[:, :, None]  # (B, H, 1)
    cols = (dx[:, None] + torch.arange(w, device=images.device))[:, None, :]  # (B, 1, W)
    batch = torch.arange(b, device=images.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2).contiguous()


def color_augment(images: Tensor, generator: torch.Generator) -> Tensor:
    """DiffAugment's colour transforms (Zhao et al. 2020) on images (B, C, H, W) in [-1, 1], one
    draw per image: brightness + U(-0.5, 0.5), saturation x U(0, 2) about each pixel's channel
    mean, contrast x U(0.5, 1.5) about the image's mean. Differentiable in ``images``."""
    dev = generator.device

    def draw() -> Tensor:
        u = torch.rand(images.shape[0], 1, 1, 1, generator=generator, device=dev)
        return u.to(images.device)

    x = images + (draw() - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (draw() * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (draw() + 0.5) + mean


def cutout(images: Tensor, fraction: float, generator: torch.Generator) -> Tensor:
    """DiffAugment's cutout: one square of side ``fraction`` x the image side per image, at a
    random centre (it may reach past the border), set to 0 (mid-grey in [-1, 1])."""
    b, _, h, w = images.shape
    sh, sw = int(h * fraction + 0.5), int(w * fraction + 0.5)
    if sh == 0 or sw == 0:
        return images
    dev = generator.device
    cy = torch.randint(0, h + (1 - sh % 2), (b, 1, 1), generator=generator, device=dev)
    cx = torch.randint(0, w + (1 - sw % 2), (b, 1, 1), generator=generator, device=dev)
    rows = torch.arange(h, device=dev)[None, :, None] - cy + sh // 2
    cols = torch.arange(w, device=dev)[None, None, :] - cx + sw // 2
    inside = (rows >= 0) & (rows < sh) & (cols >= 0) & (cols < sw)
    return images * (~inside)[:, None].to(device=images.device, dtype=images.dtype)


def diff_augment(images: Tensor, cfg: TrainConfig, generator: torch.Generator) -> Tensor:
    """The run's DiffAugment policy, in DiffAugment's order: colour, translation, cutout."""
    if cfg.augment_color:
        images = color_augment(images, generator)
    if cfg.augment_shift:
        images = shift_and_flip(images, cfg.augment_shift, False, generator)
    if cfg.augment_cutout:
        images = cutout(images, cfg.augment_cutout, generator)
    return images
