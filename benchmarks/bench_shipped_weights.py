"""Shipped weights against the run's own scores: re-score zoo entries from their shipped files
(int8 for every GAN) with the same seeds and N as their metrics.json, and print both and the
difference. Asserts nothing (``tests/core/test_zoo.py`` checks a sample of entries).

    python benchmarks/bench_shipped_weights.py [ENTRY ...] [--dataset cifar10] [--threads 1]

No entries: every shipped GAN entry of ``--dataset`` (default cifar10).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from core.evaluate.scoring import evaluate_model, protocol  # noqa: E402
from core.paths import PRETRAINED_ROOT  # noqa: E402
from core.zoo.recipes import ENTRIES  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entries", nargs="*")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = args.entries or sorted(
        n for n, e in ENTRIES.items() if e.dataset == args.dataset and e.model != "pixelcnn"
    )
    print(f"{'entry':44s} {'dtype':8s} {'metric':10s} {'run':>9s} {'shipped':>9s} {'diff':>9s}")
    for name in names:
        folder = PRETRAINED_ROOT / name
        if not (folder / "metrics.json").exists():
            print(f"{name:44s} not shipped or not scored: skipped", flush=True)
            continue
        shipped = json.loads((folder / "metrics.json").read_text())
        dtype = json.loads((folder / "config.json").read_text()).get("weights_dtype")
        started = time.perf_counter()
        fresh = evaluate_model(folder, n=shipped["n_samples"], write=False)
        tag = protocol(shipped["n_samples"])
        for base in ("is", "mis", "fidelity", "fd", "precision", "recall"):
            old, new = shipped["metrics"].get(base + tag), fresh["metrics"].get(base + tag)
            if old is None or new is None:
                continue
            old, new = (v["mean"] if isinstance(v, dict) else v for v in (old, new))
            print(f"{name:44s} {dtype:8s} {base:10s} {old:9.4f} {new:9.4f} {new - old:+9.4f}")
        print(f"{name:44s} scored in {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
