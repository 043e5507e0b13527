"""PixelCNN timings: sampling 100 images (cached sampler vs. the naive full-forward loop), a
training step, and the test-set NLL pass. Figures only; nothing is asserted.

    python benchmarks/bench_pixelcnn.py [--model-dir RUN_OR_PRETRAINED] [--dataset mnist]
                                        [--threads 2] [--n 100]

Without --model-dir it times a freshly initialised ``pixelcnn`` preset (timings do not depend
on the weights). The naive reference recomputes the whole network for every pixel (and
channel); it is timed on the first row and extrapolated to the image, and the ratio printed.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script

from core.models import build_model, model_config  # noqa: E402
from core.pixelcnn.model import levels  # noqa: E402
from core.sampling import sample  # noqa: E402


def naive_row_seconds(model, n: int) -> float:
    """Seconds for the first image row of ``n`` images with a full forward per value."""
    c, h, w = model.config.image_shape
    labels = torch.arange(n) % model.config.n_classes
    images = torch.zeros(n, c, h, w)
    gen = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    with torch.no_grad():
        for col in range(w):
            for ch in range(c):
                logits = model(images, labels)[:, ch, :, 0, col]
                probs = torch.softmax(logits, -1)
                value = torch.multinomial(probs, 1, generator=gen)[:, 0]
                images[:, ch, 0, col] = value.float() / 127.5 - 1
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default=None, help="run or pretrained folder")
    parser.add_argument("--dataset", default="mnist", help="preset data set without --model-dir")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--n", type=int, default=100, help="images to sample")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.model_dir:
        from core.weights import load_pretrained

        model = load_pretrained(args.model_dir)
    else:
        model = build_model(model_config("pixelcnn", args.dataset), seed=0).eval()
    cfg = model.config
    c, h, w = cfg.image_shape
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"pixelcnn {cfg.dataset} {cfg.image_shape} width {cfg.width} extra {cfg.extra} "
        f"params {n_params}"
    )
    print(
        f"cpu {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"threads {torch.get_num_threads()}"
    )

    seeds = list(range(args.n))
    labels = [i % cfg.n_classes for i in seeds]
    started = time.perf_counter()
    sample(model, seeds, labels)
    fast = time.perf_counter() - started
    print(f"sample {args.n} images, cached sampler: {fast:.2f} s")
    row = naive_row_seconds(model, args.n)
    naive = row * h
    print(
        f"sample {args.n} images, naive full forward per value: {naive:.1f} s (one row "
        f"{row:.2f} s x {h} rows)  -> cached is {naive / fast:.1f}x faster"
    )

    batch = 32
    real = levels(torch.rand(batch, c, h, w) * 2 - 1).float() / 127.5 - 1
    y = torch.arange(batch) % cfg.n_classes
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for i in range(4):
        if i == 1:
            started = time.perf_counter()
        loss = model.nll_bpd(real, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    step = (time.perf_counter() - started) / 3
    print(f"train step (batch {batch}): {step:.2f} s = {batch / step:.1f} images/s")
    model.eval()
    with torch.no_grad():
        started = time.perf_counter()
        model.nll_bpd(real, y)
        nll = time.perf_counter() - started
    print(f"NLL forward (batch {batch}): {batch / nll:.1f} images/s")


if __name__ == "__main__":
    main()
