"""App latency: slider move -> new 8x8 grid (MNIST-sized and CIFAR-10-sized t-GANs), and each
page's first render in a fresh session of a warm server. Prints p50 / p95; asserts nothing.

    python benchmarks/bench_app_latency.py [--threads 2] [--moves 60] [--renders 5]

Targets (issue 5, 2 CPU cores): MNIST grid < 50 ms p95, CIFAR-10 grid < 200 ms p95, every page's
first render < 3 s warm. The grid path is the page's own: ``explorer.cache.sample_png`` minus
the memo (every move is a new value), i.e. ``core.sampling.sample`` + ``image_grid`` + the PNG
encoding ``st.image`` does. Models: the zoo's t-GANs when shipped, else a t-GAN of the same
architecture with initial weights (the cost does not depend on the weights); the line says which.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "app")]

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from core.explore import latent_edit  # noqa: E402
from core.models import build_model, model_config  # noqa: E402
from core.sampling import image_grid, sample  # noqa: E402
from core.weights import load_pretrained  # noqa: E402
from core.zoo.discover import discover_models  # noqa: E402


def pick_model(dataset: str) -> tuple[torch.nn.Module, str]:
    for entry in discover_models():
        if entry.preset == "tgan" and entry.dataset == dataset:
            return load_pretrained(entry.folder).requires_grad_(False), f"pretrained/{entry.name}"
    net = build_model(model_config("tgan", dataset), seed=0).eval().requires_grad_(False)
    return net, f"tgan on {dataset} (initial weights, same architecture)"


def png_bytes(grid: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(grid[..., 0] if grid.shape[2] == 1 else grid).save(buf, format="PNG")
    return buf.getvalue()


def percentiles(times: list[float]) -> str:
    ms = np.array(times) * 1000
    return f"p50 {np.percentile(ms, 50):7.1f} ms   p95 {np.percentile(ms, 95):7.1f} ms"


def bench_grid(model: torch.nn.Module, moves: int) -> dict[str, list[float]]:
    """Each move: a new v (the v slider) or a new radius (the radius slider), 64 seeds, 1 class."""
    seeds, labels = list(range(64)), [3] * 64
    for _ in range(3):  # warm-up: first calls allocate
        image_grid(sample(model, seeds, labels, df=3.0).images, nrow=8)
    out: dict[str, list[float]] = {"v slider": [], "radius slider": []}
    for i in range(moves):
        for name, kwargs in (
            ("v slider", {"df": 0.5 + 0.25 * (i + 1)}),
            ("radius slider", {"df": 3.0, "scale": 1.0 + 0.05 * (i + 1)}),
        ):
            start = time.perf_counter()
            grid = image_grid(sample(model, seeds, labels, **kwargs).images, nrow=8)
            png_bytes(grid)
            out[name].append(time.perf_counter() - start)
    # A latent slider: the edited latent and its 8 neighbours (one 3x3 grid), the seed cached.
    base = latent_edit.seed_latent(model, 0, 3, df=3.0)
    out["latent slider (3x3)"] = []
    for i in range(moves):
        start = time.perf_counter()
        d = latent_edit.apply_sliders(base.deviation, [0.1 * i], np.eye(model.prior.dim)[:1])
        rows = np.vstack([d, latent_edit.neighbours(d, 8, 0.5, seed=0)])
        png_bytes(image_grid(latent_edit.decode_deviations(model, base, rows), nrow=3))
        out["latent slider (3x3)"].append(time.perf_counter() - start)
    return out


def bench_renders(repeats: int) -> dict[str, list[float]]:
    """Seconds of AppTest's run() for each page in a new session, caches warm (server warm)."""
    from app_support import app, make_zoo

    from explorer.sitemap import PAGES

    root = make_zoo(Path(tempfile.mkdtemp(prefix="bench-app-")))
    if not any(True for _ in discover_models()):
        os.environ["TGAN_PRETRAINED"] = str(root / "pretrained")
    os.environ.setdefault("TGAN_RUNS", str(root / "runs"))
    results: dict[str, list[float]] = {p.title: [] for p in PAGES}
    for attempt in range(repeats + 1):  # attempt 0 warms the caches (a cold server)
        for page in PAGES:
            at = app()
            at.run()
            if page.url_path != "home":
                at.switch_page(f"../pages/{page.file}")
            start = time.perf_counter()
            at.run()
            elapsed = time.perf_counter() - start
            if at.exception:
                raise RuntimeError(f"{page.file}: {at.exception}")
            if attempt:
                results[page.title].append(elapsed)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2 = the target)")
    parser.add_argument("--moves", type=int, default=60)
    parser.add_argument("--renders", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    print(
        f"torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs visible, "
        f"load average {load:.1f} (figures are only meaningful on an idle machine)"
    )
    a = torch.randn(512, 512)
    ref = []
    for _ in range(30):
        start = time.perf_counter()
        a @ a
        ref.append(time.perf_counter() - start)
    ref_s = statistics.median(ref)
    print(
        f"reference: 512x512 float32 matmul median {ref_s * 1000:.2f} ms "
        f"({2 * 512**3 / ref_s / 1e9:.1f} GFLOP/s); scale the figures below by it"
    )
    for dataset, target in (("mnist", 50), ("cifar10", 200)):
        model, what = pick_model(dataset)
        print(f"\nslider -> new 8x8 grid, {what} (target p95 < {target} ms):")
        for name, times in bench_grid(model, args.moves).items():
            print(f"  {name:20s} {percentiles(times)}   (n={len(times)})")
    print("\nfirst render of each page in a fresh session, warm server (target < 3 s):")
    for title, times in bench_renders(args.renders).items():
        print(f"  {title:30s} median {statistics.median(times):6.2f} s   max {max(times):6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
