"""Test support for the app: a tiny zoo (random-weight models on the synthetic data sets, so the
tests need neither data nor the shipped models), run directories, results files, and helpers to
drive ``explorer/Home.py`` with AppTest."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
ENTRY = str(REPO / "explorer" / "Home.py")


def make_zoo(root: Path) -> Path:
    """<root>/pretrained with tgan-fake-rand (t mixture, codewords), dcgan-fake-rand
    (unconditional Gaussian), a judges/ folder (not a model) and an incomplete folder; shipped
    (synthetic) embeddings for the t-GAN; <root>/runs with one run directory."""
    from core.explore.embedding import EmbeddingSet, save_embeddings, weights_sha256
    from core.models import build_model, model_config
    from core.sampling import save_grid
    from core.weights import save_pretrained

    zoo = root / "pretrained"
    for preset in ("tgan", "dcgan"):
        net = build_model(model_config(preset, "fake"), seed=0)
        save_pretrained(net, zoo / f"{preset}-fake-rand")
    (zoo / "judges" / "fake").mkdir(parents=True)
    (zoo / "half-written").mkdir()
    (zoo / "half-written" / "config.json").write_text("{}")
    n = 300  # the page's default points per prior
    rng = np.random.default_rng(0)
    emb = EmbeddingSet(
        prior=np.repeat([0, 1], n),
        labels=np.tile(np.arange(10), 2 * n // 10),
        component=rng.integers(0, 50, 2 * n),
        seeds=np.concatenate([np.arange(n), np.arange(n)]),
        latent_tsne=rng.normal(size=(2 * n, 2)),
        latent_pca=rng.normal(size=(2 * n, 2)),
        image_tsne=rng.normal(size=(2 * n, 2)),
        image_pca=rng.normal(size=(2 * n, 2)),
        feature_space="pixels",
        df=3.0,
        weights_sha256=weights_sha256(zoo / "tgan-fake-rand"),
    )
    save_embeddings(emb, zoo / "embeddings" / "tgan-fake-rand.npz")

    runs = root / "runs"
    run = runs / "demo-run"
    (run / "samples").mkdir(parents=True)
    lines = [
        {"step": s, "d_adv": 2 * math.log(2) - 0.3 / s, "g_adv": math.log(2) + 0.2 / s, "cls": 1.0}
        for s in (10, 20, 30, 40)
    ]
    (run / "stats.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    import torch

    save_grid(torch.zeros(4, 1, 28, 28), run / "samples" / "step_000040.png", nrow=2)
    return root


def write_results(zoo: Path) -> None:
    """A metrics CSV (wide, with spreads), a RESULTS.md and the claims.json beside it."""
    from core.evaluate.claims import CLAIMS_NAME, Claim, write_claims

    (zoo / "results.csv").write_text(
        "model,is,is_std,mis,mis_std\n"
        "tgan-fake-rand,5.5,0.25,2.1,0.1\n"
        "dcgan-fake-rand,4.0,0.5,1.5,0.2\n"
    )
    (zoo / "RESULTS.md").write_text(
        "# Results\n\n| claim | verdict |\n|---|---|\n"
        "| C1: t-GAN beats PixelCNN on MNIST | confirmed |\n"
        "| C3: losses settle near 2 log 2 | not confirmed |\n"
    )
    claims = [
        Claim("C1", "t-GAN beats PixelCNN on MNIST", "confirmed", ["IS 9.6 vs 4.1"]),
        Claim("C3", "losses settle near 2 log 2", "not confirmed", []),
        Claim("C5", "t beats Gaussian mixture", "not measured", ["missing: a gmm row"]),
    ]
    write_claims(claims, zoo / CLAIMS_NAME)


def app(timeout: float = 120):
    """An AppTest of the entry script (not yet run)."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(ENTRY, default_timeout=timeout)


def open_page(at, page_file: str, query: dict | None = None):
    """Run the entry (Home) once, then switch to ``page_file`` with ``query`` as the URL's query
    string (navigation clears the URL in a browser; AppTest keeps it, so we set it here)."""
    if page_file == "home.py":  # the entry's default page: a shared link opens it directly
        at.query_params.update(query or {})
        return at.run()
    at.run()
    at.query_params.clear()
    at.query_params.update(query or {})
    at.switch_page(f"../pages/{page_file}")
    return at.run()


def image_urls(at) -> list[str]:
    return [url for img in at.image for url in img.value]


def chart_specs(at) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]
