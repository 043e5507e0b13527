"""Train-step and sampling throughput of every GAN preset, per data set, precision and device.

    python benchmarks/bench_train.py [--datasets mnist,cifar10] [--presets tgan,...] [--steps 5]
                                     [--repeats 3] [--device cpu|cuda|all] [--threads N]
                                     [--sample-n 512] [--sample-only] [--packed 8,16,32]

For each model it times (a) a plain eager float32 reference loop written out here by hand
(Gaussian noise, no conditioning or extra losses, same networks and batch), (b) our training step
(core.train.GANTrainer.step, which draws from the prior, conditions, and applies every loss term)
at --precision float32 and (c) at bf16, and prints images/s and each one's ratio to (a); then
sampling: core.sampling.sample (one seed per image, the path the app and evaluation use) against
G on a batch of randn. The variants alternate within one process (``--repeats`` rounds of
``--steps`` steps each) and each figure is the median round, so a load that comes and goes on a
shared machine hits them alike. GPU rows only where CUDA is available. Figures only; nothing is
asserted. ``--sample-only`` skips (a)-(c) and prints the sampling columns alone.
``--packed N,...`` times instead, for each N, N runs (seeds) stepped one after another by their
own GANTrainer (what N separate processes sharing the device do at best) against one packed step
of all N (core/packed.py), as aggregate images/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script

from core.config import TrainConfig  # noqa: E402
from core.gan import GANTrainer  # noqa: E402
from core.models import GAN_PRESETS, build_model, model_config  # noqa: E402
from core.packed import PackedGANStep  # noqa: E402
from core.precision import cpu_has_bf16, resolve_precision  # noqa: E402
from core.sampling import sample  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rates(fns: dict, n_images: int, steps: int, repeats: int, device: torch.device) -> dict:
    """Median images/s of each callable over ``repeats`` interleaved rounds of ``steps`` calls."""
    for fn in fns.values():  # warm-up (oneDNN primitive creation, allocator)
        for _ in range(2):
            fn()
    rounds: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            _sync(device)
            start = time.perf_counter()
            for _ in range(steps):
                fn()
            _sync(device)
            rounds[name].append(n_images * steps / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rounds.items()}


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


def bench_preset(preset: str, dataset: str, args, device: torch.device) -> str:
    """One table row: the eager reference, ours float32, ours bf16; then sampling."""
    cfg = model_config(preset, dataset)
    in_dim = cfg.latent_dim + cfg.cond_dim
    if args.sample_only:
        samp = bench_sampling(cfg, in_dim, args, device)
        return f"{preset:8s} {'-':>9s} {'-':>9s} {'-':>6s} {'-':>9s} {'-':>6s}   {samp}"
    real = torch.rand(args.batch_size, *cfg.image_shape, device=device) * 2 - 1
    labels = torch.randint(0, cfg.n_classes, (args.batch_size,), device=device)
    ref_model = build_model(cfg, seed=0).to(device).train()
    betas = (0.5, 0.999)
    opt_g = torch.optim.Adam(ref_model.generator.parameters(), lr=2e-4, betas=betas)
    opt_d = torch.optim.Adam(ref_model.discriminator.parameters(), lr=2e-4, betas=betas)
    fns = {"eager": lambda: reference_step(ref_model, opt_g, opt_d, real, in_dim)}
    for name in ("float32", "bf16"):
        model = build_model(cfg, seed=0).to(device).train()
        trainer = GANTrainer(model, TrainConfig(model=preset, dataset=dataset, precision=name))
        noise = torch.Generator(device=device).manual_seed(0)
        fns[name] = lambda t=trainer, g=noise: t.step(real, labels, g)
    train = _rates(fns, args.batch_size, args.steps, args.repeats, device)
    eager, f32, bf16 = train["eager"], train["float32"], train["bf16"]
    samp = bench_sampling(cfg, in_dim, args, device)
    return (
        f"{preset:8s} {eager:9.0f} {f32:9.0f} {f32 / eager:6.2f} {bf16:9.0f} "
        f"{bf16 / eager:6.2f}   {samp}"
    )


def bench_sampling(cfg, in_dim: int, args, device: torch.device) -> str:
    """The sampling columns: core.sampling.sample (per seed) against G on randn, img/s."""
    model = build_model(cfg, seed=0).to(device).eval()
    seeds = list(range(args.sample_n))

    @torch.no_grad()
    def ref_sample() -> None:
        model.generator(torch.randn(args.sample_n, in_dim, device=device))

    samp = _rates(
        {"ours": lambda: sample(model, seeds), "ref": ref_sample},
        args.sample_n,
        1,
        args.repeats,
        device,
    )
    ours, ref = samp["ours"], samp["ref"]
    return f"{ours:9.0f} {ref:9.0f} {ours / ref:6.2f}"


def bench_packed(preset: str, dataset: str, n_runs: int, args, device: torch.device) -> str:
    """One row: N lone runs stepped in turn vs one packed step of N (aggregate images/s)."""
    mcfg = model_config(preset, dataset)
    cfg = TrainConfig(model=preset, dataset=dataset, precision="float32")
    real = [torch.rand(args.batch_size, *mcfg.image_shape, device=device) * 2 - 1] * n_runs
    labels = [torch.randint(0, mcfg.n_classes, (args.batch_size,), device=device)] * n_runs
    lone = [GANTrainer(build_model(mcfg, seed=s).to(device).train(), cfg) for s in range(n_runs)]
    lone_noise = [torch.Generator(device=device).manual_seed(s) for s in range(n_runs)]
    models = [build_model(mcfg, seed=s).to(device).train() for s in range(n_runs)]
    packed = PackedGANStep(models, [GANTrainer(m, cfg) for m in models])
    packed_noise = [torch.Generator(device=device).manual_seed(s) for s in range(n_runs)]

    def lone_steps() -> None:
        for t, r, y, g in zip(lone, real, labels, lone_noise, strict=True):
            t.step(r, y, g)

    rates = _rates(
        {"lone": lone_steps, "packed": lambda: packed.step(real, labels, packed_noise)},
        args.batch_size * n_runs,
        args.steps,
        args.repeats,
        device,
    )
    return (
        f"{preset:8s} {n_runs:4d} {rates['lone']:11.0f} {rates['packed']:11.0f} "
        f"{rates['packed'] / rates['lone']:6.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device", default="all", help="cpu | cuda | all (default: cpu, and cuda where available)"
    )
    parser.add_argument("--datasets", default="mnist,cifar10", help="comma list")
    parser.add_argument("--presets", default=",".join(GAN_PRESETS), help="comma list")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5, help="training steps per round")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--sample-n", type=int, default=512)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--sample-only", action="store_true", help="time sampling only (no training steps)"
    )
    parser.add_argument(
        "--packed", default="", help="comma list of N: N lone runs vs one packed step of N"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    devices = [torch.device(d) for d in devices if d != "cuda" or torch.cuda.is_available()]
    capability = torch.backends.cpu.get_cpu_capability()
    print(
        f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}, CPU bf16 units: "
        f"{cpu_has_bf16()} ({capability}), batch {args.batch_size}, {args.repeats} rounds "
        f"of {args.steps} steps (median)"
    )
    header = (
        f"{'model':8s} {'eager32':>9s} {'float32':>9s} {'ratio':>6s} {'bf16':>9s} "
        f"{'ratio':>6s}   {'sample':>9s} {'ref':>9s} {'ratio':>6s}"
    )
    for device in devices:
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
        auto = resolve_precision("auto", device)
        for dataset in args.datasets.split(","):
            if args.packed:
                print(
                    f"\n{device} ({name}), {dataset}: float32 train img/s of N runs, summed: "
                    "each stepped by its own trainer in turn, and one packed step of all N"
                )
                print(f"{'model':8s} {'N':>4s} {'lone img/s':>11s} {'packed':>11s} {'ratio':>6s}")
                for preset in args.presets.split(","):
                    for n_runs in map(int, args.packed.split(",")):
                        print(bench_packed(preset, dataset, n_runs, args, device), flush=True)
                continue
            print(
                f"\n{device} ({name}), {dataset}: train img/s (eager float32 loop, ours at "
                f"float32 and bf16, ratios to eager), sample img/s (ours, G on randn); "
                f"--precision auto = {auto}"
            )
            print(header)
            print("-" * len(header))
            for preset in args.presets.split(","):
                print(bench_preset(preset, dataset, args, device), flush=True)


if __name__ == "__main__":
    main()
