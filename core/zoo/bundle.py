"""Runs back from a GPU call: at most 8 files of at most 16 MiB each, 64 MiB in all, come back
from the device's ``$OUT``. ``bundle`` packs run folders into as few tars as that allows (a run
kept whole in one tar where it fits) and refuses, before writing anything, what would not come
back; ``unbundle`` puts each run back where it was under the runs root. ``compact`` leaves each
run's checkpoint and sample grids behind and brings its generator back in float16 without the
discriminator (a CIFAR-10 run's weights are 17 MB with D in float32, over one file's limit):
such a run scores and ships, but cannot be resumed. The command line: core/zoo/travel.py.
"""

from __future__ import annotations

import math
import shutil
import tarfile
import tempfile
from pathlib import Path

import torch

from core.errors import UserError
from core.paths import runs_root
from core.weights import CONFIG_NAME, WEIGHTS_NAME, load_pretrained, read_config, save_pretrained

MIB = 2**20
BACK_FILE_LIMIT = 16 * MIB  # each file back from $OUT
BACK_FILES = 8  # files back from $OUT
BACK_LIMIT = 64 * MIB  # all of them together
TAR_BLOCK, TAR_RECORD = 512, 10240
CHECKPOINT = "checkpoint.safetensors"
BUNDLE_MODES = ("full", "no-checkpoints", "compact")


class BundleError(UserError):
    """Runs that cannot come back as asked; the message names the fix."""


def _tar_bytes(sizes: list[int]) -> int:
    """The size of an uncompressed tar of files of these sizes (ustar, short names)."""
    body = sum(TAR_BLOCK + math.ceil(s / TAR_BLOCK) * TAR_BLOCK for s in sizes) + 2 * TAR_BLOCK
    return math.ceil(body / TAR_RECORD) * TAR_RECORD


def _run_folders(sources: list[Path]) -> list[Path]:
    """Run folders (a config.json inside) given directly or one level down."""
    found = []
    for source in sources:
        if not source.is_dir():
            raise BundleError(f"{source}: not a folder")
        if (source / CONFIG_NAME).is_file():
            found.append(source)
        else:
            found += sorted(p for p in source.iterdir() if (p / CONFIG_NAME).is_file())
    if not found:
        raise BundleError(
            f"no run folder (one holding config.json) in {', '.join(map(str, sources))}"
        )
    return found


def plan_bundles(
    sources: list[Path],
    base: Path,
    mode: str = "full",
    max_bytes: int = BACK_FILE_LIMIT,
    max_files: int = BACK_FILES,
    max_total: int = BACK_LIMIT,
) -> list[list[Path]]:
    """Group the run folders' files into tars of at most ``max_bytes`` each, a run kept in one
    tar where it fits (first fit, largest run first); more than ``max_files`` tars or
    ``max_total`` bytes, or one file too big for any tar, is a BundleError before anything is
    written. ``mode`` "no-checkpoints" leaves each run's checkpoint out."""
    units: list[list[Path]] = []
    size: dict[Path, int] = {}  # each file's size read once: the first fit reads them many times

    def tar_bytes(group: list[Path]) -> int:
        return _tar_bytes([size[p] for p in group])

    for run in _run_folders(sources):
        files = sorted(p for p in run.rglob("*") if p.is_file() and not p.is_symlink())
        if mode != "full":
            files = [p for p in files if p.name != CHECKPOINT]
        for p in files:
            p.relative_to(base)  # a ValueError names a run outside the runs root
            size[p] = p.stat().st_size
        if tar_bytes(files) <= max_bytes:
            units.append(files)
        else:  # too big for one tar: its files travel apart
            units += [[p] for p in files]
    bins: list[list[Path]] = []
    for unit in sorted(units, key=lambda u: -sum(size[p] for p in u)):
        for chosen in bins:
            if tar_bytes(chosen + unit) <= max_bytes:
                chosen += unit
                break
        else:
            if tar_bytes(unit) > max_bytes:
                raise BundleError(
                    f"{unit[0]} is over {max_bytes / MIB:.3g} MiB: it cannot come back "
                    "(bundle --compact leaves checkpoints behind, generators in float16)"
                )
            bins.append(list(unit))
    total = sum(tar_bytes(b) for b in bins)
    if len(bins) > max_files or total > max_total:
        hint = {
            "full": " without checkpoints (--no-checkpoints) or compacted (--compact)",
            "no-checkpoints": " compacted (--compact)",
        }.get(mode, " fewer runs per call")
        raise BundleError(
            f"{total / MIB:.1f} MiB of runs in {len(bins)} files of at most "
            f"{max_bytes / MIB:.3g} MiB: over the {max_files} files and {max_total / MIB:.3g} MiB "
            f"that come back; bundle{hint}"
        )
    return bins


def compact_run(run: Path, dest: Path) -> Path:
    """``run``'s folder for the trip back, made in ``dest``: its records and logs as they are,
    its generator in float16 without the discriminator (config.json says so), no checkpoint,
    no sample grids."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in run.iterdir():
        if path.is_file() and path.name not in (CONFIG_NAME, WEIGHTS_NAME, CHECKPOINT):
            shutil.copy2(path, dest / path.name)
    if not (run / WEIGHTS_NAME).is_file():  # unfinished: its record only
        shutil.copy2(run / CONFIG_NAME, dest / CONFIG_NAME)
        return dest
    model = load_pretrained(run)
    config = read_config(run)
    extra = {k: v for k, v in config.items() if k not in ("format_version", "model")}
    extra["weights_compacted"] = "float16, no discriminator: the trip back from a GPU call"
    omit = ("discriminator",) if hasattr(model, "discriminator") else ()
    save_pretrained(model, dest, extra=extra, dtype=torch.float16, omit=omit)
    return dest


def bundle(
    sources: list[Path], out: Path, mode: str = "full", base: Path | None = None, **limits: int
) -> list[Path]:
    """Write ``out/runs-NN.tar``: the run folders' files (``mode``: BUNDLE_MODES), named relative to
    ``base`` (the runs root), so ``unbundle`` puts each run back where it was. ``limits``:
    plan_bundles' (the device's by default)."""
    if mode not in BUNDLE_MODES:
        raise ValueError(f"bundle mode {mode!r}: choose one of {BUNDLE_MODES}")
    base = (base or runs_root()).resolve()
    runs = _run_folders([s.resolve() for s in sources])
    with tempfile.TemporaryDirectory(prefix="tgan-bundle-") as staging:
        if mode == "compact":
            staged = [compact_run(run, Path(staging) / run.relative_to(base)) for run in runs]
            runs, base = staged, Path(staging)
        bins = plan_bundles(runs, base, mode, **limits)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for number, files in enumerate(bins, 1):
            name = f"runs-{number:02d}.tar"
            target, partial = out / name, out / f".{name}.partial"
            with tarfile.open(partial, "w", format=tarfile.USTAR_FORMAT) as tar:
                for path in files:
                    tar.add(path, arcname=path.relative_to(base).as_posix(), recursive=False)
            partial.replace(target)
            written.append(target)
    return written


def unbundle(tars: list[Path], base: Path | None = None) -> list[str]:
    """Unpack tars from ``bundle`` into ``base`` (the runs root); files already there are
    replaced. Names that would leave ``base`` (absolute, ``..``, links) are refused by
    tarfile's ``data`` filter. Returns the run folders unpacked (relative to ``base``)."""
    base = base or runs_root()
    runs = set()
    for path in tars:
        try:
            with tarfile.open(path, "r") as tar:
                tar.extractall(base, filter="data")
                runs |= {str(Path(m.name).parent) for m in tar.getmembers() if m.isfile()}
        except tarfile.TarError as exc:  # a broken transfer, or a name that leaves base
            raise BundleError(f"{path}: not unpacked ({exc}); bundle the runs again") from exc
    return sorted(r for r in runs if (base / r / CONFIG_NAME).is_file())
