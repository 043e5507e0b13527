"""2-D toy GAN throughput on one CPU thread, and the playground page's frame time.

    python benchmarks/bench_toy.py [--steps 300] [--frames 8] [--speed 25]

(a) Training steps/s at batch 256 of core.explore.toy.ToyTrainer.step for each prior (goal:
>= 200 steps/s), beside a plain eager loop written out here (randn noise, two D passes, no
prior, same nets and batch) and their ratio. (b) The page's frame while playing: the page
times its own fragment (three panels, ``--speed`` steps each, snapshots and figures) and
prints "frame computed in N ms"; here AppTest presses Step ``--frames`` times and reads it,
and the whole script rerun around it is timed too. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a plain script
sys.path.insert(0, str(REPO / "tests" / "app"))  # app_support: the AppTest helpers

from core.explore.toy import ToyConfig, ToyTrainer, mlp  # noqa: E402


def steps_per_s(fn, steps: int) -> float:
    fn(10)  # warm-up
    start = time.perf_counter()
    fn(steps)
    return steps / (time.perf_counter() - start)


def reference_steps(batch: int, hidden: int):
    """The textbook loop: randn latents, D on real then on fake, then G; Adam on both."""
    g, d = mlp(2, hidden, 2, 0.0), mlp(2, hidden, 1, 0.2)
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.5, 0.999))
    real = torch.randn(5000, 2)
    bce = F.binary_cross_entropy_with_logits

    def run(n: int) -> None:
        for _ in range(n):
            x = real[torch.randint(0, 5000, (batch,))]
            fake = g(torch.randn(batch, 2))
            r, f = d(x), d(fake.detach())
            loss_d = bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            out = d(fake)
            loss_g = bce(out, torch.ones_like(out))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()

    return run


def frame_times(frames: int, speed: int) -> tuple[list[float], list[float]]:
    """(the page's own fragment times, whole-rerun times) in ms over ``frames`` Step presses."""
    from app_support import app, open_page

    at = open_page(app(), "playground.py", {"speed": str(speed)})
    own, whole = [], []
    for _ in range(frames):
        start = time.perf_counter()
        at.button(key="playground_step").click().run()
        whole.append(1000 * (time.perf_counter() - start))
        text = " ".join(c.value for c in at.caption)
        own.append(float(re.search(r"frame computed in (\d+) ms", text).group(1)))
    return own, whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--speed", type=int, default=25)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = ToyConfig()
    print(
        f"CPU, torch threads {torch.get_num_threads()}, batch {config.batch_size}, "
        f"MLPs 2 x {config.hidden}, data ring8"
    )
    ref = steps_per_s(reference_steps(config.batch_size, config.hidden), args.steps)
    print(f"{'prior':12s} {'steps/s':>8s} {'ref steps/s':>12s} {'ratio':>6s}")
    for prior, df in (("gaussian", 3.0), ("gmm", 3.0), ("tmix", 3.0), ("tmix", 1.0)):
        trainer = ToyTrainer(ToyConfig(prior=prior, df=df))
        ours = steps_per_s(trainer.step, args.steps)
        label = ToyConfig(prior=prior, df=df).label
        print(f"{label:12s} {ours:8.0f} {ref:12.0f} {ours / ref:6.2f}")
    own, whole = frame_times(args.frames, args.speed)
    print(
        f"page frame while playing (3 panels x {args.speed} steps, median of {args.frames}): "
        f"{statistics.median(own):.0f} ms in the fragment, {statistics.median(whole):.0f} ms "
        f"for the whole AppTest rerun"
    )


if __name__ == "__main__":
    main()
