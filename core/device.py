"""Where a run computes and what it ran on: ``resolve_device`` (``--device auto|cpu|cuda[:N]``)
and ``hardware`` (the record every config.json, summary.json, metrics.json and judge config
keeps, so each number can name its machine)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch


class DeviceError(ValueError):
    """A ``--device`` that this machine does not have; the message names the fix."""


def resolve_device(name: str) -> torch.device:
    """``auto`` = CUDA when present, else the CPU; ``cuda`` without CUDA is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(f"--device {name}: CUDA is not available here; use --device cpu")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise DeviceError(f"--device {name!r} is not a device (use auto, cpu or cuda)") from exc


def threads_per_process(processes: int) -> int:
    """This process's usable cores shared out among ``processes`` processes running at once
    (at least 1 each): more OpenMP threads than cores, and every process's small ops
    spin-wait on the others' (two 2-thread processes on 2 cores ran 2.5x slower than two
    1-thread ones)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return max(1, (cores or os.cpu_count() or 1) // max(1, processes))


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The processor's name (``model name`` in ``cpuinfo`` on Linux, else what ``platform``
    says). Bf16 training is bit-identical run to run on one processor, not across processors
    (oneDNN picks its kernels by the instructions it finds), so a record names the one used."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware(device: str | torch.device = "cpu") -> dict:
    """{device, cpu, cpu_model, cpu_isa (torch's vector level, e.g. AVX512), cpu_count,
    cpu_threads (torch's intra-op threads), torch, python[, gpu]}."""
    device = torch.device(device)
    info = {
        "device": str(device),
        "cpu": platform.processor() or platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_isa": torch.backends.cpu.get_cpu_capability(),
        "cpu_count": os.cpu_count(),
        "cpu_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info
