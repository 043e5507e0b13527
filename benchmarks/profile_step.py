"""The top ops of one preset's training step under torch.profiler, per --precision.

    python benchmarks/profile_step.py [--preset tgan] [--datasets mnist,cifar10] [--steps 5]
                                      [--top 5] [--threads N]

For each data set and precision (float32, bf16) it warms the step up, profiles ``--steps``
steps of core.train.GANTrainer.step on a random batch, and prints the ``--top`` ops by self CPU
time (ms per step, share of the step). Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script

from core.config import TrainConfig  # noqa: E402
from core.gan import GANTrainer  # noqa: E402
from core.models import build_model, model_config  # noqa: E402


def top_ops(preset: str, dataset: str, precision: str, args) -> list[str]:
    cfg = model_config(preset, dataset)
    real = torch.rand(args.batch_size, *cfg.image_shape) * 2 - 1
    labels = torch.arange(args.batch_size) % cfg.n_classes
    model = build_model(cfg, seed=0).train()
    trainer = GANTrainer(model, TrainConfig(model=preset, dataset=dataset, precision=precision))
    noise = torch.Generator().manual_seed(0)
    for _ in range(2):  # warm-up: oneDNN primitive creation
        trainer.step(real, labels, noise)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(args.steps):
            trainer.step(real, labels, noise)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    rows = [f"  step {total / 1e3 / args.steps:8.1f} ms (self CPU time of all ops)"]
    for e in events[: args.top]:
        ms, share = e.self_cpu_time_total / 1e3 / args.steps, 100 * e.self_cpu_time_total / total
        rows.append(f"  {e.key:32s} {ms:8.1f} ms {share:5.1f}%  x{e.count // args.steps}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tgan")
    parser.add_argument("--datasets", default="mnist,cifar10", help="comma list")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}, "
        f"{torch.backends.cpu.get_cpu_capability()}, batch {args.batch_size}"
    )
    for dataset in args.datasets.split(","):
        for precision in ("float32", "bf16"):
            print(
                f"\n{args.preset} {dataset} --precision {precision}: top ops by self CPU time "
                f"(per step, share, calls per step)"
            )
            print("\n".join(top_ops(args.preset, dataset, precision, args)), flush=True)


if __name__ == "__main__":
    main()
