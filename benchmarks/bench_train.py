"""Train-step and sampling throughput of every GAN preset on the current device.

    python benchmarks/bench_train.py [--device cpu|cuda] [--dataset mnist|cifar10] [--steps 30]

For each model it times (a) our training step (core.train.GANTrainer.step, which draws from the
prior, conditions, and applies every loss term) and (b) a plain eager reference loop written out
here by hand (Gaussian noise, no conditioning or extra losses, same networks and batch), and
prints images/s for both and their ratio; then the same for sampling: core.sampling.sample
(one seed per image, the path the app and evaluation use) against G on a batch of randn.
Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script

from core.config import TrainConfig  # noqa: E402
from core.gan import GANTrainer  # noqa: E402
from core.models import GAN_PRESETS, build_model, model_config  # noqa: E402
from core.sampling import sample  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rate(fn, n_images: int, steps: int, device: torch.device) -> float:
    for _ in range(3):  # warm-up
        fn()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    _sync(device)
    return n_images * steps / (time.perf_counter() - start)


def reference_step(model, opt_g, opt_d, real: torch.Tensor, in_dim: int) -> None:
    """The textbook DCGAN step: randn noise, BCE on D logits, D then G."""
    z = torch.randn(len(real), in_dim, device=real.device)
    fake = model.generator(z)
    real_logit = model.discriminator(real)[0]
    fake_logit = model.discriminator(fake.detach())[0]
    d_loss = F.binary_cross_entropy_with_logits(
        real_logit, torch.ones_like(real_logit)
    ) + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_logit = model.discriminator(fake)[0]
    g_loss = F.binary_cross_entropy_with_logits(g_logit, torch.ones_like(g_logit))
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()


def bench_preset(preset: str, args, real: torch.Tensor, labels: torch.Tensor, device) -> str:
    """One table row: ours vs the reference, for training and for sampling."""
    cfg = model_config(preset, args.dataset)
    tcfg = TrainConfig(model=preset, dataset=args.dataset, device=str(device))
    model = build_model(cfg, seed=0).to(device).train()
    trainer = GANTrainer(model, tcfg)
    noise = torch.Generator(device=device).manual_seed(0)
    ours = _rate(lambda: trainer.step(real, labels, noise), len(real), args.steps, device)

    ref_model = build_model(cfg, seed=0).to(device).train()
    betas = (0.5, 0.999)
    opt_g = torch.optim.Adam(ref_model.generator.parameters(), lr=2e-4, betas=betas)
    opt_d = torch.optim.Adam(ref_model.discriminator.parameters(), lr=2e-4, betas=betas)
    in_dim = cfg.latent_dim + cfg.cond_dim
    ref = _rate(
        lambda: reference_step(ref_model, opt_g, opt_d, real, in_dim), len(real), args.steps, device
    )

    model.eval()
    seeds = list(range(args.sample_n))
    samp = _rate(lambda: sample(model, seeds), args.sample_n, 3, device)

    @torch.no_grad()
    def ref_sample() -> None:
        model.generator(torch.randn(args.sample_n, in_dim, device=device))

    samp_ref = _rate(ref_sample, args.sample_n, 3, device)
    return (
        f"{preset:8s} {ours:12.0f} {ref:10.0f} {ours / ref:6.2f} "
        f"{samp:13.0f} {samp_ref:10.0f} {samp / samp_ref:6.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion", "cifar10"])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--sample-n", type=int, default=512)
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"device: {device} ({name}), torch threads {torch.get_num_threads()}, "
        f"dataset {args.dataset}, batch {args.batch_size}"
    )
    header = (
        f"{'model':8s} {'train img/s':>12s} {'ref img/s':>10s} {'ratio':>6s} "
        f"{'sample img/s':>13s} {'ref img/s':>10s} {'ratio':>6s}"
    )
    print(header)
    print("-" * len(header))
    shape = model_config("dcgan", args.dataset).image_shape
    real = torch.rand(args.batch_size, *shape, device=device) * 2 - 1
    labels = torch.randint(0, 10, (args.batch_size,), device=device)
    for preset in GAN_PRESETS:
        print(bench_preset(preset, args, real, labels, device))


if __name__ == "__main__":
    main()
