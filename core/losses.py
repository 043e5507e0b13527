"""Objectives, all from logits (paper.md §3).

At the ideal equilibrium D = 1/2 everywhere, ``d_adversarial_loss`` = 2 log 2 and
``g_adversarial_loss`` = log 2 (``EQUILIBRIUM_D_LOSS`` / ``EQUILIBRIUM_G_LOSS``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

EQUILIBRIUM_D_LOSS = 2 * math.log(2)
EQUILIBRIUM_G_LOSS = math.log(2)


def d_adversarial_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-E_x log D(x) - E log(1 - D(G(z))), from logits (B,) each."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def g_adversarial_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating generator loss -E log D(G(z)), from logits (B,)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def classification_loss(class_logits: Tensor, labels: Tensor) -> Tensor:
    """Cross-entropy -E log C(y | x) of class logits (B, K) against labels (B,)."""
    return F.cross_entropy(class_logits, labels)


def sigma_regulariser(sigma: Tensor) -> Tensor:
    """DeLiGAN's penalty mean_i (1 - sigma_i)^2 over components and dims (stops sigma -> 0)."""
    return (1.0 - sigma).pow(2).mean()
