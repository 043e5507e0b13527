"""The training loop on fake data: every run-dir file, resume, NaN guard."""

import json

import pytest
import torch

from core.atomic import read_jsonl
from core.augment import shift_and_flip
from core.models import GAN_PRESETS
from core.run_dir import TrainingError
from core.train import train
from core.weights import load_pretrained, read_safetensors


@pytest.mark.parametrize("preset", GAN_PRESETS)
def test_short_run_writes_every_file(preset, tmp_path, tiny_train_config):
    cfg = tiny_train_config(model=preset)
    run = train(cfg, tmp_path / "run", model_overrides={"width": 8}, progress=False)
    for name in (
        "config.json",
        "stats.jsonl",
        "checkpoint.safetensors",
        "model.safetensors",
        "summary.json",
        "samples/step_000003.png",
        "samples/step_000006.png",
    ):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["preset"] == preset and config["train"]["steps"] == 6
    rows = read_jsonl(run / "stats.jsonl")
    assert [r["step"] for r in rows] == [2, 4, 6]
    for key in ("d_adv", "g_adv", "cls", "d_real", "d_fake", "images_per_s", "wall_time"):
        assert key in rows[0], key
    if preset in ("deligan", "tgan"):
        assert "sigma_mean" in rows[0]
    model = load_pretrained(run)
    assert model.config.preset == preset


def test_resume_continues_from_checkpoint_bit_identically(tmp_path, tiny_train_config):
    cfg = tiny_train_config(steps=8, checkpoint_every=4, log_every=2)
    full = train(cfg, tmp_path / "full", model_overrides={"width": 8}, progress=False)
    part = tmp_path / "part"
    # killed after 6 steps: the checkpoint holds step 4, the log runs to step 6
    train(cfg, part, model_overrides={"width": 8}, progress=False, stop_after=6)
    assert not (part / "summary.json").exists()
    assert [r["step"] for r in read_jsonl(part / "stats.jsonl")] == [2, 4, 6]
    with open(part / "stats.jsonl", "a") as fh:  # a torn line from the kill
        fh.write('{"step": 7, "d_ad')
    train(cfg, part, model_overrides={"width": 8}, progress=False, resume=True)
    steps = [r["step"] for r in read_jsonl(part / "stats.jsonl")]
    assert steps == [2, 4, 6, 8]  # no duplicate, no torn line
    a = read_safetensors(full / "model.safetensors")
    b = read_safetensors(part / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_resuming_a_finished_run_to_more_steps_drops_its_final_outputs(
    tmp_path, tiny_train_config, capsys
):
    """A zoo budget raised after a run finished: ``--resume --steps`` larger trains it on from
    its checkpoint, and its summary.json and metrics.json (of the shorter model) are gone until
    the longer run writes its own; metrics.jsonl (the history) stays. The same --steps again
    changes nothing."""
    run = tmp_path / "run"
    train(
        tiny_train_config(steps=4, log_every=2), run, model_overrides={"width": 8}, progress=False
    )
    (run / "metrics.json").write_text('{"step": 4}')
    (run / "metrics.jsonl").write_text('{"step": 4}\n')
    longer = tiny_train_config(steps=8, log_every=2)
    train(
        longer, run, model_overrides={"width": 8}, progress=False, resume=True, stop_after=2
    )  # killed at 6
    assert not (run / "summary.json").exists() and not (run / "metrics.json").exists()
    assert (run / "metrics.jsonl").read_text() == '{"step": 4}\n'
    assert "removed summary.json, metrics.json of the step-4 model" in capsys.readouterr().out
    train(longer, run, model_overrides={"width": 8}, progress=False, resume=True)
    assert json.loads((run / "summary.json").read_text())["steps"] == 8
    assert [r["step"] for r in read_jsonl(run / "stats.jsonl")] == [2, 4, 6, 8]
    # the same model as 8 steps at one go: a raised budget is the longer run, not another one
    direct = train(longer, tmp_path / "direct", model_overrides={"width": 8}, progress=False)
    a, b = (
        read_safetensors(run / "model.safetensors"),
        read_safetensors(direct / "model.safetensors"),
    )
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    (run / "metrics.json").write_text('{"step": 8}')
    train(longer, run, model_overrides={"width": 8}, progress=False, resume=True)
    assert (run / "metrics.json").read_text() == '{"step": 8}'


def test_existing_run_needs_resume_and_matching_options(tmp_path, tiny_train_config):
    cfg = tiny_train_config(steps=2)
    train(cfg, tmp_path / "r", model_overrides={"width": 8}, progress=False)
    with pytest.raises(TrainingError, match="--resume"):
        train(cfg, tmp_path / "r", model_overrides={"width": 8}, progress=False)
    with pytest.raises(TrainingError, match="differ"):
        train(
            cfg,
            tmp_path / "r",
            model_overrides={"width": 8, "df": 10.0},
            progress=False,
            resume=True,
        )


def test_nan_stops_the_run_with_the_step(tmp_path, tiny_train_config):
    cfg = tiny_train_config(model="dcgan", lr=1e30, steps=20, log_every=1)
    with pytest.raises(TrainingError, match=r"step \d+: .*NaN"):
        train(cfg, tmp_path / "nan", model_overrides={"width": 8}, progress=False)


def test_resume_of_a_run_from_before_a_new_model_key(tmp_path, tiny_train_config):
    """A config.json written before a ModelConfig field existed resumes with that default."""
    cfg = tiny_train_config(steps=4, checkpoint_every=2)
    run = tmp_path / "old"
    train(cfg, run, model_overrides={"width": 8}, progress=False, stop_after=2)
    config = json.loads((run / "config.json").read_text())
    del config["model"]["d_classifies_fakes"]  # as written by an older version
    (run / "config.json").write_text(json.dumps(config))
    train(cfg, run, model_overrides={"width": 8}, progress=False, resume=True)
    assert [r["step"] for r in read_jsonl(run / "stats.jsonl")][-1] == 4


def test_diffaugment_shifts_real_and_fake_and_lets_gradients_through():
    """The trainer's DiffAugment moves content by <= shift px, pads with background -1, and is
    differentiable, so G still gets D's gradient through the shifted fakes."""

    image = torch.full((64, 1, 12, 12), -1.0)
    image[:, :, 6, 6] = 1.0
    image.requires_grad_(True)
    out = shift_and_flip(image, 2, False, torch.Generator().manual_seed(0))
    bright = (out.detach() == 1.0).nonzero()[:, 2:]
    assert len(bright) == 64  # every dot survives, once
    offsets = bright - torch.tensor([6, 6])
    assert offsets.abs().max() <= 2 and len({tuple(o) for o in offsets.tolist()}) > 5
    assert set(out.detach().unique().tolist()) == {-1.0, 1.0}
    out.sum().backward()
    assert image.grad is not None and float(image.grad.abs().sum()) > 0


def test_diffaugment_colour_and_cutout_do_what_diffaugment_does():
    """Colour: one brightness / saturation / contrast draw per image (a flat grey image stays
    flat, only its level moves; a grey image stays grey), differentiable. Cutout: a square of
    exactly side x fraction (when inside the border) set to 0, the rest untouched. The policy
    applies colour, then translation, then cutout, and nothing when all are off."""
    from core.augment import color_augment, cutout, diff_augment
    from core.config import TrainConfig

    gen = torch.Generator().manual_seed(0)
    flat = torch.full((256, 3, 8, 8), 0.2, requires_grad=True)
    out = color_augment(flat, gen)
    per_image = out.detach().flatten(1)
    assert torch.allclose(per_image, per_image[:, :1].expand_as(per_image), atol=1e-6)
    shift = per_image[:, 0] - 0.2
    assert shift.min() >= -0.5 - 1e-6 and shift.max() <= 0.5 + 1e-6 and shift.std() > 0.2
    out.sum().backward()
    assert flat.grad is not None and float(flat.grad.abs().sum()) > 0
    colour = torch.rand(64, 3, 8, 8, generator=gen) * 2 - 1
    changed = color_augment(colour, gen)
    assert not torch.allclose(changed, colour) and changed.shape == colour.shape

    ones = torch.ones(512, 1, 16, 16)
    cut = cutout(ones, 0.5, gen)
    zeros = (cut == 0).flatten(1).sum(1)
    assert set(cut.unique().tolist()) <= {0.0, 1.0}
    assert zeros.max() == 64 and (zeros < 64).any() and (zeros > 0).all()  # 8x8 unless clipped
    for row in (cut[zeros == 64][:, 0] == 0).nonzero()[:, 1:].reshape(-1, 64, 2):
        assert (row.max(0).values - row.min(0).values).tolist() == [7, 7]  # one 8x8 square
    assert torch.equal(cutout(ones, 0.0, gen), ones)
    plain = TrainConfig()
    assert torch.equal(diff_augment(colour, plain, gen), colour)
    full = TrainConfig(augment_shift=2, augment_color=True, augment_cutout=0.5)
    assert diff_augment(colour, full, gen).shape == colour.shape
    for bad in ({"augment_cutout": 1.0}, {"augment_cutout": -0.1}, {"augment_color": 1}):
        with pytest.raises(Exception, match="augment"):
            TrainConfig(**bad)


def test_augmented_run_is_recorded_and_changes_training(tmp_path, tiny_train_config):
    plain = train(
        tiny_train_config(), tmp_path / "plain", model_overrides={"width": 8}, progress=False
    )
    aug = train(
        tiny_train_config(augment_shift=2),
        tmp_path / "aug",
        model_overrides={"width": 8},
        progress=False,
    )
    assert json.loads((aug / "config.json").read_text())["train"]["augment_shift"] == 2
    a = read_safetensors(plain / "model.safetensors")
    b = read_safetensors(aug / "model.safetensors")
    assert any(not torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(Exception, match="augment-shift"):
        tiny_train_config(augment_shift=-1)


def test_projection_run_trains_its_label_embedding(tmp_path, tiny_train_config):
    """A --d-projection run records the key, and D's label embedding moves during training
    (the labels reach the logit), while the plain run has no such tensor."""
    from core.models import build_model

    run = train(
        tiny_train_config(steps=6),
        tmp_path / "proj",
        model_overrides={"width": 8, "d_projection": True},
        progress=False,
    )
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["d_projection"] is True
    trained = load_pretrained(run).discriminator.projection.weight
    init = build_model(load_pretrained(run).config, seed=config["train"]["seed"])
    assert not torch.equal(trained, init.discriminator.projection.weight)
    plain = train(
        tiny_train_config(steps=2), tmp_path / "plain", model_overrides={"width": 8}, progress=False
    )
    assert not any("projection" in k for k in read_safetensors(plain / "model.safetensors"))
