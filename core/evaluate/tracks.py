"""The race's tracks (issue 21): which recipe a report row was trained with, read from its label
(``core.evaluate.scoring.model_label``: the preset, then every setting that differs from it).

- ``paper``: a preset as its paper defines it, nothing changed (the label is the bare preset
  name), or one of the paper's t-GAN ablations that change exactly one setting
  (``tgan[prior=gmm]``, ``tgan[df=1.0]``, ``tgan[conditioning=none]``, ``tgan[alpha=0.0]``).
- ``modern``: one recipe for every GAN that can take it: one-hot class input (codewords with
  one-hot means, or the label itself), a projection discriminator, C learning on real images
  only, and DiffAugment's whole policy (colour, 4 px translation, cutout 0.5). Within the track
  only the prior and its own settings may differ, so rows of one track compare like for like.
- ``study``: every other recipe (the steps from the paper's t-GAN to the modern one, the
  collapsed label-embedding ACGANs, ...). Shown in the table, never called in a claim.

A claim is called within one track (core/evaluate/claims.py).
"""

from __future__ import annotations

TRACKS = ("paper", "modern", "study")

# Every modern row has these settings...
MODERN_REQUIRED = frozenset(
    {"d_projection=True", "augment_shift=4", "augment_color=True", "augment_cutout=0.5"}
)
# ...and may differ from its preset only in these besides (the class input made one-hot, C
# trained on real images only, where the preset has a C).
MODERN_ALLOWED = frozenset(
    {"codeword_mean=onehot", "conditioning=onehot", "d_classifies_fakes=False"}
)
# The prior is what a modern row is allowed to vary: its family and its own settings.
PRIOR_KEYS = ("prior", "df", "n_components", "sigma_reg", "sigma_init")
# The paper's one-setting t-GAN ablations (paper track): the setting changed.
PAPER_ABLATION_KEYS = ("prior", "df", "conditioning", "alpha")


def overrides(label: str) -> tuple[str, list[str]]:
    """(preset, ["key=value", ...]) of a report label such as ``tgan[prior=gmm,df=1.0]``.
    ``df=None`` is dropped: a prior that is not a t mixture has no degrees of freedom, so an
    older label that spelled it out changed nothing else."""
    if not label.endswith("]") or "[" not in label:
        return label, []
    preset, inner = label[:-1].split("[", 1)
    return preset, [part for part in inner.split(",") if part and part != "df=None"]


def track_of(label: str) -> str:
    """The track of a report row's model label: ``paper``, ``modern`` or ``study``."""
    preset, changes = overrides(label)
    if not changes:
        return "paper"
    keys = [change.split("=", 1)[0] for change in changes]
    if preset == "tgan" and len(changes) == 1 and keys[0] in PAPER_ABLATION_KEYS:
        return "paper"
    rest = set(changes) - MODERN_REQUIRED - MODERN_ALLOWED
    if set(changes) >= MODERN_REQUIRED and all(c.split("=", 1)[0] in PRIOR_KEYS for c in rest):
        return "modern"
    return "study"


def recipe_without_prior(label: str) -> tuple[str, tuple[str, ...]]:
    """(preset, the label's changes but the prior's): two modern rows with the same value are
    the same recipe with the prior swapped (twins)."""
    preset, changes = overrides(label)
    kept = tuple(sorted(c for c in changes if c.split("=", 1)[0] not in PRIOR_KEYS))
    return preset, kept
