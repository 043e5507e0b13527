"""The zoo's training protocol: which entries exist, how each is trained, and the commands that
re-train and ship an entry from scratch (paper.md §5; issue 6).

An entry is ``<model>-<dataset>-<regime>[-<tag>]`` with regime the training-set size (``500``) or
``full``; its shipped folder is ``pretrained/<entry>/`` and its runs are
``runs/zoo/<entry>-s<seed>/``. All GANs of one data set train for the same number of steps.

    python -m core.reproduce train tgan-mnist-500 --seeds 0,1,2
    python -m core.reproduce ship tgan-mnist-500 --seed 0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ZOO_ROOT = REPO / "pretrained"
RUNS_ROOT = REPO / "runs" / "zoo"

# Same number of iterations for every GAN of a data set (paper.md §5). Fashion-MNIST runs past
# the ~7,500 steps at which the paper says G's loss settles (claim C3).
STEPS = {"mnist": 5000, "fashion": 8000, "cifar10": 5000}


@dataclass(frozen=True)
class ZooEntry:
    model: str
    dataset: str
    n_train: int  # 0 = full training split
    steps: int
    overrides: dict = field(default_factory=dict)
    tag: str = ""  # distinguishes ablations (e.g. "df1")

    @property
    def regime(self) -> str:
        return "full" if self.n_train == 0 else str(self.n_train)

    @property
    def name(self) -> str:
        base = f"{self.model}-{self.dataset}-{self.regime}"
        return f"{base}-{self.tag}" if self.tag else base

    def run_dir(self, seed: int) -> Path:
        return RUNS_ROOT / f"{self.name}-s{seed}"

    def train_argv(self, seed: int, device: str = "auto") -> list[str]:
        """Arguments of ``python -m core train`` for this entry and seed."""
        argv = ["train", "--model", self.model, "--dataset", self.dataset,
                "--n-train", str(self.n_train), "--steps", str(self.steps),
                "--seed", str(seed), "--device", device,
                "--run-dir", str(self.run_dir(seed)), "--no-progress"]  # fmt: skip
        for key, value in self.overrides.items():
            argv += [f"--{key.replace('_', '-')}", str(value)]
        return argv


def _entries() -> list[ZooEntry]:
    out = []
    for dataset in ("mnist", "fashion"):
        steps = STEPS[dataset]
        out += [ZooEntry(m, dataset, 500, steps) for m in ("gan", "dcgan", "acgan", "deligan",
                                                             "tgan")]  # fmt: skip
        out += [ZooEntry(m, dataset, 0, steps) for m in ("dcgan", "acgan")]
    out += [ZooEntry(m, "cifar10", 2000, STEPS["cifar10"]) for m in ("dcgan", "acgan", "deligan",
                                                                     "tgan")]  # fmt: skip
    # The ablation the paper lacks: what the tails buy (v = 1000 is the Gaussian-mixture limit).
    out += [ZooEntry("tgan", "mnist", 500, STEPS["mnist"], {"df": v}, tag=f"df{v:g}")
            for v in (1.0, 10.0, 1000.0)]  # fmt: skip
    return out


ENTRIES: dict[str, ZooEntry] = {e.name: e for e in _entries()}


def entry(name: str) -> ZooEntry:
    if name not in ENTRIES:
        raise ValueError(f"unknown zoo entry {name!r}; known: {', '.join(sorted(ENTRIES))}")
    return ENTRIES[name]


def train_command(e: ZooEntry, seed: int) -> str:
    """The shell command (run from the repo root) that trains one entry and seed."""
    argv = [a.replace(f"{REPO}/", "") for a in e.train_argv(seed)]
    return "python -m core " + " ".join(argv)


def train_entries(names: list[str], seeds: list[int], device: str = "auto") -> list[Path]:
    """Train (or resume, or skip when finished) each entry x seed in turn, in this process."""
    from core.__main__ import main as cli

    done = []
    for name in names:
        for seed in seeds:
            e = entry(name)
            run = e.run_dir(seed)
            if (run / "summary.json").exists():
                done.append(run)
                continue
            argv = e.train_argv(seed, device)
            if (run / "config.json").exists():
                argv.append("--resume")
            print(f"[zoo] python -m core {' '.join(argv)}", flush=True)
            if cli(argv) != 0:
                raise RuntimeError(f"training {name} seed {seed} failed; see the message above")
            done.append(run)
    return done


def ship(name: str, seed: int, dest_root: Path = ZOO_ROOT) -> Path:
    """Copy a finished run into ``pretrained/<entry>/``: config.json, float16
    model.safetensors, stats.jsonl, summary.json, the final sample grid. Returns the folder."""
    import shutil

    import torch

    from core.atomic import atomic_write_json
    from core.weights import load_pretrained, read_config, save_pretrained

    e = entry(name)
    run = e.run_dir(seed)
    if not (run / "summary.json").exists():
        raise ValueError(f"{run} is not a finished run (no summary.json); train it first")
    dest = dest_root / e.name
    dest.mkdir(parents=True, exist_ok=True)
    config = read_config(run)
    extra = {k: v for k, v in config.items() if k not in ("format_version", "model")}
    extra["source_run"] = f"runs/zoo/{run.name}"
    save_pretrained(load_pretrained(run), dest, extra=extra, dtype=torch.float16)
    for fname in ("stats.jsonl", "summary.json"):
        shutil.copyfile(run / fname, dest / fname)
    grids = sorted((run / "samples").glob("step_*.png"))
    if grids:
        shutil.copyfile(grids[-1], dest / "samples.png")
    atomic_write_json(dest / "entry.json", {"entry": e.name, "seed": seed,
                                            "train_command": train_command(e, seed)})  # fmt: skip
    return dest


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="train or ship zoo entries")
    parser.add_argument("action", choices=["train", "ship"])
    parser.add_argument("entries", nargs="+", help=f"entry names, or 'all': {sorted(ENTRIES)}")
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    names = sorted(ENTRIES) if args.entries == ["all"] else args.entries
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.action == "train":
        train_entries(names, seeds, args.device)
    else:
        for name in names:
            print(ship(name, seeds[0]))
