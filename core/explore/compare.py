"""A race into the tails: a t-GAN against its Gaussian-prior twin (and rivals) under the same
seeds, class and radius.

At radius r every latent is z = mu_c + r * sigma_c * d (``core.sampling.sample(scale=r)``), so
r > 1 pushes the same draws further from their component's centre. For each radius the race
scores n samples of one class with the data set's judge:

- **fidelity**: the share of the samples the judge classifies as the class they were asked for;
- **within-class diversity**: the mean pairwise distance of the samples' judge features, divided
  by the same for real test images of that class (1 = as varied as the real class; 0 = one
  image repeated).

Which twin: ``lineup`` picks, for a t-GAN, its exact twin: the entry named ``<t-GAN>-gaussian``
(a single Gaussian prior), else ``<t-GAN>-gmm`` (a Gaussian mixture), each the same recipe with
only the prior swapped (``tgan-mnist-500-modern`` -> ``tgan-mnist-500-modern-gaussian``). Without
one it takes the entry of the same data set and preset whose prior is not a t mixture and whose
name shares the longest prefix, and says the pair is not exact. The DeLiGAN and DCGAN of the
same data set and regime come along where they exist (a modern-track t-GAN's from the modern
track first).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from torch import Tensor, nn

from core.data import load_split, to_model_range
from core.evaluate.metrics import mean_pairwise_distance
from core.sampling import sample
from core.zoo.discover import ZooEntry

RADII = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
N_PER_POINT = 256  # samples per radius (the seeds 0 .. n-1, the same for every model)
N_REAL = 500  # real test images of the class behind the diversity's reference
RIVAL_PRESETS = ("deligan", "dcgan")


@dataclass(frozen=True)
class Lineup:
    """The models of one race: ``tgan`` first, its Gaussian-prior ``twin`` (None when the zoo
    has none), the ``rivals`` of its track (the paper track's are unconditional: shown side by
    side, not raced, as they cannot be asked for a class; the modern track's take a one-hot
    label and race), and ``note`` saying how close the twin is."""

    tgan: ZooEntry
    twin: ZooEntry | None
    rivals: tuple[ZooEntry, ...]
    note: str

    @property
    def racers(self) -> tuple[ZooEntry, ...]:
        """The models that race (can be asked for a class): the t-GAN, its twin, and the
        conditional rivals."""
        twin = (self.twin,) if self.twin is not None else ()
        return (self.tgan, *twin, *(r for r in self.rivals if r.conditional))


@dataclass(frozen=True)
class RacePoint:
    radius: float
    fidelity: float  # in [0, 1]
    diversity: float  # >= 0; NaN when the real reference is missing


def _regime(name: str) -> str | None:
    parts = name.split("-")
    return parts[2] if len(parts) > 2 else None


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split("-"), b.split("-"), strict=False):
        if x != y:
            break
        n += 1
    return n


TWIN_PRIORS = ("gaussian", "gmm")  # the exact twins' priors, the one raced first first


def is_exact_twin(tgan: ZooEntry, other: ZooEntry) -> bool:
    """``other`` is ``tgan``'s recipe with only the prior swapped: named ``<tgan>-<its prior>``
    with a prior of TWIN_PRIORS."""
    return other.prior in TWIN_PRIORS and other.name == f"{tgan.name}-{other.prior}"


def _twin_rank(tgan: ZooEntry, other: ZooEntry) -> tuple:
    """Exact twins first (a single Gaussian before a mixture), then the longest shared name
    prefix, then the shorter name."""
    exact = is_exact_twin(tgan, other)
    order = TWIN_PRIORS.index(other.prior) if exact else len(TWIN_PRIORS)
    return (exact, -order, _common_prefix(other.name, tgan.name), -len(other.name))


def lineup(entries: Sequence[ZooEntry], name: str) -> Lineup:
    """The race of the t-GAN ``name`` (ValueError when it is not a t-GAN of ``entries``)."""
    by_name = {e.name: e for e in entries}
    tgan = by_name.get(name)
    if tgan is None or tgan.prior != "tmix":
        raise ValueError(f"{name!r} is not a t-mixture model of the zoo")
    gaussians = [
        e
        for e in entries
        if e.dataset == tgan.dataset and e.preset == tgan.preset and e.prior != "tmix"
    ]
    twin = max(gaussians, key=lambda e: _twin_rank(tgan, e), default=None)
    regime = _regime(tgan.name)
    # a modern-track t-GAN races the modern-track rivals where the zoo has them
    tracks = ("-modern", "") if "-modern" in tgan.name else ("",)
    found = (
        next(
            (by_name[n] for t in tracks if (n := f"{p}-{tgan.dataset}-{regime}{t}") in by_name),
            None,
        )
        for p in RIVAL_PRESETS
    )
    rivals = tuple(r for r in found if r is not None)
    if twin is None:
        note = f"The zoo has no Gaussian-prior {tgan.preset} on {tgan.dataset} to race against."
    elif is_exact_twin(tgan, twin):
        note = f"`{twin.name}` is `{tgan.name}`'s twin: the same recipe, the prior swapped."
    else:
        note = (
            f"Closest pair in the zoo: `{twin.name}` (prior {twin.prior}) is not an exact twin "
            f"of `{tgan.name}`: their recipes differ in more than the prior."
        )
    return Lineup(tgan, twin, rivals, note)


def default_racer(entries: Sequence[ZooEntry]) -> str | None:
    """The t-GAN the comparison opens on: the first with an exact single-Gaussian twin, else
    the first with an exact twin of any TWIN_PRIORS, else the first t-GAN."""
    tgans = [e for e in entries if e.prior == "tmix"]
    for prior in TWIN_PRIORS:
        for entry in tgans:
            if any(o.prior == prior and is_exact_twin(entry, o) for o in entries):
                return entry.name
    return tgans[0].name if tgans else None


def _spread(features: Tensor) -> float:
    """``mean_pairwise_distance`` (the report's diversity metric), NaN below 2 rows."""
    spread = mean_pairwise_distance(features.double())
    return math.nan if spread is None else spread


def real_spread(judge, dataset: str, label: int, n: int = N_REAL) -> float:
    """The diversity's reference: mean pairwise judge-feature distance of (up to) ``n`` real
    test images of class ``label`` (the first ``n`` in the split's order)."""
    images, labels = load_split(dataset, "test")
    chosen = images[labels == label][:n]
    return _spread(judge.features(to_model_range(chosen)))


def race_point(
    model: nn.Module, judge, label: int, radius: float, n: int, reference: float
) -> RacePoint:
    """n samples of class ``label`` at ``radius`` (seeds 0 .. n-1) scored by ``judge``."""
    images = sample(model, list(range(n)), [label] * n, scale=float(radius)).images
    logits, features = judge.logits_and_features(images)
    fidelity = float((logits.argmax(1) == label).double().mean())
    spread = _spread(features)
    diversity = spread / reference if reference > 0 else math.nan
    return RacePoint(float(radius), fidelity, diversity)


def race(
    model: nn.Module,
    judge,
    label: int,
    radii: Sequence[float] = RADII,
    n: int = N_PER_POINT,
    reference: float | None = None,
) -> list[RacePoint]:
    """The race curve of a conditional model: one ``RacePoint`` per radius. ``reference`` is
    the real class's spread (``real_spread``; NaN diversities when it is NaN)."""
    if model.config.conditioning == "none":
        raise ValueError("an unconditional model cannot be asked for a class: no race")
    if reference is None:
        reference = real_spread(judge, model.config.dataset, label)
    return [race_point(model, judge, label, r, n, reference) for r in radii]
