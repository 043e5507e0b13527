"""Packed runs (core/packed.py): N seeds of one GAN config stepped at once under vmap. Each run
draws what it would draw alone, ends where it would end alone (up to float rounding), writes its
own run directory in the lone format, and resumes packed or alone."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch

from core.__main__ import main
from core.config import ConfigError
from core.gan import GANTrainer
from core.models import build_model, model_config
from core.packed import PackedGANStep, train_packed
from core.run_dir import TrainingError
from core.train import train
from core.weights import read_safetensors

# vmap's batched kernels add in another order than the lone ones: after a few Adam steps of
# lr 2e-4 the weights of a packed run and of the same run alone differ by ~1e-5 (measured up to
# 2e-5 over 4 steps, 5 presets); a wrong draw, a swapped seed or a missed update is >= 1e-3.
WEIGHT_TOL = 1e-4


def _max_gap(a: dict, b: dict) -> float:
    return max(
        (x.float() - y.float()).abs().max().item()
        for k, x in a.items()
        for y in [b[k]]
        if x.is_floating_point()
    )


@pytest.mark.parametrize(
    ("preset", "overrides"),
    [
        ("tgan", {"codeword_mean": "onehot", "d_projection": True, "d_classifies_fakes": False}),
        ("acgan", {"conditioning": "embedding"}),  # a learned label input, inside vmap
        ("gan", {}),  # MLP nets, Gaussian prior, no conditioning
    ],
)
def test_a_packed_step_is_each_runs_own_step(preset, overrides, tiny_train_config):
    cfg = tiny_train_config(
        model=preset, batch_size=8, augment_shift=2, augment_color=True, augment_cutout=0.5
    )
    mcfg = model_config(preset, "fake", **overrides)
    seeds = (0, 1, 2)
    alone = [build_model(mcfg, seed=s).train() for s in seeds]
    packed = [copy.deepcopy(m) for m in alone]
    lone_trainers = [GANTrainer(m, cfg) for m in alone]
    step = PackedGANStep(packed, [GANTrainer(m, cfg) for m in packed])
    lone_noise = [torch.Generator().manual_seed(s + 1) for s in seeds]
    packed_noise = [torch.Generator().manual_seed(s + 1) for s in seeds]
    data = torch.Generator().manual_seed(7)
    for _ in range(3):
        reals = [torch.rand(8, *mcfg.image_shape, generator=data) * 2 - 1 for _ in seeds]
        labels = [torch.randint(0, 10, (8,), generator=data) for _ in seeds]
        want = [
            t.step(r, y, g)
            for t, r, y, g in zip(lone_trainers, reals, labels, lone_noise, strict=True)
        ]
        got = step.step(reals, labels, packed_noise)
    for i in range(len(seeds)):
        assert list(got[i]) == list(want[i])  # the same stats, in stats.jsonl's order
        for key in want[i]:
            assert float(got[i][key]) == pytest.approx(float(want[i][key]), abs=1e-5)
        # every random draw of run i came from its own generator, in the lone order
        assert torch.equal(packed_noise[i].get_state(), lone_noise[i].get_state())
        assert _max_gap(alone[i].state_dict(), packed[i].state_dict()) < WEIGHT_TOL
    # the runs stay distinct: run 0 is not run 1
    assert _max_gap(packed[0].state_dict(), packed[1].state_dict()) > 1e-2


def test_a_packed_step_runs_under_bf16_like_the_lone_step(tiny_train_config):
    """bf16 (what ``auto`` picks on a CPU with bf16 units, and on a GPU): the lone step puts
    4-D inputs channels-last, which cannot be asked for inside vmap; a packed step must run
    all the same, and land where the lone bf16 steps land up to bf16 rounding."""
    cfg = tiny_train_config(model="tgan", batch_size=8, precision="bf16")
    mcfg = model_config("tgan", "fake", codeword_mean="onehot", d_projection=True)
    alone = [build_model(mcfg, seed=s).train() for s in (0, 1)]
    packed = [copy.deepcopy(m) for m in alone]
    lone_trainers = [GANTrainer(m, cfg) for m in alone]
    step = PackedGANStep(packed, [GANTrainer(m, cfg) for m in packed])
    assert lone_trainers[0].precision == "bf16"
    data = torch.Generator().manual_seed(7)
    reals = [torch.rand(8, *mcfg.image_shape, generator=data) * 2 - 1 for _ in alone]
    labels = [torch.randint(0, 10, (8,), generator=data) for _ in alone]
    noise = [[torch.Generator().manual_seed(s + 1) for s in (0, 1)] for _ in range(2)]
    want = [t.step(r, y, g) for t, r, y, g in zip(lone_trainers, reals, labels, noise[0])]
    got = step.step(reals, labels, noise[1])
    for i in range(2):
        for key in want[i]:
            assert float(got[i][key]) == pytest.approx(float(want[i][key]), rel=0.05, abs=0.02)
        assert _max_gap(alone[i].state_dict(), packed[i].state_dict()) < 1e-2


def test_packed_runs_write_lone_run_dirs_and_resume_packed_or_alone(tmp_path, tiny_train_config):
    cfgs = [tiny_train_config(seed=s, steps=8, checkpoint_every=4, log_every=2) for s in (0, 1)]
    dirs = [tmp_path / f"packed-s{s}" for s in (0, 1)]
    train_packed(cfgs, dirs, progress=False, stop_after=4)  # "killed" after its checkpoint
    for d in dirs:
        assert not (d / "summary.json").exists()
        assert [r["step"] for r in map(json.loads, (d / "stats.jsonl").open())] == [2, 4]
    # seed 1 resumes alone, seed 0 packed with nobody: both formats are one format
    train(cfgs[1], dirs[1], resume=True, progress=False)
    train_packed(cfgs[:1], dirs[:1], resume=True, progress=False)
    lone = train(cfgs[1], tmp_path / "alone-s1", progress=False)
    for d in dirs:
        assert json.loads((d / "summary.json").read_text())["steps"] == 8
        assert (d / "samples" / "step_000008.png").is_file()
    config = json.loads((dirs[1] / "config.json").read_text())
    assert config["train"] == json.loads((lone / "config.json").read_text())["train"]
    weights = read_safetensors(dirs[1] / "model.safetensors")
    assert _max_gap(weights, read_safetensors(lone / "model.safetensors")) < WEIGHT_TOL
    lone_rows = [json.loads(line) for line in (lone / "stats.jsonl").open()]
    rows = [json.loads(line) for line in (dirs[1] / "stats.jsonl").open()]
    assert [r["step"] for r in rows] == [r["step"] for r in lone_rows] == [2, 4, 6, 8]
    assert rows[-1]["d_adv"] == pytest.approx(lone_rows[-1]["d_adv"], abs=1e-3)


def test_packed_runs_are_checked_before_any_work(tmp_path, tiny_train_config):
    a, b = tiny_train_config(seed=0), tiny_train_config(seed=1, lr=1e-3)
    with pytest.raises(ConfigError, match="--seed only"):
        train_packed([a, b], [tmp_path / "a", tmp_path / "b"], progress=False)
    with pytest.raises(ConfigError, match="one run directory each"):
        train_packed([a, a], [tmp_path / "a", tmp_path / "a"], progress=False)
    pix = tiny_train_config(model="pixelcnn")
    with pytest.raises(ConfigError, match="only GANs"):
        train_packed([pix], [tmp_path / "pix"], progress=False)
    # runs checkpointed at different steps cannot share a packed step
    train(tiny_train_config(seed=0), tmp_path / "r0", progress=False, stop_after=3)
    train(tiny_train_config(seed=1), tmp_path / "r1", progress=False, stop_after=6)
    with pytest.raises(TrainingError, match="resume each alone"):
        train_packed(
            [tiny_train_config(seed=s) for s in (0, 1)],
            [tmp_path / "r0", tmp_path / "r1"],
            resume=True,
            progress=False,
        )


def test_a_diverged_packed_run_stops_alone(tmp_path, tiny_train_config, monkeypatch):
    """Run 1's stats turn NaN: it stops recording (no summary), run 0 finishes, and the
    error at the end names run 1's folder and its last good checkpoint."""
    real_step = PackedGANStep.step

    def poisoned(self, *args):
        stats = real_step(self, *args)
        stats[1]["d_adv"] = torch.tensor(math.nan)
        return stats

    monkeypatch.setattr(PackedGANStep, "step", poisoned)
    dirs = [tmp_path / f"s{s}" for s in (0, 1)]
    with pytest.raises(TrainingError, match="1 of 2 packed runs failed") as err:
        train_packed([tiny_train_config(seed=s) for s in (0, 1)], dirs, progress=False)
    assert str(dirs[1]) in str(err.value) and "NaN" in str(err.value)
    assert (dirs[0] / "summary.json").is_file() and not (dirs[1] / "summary.json").exists()


def test_cli_trains_seeds_packed(tmp_path, capsys):
    run = tmp_path / "runs" / "cli-s{seed}"
    argv = ["train", "--model", "dcgan", "--dataset", "fake", "--n-train", "100", "--steps", "4"]
    argv += ["--batch-size", "8", "--device", "cpu", "--no-progress", "--run-dir", str(run)]
    assert main([*argv, "--seeds", "3,5"]) == 0
    for seed in (3, 5):
        config = json.loads((tmp_path / "runs" / f"cli-s{seed}" / "config.json").read_text())
        assert config["train"]["seed"] == seed and config["model"]["preset"] == "dcgan"
    assert main([*argv[:-1], str(tmp_path / "runs" / "no-template"), "--seeds", "1,2"]) == 2
    assert "{seed}" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_packed_step_on_cuda_is_each_runs_own_step(tiny_train_config):
    cfg = tiny_train_config(batch_size=8, device="cuda", augment_shift=2)
    mcfg = model_config("tgan", "fake")
    alone = [build_model(mcfg, seed=s).cuda().train() for s in (0, 1)]
    packed = [copy.deepcopy(m) for m in alone]
    lone_trainers = [GANTrainer(m, cfg) for m in alone]
    step = PackedGANStep(packed, [GANTrainer(m, cfg) for m in packed])
    lone_noise = [torch.Generator(device="cuda").manual_seed(s) for s in (1, 2)]
    packed_noise = [torch.Generator(device="cuda").manual_seed(s) for s in (1, 2)]
    data = torch.Generator().manual_seed(7)
    for _ in range(3):
        reals = [(torch.rand(8, *mcfg.image_shape, generator=data) * 2 - 1).cuda() for _ in "ab"]
        labels = [torch.randint(0, 10, (8,), generator=data).cuda() for _ in "ab"]
        for t, r, y, g in zip(lone_trainers, reals, labels, lone_noise, strict=True):
            t.step(r, y, g)
        step.step(reals, labels, packed_noise)
    for a, b in zip(alone, packed, strict=True):
        assert _max_gap(a.state_dict(), b.state_dict()) < WEIGHT_TOL


def test_batch_packs_each_entrys_seeds_by_where_they_resume(tmp_path, monkeypatch):
    """``reproduce batch --pack``: new seeds share one process, a seed checkpointed elsewhere
    resumes in its own, a finished one is skipped, and one that finished short of the recipe's
    steps (its budget was raised since) resumes to them; PixelCNN never packs."""
    from safetensors.torch import save_file

    from core.zoo.batch import packed_train_jobs
    from core.zoo.recipes import entry

    monkeypatch.setenv("TGAN_RUNS", str(tmp_path / "runs"))
    name = "tgan-mnist-500-modern"
    e = entry(name)
    for seed, summary in ((2, None), (3, {"steps": e.steps}), (4, {"steps": e.steps // 2})):
        e.run_dir(seed).mkdir(parents=True)
        (e.run_dir(seed) / "config.json").write_text("{}")
        if summary:
            (e.run_dir(seed) / "summary.json").write_text(json.dumps(summary))
    save_file({"x": torch.zeros(1)}, e.run_dir(2) / "checkpoint.safetensors", {"step": "3000"})
    save_file({"x": torch.zeros(1)}, e.run_dir(4) / "checkpoint.safetensors", {"step": "10000"})
    jobs = packed_train_jobs([name, "pixelcnn-mnist-full"], [0, 1, 2, 3, 4], "cuda", tmp_path)
    labels = [label for label, _, _ in jobs]
    assert labels == [
        f"train {name} s0-1 (packed)",
        f"train {name} s2",
        f"train {name} s4",
        *(f"train pixelcnn-mnist-full s{s}" for s in (0, 1, 2, 3, 4)),
    ]
    assert "--resume" in jobs[2][1] and jobs[2][1][jobs[2][1].index("--steps") + 1] == str(e.steps)
    argv = jobs[0][1]
    assert argv[argv.index("--seeds") + 1] == "0,1" and "--seed" not in argv
    assert argv[argv.index("--run-dir") + 1].endswith(f"{name}-s{{seed}}")
    assert "--resume" not in argv and "--resume" in jobs[1][1]
    assert argv[argv.index("--device") + 1] == "cuda" and argv[argv.index("--steps") + 1] == str(
        e.steps
    )
