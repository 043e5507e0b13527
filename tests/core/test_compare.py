"""core.explore.compare: the race of a t-GAN and its Gaussian twin into the tails, checked on the
synthetic data set with the shared fake judge against independent recomputations."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist

from core.explore import compare
from core.zoo.discover import ZooEntry


def entry(name: str, prior: str = "tmix", conditioning: str = "codeword") -> ZooEntry:
    preset, dataset = name.split("-")[:2]
    return ZooEntry(name, Path(name), preset, dataset, 10, conditioning, prior, None)


ZOO = [
    entry("tgan-mnist-500-onehot-diffaug-realc-proj"),
    entry("tgan-mnist-500"),
    entry("tgan-mnist-500-df1"),
    entry("tgan-mnist-500-gmm", prior="gmm"),
    entry("dcgan-mnist-500", prior="gaussian", conditioning="none"),
    entry("deligan-mnist-500", prior="gmm", conditioning="none"),
    entry("dcgan-mnist-full", prior="gaussian", conditioning="none"),
    entry("tgan-fashion-500"),
]


def test_lineup_finds_the_twin_and_the_rivals_of_the_same_track():
    race = compare.lineup(ZOO, "tgan-mnist-500")
    assert race.twin.name == "tgan-mnist-500-gmm" and "twin" in race.note
    assert [r.name for r in race.rivals] == ["deligan-mnist-500", "dcgan-mnist-500"]
    closest = compare.lineup(ZOO, "tgan-mnist-500-onehot-diffaug-realc-proj")
    assert closest.twin.name == "tgan-mnist-500-gmm"
    assert closest.note.startswith("Closest pair") and "not an exact twin" in closest.note
    assert [r.name for r in race.racers] == ["tgan-mnist-500", "tgan-mnist-500-gmm"]
    alone = compare.lineup(ZOO, "tgan-fashion-500")
    assert alone.twin is None and "no Gaussian-prior" in alone.note
    assert [r.name for r in alone.racers] == ["tgan-fashion-500"]
    with pytest.raises(ValueError, match="not a t-mixture"):
        compare.lineup(ZOO, "dcgan-mnist-500")
    assert compare.default_racer(ZOO) == "tgan-mnist-500"  # the first with an exact twin


def test_an_exact_single_gaussian_twin_is_raced_before_a_mixture_twin():
    modern = [
        entry("tgan-mnist-500-modern"),
        entry("tgan-mnist-500-modern-gmm", prior="gmm"),
        entry("tgan-mnist-500-modern-gaussian", prior="gaussian"),
    ]
    race = compare.lineup(ZOO + modern, "tgan-mnist-500-modern")
    assert race.twin.name == "tgan-mnist-500-modern-gaussian" and "twin:" in race.note
    assert compare.lineup(ZOO + modern[:2], "tgan-mnist-500-modern").twin.name.endswith("-gmm")
    # the comparison opens on the t-GAN that has a single-Gaussian twin, wherever it is listed
    assert compare.default_racer(ZOO + modern) == "tgan-mnist-500-modern"
    # the modern t-GAN races the modern DeLiGAN where it exists, else the paper-track one
    rival = entry("deligan-mnist-500-modern", prior="gmm", conditioning="onehot")
    race = compare.lineup(ZOO + modern + [rival], "tgan-mnist-500-modern")
    assert [r.name for r in race.rivals] == ["deligan-mnist-500-modern", "dcgan-mnist-500"]
    # the one-hot DeLiGAN can be asked for a class, so it races; the unconditional DCGAN not
    assert [r.name for r in race.racers] == [
        "tgan-mnist-500-modern",
        "tgan-mnist-500-modern-gaussian",
        "deligan-mnist-500-modern",
    ]
    paper = compare.lineup(ZOO + modern + [rival], "tgan-mnist-500")
    assert [r.name for r in paper.rivals] == ["deligan-mnist-500", "dcgan-mnist-500"]
    # a t prior named like a twin is no twin
    impostor = entry("tgan-mnist-500-modern-gaussian", prior="tmix")
    assert not compare.is_exact_twin(modern[0], impostor)


def test_mean_pairwise_distance_matches_scipy():
    x = torch.randn(37, 5, generator=torch.Generator().manual_seed(0))
    assert compare._spread(x) == pytest.approx(pdist(x.numpy()).mean(), rel=1e-6)
    assert math.isnan(compare._spread(x[:1]))


@pytest.fixture(scope="module")
def fake_tgan():
    from core.models import build_model, model_config

    return build_model(model_config("tgan", "fake"), seed=0).eval().requires_grad_(False)


def test_real_spread_is_the_real_class_feature_spread(fake_judge):
    from core.data import load_split, to_model_range

    images, labels = load_split("fake", "test")
    feats = fake_judge.features(to_model_range(images[labels == 3][:40])).numpy()
    expected = pdist(feats.astype(np.float64)).mean()
    assert compare.real_spread(fake_judge, "fake", 3, n=40) == pytest.approx(expected, rel=1e-5)


def test_race_scores_each_radius_with_the_judge(fake_tgan, fake_judge):
    from core.sampling import sample

    points = compare.race(fake_tgan, fake_judge, 2, radii=(0.5, 3.0), n=24, reference=2.0)
    assert [p.radius for p in points] == [0.5, 3.0]
    for point in points:  # recomputed independently: same seeds 0..n-1, same class, same radius
        images = sample(fake_tgan, list(range(24)), [2] * 24, scale=point.radius).images
        probs = fake_judge.predict_proba(images)
        assert point.fidelity == pytest.approx(float((probs.argmax(1) == 2).double().mean()))
        spread = pdist(fake_judge.features(images).double().numpy()).mean()
        assert point.diversity == pytest.approx(spread / 2.0, rel=1e-5)
    again = compare.race(fake_tgan, fake_judge, 2, radii=(0.5, 3.0), n=24, reference=2.0)
    assert again == points  # the same seeds: the same race


def test_an_unconditional_model_is_not_raced(fake_judge):
    from core.models import build_model, model_config

    dcgan = build_model(model_config("dcgan", "fake"), seed=0)
    with pytest.raises(ValueError, match="unconditional"):
        compare.race(dcgan, fake_judge, 0, radii=(1.0,), n=4, reference=1.0)
