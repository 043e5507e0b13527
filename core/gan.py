"""The GAN family: ``GANModel`` (prior + conditioning + G + D of one preset, paper.md §1-§4)
and ``GANTrainer`` (one optimisation step of D, then G, with every loss term of paper.md §3).
The training loop (core/train.py) drives the step; the registry (core/models.py) builds the
model from its config.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core import losses, precision
from core.augment import diff_augment
from core.config import ConfigError, ModelConfig, TrainConfig
from core.nets import NetConfig, build_discriminator, build_generator, init_weights
from core.priors import ClassCodewords, LatentPrior


@dataclass(frozen=True)
class LatentBatch:
    """What goes into G: z (B, p), component (B,), labels (B,), cond (B, cond_dim)."""

    z: Tensor
    component: Tensor
    labels: Tensor
    cond: Tensor

    def generator_input(self) -> Tensor:
        return torch.cat([self.z, self.cond], dim=1) if self.cond.shape[1] else self.z


class GANModel(nn.Module):
    """Prior + conditioning + G + D of one preset. G-side parameters: ``generator_parameters``."""

    def __init__(self, config: ModelConfig, seed: int = 0) -> None:
        super().__init__()
        if config.family != "gan":
            raise ConfigError(f"GANModel cannot build family {config.family!r}")
        self.config = config
        gen = torch.Generator().manual_seed(seed)
        self.prior = LatentPrior(
            config.prior,
            config.latent_dim,
            n_components=config.n_components if config.prior != "gaussian" else 1,
            df=config.df,
            sigma_init=config.sigma_init,
            generator=gen,
        )
        self.codewords = (
            ClassCodewords(
                config.n_classes, config.codeword_dim, config.codeword_mean, config.codeword_sd
            )
            if config.conditioning == "codeword"
            else None
        )
        self.label_embedding = (
            nn.Embedding(config.n_classes, config.codeword_dim)
            if config.conditioning == "embedding"
            else None
        )
        net_cfg = NetConfig(
            kind=config.net,
            image_shape=config.image_shape,
            in_dim=config.latent_dim + config.cond_dim,
            n_classes=config.n_classes,
            width=config.width,
            projection=config.d_projection,
        )
        self.generator = build_generator(net_cfg)
        self.discriminator = build_discriminator(net_cfg)
        init_weights(self.generator, gen)
        init_weights(self.discriminator, gen)
        if self.label_embedding is not None:
            with torch.no_grad():
                self.label_embedding.weight.copy_(
                    torch.randn(self.label_embedding.weight.shape, generator=gen)
                )

    def generator_parameters(self) -> list[nn.Parameter]:
        params = list(self.generator.parameters()) + list(self.prior.parameters())
        if self.label_embedding is not None:
            params += list(self.label_embedding.parameters())
        return params

    def discriminator_parameters(self) -> list[nn.Parameter]:
        return list(self.discriminator.parameters())

    def condition(self, labels: Tensor, cond_noise: Tensor | None) -> Tensor:
        """(B, cond_dim) conditioning vectors; ``cond_noise`` (B, q) feeds the codewords."""
        cfg = self.config
        device = self.prior.mu.device
        if cfg.conditioning == "none":
            return torch.zeros(len(labels), 0, device=device)
        if cfg.conditioning == "codeword":
            means = self.codewords.mean(labels)
            if cond_noise is None:
                return means
            return means + self.codewords.sd * cond_noise.to(means.device)
        if cfg.conditioning == "embedding":
            return self.label_embedding(labels.to(device))
        return F.one_hot(labels.to(device), cfg.n_classes).float()

    def draw_latents(
        self,
        labels: Tensor,
        generator: torch.Generator,
        *,
        component: int | None = None,
        df: float | None = None,
        scale: float = 1.0,
    ) -> LatentBatch:
        """Draw one latent per label (B,): z from the prior, then the codeword noise."""
        labels = torch.as_tensor(labels, dtype=torch.long, device=self.prior.mu.device)
        z, comp = self.prior.sample(len(labels), generator, component=component, df=df, scale=scale)
        noise = (
            self.codewords.draw_noise(len(labels), generator)
            if self.codewords is not None
            else None
        )
        return LatentBatch(z, comp, labels, self.condition(labels, noise))

    def generate(self, batch: LatentBatch) -> Tensor:
        """Images (B, C, H, W) in [-1, 1]."""
        if self.codewords is not None and self.config.codeword_standardize:
            cond = self.codewords.standardize(batch.cond)
            return self.generator(torch.cat([batch.z, cond], dim=1))
        return self.generator(batch.generator_input())

    def discriminate(
        self, images: Tensor, labels: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """(adversarial logits (B,), class logits (B, K), features (B, F)). With
        ``d_projection`` and ``labels`` the adversarial logit is that of (image, label)."""
        return self.discriminator(images, labels)


class GANTrainer:
    """One optimisation step of D, then G, for every GAN preset (paper.md §3)."""

    PRECISIONS = ("float32", "bf16")  # core/precision.py

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        self.device = next(model.parameters()).device
        self.precision = precision.resolve_precision(cfg.precision, self.device)
        self.model = precision.prepare_model(model, self.precision)
        betas = (cfg.beta1, cfg.beta2)
        self.cfg = cfg
        self.opt_d = torch.optim.Adam(model.discriminator_parameters(), lr=cfg.lr, betas=betas)
        self.opt_g = torch.optim.Adam(model.generator_parameters(), lr=cfg.lr, betas=betas)

    def forward(self, fn, *args):
        """A network's forward pass at the run's precision; float32 outputs."""
        return precision.forward(self.precision, self.device, fn, *args)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_d": self.opt_d, "opt_g": self.opt_g}

    def step(self, real: Tensor, labels: Tensor, noise: torch.Generator) -> dict[str, Tensor]:
        model = self.model
        fake_labels = torch.randint(
            0, model.config.n_classes, (len(real),), generator=noise, device=noise.device
        )
        fake = self.forward(model.generate, model.draw_latents(fake_labels, noise))
        # DiffAugment: D (and C) only ever see augmented images, real and fake alike.
        real, fake = diff_augment(real, self.cfg, noise), diff_augment(fake, self.cfg, noise)

        d_total, d_stats = d_objective(
            model, self.forward, real, fake.detach(), labels, fake_labels
        )
        self.opt_d.zero_grad(set_to_none=True)
        d_total.backward()
        self.opt_d.step()

        g_total, g_stats = g_objective(model, self.forward, fake, fake_labels)
        self.opt_g.zero_grad(set_to_none=True)
        g_total.backward()
        self.opt_g.step()
        return step_stats(d_stats, g_stats, prior_stats(model))


# The two objectives of a step, as functions of the model (and of the forward pass that runs a
# network at the run's precision), so one run (GANTrainer) and many packed runs
# (core/packed.py, under torch.func.vmap) compute the very same terms.


def d_objective(
    model: GANModel, forward, real: Tensor, fake: Tensor, labels: Tensor, fake_labels: Tensor
) -> tuple[Tensor, dict[str, Tensor]]:
    """D's (and the auxiliary classifier C's, which shares D's features) loss on augmented real
    and (detached) fake images: L_D + alpha * L_C, and its stats."""
    mcfg = model.config
    alpha = mcfg.alpha
    real_adv, real_cls, _ = forward(model.discriminate, real, labels)
    fake_adv, fake_cls, _ = forward(model.discriminate, fake, fake_labels)
    d_adv = losses.d_adversarial_loss(real_adv, fake_adv)
    cls = torch.zeros((), device=real.device)
    if alpha > 0:
        cls = losses.classification_loss(real_cls, labels)
        if mcfg.conditioning != "none" and mcfg.d_classifies_fakes:
            cls = cls + losses.classification_loss(fake_cls, fake_labels)
    stats = {
        "d_adv": d_adv.detach(),
        "cls": cls.detach(),
        "d_real": torch.sigmoid(real_adv.detach()).mean(),
        "d_fake": torch.sigmoid(fake_adv.detach()).mean(),
    }
    return d_adv + alpha * cls, stats


def g_objective(
    model: GANModel, forward, fake: Tensor, fake_labels: Tensor
) -> tuple[Tensor, dict[str, Tensor]]:
    """G's loss against the (updated) D: non-saturating L_G, + alpha * L_C(fake), + the sigma
    penalty of a learned prior; and its stats."""
    mcfg = model.config
    alpha = mcfg.alpha
    g_fake_adv, g_fake_cls, _ = forward(model.discriminate, fake, fake_labels)
    g_adv = losses.g_adversarial_loss(g_fake_adv)
    g_total = g_adv
    if alpha > 0 and mcfg.conditioning != "none":
        g_total = g_total + alpha * losses.classification_loss(g_fake_cls, fake_labels)
    stats = {"g_adv": g_adv.detach()}
    if model.prior.learned:
        sigma_pen = torch.zeros((), device=fake.device)
        if mcfg.sigma_reg > 0:
            sigma_pen = losses.sigma_regulariser(model.prior.sigma)
            g_total = g_total + mcfg.sigma_reg * sigma_pen
        stats["sigma_pen"] = sigma_pen.detach()
    return g_total, stats


def prior_stats(model: GANModel) -> dict[str, Tensor]:
    """What a step logs of a learned prior, read after G's update: the mean |sigma|."""
    if not model.prior.learned:
        return {}
    return {"sigma_mean": model.prior.sigma.detach().abs().mean()}


STATS_ORDER = ("d_adv", "g_adv", "cls", "d_real", "d_fake", "sigma_mean", "sigma_pen")


def step_stats(*parts: dict[str, Tensor]) -> dict[str, Tensor]:
    """One step's stats in stats.jsonl's column order."""
    both = {k: v for part in parts for k, v in part.items()}
    return {key: both[key] for key in STATS_ORDER if key in both}
