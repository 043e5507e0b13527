"""Data: idx parsing, the data root, balanced subsets, the missing-data message."""

import gzip
import struct

import numpy as np
import pytest
import torch

from core.data import (
    DATA_ENV,
    DataError,
    balanced_subset,
    load_split,
    read_idx,
    resolve_data_root,
    to_model_range,
    to_uint8,
    training_set,
)


def test_read_idx_roundtrip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = struct.pack(">IIII", 2051, 2, 3, 4) + images.tobytes()
    (tmp_path / "x-idx3-ubyte.gz").write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(read_idx(tmp_path / "x-idx3-ubyte.gz"), images)
    labels = np.array([3, 1, 4], dtype=np.uint8)
    (tmp_path / "y-idx1-ubyte").write_bytes(struct.pack(">II", 2049, 3) + labels.tobytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "y-idx1-ubyte"), labels)


def test_data_root_resolution_order(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "env"))
    assert resolve_data_root(tmp_path / "cli") == (tmp_path / "cli").resolve()
    assert resolve_data_root(None) == (tmp_path / "env").resolve()
    monkeypatch.delenv(DATA_ENV)
    assert resolve_data_root(None).name == "data"


def test_missing_data_names_every_path_and_the_fix(tmp_path):
    with pytest.raises(DataError) as info:
        load_split("mnist", "train", tmp_path / "nowhere", download=False)
    message = str(info.value)
    assert "make data" in message and DATA_ENV in message
    assert str(tmp_path / "nowhere" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz") in message


def test_balanced_subset_is_balanced_seeded_and_sorted():
    labels = torch.arange(1000) % 10
    a = balanced_subset(labels, 500, 10, seed=3)
    assert len(a) == 500 and torch.equal(a, a.sort().values)
    assert torch.bincount(labels[a], minlength=10).tolist() == [50] * 10
    assert torch.equal(a, balanced_subset(labels, 500, 10, seed=3))
    assert not torch.equal(a, balanced_subset(labels, 500, 10, seed=4))
    with pytest.raises(DataError, match="multiple"):
        balanced_subset(labels, 505, 10, seed=0)


def test_fake_training_set_and_ranges():
    images, labels = training_set("fake", 100, seed=0)
    assert images.dtype == torch.uint8 and images.shape == (100, 1, 28, 28)
    x = to_model_range(images)
    assert x.min() >= -1 and x.max() <= 1
    assert torch.equal(to_uint8(x), images)


@pytest.mark.data
def test_real_mnist_when_prepared():
    try:
        images, labels = load_split("mnist", "test", download=False)
    except DataError:
        pytest.skip("MNIST not prepared (make data)")
    assert images.shape == (10000, 1, 28, 28)
    counts = torch.bincount(labels, minlength=10).tolist()
    assert counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
