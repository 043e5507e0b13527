"""Shipped weights score what their runs scored: a fresh ``evaluate`` of a sample of shipped
entries (int8 generators) against their metrics.json. Its own file, so that ``pytest -n 2
--dist loadfile`` runs it beside the rest of the zoo's tests, not after them."""

import json

import pytest

from core.paths import PRETRAINED_ROOT


@pytest.fixture(scope="module")
def judges():
    """One judge per data set for the whole file: its cache keeps the reference features (the
    seeded training images and the test split), so each data set computes them once."""
    from core.evaluate.judges import load_judge

    loaded = {}

    def get(dataset: str):
        if dataset not in loaded:
            loaded[dataset] = load_judge(dataset)
        return loaded[dataset]

    return get


# A sample of shipped entries, one per data set and family (metrics.json of the seed shipped).
RESCORED = [
    "tgan-mnist-500-onehot-diffaug-realc-proj",  # the featured model
    "dcgan-mnist-500",
    "tgan-fashion-500",
    "tgan-cifar10-2000",  # trained on a GPU (H200); its int8 weights (re-encoded from the
    # float16 ones) scored on the CPU by `rescore`
]


@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize("name", RESCORED)
def test_shipped_metrics_match_a_fresh_evaluate_of_the_shipped_weights(name, judges):
    """metrics.json was scored on the run's float32 weights; the shipped int8 weights, scored
    again with the same seeds and N, must agree within the stated error bars."""
    from core.evaluate.scoring import evaluate_model, protocol

    folder = PRETRAINED_ROOT / name
    shipped = json.loads((folder / "metrics.json").read_text())
    n = shipped["n_samples"]
    fresh = evaluate_model(folder, n=n, write=False, judge=judges(shipped["dataset"]))
    assert fresh["judge"] == shipped["judge"]
    old, new, tag = shipped["metrics"], fresh["metrics"], protocol(n)
    for base in ("is", "mis", "fidelity"):
        key = f"{base}{tag}"
        if old.get(key) is None:  # fidelity of an unconditional model
            assert new.get(key) is None, key
            continue
        bar = max(old[key]["std"], 0.005)  # the run's own spread (IS splits, classes)
        assert new[key]["mean"] == pytest.approx(old[key]["mean"], abs=bar), key
    assert new[f"fd{tag}"] == pytest.approx(old[f"fd{tag}"], rel=0.05, abs=0.05)
    for base in ("precision", "recall"):
        assert new[f"{base}{tag}"] == pytest.approx(old[f"{base}{tag}"], abs=0.02), base
    memo = f"memorisation{tag}"
    assert new[memo]["ratio"] == pytest.approx(old[memo]["ratio"], abs=0.02)
