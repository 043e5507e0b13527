"""Shipping a run into the zoo: ``ship`` (a finished run -> ``pretrained/<entry>/``), ``repack``
(re-encode shipped weights), ``write_card`` and the manifest (sha256 + size of every file).

A shipped entry changes all at once: the new folder is built beside the old one and the two are
swapped with one ``rename`` (``renameat2(RENAME_EXCHANGE)`` on Linux), so a reader, or a kill at
any moment, sees the old entry or the new one, never new weights beside an old config or old
scores beside new weights.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import torch

from core.atomic import (
    atomic_copy,
    atomic_write_json,
    atomic_write_text,
    load_json_file,
    read_json,
    read_jsonl,
)
from core.errors import UserError
from core.paths import repo_relative, zoo_root
from core.weights import WEIGHTS_NAME, load_pretrained, read_config, save_pretrained
from core.zoo.recipes import entry, train_command

# What ``ship`` copies from a run (each replaced, or removed when the run has none).
RUN_FILES = ("stats.jsonl", "scores.jsonl", "summary.json", "nll.json", "metrics.json")
SHIPPED_JSON = ("config.json", "summary.json", "entry.json")
_RENAME_EXCHANGE = 2  # linux/fs.h


class ShipError(UserError):
    """A zoo entry could not be written; the message says the old one is intact and why."""


def shipped_weights(model: str) -> dict:
    """How a zoo entry's weights are stored. A GAN ships no discriminator (sampling never uses
    it; D is 16% of a CIFAR-10 t-GAN) and int8 weights: each large kernel with one float16
    scale per row, vectors float16, a quarter of float32. CIFAR-10's 3.6M-parameter generators
    went first; since the modern track (issue 21) every GAN ships int8 (0.46 MiB for a 28x28
    generator instead of 0.82 MiB in float16), so both tracks of every data set fit the zoo's
    80 MiB. Re-scoring the int8 weights is tested against each run's own scores. The
    PixelCNN's likelihood is kept exact in float32."""
    if model == "pixelcnn":
        return {"dtype": torch.float32}
    return {"dtype": torch.int8, "omit": ("discriminator",)}


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    renameat2 = getattr(ctypes.CDLL(libc_name, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def replace_entry(dest: Path, build: Callable[[Path], None]) -> Path:
    """Build the new ``dest`` in a hidden sibling (a copy of the old one, then ``build`` on it)
    and swap it in atomically; the old folder is deleted after. Returns ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.shipping"
    shutil.rmtree(staging, ignore_errors=True)  # what a killed ship left
    try:
        if dest.is_dir():
            shutil.copytree(dest, staging, symlinks=True)
        else:
            staging.mkdir()
        build(staging)
    except OSError as exc:  # a full disk, a read-only zoo: the old entry was never touched
        shutil.rmtree(staging, ignore_errors=True)
        raise ShipError(
            f"cannot write the new {dest.name} ({exc.strerror or exc}: {exc.filename or dest}); "
            f"{dest} is unchanged. Free disk space or make {dest.parent} writable, then retry"
        ) from exc
    if not dest.exists():
        os.rename(staging, dest)
    elif _exchange(staging, dest):
        shutil.rmtree(staging)  # now the old entry
    else:  # no renameat2: a kill between these two renames leaves the old entry in `.old`
        old = dest.parent / f".{dest.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.rename(dest, old)
        os.rename(staging, dest)
        shutil.rmtree(old)
    return dest


def ship(name: str, seed: int, dest_root: Path | None = None) -> Path:
    """Copy a finished run into ``pretrained/<entry>/``: config.json, model.safetensors (see
    ``shipped_weights``), stats.jsonl, scores.jsonl (the score curve), summary.json, nll.json
    and metrics.json when the run has them (a stale one is removed), the final sample grid,
    entry.json and the card. The entry's ``seeds/`` stay. Atomic (``replace_entry``). Returns
    the folder."""
    e = entry(name)
    run = e.run_dir(seed)
    if not (run / "summary.json").exists():
        raise ValueError(
            f"{repo_relative(run)} is not a finished run (no summary.json); train it first: "
            f"python -m core.reproduce train {name} --seeds {seed}"
        )
    for fname in (*RUN_FILES, "summary.json"):  # each file shipped is checked before anything
        if (run / fname).suffix == ".json" and os.path.lexists(run / fname):
            load_json_file(run / fname)  # ValueError naming it: a FIFO, a link out, not JSON
    for log in (run / "stats.jsonl", run / "scores.jsonl"):
        if os.path.lexists(log):
            read_jsonl(log)
    config = read_config(run)
    model = load_pretrained(run)
    extra = {k: v for k, v in config.items() if k not in ("format_version", "model")}
    extra["source_run"] = repo_relative(run)
    grids = sorted((run / "samples").glob("step_*.png"))

    def build(folder: Path) -> None:
        save_pretrained(model, folder, extra=extra, **shipped_weights(e.model))
        for fname in (*RUN_FILES, "samples.png"):
            (folder / fname).unlink(missing_ok=True)
        for fname in RUN_FILES:
            if (run / fname).is_file():
                atomic_copy(run / fname, folder / fname)
        if grids:
            atomic_copy(grids[-1], folder / "samples.png")
        info = {
            "entry": e.name,
            "seed": seed,
            "featured": e.featured,
            "train_command": train_command(e, seed),
        }
        atomic_write_json(folder / "entry.json", info)
        write_card(folder, e.name)

    return replace_entry((dest_root or zoo_root()) / e.name, build)


def shipped_seed(dest: Path) -> int | None:
    """The training seed a shipped entry's weights come from (its entry.json); None when the
    folder has no readable entry.json naming one."""
    info = read_json(dest / "entry.json")
    seed = info.get("seed") if isinstance(info, dict) else None
    return seed if isinstance(seed, int) else None


def repack(name: str, dest_root: Path | None = None) -> Path:
    """Re-encode a shipped entry's weights in the current ``shipped_weights`` format, from the
    run's own float32 weights where this machine has them, else from the shipped weights
    (config.json says which in ``weights_source``); the card follows. Atomic. Returns the
    folder. Scores do not change beyond rounding: re-score with ``python -m core evaluate``."""
    e = entry(name)
    dest = (dest_root or zoo_root()) / e.name
    seed = shipped_seed(dest)
    if seed is None:
        raise ValueError(f"{dest} is not a shipped entry (no readable entry.json); ship it first")
    run = e.run_dir(seed)
    from_run = (run / WEIGHTS_NAME).exists()
    config = read_config(dest)
    model = load_pretrained(run if from_run else dest)
    drop = ("format_version", "model", "weights_dtype", "weights_omit", "weights_source")
    extra = {k: v for k, v in config.items() if k not in drop}
    if not from_run:  # e.g. a GPU run whose float32 weights stayed on the GPU machine
        # a second repack keeps the first one's account of where the weights came from
        extra["weights_source"] = config.get("weights_source") or (
            f"re-encoded from shipped {config.get('weights_dtype')} weights"
        )

    def build(folder: Path) -> None:
        save_pretrained(model, folder, extra=extra, **shipped_weights(e.model))
        write_card(folder, e.name)

    return replace_entry(dest, build)


MANIFEST_NAME = "MANIFEST.json"


def manifest(root: Path | None = None) -> dict[str, dict]:
    """{relative path: {"sha256", "bytes"}} of every file under the zoo but the manifest."""
    root = root or zoo_root()
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel == MANIFEST_NAME or "/." in f"/{rel}":
            continue
        data = path.read_bytes()
        out[rel] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    return out


def write_manifest(root: Path | None = None) -> Path:
    """pretrained/MANIFEST.json: every shipped file with its sha256 and size, and the total."""
    root = root or zoo_root()
    files = manifest(root)
    total = sum(f["bytes"] for f in files.values())
    atomic_write_json(root / MANIFEST_NAME, {"total_bytes": total, "files": files})
    return root / MANIFEST_NAME


def write_card(dest: Path, name: str | None = None) -> Path:
    """card.md of a shipped entry, from the files beside it (config, summary, metrics);
    ``name`` is the entry's (default the folder's name)."""
    config, summary, info = (read_json(dest / n) or {} for n in SHIPPED_JSON[:3])
    metrics, nll = read_json(dest / "metrics.json") or {}, read_json(dest / "nll.json") or {}
    model, train = config.get("model", {}), config.get("train", {})
    hw = summary.get("hardware", {})
    machine = hw.get("gpu") or hw.get("cpu_model") or hw.get("cpu")  # cpu_model: since 2026-12-07
    digest = hashlib.sha256((dest / "model.safetensors").read_bytes()).hexdigest()
    if model.get("family") == "pixelcnn":
        what = f"class-conditional gated PixelCNN, {model.get('extra')}"
    else:
        what = (
            f"prior `{model.get('prior')}`, df {model.get('df')}, conditioning "
            f"`{model.get('conditioning')}`, codeword mean `{model.get('codeword_mean')}`"
        )
    lines = [
        f"# {name or dest.name}",
        "",
        f"- model: `{model.get('preset')}` ({what}), width {model.get('width')}",
        f"- data: {model.get('dataset')}, n_train {train.get('n_train')} (0 = full split), "
        f"seed {train.get('seed')}, {summary.get('steps')} steps, batch {train.get('batch_size')}",
        f"- trained on: {hw.get('device')} ({machine}, "
        f"{hw.get('cpu_threads')} threads, torch {hw.get('torch')}, "
        f"{train.get('precision', 'float32')}), wall time "
        f"{summary.get('wall_time_s')} s (a shared machine: other jobs ran beside it)",
        f"- command: `{info.get('train_command')}`",
        f"- weights: model.safetensors ({config.get('weights_dtype')}"
        + (" per-row scales, vectors float16" if config.get("weights_dtype") == "int8" else "")
        + (f", {config['weights_source']}" if config.get("weights_source") else "")
        + "".join(f", no {m}" for m in config.get("weights_omit", []))
        + f"), sha256 `{digest}`",
    ]
    if model.get("preset") == "acgan" and model.get("conditioning") == "embedding":
        lines.append(
            "- label input: a learned embedding (`--conditioning embedding`), the acgan preset "
            "when this entry was trained; it collapses within each class (pretrained/NOTES.md). "
            "The preset now feeds G the one-hot label (Odena et al. 2017), so the command above "
            "trains that model; add `--conditioning embedding` to it to reproduce this one"
        )
    departures = []
    if model.get("codeword_mean") == "onehot" and model.get("conditioning") == "codeword":
        departures.append("one-hot codeword means (the paper centres class l on l·1)")
    policy = [f"shifted by up to {train['augment_shift']} px"] if train.get("augment_shift") else []
    if train.get("augment_color"):
        policy.insert(0, "colour-jittered")
    if train.get("augment_cutout"):
        policy.append(f"cut out ({train['augment_cutout']:g} of the side)")
    if policy:
        departures.append("DiffAugment, D saw every image (real and fake) " + ", ".join(policy))
    if model.get("d_classifies_fakes") is False and model.get("alpha"):
        departures.append("C (in D) learned from real images only")
    if model.get("d_projection"):
        departures.append("a projection discriminator (D's logit also sees the label)")
    if departures:
        lines.append("- outside the paper's protocol: " + "; ".join(departures))
    if nll:
        lines.append(
            f"- test NLL: {nll.get('test_nll_bpd'):.4f} bits/dim; 100 samples in "
            f"{nll.get('sample_100_s'):.2f} s"
        )
    if metrics:
        lines.append(f"- report row: `{metrics.get('model')}` (preset + every departure from it)")
        m = metrics.get("metrics", {})
        shown = ", ".join(
            f"{k} {v['mean']:.3f} ± {v['std']:.3f}"
            if isinstance(v, dict) and "std" in v
            else f"{k} {v:.3f}"
            if isinstance(v, float)
            else k
            for k, v in m.items()
            if not k.startswith("memorisation")
        )
        lines.append(f"- scores ({metrics.get('judge')}): {shown}")
    lines += ["", "![samples](samples.png)", ""]
    atomic_write_text(dest / "card.md", "\n".join(lines))
    return dest / "card.md"
