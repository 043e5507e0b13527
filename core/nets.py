"""Generators and discriminators, built from a ``NetConfig`` only.

Image shapes: (1, 28, 28) for MNIST / Fashion-MNIST and (3, 32, 32) for CIFAR-10.
Generators map (B, in_dim) to images (B, C, H, W) in [-1, 1] (tanh). Discriminators map images
to (adversarial logit (B,), class logits (B, K), features (B, F)); the class head shares the
feature extractor (paper.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

NET_KINDS = ("mlp", "conv")
IMAGE_SHAPES = ((1, 28, 28), (3, 32, 32))


@dataclass(frozen=True)
class NetConfig:
    """Everything that fixes the two networks' architecture."""

    kind: str  # "mlp" (vanilla GAN) or "conv" (DCGAN-style)
    image_shape: tuple[int, int, int]  # (C, H, W)
    in_dim: int  # generator input: latent dim + conditioning dim
    n_classes: int = 10
    width: int = 64  # base channel count (conv) or hidden units / 4 (mlp)
    projection: bool = False  # D adds <embed(label), features> to its real/fake logit

    def __post_init__(self) -> None:
        if self.kind not in NET_KINDS:
            raise ValueError(f"net kind must be one of {NET_KINDS}, got {self.kind!r}")
        if tuple(self.image_shape) not in IMAGE_SHAPES:
            raise ValueError(f"image shape must be one of {IMAGE_SHAPES}, got {self.image_shape}")
        if self.in_dim < 1 or self.width < 1 or self.n_classes < 1:
            raise ValueError("in_dim, width and n_classes must be >= 1")


class MLPGenerator(nn.Module):
    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        c, h, w = cfg.image_shape
        hidden = 4 * cfg.width
        self.image_shape = cfg.image_shape
        self.body = nn.Sequential(
            nn.Linear(cfg.in_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * hidden),
            nn.BatchNorm1d(2 * hidden),
            nn.ReLU(),
            nn.Linear(2 * hidden, c * h * w),
            nn.Tanh(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x).view(-1, *self.image_shape)


class ConvGenerator(nn.Module):
    """Project to a (4*width, s, s) map, then stride-2 transposed convolutions to the image."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        c, h, _ = cfg.image_shape
        w = cfg.width
        if h == 28:
            self.start, chans = 7, [4 * w, 2 * w]  # 7 -> 14 -> 28
        else:
            self.start, chans = 4, [8 * w, 4 * w, 2 * w]  # 4 -> 8 -> 16 -> 32
        self.start_channels = chans[0]
        self.project = nn.Sequential(
            nn.Linear(cfg.in_dim, chans[0] * self.start**2),
            nn.BatchNorm1d(chans[0] * self.start**2),
            nn.ReLU(),
        )
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:], strict=True):
            layers += [
                nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(),
            ]
        layers += [nn.ConvTranspose2d(chans[-1], c, 4, stride=2, padding=1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.project(x).view(-1, self.start_channels, self.start, self.start)
        return self.body(x)


class Discriminator(nn.Module):
    """Feature extractor + real/fake logit head + class-logit head. No batch norm, so each
    image's logits depend on that image alone (scores do not change with the batch)."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        c, h, w = cfg.image_shape
        if cfg.kind == "mlp":
            hidden = 4 * cfg.width
            self.features = nn.Sequential(
                nn.Flatten(),
                nn.Linear(c * h * w, 2 * hidden),
                nn.LeakyReLU(0.2),
                nn.Linear(2 * hidden, hidden),
                nn.LeakyReLU(0.2),
            )
            n_features = hidden
        else:
            wd = cfg.width
            chans = [c, wd, 2 * wd] if h == 28 else [c, wd, 2 * wd, 4 * wd]
            layers: list[nn.Module] = []
            for cin, cout in zip(chans[:-1], chans[1:], strict=True):
                layers += [nn.Conv2d(cin, cout, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            layers.append(nn.Flatten())
            self.features = nn.Sequential(*layers)
            side = h // 2 ** (len(chans) - 1)
            n_features = chans[-1] * side * side
        self.n_features = n_features
        self.adv_head = nn.Linear(n_features, 1)
        self.class_head = nn.Linear(n_features, cfg.n_classes)
        self.projection = nn.Embedding(cfg.n_classes, n_features) if cfg.projection else None

    def forward(
        self, images: Tensor, labels: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Without labels (or without projection) the logit judges the image alone."""
        feats = self.features(images)
        adv = self.adv_head(feats).squeeze(1)
        if self.projection is not None and labels is not None:
            adv = adv + (self.projection(labels.to(feats.device)) * feats).sum(1)
        return adv, self.class_head(feats), feats


def build_generator(cfg: NetConfig) -> nn.Module:
    return MLPGenerator(cfg) if cfg.kind == "mlp" else ConvGenerator(cfg)


def build_discriminator(cfg: NetConfig) -> Discriminator:
    return Discriminator(cfg)


def init_weights(module: nn.Module, generator: torch.Generator) -> None:
    """DCGAN initialisation: conv/linear weights N(0, 0.02), batch-norm gamma N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear | nn.Embedding):
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * 0.02)
                if getattr(m, "bias", None) is not None:
                    m.bias.zero_()
        elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.copy_(1.0 + torch.randn(m.weight.shape, generator=generator) * 0.02)
                m.bias.zero_()
