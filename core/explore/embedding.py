"""Gaussian vs t-mixture, side by side in 2-D: latents drawn from a model's prior at its own v and
at v -> infinity (the same components with Gaussian tails: DeLiGAN's prior), the images G makes
from them (in a judge's feature space, or pixel space without a judge), embedded by t-SNE and PCA.

Both priors use the same seeds, so point i of the t set and point i of the Gaussian set share
their component, eps and class: they differ only by the radial factor 1/sqrt(u/v).

CLI (writes the small precomputed file the app opens instantly):

    python -m core embed pretrained/tgan-mnist-500 [--n 400] [--out pretrained/embeddings]
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.atomic import atomic_write_bytes
from core.sampling import decode, latents_for_seeds

MAX_POINTS = 3000  # on-demand runs are capped (t-SNE is O(n log n) but slow on 2 CPU cores)
DEFAULT_T_DF = 3.0  # for Gaussian-prior models: compare with a t of this v
EMBEDDINGS_DIR = "embeddings"
EMBEDDINGS_FORMAT = 1


@dataclass(frozen=True)
class EmbeddingSet:
    """2n points: the first n from the t prior, the next n from its Gaussian counterpart.

    prior (2n,) 0 = t, 1 = Gaussian; labels, component, seeds (2n,); latent_tsne, latent_pca,
    image_tsne, image_pca (2n, 2); feature_space "judge" or "pixels"; df the t's v; weights_sha256
    of the model file it was made from."""

    prior: np.ndarray
    labels: np.ndarray
    component: np.ndarray
    seeds: np.ndarray
    latent_tsne: np.ndarray
    latent_pca: np.ndarray
    image_tsne: np.ndarray
    image_pca: np.ndarray
    feature_space: str
    df: float
    weights_sha256: str

    @property
    def n_points(self) -> int:
        return int(self.prior.shape[0])

    def prior_names(self) -> list[str]:
        return [f"t (v={self.df:g})", "Gaussian (v=inf)"]


def weights_sha256(folder: str | Path) -> str:
    """sha256 of a model folder's model.safetensors (ties a precomputed file to its weights)."""
    return hashlib.sha256((Path(folder) / "model.safetensors").read_bytes()).hexdigest()


def embed_2d(x: np.ndarray, method: str, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """(n, 2) embedding of x (n, d) by "tsne" (scikit-learn, PCA init) or "pca"."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 3:
        raise ValueError(f"need a matrix of at least 3 points, got shape {x.shape}")
    if x.shape[0] > MAX_POINTS:
        raise ValueError(f"at most {MAX_POINTS} points per embedding, got {x.shape[0]}")
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(x)
    if method == "tsne":
        from threadpoolctl import threadpool_limits

        perp = float(min(perplexity, (x.shape[0] - 1) / 3.0))
        tsne = TSNE(
            n_components=2, perplexity=perp, init="pca", random_state=seed, learning_rate="auto"
        )
        # One OpenMP thread: on a shared 2-core host, t-SNE's spinning threads make it 4-6x slower.
        with threadpool_limits(1, user_api="openmp"):
            return tsne.fit_transform(x)
    raise ValueError(f'embedding method must be "tsne" or "pca", got {method!r}')


def comparison_df(model: nn.Module) -> float:
    """The v of the t side: the model's own df, or DEFAULT_T_DF for Gaussian-tailed priors."""
    df = model.prior.df
    return float(df) if df is not None and math.isfinite(df) else DEFAULT_T_DF


def compute_embeddings(
    model: nn.Module,
    n_per_prior: int = 300,
    seed: int = 0,
    features: Callable[[torch.Tensor], torch.Tensor] | None = None,
    weights_sha: str = "",
    progress: Callable[[float, str], None] | None = None,
) -> EmbeddingSet:
    """Draw n seeds from both priors, generate, embed. ``features`` maps images (B, C, H, W) in
    [-1, 1] to (B, F) (a judge's); None embeds raw pixels. ``progress(fraction, text)``."""
    if not 2 <= 2 * n_per_prior <= MAX_POINTS:
        raise ValueError(f"n_per_prior must be in [2, {MAX_POINTS // 2}], got {n_per_prior}")
    say = progress or (lambda f, t: None)
    df = comparison_df(model)
    seeds = list(range(seed, seed + n_per_prior))
    say(0.05, "drawing latents")
    t_lat = latents_for_seeds(model, seeds, df=df)
    g_lat = latents_for_seeds(model, seeds, df=math.inf)
    z = torch.cat([t_lat.z, g_lat.z]).detach().double().numpy()
    say(0.15, "generating images")
    images = torch.cat([decode(model, t_lat), decode(model, g_lat)])
    with torch.no_grad():
        feats = features(images) if features is not None else images.flatten(1)
    feats = feats.double().cpu().numpy()
    say(0.25, "PCA")
    latent_pca, image_pca = embed_2d(z, "pca", seed), embed_2d(feats, "pca", seed)
    say(0.35, "t-SNE of the latents")
    latent_tsne = embed_2d(z, "tsne", seed)
    say(0.7, "t-SNE of the images")
    image_tsne = embed_2d(feats, "tsne", seed)
    say(1.0, "done")
    n = n_per_prior
    return EmbeddingSet(
        prior=np.repeat([0, 1], n),
        labels=torch.cat([t_lat.labels, g_lat.labels]).numpy(),
        component=torch.cat([t_lat.component, g_lat.component]).numpy(),
        seeds=np.array(seeds + seeds),
        latent_tsne=latent_tsne,
        latent_pca=latent_pca,
        image_tsne=image_tsne,
        image_pca=image_pca,
        feature_space="pixels" if features is None else "judge",
        df=df,
        weights_sha256=weights_sha,
    )


def save_embeddings(emb: EmbeddingSet, path: str | Path) -> Path:
    """Write an EmbeddingSet as a compressed .npz (float32 coordinates), atomically."""
    arrays = {}
    for f in fields(EmbeddingSet):
        value = getattr(emb, f.name)
        if isinstance(value, np.ndarray):
            arrays[f.name] = value.astype(np.float32) if value.dtype.kind == "f" else value
        else:
            arrays[f.name] = np.array(value)
    arrays["format_version"] = np.array(EMBEDDINGS_FORMAT)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def load_embeddings(path: str | Path) -> EmbeddingSet:
    """Read a file written by ``save_embeddings`` (no pickles: allow_pickle=False)."""
    with np.load(Path(path), allow_pickle=False) as data:
        if int(data["format_version"]) != EMBEDDINGS_FORMAT:
            raise ValueError(f"{path}: embeddings format {int(data['format_version'])} unknown")
        values = {}
        for f in fields(EmbeddingSet):
            arr = data[f.name]
            if f.name in ("feature_space", "weights_sha256"):
                values[f.name] = str(arr)
            elif f.name == "df":
                values[f.name] = float(arr)
            else:
                values[f.name] = arr
    return EmbeddingSet(**values)


def precomputed_path(model_folder: str | Path, root: str | Path) -> Path:
    """Where the precomputed embeddings of a zoo model live: <root>/embeddings/<name>.npz."""
    return Path(root) / EMBEDDINGS_DIR / f"{Path(model_folder).name}.npz"
