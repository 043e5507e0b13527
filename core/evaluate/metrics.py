"""Scores as pure functions of probability and feature matrices (numpy in, floats out).

Nothing here runs a network: ``probs`` is a judge's p(y|x), an (N, K) matrix of rows that sum
to 1; ``features`` are (N, F) judge features; ``pixels`` are (N, D) flattened images. Each
function is pinned in tests/core/test_metrics.py to a reference implementation or a closed form:

- ``inception_score``: Salimans et al. 2016 (their released code, 10 splits in order, mean and
  population std over splits); equals torchmetrics' ``InceptionScore`` up to its shuffle and its
  unbiased std.
- ``modified_inception_score``: DeLiGAN's released code (Gurumurthy et al. 2017): group the
  samples by the judge's argmax class, exp(mean pairwise KL(p_i || p_j)) within each class, mean
  and std over the classes that have samples. It rewards diversity *within* a class.
- ``class_fidelity``: share of samples conditioned on class k that the judge puts in class k.
- ``frechet_distance``: ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) of two feature sets.
- ``precision_recall``: improved precision and recall, k-NN manifolds (Kynkaanniemi et al. 2019).
- ``memorisation``: distance from each sample to its nearest training image, against the same
  distance for held-out real images.
- ``within_class_diversity``: per class, the mean pairwise feature distance of the samples over
  the same for real images of that class (1 = as varied as real data, near 0 = one image per
  class: the collapse fidelity cannot see).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import linalg
from scipy.special import rel_entr

LOG_FLOOR = 1e-30  # log(0) guard in m-IS's cross term; DeLiGAN's code would give -inf there


def _probs(probs: np.ndarray | torch.Tensor) -> np.ndarray:
    p = np.asarray(probs.detach().cpu() if isinstance(probs, torch.Tensor) else probs)
    p = p.astype(np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"expected probabilities of shape (N >= 1, K >= 2), got {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probabilities must be finite and >= 0")
    if not np.allclose(p.sum(1), 1.0, atol=1e-4):
        raise ValueError("each row of probabilities must sum to 1 (pass softmax outputs)")
    return p


def _matrix(x: np.ndarray | torch.Tensor, name: str) -> np.ndarray:
    a = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)
    if a.ndim != 2 or a.shape[0] == 0:
        raise ValueError(f"{name}: expected a non-empty (N, F) matrix, got shape {a.shape}")
    return a


@dataclass(frozen=True)
class Score:
    """A score over groups (splits or classes): mean and std over the groups."""

    mean: float
    std: float

    def to_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std}


def inception_score(probs: np.ndarray | torch.Tensor, splits: int = 10) -> Score:
    """IS = exp(E_x KL(p(y|x) || p(y))) in ``splits`` consecutive splits (no shuffling).

    probs: (N, K) rows summing to 1, N >= splits. Split i is rows [i N // s, (i+1) N // s), as in
    Salimans et al.'s code; std is the population std (ddof 0) over splits.
    """
    p = _probs(probs)
    n = p.shape[0]
    if not 1 <= splits <= n:
        raise ValueError(f"splits must be in [1, N={n}], got {splits}")
    scores = []
    for i in range(splits):
        part = p[i * n // splits : (i + 1) * n // splits]
        marginal = part.mean(0, keepdims=True)
        scores.append(np.exp(rel_entr(part, marginal).sum(1).mean()))
    return Score(float(np.mean(scores)), float(np.std(scores)))


@dataclass(frozen=True)
class ClassScore:
    """mean / std over the classes with at least one sample; per_class None for empty ones."""

    mean: float
    std: float
    per_class: list[float | None]
    counts: list[int]

    def to_dict(self) -> dict:
        return {
            "mean": self.mean,
            "std": self.std,
            "per_class": self.per_class,
            "counts": self.counts,
        }


def modified_inception_score(probs: np.ndarray | torch.Tensor) -> ClassScore:
    """DeLiGAN's m-IS: per predicted class c, exp(mean_{i,j in c} KL(p_i || p_j)).

    probs: (N, K). Samples are grouped by argmax; pairs include i = j (KL 0), as in DeLiGAN's
    code. The mean over j of KL(p_i || p_j) is sum p_i log p_i - p_i . mean_j log p_j, so no
    (n_c, n_c) matrix is formed.
    """
    p = _probs(probs)
    k = p.shape[1]
    predicted = p.argmax(1)
    per_class: list[float | None] = []
    counts = []
    for c in range(k):
        part = p[predicted == c]
        counts.append(int(part.shape[0]))
        if part.shape[0] == 0:
            per_class.append(None)
            continue
        log_part = np.log(np.maximum(part, LOG_FLOOR))
        self_term = (part * log_part).sum(1)
        cross = part @ log_part.mean(0)
        per_class.append(float(np.exp(np.mean(self_term - cross))))
    values = [v for v in per_class if v is not None]
    return ClassScore(float(np.mean(values)), float(np.std(values)), per_class, counts)


def class_fidelity(
    probs: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor
) -> ClassScore:
    """Share of samples conditioned on class k that the judge assigns (argmax) to k.

    probs: (N, K); labels: (N,) the class each sample was conditioned on. ``mean`` is the overall
    share (all samples), ``std`` the std of the per-class shares over classes with samples.
    """
    p = _probs(probs)
    y = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels).astype(np.int64)
    if y.shape != (p.shape[0],):
        raise ValueError(f"labels: expected shape ({p.shape[0]},), got {y.shape}")
    if ((y < 0) | (y >= p.shape[1])).any():
        raise ValueError(f"labels must be in [0, {p.shape[1] - 1}]")
    hit = p.argmax(1) == y
    per_class: list[float | None] = []
    counts = []
    for c in range(p.shape[1]):
        mask = y == c
        counts.append(int(mask.sum()))
        per_class.append(float(hit[mask].mean()) if mask.any() else None)
    values = [v for v in per_class if v is not None]
    return ClassScore(float(hit.mean()), float(np.std(values)), per_class, counts)


def mean_pairwise_distance(features: np.ndarray | torch.Tensor) -> float | None:
    """Mean Euclidean distance over the n (n - 1) / 2 pairs of rows of (n, F); None if n < 2."""
    x = np.asarray(features.detach().cpu() if isinstance(features, torch.Tensor) else features)
    if x.ndim != 2:
        raise ValueError(f"features: expected an (n, F) matrix, got shape {x.shape}")
    if x.shape[0] < 2:
        return None
    return float(torch.pdist(torch.as_tensor(x, dtype=torch.float64)).mean())


def class_spreads(
    features: np.ndarray | torch.Tensor, groups: np.ndarray | torch.Tensor, n_classes: int
) -> list[float | None]:
    """``mean_pairwise_distance`` of the rows of each class 0..K-1 (None below 2 rows)."""
    x = _matrix(features, "features")
    g = np.asarray(groups.cpu() if isinstance(groups, torch.Tensor) else groups).astype(np.int64)
    if g.shape != (x.shape[0],):
        raise ValueError(f"groups: expected shape ({x.shape[0]},), got {g.shape}")
    return [mean_pairwise_distance(x[g == c]) for c in range(n_classes)]


def within_class_diversity(
    features: np.ndarray | torch.Tensor,
    groups: np.ndarray | torch.Tensor,
    real_spreads: list[float | None],
) -> ClassScore:
    """Per class c: mean pairwise feature distance of the samples in c over ``real_spreads[c]``
    (the same for real images of c, ``class_spreads``). ``mean`` and ``std`` over the classes
    where both exist; ``counts`` the samples per class. groups: (N,) each sample's class (the
    conditioned one, or the judge's argmax for an unconditional model)."""
    fake = class_spreads(features, groups, len(real_spreads))
    g = np.asarray(groups.cpu() if isinstance(groups, torch.Tensor) else groups).astype(np.int64)
    per_class = [
        None if f is None or r is None or r <= 0 else f / r for f, r in zip(fake, real_spreads)
    ]
    values = [v for v in per_class if v is not None]
    if not values:
        raise ValueError("within_class_diversity: no class has 2 samples and a real spread")
    counts = [int((g == c).sum()) for c in range(len(real_spreads))]
    return ClassScore(float(np.mean(values)), float(np.std(values)), per_class, counts)


def feature_stats(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean (F,) and covariance (F, F) (ddof 1) of features (N, F), in float64."""
    f = _matrix(features, "features").astype(np.float64)
    if f.shape[0] < 2:
        raise ValueError("features: need at least 2 rows for a covariance")
    return f.mean(0), np.atleast_2d(np.cov(f, rowvar=False))


def frechet_distance_from_stats(
    mu_a: np.ndarray, cov_a: np.ndarray, mu_b: np.ndarray, cov_b: np.ndarray
) -> float:
    """||mu_a - mu_b||^2 + Tr(cov_a + cov_b) - 2 Tr((cov_a cov_b)^(1/2)).

    Tr((A B)^(1/2)) is the sum of the square roots of the eigenvalues of A B, which are real and
    >= 0 for PSD A, B (A B is similar to A^(1/2) B A^(1/2)); round-off negatives are clipped.
    """
    diff = mu_a - mu_b
    eig = linalg.eigvals(cov_a @ cov_b).real
    trace_sqrt = np.sqrt(np.clip(eig, 0, None)).sum()
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt
    return float(max(value, 0.0))


def frechet_distance(
    features_a: np.ndarray | torch.Tensor, features_b: np.ndarray | torch.Tensor
) -> float:
    """Frechet distance between Gaussians fitted to features_a (N, F) and features_b (M, F)."""
    return frechet_distance_from_stats(*feature_stats(features_a), *feature_stats(features_b))


def _knn_radii(x: torch.Tensor, k: int, batch_size: int) -> torch.Tensor:
    """Distance from each row of x (N, F) to its k-th nearest other row (self excluded)."""
    radii = []
    for i in range(0, len(x), batch_size):
        d = torch.cdist(x[i : i + batch_size], x)
        radii.append(d.kthvalue(k + 1, dim=1).values)  # the 1st smallest is the row itself
    return torch.cat(radii)


def precision_recall(
    real_features: np.ndarray | torch.Tensor,
    fake_features: np.ndarray | torch.Tensor,
    k: int = 3,
    batch_size: int = 1024,
) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019).

    real_features (N, F), fake_features (M, F). The real manifold is the union of balls around
    each real feature with radius its distance to the k-th nearest other real feature; precision
    is the share of fakes inside it. Recall swaps the roles. k = 3 is the paper's default.
    Distances in float32 (as the authors' code); one pass over the fake-real distances serves
    both precision and recall.
    """
    real = torch.as_tensor(np.asarray(_matrix(real_features, "real_features")), dtype=torch.float32)
    fake = torch.as_tensor(np.asarray(_matrix(fake_features, "fake_features")), dtype=torch.float32)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sizes differ: real {real.shape[1]}, fake {fake.shape[1]}")
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"need more than k={k} rows in each set")
    real_radii = _knn_radii(real, k, batch_size)
    fake_radii = _knn_radii(fake, k, batch_size)
    fake_inside = torch.zeros(len(fake), dtype=torch.bool)
    real_inside = torch.zeros(len(real), dtype=torch.bool)
    for i in range(0, len(fake), batch_size):
        d = torch.cdist(fake[i : i + batch_size], real)  # (b, N)
        fake_inside[i : i + batch_size] = (d <= real_radii[None, :]).any(1)
        real_inside |= (d <= fake_radii[i : i + batch_size, None]).any(0)
    return float(fake_inside.double().mean()), float(real_inside.double().mean())


def nearest_distances(
    queries: np.ndarray | torch.Tensor, refs: np.ndarray | torch.Tensor, batch_size: int = 1024
) -> np.ndarray:
    """RMS distance from each query (N, D) to its nearest reference (M, D): min L2 / sqrt(D).

    Computed in float32 with the matmul identity ||a||^2 + ||b||^2 - 2 a.b (fast on big pixel
    matrices), clipped at 0 before the square root.
    """
    q = torch.as_tensor(np.asarray(_matrix(queries, "queries")), dtype=torch.float32)
    r = torch.as_tensor(np.asarray(_matrix(refs, "refs")), dtype=torch.float32)
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} values per row, refs {r.shape[1]}")
    r_sq = (r * r).sum(1)
    out = []
    for i in range(0, len(q), batch_size):
        part = q[i : i + batch_size]
        d2 = (part * part).sum(1, keepdim=True) + r_sq[None, :] - 2 * part @ r.T
        out.append(d2.min(1).values.clamp_min(0).sqrt())
    return (torch.cat(out) / np.sqrt(q.shape[1])).double().numpy()


def memorisation(
    samples: np.ndarray | torch.Tensor,
    heldout: np.ndarray | torch.Tensor,
    train: np.ndarray | torch.Tensor,
) -> dict:
    """How close samples sit to the training images, against held-out real images.

    samples (N, D), heldout (M, D), train (T, D): flattened images in [-1, 1]. Returns medians of
    the nearest-training-image RMS distances, ``ratio`` = sample median / held-out median (< 1:
    samples are closer to the training set than new real images are), and ``near_copy_share``:
    the share of samples closer than the held-out 1st percentile (real data: 0.01).
    """
    d_samples = nearest_distances(samples, train)
    # the real-data row passes its samples as the held-out set: one pass is enough
    d_heldout = d_samples if heldout is samples else nearest_distances(heldout, train)
    threshold = float(np.quantile(d_heldout, 0.01))
    sample_median = float(np.median(d_samples))
    heldout_median = float(np.median(d_heldout))
    return {
        "sample_nn_median": sample_median,
        "heldout_nn_median": heldout_median,
        "ratio": sample_median / heldout_median if heldout_median > 0 else float("nan"),
        "near_copy_share": float(np.mean(d_samples < threshold)),
        "near_copy_threshold": threshold,
    }
