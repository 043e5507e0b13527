"""The model registry: named presets = (net, prior, conditioning, objective). paper.md §4.

``model_config(preset, dataset, **overrides)`` resolves a preset into a frozen ``ModelConfig``;
``build_model(config, seed)`` builds it. Any prior x conditioning x objective combination is a
preset plus overrides, so ablations need no new code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.data import dataset_spec
from core.nets import NetConfig, build_discriminator, build_generator, init_weights
from core.priors import PRIOR_KINDS, ClassCodewords, LatentPrior

CONDITIONINGS = ("none", "codeword", "embedding", "onehot")
FAMILIES = ("gan", "pixelcnn")


class ConfigError(ValueError):
    """A model configuration that cannot be built; the message names the key and the fix."""


@dataclass(frozen=True)
class ModelConfig:
    """Fully rebuilds a model (with its weights file); the ``model`` block of config.json."""

    preset: str
    dataset: str
    image_shape: tuple[int, int, int]
    n_classes: int
    family: str = "gan"
    net: str = "conv"
    width: int = 64
    prior: str = "gaussian"
    latent_dim: int = 30
    n_components: int = 1
    df: float | None = None
    sigma_init: float = 0.2
    sigma_reg: float = 0.0
    conditioning: str = "none"
    codeword_dim: int = 10
    codeword_mean: str = "index"
    codeword_sd: float = 0.2
    # Feed G (c - mean of the class means) / their sd instead of the raw codeword: the same
    # model class (an affine map the first layer could learn), but with the paper's literal
    # "index" means (up to 9 in every dim) the raw input swamps z and saturates G's first layer.
    codeword_standardize: bool = False
    # paper.md §3: D (through C) also minimises the fake term of L_C. False trains C on real
    # images only (G still gets the fake term): an ablation, see pretrained/RESULTS.md.
    d_classifies_fakes: bool = True
    # Projection discriminator (Miyato & Koyama, 2018; not in the paper): D's real/fake logit for
    # an (image, label) pair adds <embed(label), features(image)>, so a "4" drawn for class 2
    # looks fake to D. Needs conditioning; G still gets alpha * L_C.
    d_projection: bool = False
    alpha: float = 0.0
    extra: dict = field(default_factory=dict)  # family-specific settings (e.g. PixelCNN depth)

    def __post_init__(self) -> None:
        checks = [
            (self.family in FAMILIES, f"family must be one of {FAMILIES}"),
            (self.prior in PRIOR_KINDS, f"prior must be one of {PRIOR_KINDS}"),
            (self.conditioning in CONDITIONINGS, f"conditioning must be one of {CONDITIONINGS}"),
            (self.latent_dim >= 1, "latent_dim must be >= 1"),
            (self.n_components >= 1, "n_components must be >= 1"),
            (self.prior != "tmix" or (self.df is not None and self.df > 0), "tmix needs df > 0"),
            (self.alpha >= 0, "alpha must be >= 0"),
            (self.sigma_reg >= 0, "sigma_reg must be >= 0"),
            (self.codeword_sd >= 0, "codeword_sd must be >= 0"),
            (self.codeword_dim >= 1, "codeword_dim must be >= 1"),
            (
                not self.d_projection or self.conditioning != "none",
                "d_projection needs a conditioning (codeword, embedding or onehot)",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"model config {self.preset!r}: {message}")
        object.__setattr__(self, "image_shape", tuple(self.image_shape))

    @property
    def cond_dim(self) -> int:
        if self.conditioning == "codeword":
            return self.codeword_dim
        if self.conditioning in ("embedding", "onehot"):
            return self.n_classes if self.conditioning == "onehot" else self.codeword_dim
        return 0

    @property
    def conditional(self) -> bool:
        return self.conditioning != "none" or self.family == "pixelcnn"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict, source: str = "config.json") -> ModelConfig:
        """Strict: missing or unknown keys and wrong types raise ConfigError naming ``source``."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: the model block must be a JSON object")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        required = {n for n, f in fields.items() if f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING}  # fmt: skip
        unknown = sorted(set(data) - set(fields))
        missing = sorted(required - set(data))
        if unknown:
            raise ConfigError(f"{source}: unknown model key(s) {unknown}; known: {sorted(fields)}")
        if missing:
            raise ConfigError(f"{source}: missing model key(s) {missing}")
        kinds = {int: (int,), float: (int, float), str: (str,), bool: (bool,)}
        for name, value in data.items():
            want = _field_type(fields[name])
            if value is None and name == "df":
                continue
            if want in kinds and (not isinstance(value, kinds[want]) or isinstance(value, bool)
                                  and want is not bool):  # fmt: skip
                raise ConfigError(
                    f"{source}: model key {name!r} must be {want.__name__}, got {value!r}"
                )
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(f"{source}: {exc}") from exc


def _field_type(f: dataclasses.Field) -> type | None:
    ann = str(f.type)
    for name, t in (("int", int), ("float", float), ("str", str), ("bool", bool)):
        if ann == name or ann.startswith(name + " "):
            return t
    return None


# --- presets -------------------------------------------------------------------------------


def _defaults_for(dataset: str) -> dict:
    """Dataset-dependent defaults from DeLiGAN's released settings (paper.md §1)."""
    spec = dataset_spec(dataset)
    small = spec.image_shape[1] == 28
    return {
        "dataset": dataset,
        "image_shape": spec.image_shape,
        "n_classes": spec.n_classes,
        "width": 32 if small else 64,  # CPU-friendly for 28x28; see paper.md §5
        "latent_dim": 30 if small else 100,
        "learned_components": 50 if small else 100,
        "sigma_reg": 1.0 / 3.0 if small else 0.05,
    }


def _gan(d: dict) -> dict:
    return {"net": "mlp", "prior": "gaussian"}


def _dcgan(d: dict) -> dict:
    return {"net": "conv", "prior": "gaussian"}


def _acgan(d: dict) -> dict:
    return {"net": "conv", "prior": "gaussian", "conditioning": "embedding", "alpha": 1.0}


def _deligan(d: dict) -> dict:
    return {
        "net": "conv",
        "prior": "gmm",
        "n_components": d["learned_components"],
        "sigma_reg": d["sigma_reg"],
    }


def _tgan(d: dict) -> dict:
    return {
        "net": "conv",
        "prior": "tmix",
        "df": 3.0,
        "n_components": d["learned_components"],
        "sigma_reg": d["sigma_reg"],
        "conditioning": "codeword",
        "codeword_mean": "index",
        "codeword_standardize": True,
        "alpha": 1.0,
    }


PRESETS: dict[str, Callable[[dict], dict]] = {
    "gan": _gan,
    "dcgan": _dcgan,
    "acgan": _acgan,
    "deligan": _deligan,
    "tgan": _tgan,
}
GAN_PRESETS = ("gan", "dcgan", "acgan", "deligan", "tgan")


def register_preset(name: str, resolve: Callable[[dict], dict]) -> None:
    """Add a preset (filled at import time by the modules that define new families)."""
    PRESETS[name] = resolve


def model_config(preset: str, dataset: str, **overrides) -> ModelConfig:
    """Resolve ``preset`` on ``dataset``, then apply overrides (unknown keys are an error)."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown model {preset!r}; choose one of {sorted(PRESETS)}")
    d = _defaults_for(dataset)
    values = {k: d[k] for k in ("dataset", "image_shape", "n_classes", "width", "latent_dim")}
    values.update(PRESETS[preset](d))
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown model option(s) {unknown}; known: {sorted(known)}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    if values.get("prior") != "tmix":
        values.setdefault("df", None)
    return ModelConfig(preset=preset, **values)


# --- the GAN model -------------------------------------------------------------------------


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


MODEL_BUILDERS: dict[str, Callable[[ModelConfig, int], nn.Module]] = {"gan": GANModel}


def register_family(family: str, builder: Callable[[ModelConfig, int], nn.Module]) -> None:
    MODEL_BUILDERS[family] = builder


def build_model(config: ModelConfig, seed: int = 0) -> nn.Module:
    """Build the model a config describes, initialised from ``seed``."""
    if config.family not in MODEL_BUILDERS:
        raise ConfigError(f"no builder registered for family {config.family!r}")
    return MODEL_BUILDERS[config.family](config, seed)


from core import pixelcnn as _pixelcnn  # noqa: E402,F401  (registers the family)
