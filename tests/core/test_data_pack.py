"""core/data_pack.py + ``travel pack-data``: where the full split is not on the machine, a
travel pack gives training and the score curve exactly the arrays the full split gives, and
anything it does not hold is still an error that names the data set's paths."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.data import DataError, load_split, training_set
from core.data_pack import pack_names, pack_path, read_pack, write_pack
from core.evaluate.judges import load_judge
from core.evaluate.scoring import real_class_spreads, reference_features
from core.train import train
from core.zoo.travel import pack_data

N_TRAIN, N_REF = 500, 200


@pytest.fixture(scope="module")
def pack_root(tmp_path_factory):
    try:
        load_split("mnist", "train", download=False)
    except DataError:
        pytest.skip("MNIST not prepared (make data)")
    root = tmp_path_factory.mktemp("travel")  # holds the pack and nothing else
    pack_data("mnist", N_TRAIN, [0, 1], N_REF, out=root)
    return root


@pytest.mark.data
def test_the_pack_holds_each_seeds_subset_the_reference_and_the_spreads(pack_root):
    judge = load_judge("mnist", "cpu")
    assert pack_names("mnist", pack_root) == sorted(
        ["train_500_s0", "train_500_s1", "reference_s0_200", f"spreads_{judge.name}"]
    )
    assert pack_path("mnist", pack_root).stat().st_size < 2**20  # what makes it travel


@pytest.mark.data
@pytest.mark.parametrize("seed", [0, 1])
def test_training_reads_the_same_subset_from_the_pack(pack_root, seed):
    images, labels = training_set("mnist", N_TRAIN, seed, pack_root)
    full_images, full_labels = training_set("mnist", N_TRAIN, seed)
    assert torch.equal(images, full_images) and torch.equal(labels, full_labels)
    assert images.dtype == torch.uint8 and labels.dtype == torch.int64


@pytest.mark.data
def test_the_curves_reference_and_spreads_from_the_pack_equal_the_full_splits(pack_root):
    from_pack, from_full = load_judge("mnist", "cpu"), load_judge("mnist", "cpu")
    feats_pack, what_pack = reference_features(from_pack, "mnist", N_REF, pack_root)
    feats_full, what_full = reference_features(from_full, "mnist", N_REF)
    np.testing.assert_array_equal(feats_pack, feats_full)
    assert what_pack == what_full
    assert real_class_spreads(from_pack, "mnist", pack_root) == real_class_spreads(
        from_full, "mnist"
    )


@pytest.mark.data
def test_what_the_pack_does_not_hold_is_still_the_missing_data_error(pack_root):
    with pytest.raises(DataError, match="not found"):
        training_set("mnist", N_TRAIN, 2, pack_root)  # seed 2 was not packed
    with pytest.raises(DataError, match="not found"):
        training_set("mnist", None, 0, pack_root)  # the full set
    with pytest.raises(DataError, match="not found"):
        load_split("mnist", "test", pack_root)
    judge = load_judge("mnist", "cpu")
    with pytest.raises(DataError, match="not found.*holds .*not reference_s0_10000: make it"):
        reference_features(judge, "mnist", 10_000, pack_root)  # the final 10k protocol


@pytest.mark.data
def test_a_run_on_the_pack_writes_the_curve_a_run_on_the_full_data_writes(
    pack_root, tmp_path, tiny_train_config
):
    rows = []
    for name, root in (("pack", str(pack_root)), ("full", None)):
        cfg = tiny_train_config(
            dataset="mnist", n_train=N_TRAIN, eval_every=2, eval_samples=N_REF, data_root=root
        )
        run = train(cfg, tmp_path / name, progress=False)
        lines = (run / "scores.jsonl").read_text().splitlines()
        rows.append(
            [
                {k: v for k, v in json.loads(r).items() if k not in ("eval_s", "wall_time")}
                for r in lines
            ]
        )
    assert rows[0] == rows[1] and len(rows[0]) >= 2


def test_read_pack_keeps_each_keys_arrays_in_order(tmp_path):
    write_pack("fake", tmp_path, {"a": [np.arange(3), np.ones(2)], "ab": [np.zeros(1)]})
    got = read_pack("fake", tmp_path, "a")
    assert [a.tolist() for a in got] == [[0, 1, 2], [1.0, 1.0]]
    assert read_pack("fake", tmp_path, "ab")[0].tolist() == [0.0]
    assert read_pack("fake", tmp_path, "b") is None and read_pack("x", tmp_path, "a") is None
