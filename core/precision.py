"""Numeric precision of a training run: ``float32``, or bfloat16 autocast (``bf16``).

``--precision auto`` resolves to ``bf16`` where the device has bfloat16 matrix units (a CPU with
AMX-BF16 or AVX512-BF16, a CUDA GPU that supports bfloat16), else to ``float32``; config.json
records the resolved value, so a resumed run keeps it on any machine. Under ``bf16`` only the
networks' forward passes run inside ``torch.autocast`` (convolutions and matmuls in bfloat16);
their outputs come back as float32, so the prior's draws, DiffAugment, the losses, the
gradients reaching the parameters, Adam's states and every saved tensor stay float32. A float32
run takes exactly the code path it took before this option existed (same bytes); a bf16 run
keeps its convolution weights and inputs channels-last (``prepare_model``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

PRECISIONS = ("auto", "float32", "bf16")
# What a config.json written before --precision existed ran at (every such run was float32).
LEGACY_PRECISION = "float32"
_CPU_BF16_UNITS = ("amx_bf16", "avx512_bf16", "bf16", "sve_bf16")  # x86 AMX/AVX-512; ARM


def cpu_has_bf16() -> bool:
    """True when this CPU has bfloat16 matrix / dot-product instructions (AMX-BF16 or
    AVX512-BF16 on x86, BF16 on ARM). Without them oneDNN emulates bf16 and it runs slower
    than float32. Reads ``torch.cpu.get_capabilities()`` (cpuinfo), else /proc/cpuinfo."""
    get_capabilities = getattr(torch.cpu, "get_capabilities", None)
    if get_capabilities is not None:
        caps = get_capabilities()
        return any(bool(caps.get(name)) for name in _CPU_BF16_UNITS)
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = {
        word
        for line in text.splitlines()
        if line.startswith(("flags", "Features"))
        for word in line.split(":", 1)[-1].split()
    }
    return bool(flags & {"amx_bf16", "avx512_bf16", "bf16"})


def device_has_bf16(device: torch.device) -> bool:
    """True when ``device`` runs bfloat16 matmuls in hardware (faster than float32)."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    return device.type == "cpu" and cpu_has_bf16()


def check_precision(name: object) -> str:
    """``name`` if it is one of PRECISIONS, else a ValueError naming --precision."""
    if name not in PRECISIONS:
        raise ValueError(f"--precision {name!r}: expected one of {', '.join(PRECISIONS)}")
    return str(name)


def resolve_precision(
    name: str, device: torch.device | str, supported: tuple[str, ...] = ("float32", "bf16")
) -> str:
    """'float32' or 'bf16': ``auto`` is bf16 where ``device`` has bf16 hardware (and the trainer
    ``supported`` it), else float32. An explicit 'bf16' is honoured on any device autocast
    serves (on a CPU without bf16 units it is emulated, and slower than float32)."""
    name = check_precision(name)
    if name == "auto":
        fast = "bf16" in supported and device_has_bf16(torch.device(device))
        return "bf16" if fast else "float32"
    if name not in supported:
        raise ValueError(
            f"--precision {name}: this model's trainer runs in "
            f"{' or '.join(supported)} only; use --precision auto"
        )
    return name


def autocast(precision: str, device: torch.device | str) -> contextlib.AbstractContextManager:
    """The context a forward pass runs in: bfloat16 autocast for 'bf16' (CPU or CUDA alike),
    nothing for 'float32'."""
    if precision == "float32":
        return contextlib.nullcontext()
    if precision != "bf16":
        raise ValueError(f"precision must be resolved to float32 or bf16, got {precision!r}")
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)


def prepare_model(model: nn.Module, precision: str) -> nn.Module:
    """Under 'bf16' the 4-D weights go channels-last (oneDNN's bf16 convolutions prefer it);
    values, and the float32 checkpoints (saved contiguous), are unchanged. In place."""
    if precision == "bf16":
        model.to(memory_format=torch.channels_last)
    return model


def _channels_last(value: object) -> object:
    if isinstance(value, Tensor) and value.dim() == 4:
        return value.contiguous(memory_format=torch.channels_last)
    return value


def _to_float32(value: object) -> object:
    if isinstance(value, Tensor) and value.is_floating_point() and value.dtype != torch.float32:
        return value.float()
    if isinstance(value, tuple):
        return tuple(_to_float32(v) for v in value)
    return value


def forward(
    precision: str,
    device: torch.device | str,
    fn: Callable,
    *args: object,
    channels_last: bool = True,
) -> object:
    """``fn(*args)`` under ``precision`` on ``device``; floating outputs (a tensor or a tuple of
    them) come back as float32, differentiably. For 'float32' it is exactly ``fn(*args)``.
    ``channels_last=False`` leaves the inputs' layout alone: inside ``torch.func.vmap`` (packed
    runs, core/packed.py) a layout other than contiguous cannot even be asked for."""
    if precision == "float32":
        return fn(*args)
    with autocast(precision, device):
        out = fn(*(_channels_last(a) if channels_last else a for a in args))
    return _to_float32(out)
