"""The model registry: named presets = (net, prior, conditioning, objective). paper.md §4.

``model_config(preset, dataset, **overrides)`` resolves a preset into a frozen ``ModelConfig``;
``build_model(config, seed)`` builds it. Any prior x conditioning x objective combination is a
preset plus overrides, so ablations need no new code. This module imports the families
(core/gan.py, core/pixelcnn/) and is never imported by them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from torch import nn

from core.config import ConfigError, ModelConfig
from core.data import dataset_spec
from core.gan import GANModel
from core.pixelcnn.model import PixelCNN, pixelcnn_preset

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
    # The one-hot label input of Odena et al. 2017. The shipped acgan entries were trained with
    # "embedding" (a learned nn.Embedding) and collapse within each class (pretrained/NOTES.md);
    # their config.json records it, so they still load as trained.
    return {"net": "conv", "prior": "gaussian", "conditioning": "onehot", "alpha": 1.0}


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
    "pixelcnn": pixelcnn_preset,
}
GAN_PRESETS = ("gan", "dcgan", "acgan", "deligan", "tgan")


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


MODEL_BUILDERS: dict[str, Callable[[ModelConfig, int], nn.Module]] = {
    "gan": GANModel,
    "pixelcnn": PixelCNN,
}


def build_model(config: ModelConfig, seed: int = 0) -> nn.Module:
    """Build the model a config describes, initialised from ``seed``."""
    if config.family not in MODEL_BUILDERS:
        raise ConfigError(f"no builder for model family {config.family!r}")
    return MODEL_BUILDERS[config.family](config, seed)
