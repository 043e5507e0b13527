"""Shared fixtures. Tests run on the CPU with the synthetic ``fake`` data set unless marked."""

import os

import pytest
import torch

os.environ.setdefault("TGAN_OFFLINE", "1")  # tests never download
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture
def tiny_train_config():
    """A training config that finishes in a second or two on the CPU."""
    from core.train import TrainConfig

    def make(**kw):
        base = dict(
            model="tgan",
            dataset="fake",
            n_train=200,
            steps=6,
            batch_size=16,
            log_every=2,
            sample_every=3,
            checkpoint_every=3,
            device="cpu",
            seed=0,
        )
        base.update(kw)
        return TrainConfig(**base)

    return make
