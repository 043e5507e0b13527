"""The two configs a run is made of: ``ModelConfig`` (the ``model`` block of config.json: it
fully rebuilds a model with its weights file) and ``TrainConfig`` (the ``train`` block: the
training protocol, paper.md §5). Both are frozen dataclasses whose ``__post_init__`` checks
every value, and both are read back by one strict ``from_dict``: unknown keys, missing keys
and wrong types raise ``ConfigError`` naming the file.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from core.precision import LEGACY_PRECISION, PRECISIONS
from core.priors import PRIOR_KINDS

CONDITIONINGS = ("none", "codeword", "embedding", "onehot")
FAMILIES = ("gan", "pixelcnn")
# Size bounds: every value that sizes an allocation is checked before anything is built (the
# biggest shipped model uses width 64, latent_dim 100, 10 components, 10 classes).
MAX_LATENT_DIM = 4096
MAX_WIDTH = 1024
MAX_COMPONENTS = 10_000
MAX_CODEWORD_DIM = 4096
MAX_CLASSES = 1000
MAX_IMAGE_SIDE = 256
_JSON_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}


class ConfigError(ValueError):
    """A configuration that cannot be built; the message names the key and the fix."""


def strict_from_dict(cls: type, data: object, block: str, source: str):
    """``cls(**data)`` for a config dataclass, strictly: ``data`` must be a JSON object with no
    unknown key, every field without a default, and values of the annotated JSON type (a bool
    is not an int; ``None`` only where the annotation allows it). Errors name ``source``."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the {block!r} block must be a JSON object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    required = {
        n
        for n, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    unknown = sorted(set(data) - set(fields))
    missing = sorted(required - set(data))
    if unknown:
        raise ConfigError(f"{source}: unknown {block} key(s) {unknown}; known: {sorted(fields)}")
    if missing:
        raise ConfigError(f"{source}: missing {block} key(s) {missing}")
    for name, value in data.items():
        annotation = str(fields[name].type)
        kind = annotation.split(" ")[0]
        if value is None and "None" in annotation:
            continue
        want = _JSON_TYPES.get(kind)
        if want and (not isinstance(value, want) or (isinstance(value, bool) and kind != "bool")):
            raise ConfigError(f"{source}: {block} key {name!r} must be {kind}, got {value!r}")
    try:
        return cls(**data)
    except TypeError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    except ConfigError as exc:  # a value out of range: name the file to fix
        raise ConfigError(f"{source}: {exc}") from None


def _finite(value: float | None) -> bool:
    return value is None or (isinstance(value, int | float) and math.isfinite(value))


def _within(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


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
        shape = self.image_shape
        floats = ("df", "sigma_init", "sigma_reg", "codeword_sd", "alpha")
        checks = [
            (self.family in FAMILIES, f"family must be one of {FAMILIES}"),
            (self.prior in PRIOR_KINDS, f"prior must be one of {PRIOR_KINDS}"),
            (self.conditioning in CONDITIONINGS, f"conditioning must be one of {CONDITIONINGS}"),
            (
                isinstance(shape, list | tuple)
                and len(shape) == 3
                and _within(shape[0], 1, 4)
                and all(_within(side, 1, MAX_IMAGE_SIDE) for side in shape[1:]),
                f"image_shape must be [channels 1-4, height, width 1-{MAX_IMAGE_SIDE}], "
                f"got {shape!r}",
            ),
            (_within(self.n_classes, 1, MAX_CLASSES), f"n_classes must be in [1, {MAX_CLASSES}]"),
            (_within(self.width, 1, MAX_WIDTH), f"width must be in [1, {MAX_WIDTH}]"),
            (
                _within(self.latent_dim, 1, MAX_LATENT_DIM),
                f"latent_dim must be in [1, {MAX_LATENT_DIM}]",
            ),
            (
                _within(self.n_components, 1, MAX_COMPONENTS),
                f"n_components must be in [1, {MAX_COMPONENTS}]",
            ),
            (
                _within(self.codeword_dim, 1, MAX_CODEWORD_DIM),
                f"codeword_dim must be in [1, {MAX_CODEWORD_DIM}]",
            ),
            *((_finite(getattr(self, k)), f"{k} must be a finite number") for k in floats),
            (self.prior != "tmix" or (self.df is not None and self.df > 0), "tmix needs df > 0"),
            (self.df is None or self.df > 0, "df must be > 0"),
            (self.sigma_init > 0, "sigma_init must be > 0"),
            (self.alpha >= 0, "alpha must be >= 0"),
            (self.sigma_reg >= 0, "sigma_reg must be >= 0"),
            (self.codeword_sd >= 0, "codeword_sd must be >= 0"),
            (isinstance(self.extra, dict), "extra must be a JSON object"),
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
    def from_dict(cls, data: object, source: str = "config.json") -> ModelConfig:
        """Strict (``strict_from_dict``): the ``model`` block of ``source``."""
        return strict_from_dict(cls, data, "model", source)


@dataclass(frozen=True)
class TrainConfig:
    """The training protocol (paper.md §5); printed at start and saved in config.json."""

    model: str = "tgan"
    dataset: str = "mnist"
    n_train: int = 500  # class-balanced subset size; 0 = the full training split
    steps: int = 5000
    batch_size: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    seed: int = 0
    device: str = "auto"
    log_every: int = 50
    sample_every: int = 1000
    checkpoint_every: int = 500
    data_root: str | None = None
    # DiffAugment (Zhao et al. 2020): every image D sees, real or fake, is shifted by up to this
    # many pixels, differentiably, so D cannot memorise a small training set. 0 = off (paper).
    augment_shift: int = 0
    # DiffAugment's other two transforms: colour (random brightness, saturation, contrast per
    # image) and cutout (a square of this fraction of the side set to 0, mid-grey). Off = paper.
    augment_color: bool = False
    augment_cutout: float = 0.0
    # auto | float32 | bf16 (core/precision.py); config.json records the resolved value.
    precision: str = "auto"
    # Score curve (core/evaluate/curve.py): every eval_every steps (0 = off) and at the end, the
    # generator is scored with the data set's judge on eval_samples fixed seeds (0..N-1).
    eval_every: int = 0
    eval_samples: int = 500

    def __post_init__(self) -> None:
        checks = [
            (self.steps >= 1, "steps must be >= 1 (--steps)"),
            (self.batch_size >= 1, "batch_size must be >= 1 (--batch-size)"),
            (math.isfinite(self.lr) and self.lr > 0, "lr must be a finite number > 0 (--lr)"),
            (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "betas must be in [0, 1) (--beta1/2)"),
            (self.n_train >= 0, "n_train must be >= 0, 0 = full split (--n-train)"),
            (self.log_every >= 1, "log_every must be >= 1 (--log-every)"),
            (self.sample_every >= 1, "sample_every must be >= 1 (--sample-every)"),
            (self.checkpoint_every >= 1, "checkpoint_every must be >= 1 (--checkpoint-every)"),
            (self.seed >= 0, "seed must be >= 0 (--seed)"),
            (self.augment_shift >= 0, "augment_shift must be >= 0, 0 = off (--augment-shift)"),
            (
                isinstance(self.augment_color, bool),
                "augment_color must be true or false (--augment-color)",
            ),
            (
                0 <= self.augment_cutout < 1,
                "augment_cutout must be in [0, 1), 0 = off (--augment-cutout)",
            ),
            (
                self.precision in PRECISIONS,
                "precision must be auto, float32 or bf16 (--precision)",
            ),
            (self.eval_every >= 0, "eval_every must be >= 0, 0 = off (--eval-every)"),
            (self.eval_samples >= 20, "eval_samples must be >= 20 (--eval-samples)"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"train config: {message}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: object, source: str = "config.json") -> TrainConfig:
        """Strict (``strict_from_dict``): the ``train`` block of ``source``; a block written
        before ``precision`` existed ran at float32."""
        if isinstance(data, dict):
            data = {"precision": LEGACY_PRECISION, **data}
        return strict_from_dict(cls, data, "train", source)


# Keys that may differ between the run that was killed and the one that resumes it.
RESUMABLE_CHANGES = (
    "steps",
    "device",
    "log_every",
    "sample_every",
    "checkpoint_every",
    "data_root",
    "eval_every",  # a curve may get denser or sparser; eval_samples may not change mid-curve
)
