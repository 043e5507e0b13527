"""Weights as ``config.json`` + ``model.safetensors`` (diffusers-style), strict loading.

config.json: {"format_version": 1, "model": {ModelConfig}, ...}; other blocks (``train``) are
kept but not needed to rebuild the model. Weights load only through safetensors, so no code in a
file ever runs.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from core.atomic import (
    atomic_write_bytes,
    atomic_write_json,
    load_json_file,
    parse_json,
    read_limited,
)
from core.errors import UserError
from core.models import ConfigError, ModelConfig, build_model

FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
OMITTABLE = ("discriminator",)  # modules sampling never uses: a shipped GAN may leave them out
# int8 weights: each large matrix / conv kernel W of the generator is stored as round(W / s) in
# int8 with one float16 scale per row of dim 0, s = max|W_row| / 127, under ``<name>`` +
# SCALE_SUFFIX. The prior's parameters, the output layer and every vector stay float16.
SCALE_SUFFIX = ".int8_scale"
INT8_MODULES = ("generator.",)
INT8_MIN_NUMEL = 2**16
MAX_PARAMETERS = 256 * 2**20  # values in one model; the biggest shipped one has 4.3M
WEIGHTS_LIMIT = 4 * 2**30  # the biggest checkpoint (CIFAR-10 D + G + Adam) is ~60 MB


class WeightsError(UserError):
    """Weights or their config cannot be loaded; the message names the file and the mismatch."""


def read_config(folder: str | os.PathLike) -> dict:
    """The parsed config.json of a model folder, with its format version checked."""
    path = Path(folder) / CONFIG_NAME
    try:
        data = load_json_file(path)
    except FileNotFoundError as exc:
        raise WeightsError(f"{path}: not found (is {folder} a model or run folder?)") from exc
    except ValueError as exc:  # not a regular file, too big, not valid JSON: named already
        raise WeightsError(str(exc)) from exc
    except OSError as exc:
        raise WeightsError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
    if not isinstance(data, dict):
        raise WeightsError(f"{path}: expected a JSON object at the top level")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise WeightsError(f"{path}: missing or non-integer 'format_version'")
    if version > FORMAT_VERSION:
        raise WeightsError(
            f"{path}: format_version {version} is newer than this code understands "
            f"({FORMAT_VERSION}); update t-GAN Explorer"
        )
    if "model" not in data:
        raise WeightsError(f"{path}: missing the 'model' block")
    return data


def model_config_from(folder: str | os.PathLike, config: dict | None = None) -> ModelConfig:
    """The ModelConfig of a folder (``config``: its already-read config.json, if at hand)."""
    path = Path(folder) / CONFIG_NAME
    try:
        return ModelConfig.from_dict((config or read_config(folder))["model"], source=str(path))
    except ConfigError as exc:
        raise WeightsError(str(exc)) from exc


def state_to_bytes(state: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    return st_save({k: v.detach().contiguous().cpu() for k, v in state.items()}, metadata)


def read_safetensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    path = Path(path)
    return _tensors_from_bytes(_read_weights_file(path), path)


def _read_weights_file(path: Path) -> bytes:
    try:
        return read_limited(path, WEIGHTS_LIMIT)
    except FileNotFoundError as exc:
        raise WeightsError(f"{path}: not found") from exc
    except ValueError as exc:  # a FIFO, a device, a folder, a file too big: named already
        raise WeightsError(f"{exc}; expected a safetensors file") from exc
    except OSError as exc:
        raise WeightsError(f"{path}: cannot read it ({exc.strerror or exc})") from exc


def _tensors_from_bytes(data: bytes, path: Path) -> dict[str, torch.Tensor]:
    try:
        return st_load(data)
    except (SafetensorError, ValueError, OSError) as exc:
        raise WeightsError(f"{path}: not a valid safetensors file ({exc})") from exc


def load_torch_state(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A legacy ``torch.save`` state dict (e.g. torchvision's .pth), loaded with
    ``weights_only=True``: tensors and plain containers only, never code from the file."""
    import pickle

    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise WeightsError(f"{path}: not found") from exc
    except (pickle.UnpicklingError, RuntimeError, OSError, ValueError, EOFError) as exc:
        # torch's own message suggests weights_only=False: never pass that advice on
        raise WeightsError(
            f"{path}: refused: not a plain tensor file ({type(exc).__name__}; loading it would "
            "run code from the file); use a trusted copy of the weights"
        ) from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path}: expected a dict of tensors (a state dict)")
    return state


def save_pretrained(
    model: nn.Module,
    folder: str | os.PathLike,
    extra: dict | None = None,
    dtype: torch.dtype | None = None,
    omit: tuple[str, ...] = (),
) -> Path:
    """Write config.json (first) and model.safetensors into ``folder``; returns the folder.

    ``dtype=torch.float16`` halves the file (floating tensors only); loading casts back.
    ``dtype=torch.int8`` nearly quarters it: the generator's large matrices and kernels are
    quantised symmetrically per row (``quantize_int8``), the rest kept in float16; loading
    dequantises.
    ``omit`` names top-level modules left out (``("discriminator",)``: a shipped GAN needs only
    what samples); config.json records them, and loading leaves them at their seeded init.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"format_version": FORMAT_VERSION, "model": model.config.to_dict()}
    config.update(extra or {})
    config["weights_dtype"] = str(dtype or torch.float32).removeprefix("torch.")
    modules = dict(model.named_children())
    unknown = [name for name in omit if name not in modules or name not in OMITTABLE]
    if unknown:
        raise ValueError(
            f"omit={unknown}: only {OMITTABLE} may be left out, and only modules "
            f"this model has ({sorted(modules)})"
        )
    config["weights_omit"] = sorted(omit)
    state = {k: v for k, v in model.state_dict().items() if k.split(".")[0] not in omit}
    if dtype == torch.int8:
        state = quantize_int8(state)
    elif dtype is not None:
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    atomic_write_json(folder / CONFIG_NAME, config)
    atomic_write_bytes(folder / WEIGHTS_NAME, state_to_bytes(state, {"format": "pt"}))
    return folder


def quantize_int8(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The generator's floating tensors of ndim >= 2 and at least INT8_MIN_NUMEL values -> int8
    + one float16 scale per row of dim 0; other floating tensors -> float16; the rest unchanged.
    Inverse: ``dequantize_int8``."""
    out = {}
    for key, value in state.items():
        if not value.is_floating_point():
            out[key] = value
        elif value.ndim < 2 or value.numel() < INT8_MIN_NUMEL or not key.startswith(INT8_MODULES):
            out[key] = value.to(torch.float16)
        else:
            w = value.detach().float()
            amax = w.abs().flatten(1).amax(1)
            # the scale as it will be stored; never 0 (an all-zero row stays exactly zero)
            scale = (amax / 127.0).to(torch.float16).float().clamp_min(2.0**-24)
            shape = (-1,) + (1,) * (w.ndim - 1)
            out[key] = (w / scale.view(shape)).round().clamp(-127, 127).to(torch.int8)
            out[key + SCALE_SUFFIX] = scale.to(torch.float16)
    return out


def dequantize_int8(state: dict[str, torch.Tensor], source: str) -> dict[str, torch.Tensor]:
    """Undo ``quantize_int8`` (a state without scales comes back as it is). An int8 tensor
    whose scale is missing, or a scale of the wrong shape or without its tensor, raises."""
    scales = {k[: -len(SCALE_SUFFIX)]: v for k, v in state.items() if k.endswith(SCALE_SUFFIX)}
    out = {k: v for k, v in state.items() if not k.endswith(SCALE_SUFFIX)}
    for key, scale in scales.items():
        q = out.get(key)
        if q is None or q.dtype != torch.int8:
            raise WeightsError(f"{source}: scale {key + SCALE_SUFFIX} has no int8 tensor {key}")
        if q.ndim < 2 or tuple(scale.shape) != (q.shape[0],) or not scale.is_floating_point():
            raise WeightsError(
                f"{source}: {key + SCALE_SUFFIX} must be a float vector of {q.shape[0]} values "
                f"(one per row), got {tuple(scale.shape)}"
            )
        out[key] = q.float() * scale.float().view((-1,) + (1,) * (q.ndim - 1))
    unscaled = sorted(k for k, v in out.items() if v.dtype == torch.int8)
    if unscaled:
        raise WeightsError(f"{source}: int8 tensors without their scale: {unscaled[:5]}")
    return out


def load_state_strict(
    model: nn.Module, state: dict[str, torch.Tensor], source: str, omitted: tuple[str, ...] = ()
) -> None:
    """Copy ``state`` into ``model``; any missing/unexpected key or shape/dtype mismatch raises.
    Tensors of the ``omitted`` top-level modules must be absent (they keep their init)."""
    own = {k: v for k, v in model.state_dict().items() if k.split(".")[0] not in omitted}
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    problems = []
    if missing:
        problems.append(f"missing tensors {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    if unexpected:
        problems.append(
            f"unexpected tensors {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}"
        )
    for key in sorted(set(own) & set(state)):
        want, got = own[key], state[key]
        if tuple(want.shape) != tuple(got.shape):
            problems.append(f"{key}: shape {tuple(got.shape)}, expected {tuple(want.shape)}")
        elif want.is_floating_point() != got.is_floating_point() or (
            not want.is_floating_point() and want.dtype != got.dtype
        ):
            problems.append(f"{key}: dtype {got.dtype}, expected {want.dtype}")
        elif got.is_floating_point() and got.dtype not in (torch.float32, torch.float16):
            problems.append(f"{key}: dtype {got.dtype}, expected float32 or float16")
        elif got.is_floating_point() and not torch.isfinite(got).all():
            problems.append(f"{key}: holds NaN or Inf")
    if problems:
        more = f"; ... ({len(problems) - 5} more)" if len(problems) > 5 else ""
        raise WeightsError(
            f"{source}: weights do not match the config: " + "; ".join(problems[:5]) + more
        )
    with torch.no_grad():
        for key, value in state.items():
            own[key].copy_(value.to(own[key].dtype))


def expected_shapes(config: ModelConfig, source: str) -> dict[str, tuple[int, ...]]:
    """The state-dict shapes of the model ``config`` describes, found without allocating it
    (built on the meta device); more than MAX_PARAMETERS values raises, naming ``source``."""
    try:
        with torch.device("meta"):
            state = build_model(config).state_dict()
    except (ConfigError, ValueError, TypeError, RuntimeError) as exc:
        raise WeightsError(f"{source}: cannot build this model ({exc})") from exc
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    total = sum(math.prod(shape) for shape in shapes.values())
    if total > MAX_PARAMETERS:
        raise WeightsError(
            f"{source}: this config describes a model of {total:,} values, more than the "
            f"{MAX_PARAMETERS:,} this code builds; check its size keys (width, latent_dim, ...)"
        )
    return shapes


def header_shapes(data: bytes) -> dict[str, tuple[int, ...]] | None:
    """{tensor name: shape} from a safetensors file's header alone (None when the header cannot
    be read: the full load then says why)."""
    if len(data) < 8:
        return None
    size = int.from_bytes(data[:8], "little")
    try:
        header = parse_json(data[8 : 8 + size], "header") if size <= len(data) - 8 else None
    except ValueError:
        return None
    if not isinstance(header, dict):
        return None
    shapes = {}
    for key, info in header.items():
        shape = info.get("shape") if isinstance(info, dict) else None
        if key != "__metadata__" and isinstance(shape, list):
            shapes[key] = tuple(shape)
    return shapes


def check_model_folder(folder: str | os.PathLike) -> tuple[ModelConfig, list[str], bytes]:
    """Every check ``load_pretrained`` makes before it allocates a model: the config's bounds
    (ModelConfig), the model's size (``expected_shapes``), ``weights_omit``, then the weights
    file's header against those shapes. Returns (config, omitted modules, the file's bytes);
    raises WeightsError / ConfigError naming the file. The app uses it to skip a bad folder."""
    folder = Path(folder)
    raw = read_config(folder)
    config = model_config_from(folder, raw)
    shapes = expected_shapes(config, str(folder / CONFIG_NAME))
    weights = folder / WEIGHTS_NAME
    omitted = raw.get("weights_omit", [])
    if not isinstance(omitted, list) or not all(m in OMITTABLE for m in omitted):
        raise WeightsError(
            f"{folder / CONFIG_NAME}: 'weights_omit' must be a list drawn from "
            f"{list(OMITTABLE)}, got {omitted!r}"
        )
    data = _read_weights_file(weights)
    stored = header_shapes(data) or {}
    wrong = [
        f"{key}: shape {stored[key]}, expected {shape}"
        for key, shape in shapes.items()
        if key in stored and stored[key] != shape
    ]
    if wrong:
        more = f"; ... ({len(wrong) - 5} more)" if len(wrong) > 5 else ""
        raise WeightsError(
            f"{weights}: weights do not match the config: " + "; ".join(wrong[:5]) + more
        )
    return config, omitted, data


def load_pretrained(folder: str | os.PathLike, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild the model of a model/run folder from config.json and load model.safetensors,
    after every size check of ``check_model_folder``."""
    folder = Path(folder)
    config, omitted, data = check_model_folder(folder)
    weights = folder / WEIGHTS_NAME
    try:
        model = build_model(config)
    except (ConfigError, ValueError) as exc:
        raise WeightsError(f"{folder / CONFIG_NAME}: {exc}") from exc
    state = dequantize_int8(_tensors_from_bytes(data, weights), str(weights))
    load_state_strict(model, state, str(weights), tuple(omitted))
    return model.to(device).eval()
