"""--precision: what auto resolves to, what config.json records, that bf16 really computes in
bfloat16 while every saved tensor stays float32, and that a bf16 run resumes bit for bit."""

import json

import pytest
import torch

from core import precision
from core.config import ConfigError, TrainConfig
from core.gan import GANTrainer
from core.models import build_model, model_config
from core.run_dir import TrainingError
from core.train import train
from core.weights import load_pretrained, read_safetensors

WIDTH = {"width": 8}


def test_auto_is_bf16_exactly_where_the_cpu_has_bf16_units(monkeypatch):
    cpu = torch.device("cpu")
    expected = "bf16" if precision.cpu_has_bf16() else "float32"
    assert precision.resolve_precision("auto", cpu) == expected
    for has in (True, False):
        monkeypatch.setattr(precision, "cpu_has_bf16", lambda has=has: has)
        assert precision.resolve_precision("auto", cpu) == ("bf16" if has else "float32")
        # a trainer without bf16 support (PixelCNN) gets float32 from auto, whatever the CPU
        assert precision.resolve_precision("auto", cpu, ("float32",)) == "float32"
        assert precision.resolve_precision("float32", cpu) == "float32"
        assert precision.resolve_precision("bf16", cpu) == "bf16"  # explicit: honoured anyway
    if not torch.cuda.is_available():
        assert precision.resolve_precision("auto", "cuda") == "float32"


def test_a_wrong_precision_is_an_error_naming_the_option(tiny_train_config):
    for bad in ("fp16", "bfloat16", "", None):
        with pytest.raises(ValueError, match="--precision"):
            precision.resolve_precision(bad, "cpu")
    with pytest.raises(ConfigError, match="--precision"):
        tiny_train_config(precision="fp16")
    with pytest.raises(ValueError, match="--precision bf16: .*float32 only"):
        precision.resolve_precision("bf16", "cpu", ("float32",))


def test_config_json_records_the_resolved_precision(tmp_path, tiny_train_config, monkeypatch):
    auto = tiny_train_config(steps=1, precision="auto")
    run = train(auto, tmp_path / "auto", model_overrides=WIDTH, progress=False)
    recorded = json.loads((run / "config.json").read_text())["train"]["precision"]
    assert recorded == ("bf16" if precision.cpu_has_bf16() else "float32")
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)  # as on a CPU with AMX
    run = train(auto, tmp_path / "amx", model_overrides=WIDTH, progress=False)
    assert json.loads((run / "config.json").read_text())["train"]["precision"] == "bf16"
    with pytest.raises(TrainingError, match="train.precision: run has 'bf16', now 'float32'"):
        train(
            tiny_train_config(steps=2, precision="float32"),
            run,
            model_overrides=WIDTH,
            progress=False,
            resume=True,
        )


@pytest.mark.parametrize("dataset", ["fake", "fake32"])
def test_bf16_runs_the_networks_in_bfloat16_and_hands_back_float32(dataset):
    """Forward hooks on every conv / linear layer of G and D see bfloat16 outputs under bf16 and
    float32 under float32; the losses, parameters, gradients and Adam states stay float32."""
    cfg = model_config("tgan", dataset, width=8, d_projection=True)
    real = torch.rand(16, *cfg.image_shape) * 2 - 1
    labels = torch.arange(16) % 10
    for name, want in (("bf16", torch.bfloat16), ("float32", torch.float32)):
        model = build_model(cfg, seed=0).train()
        trainer = GANTrainer(model, TrainConfig(dataset=dataset, precision=name))
        seen: list[torch.dtype] = []
        kinds = torch.nn.Conv2d | torch.nn.ConvTranspose2d | torch.nn.Linear
        layers = [m for m in model.modules() if isinstance(m, kinds)]
        for layer in layers:
            layer.register_forward_hook(lambda m, i, out, seen=seen: seen.append(out.dtype))
        stats = trainer.step(real, labels, torch.Generator().manual_seed(0))
        assert len(seen) >= len(layers) and set(seen) == {want}, name
        assert all(v.dtype == torch.float32 for v in stats.values())
        for p in model.parameters():
            assert p.dtype == torch.float32 and (p.grad is None or p.grad.dtype == torch.float32)
        for opt in trainer.optimizers().values():
            for state in opt.state.values():
                assert state["exp_avg"].dtype == state["exp_avg_sq"].dtype == torch.float32


def test_bf16_run_saves_float32_and_resumes_bit_identically(tmp_path, tiny_train_config):
    short = {"steps": 4, "checkpoint_every": 2, "sample_every": 4, "augment_shift": 2}
    cfg = tiny_train_config(precision="bf16", **short)
    full = train(cfg, tmp_path / "full", model_overrides=WIDTH, progress=False)
    part = tmp_path / "part"
    train(cfg, part, model_overrides=WIDTH, progress=False, stop_after=3)  # "killed" at step 3
    train(cfg, part, model_overrides=WIDTH, progress=False, resume=True)
    a = read_safetensors(full / "model.safetensors")
    b = read_safetensors(part / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    for name in ("model.safetensors", "checkpoint.safetensors"):
        floats = {v.dtype for v in read_safetensors(full / name).values() if v.is_floating_point()}
        assert floats == {torch.float32}, name
    assert load_pretrained(full).config.preset == "tgan"
    f32 = train(
        tiny_train_config(precision="float32", **short),
        tmp_path / "f32",
        model_overrides=WIDTH,
        progress=False,
    )
    c = read_safetensors(f32 / "model.safetensors")
    assert any(not torch.equal(a[k], c[k]) for k in a)  # bf16 did change the arithmetic


def test_a_config_from_before_precision_resumes_as_float32(tmp_path, monkeypatch):
    """Every run before --precision was float32: a config.json without the key loads as
    float32 and a CLI resume keeps float32, even where auto would now pick bf16."""
    from core.__main__ import main

    run = tmp_path / "old"
    argv = [
        "train",
        "--dataset",
        "fake",
        "--width",
        "8",
        "--n-train",
        "200",
        "--batch-size",
        "16",
        "--steps",
        "4",
        "--checkpoint-every",
        "2",
        "--log-every",
        "2",
        "--device",
        "cpu",
        "--no-progress",
        "--run-dir",
        str(run),
    ]
    train(
        TrainConfig(
            dataset="fake",
            n_train=200,
            batch_size=16,
            steps=4,
            checkpoint_every=2,
            log_every=2,
            device="cpu",
            precision="float32",
        ),
        run,
        model_overrides=WIDTH,
        progress=False,
        stop_after=2,
    )
    config = json.loads((run / "config.json").read_text())
    del config["train"]["precision"]  # as written by an older version
    (run / "config.json").write_text(json.dumps(config))
    assert TrainConfig.from_dict(config["train"]).precision == "float32"
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    assert main([*argv, "--resume"]) == 0
    assert (run / "summary.json").exists()


def test_the_card_names_the_precision(tmp_path):
    """write_card puts the run's precision on the 'trained on' line; a config from before the
    option says float32."""
    from core.weights import save_pretrained
    from core.zoo.ship import write_card

    model = build_model(model_config("tgan", "fake", width=8), seed=0)
    for name, block in (("bf16", {"precision": "bf16"}), ("old", {})):
        save_pretrained(model, tmp_path / name, dtype=torch.float16, extra={"train": block})
        write_card(tmp_path / name)
    assert ", bf16), wall time" in (tmp_path / "bf16" / "card.md").read_text()
    assert ", float32), wall time" in (tmp_path / "old" / "card.md").read_text()


def test_the_record_and_the_card_name_the_processor(tmp_path):
    """hardware() records the processor's name and torch's vector level (bf16 runs match bit
    for bit on one processor only), and the card's 'trained on' line names that processor;
    a record from before it names the architecture."""
    import json

    from core import device
    from core.weights import save_pretrained
    from core.zoo.ship import write_card

    record = device.hardware("cpu")
    assert record["cpu_model"] == device.cpu_model() and record["cpu_model"]
    assert record["cpu_isa"] == torch.backends.cpu.get_cpu_capability()
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU 9000 @ 1 GHz\nflags\t: fpu\n")
    assert device.cpu_model(cpuinfo) == "Test CPU 9000 @ 1 GHz"

    model = build_model(model_config("tgan", "fake", width=8), seed=0)
    for name, hw in (
        ("new", {"cpu": "x86_64", "cpu_model": "Test CPU 9000"}),
        ("old", {"cpu": "x86_64"}),
    ):
        save_pretrained(model, tmp_path / name, dtype=torch.float16)
        (tmp_path / name / "summary.json").write_text(json.dumps({"hardware": hw}))
        write_card(tmp_path / name)
    assert "(Test CPU 9000, " in (tmp_path / "new" / "card.md").read_text()
    assert "(x86_64, " in (tmp_path / "old" / "card.md").read_text()
