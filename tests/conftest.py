"""Shared fixtures. Tests run on the CPU with the synthetic ``fake`` data set unless marked."""

import os

import pytest
import torch

from core.device import threads_per_process

os.environ.setdefault("TGAN_OFFLINE", "1")  # tests never download


# Two at most; under ``pytest -n N`` the cores shared out among the N workers, never more
# OpenMP threads than cores (core.device.threads_per_process).
THREADS = min(2, threads_per_process(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))
torch.set_num_threads(THREADS)
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))  # the CLI processes tests start


@pytest.fixture(scope="session")
def tiny_train_config():
    """A factory of training configs that finish in a second or two on the CPU (keyword
    arguments override the defaults); a pure function, so any fixture scope may use it.
    float32 unless a test asks for bf16: ``auto`` would pick bf16 on a CPU with bf16 units
    only, and a test's tolerances must not depend on the machine it runs on."""
    from core.config import TrainConfig

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
            precision="float32",
        )
        base.update(kw)
        return TrainConfig(**base)

    return make


@pytest.fixture(scope="session")
def fake_judge_dir(tmp_path_factory):
    """A judge trained for a few steps on the synthetic data set and shipped like the real ones
    (float16 weights, config, card): one for the whole session."""
    from core.evaluate.judge_training import fit_judge, save_judge
    from core.evaluate.judges import default_recipe

    recipe = default_recipe("fake")
    net, info = fit_judge(recipe, log=lambda m: None)
    folder = tmp_path_factory.mktemp("judge") / "fake"
    save_judge(net, recipe, info, folder)
    return folder


@pytest.fixture(scope="session")
def fake_judge(fake_judge_dir):
    """The shared fake judge, loaded (``core.evaluate.judges.Judge``)."""
    from core.evaluate.judges import load_judge

    return load_judge("fake", root=fake_judge_dir)
