"""The PixelCNN baseline: causal masks, the cached sampler, the model contract, a short run."""

import json
import math

import pytest
import torch

from core.atomic import read_jsonl
from core.config import ConfigError
from core.models import build_model, model_config
from core.pixelcnn.model import N_LEVELS, levels
from core.pixelcnn.trainer import evaluate_nll_bpd
from core.sampling import sample
from core.train import train
from core.weights import WEIGHTS_NAME, load_pretrained, save_pretrained

SHAPES = ("fake", "fake32")  # (1, 28, 28) and (3, 32, 32)


def tiny(dataset: str, seed: int = 0, **extra):
    """A small PixelCNN: 6 hidden channels (2 per colour on RGB), 3 gated layers."""
    cfg = model_config("pixelcnn", dataset, width=6, extra={"layers": 3, **extra})
    return build_model(cfg, seed=seed).eval()


def random_images(n: int, shape, seed: int) -> torch.Tensor:
    """(n, C, H, W) in [-1, 1] with uint8 values."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, N_LEVELS, (n, *shape), generator=gen).float() / 127.5 - 1


def probe_positions(c: int, h: int, w: int, n_random: int = 24) -> torch.Tensor:
    """Raster-then-channel indices to probe: every position of rows 0, h/2 and h-1 (row
    starts, ends, the first row with no row above) and ``n_random`` others."""
    order = torch.arange(h * w * c).view(h, w * c)
    rows = order[[0, h // 2, h - 1]].flatten()
    gen = torch.Generator().manual_seed(0)
    return torch.cat([rows, torch.randint(0, h * w * c, (n_random,), generator=gen)])


@pytest.mark.parametrize("dataset", SHAPES)
def test_logits_ignore_every_value_at_or_after_their_own(dataset):
    """For each probed (row, col, channel) position i, one image re-draws every value at or
    after i in raster-then-channel order; the logits of i must not move (up to float rounding),
    while the logits of later positions do."""
    model = tiny(dataset)
    c, h, w = model.config.image_shape
    base = random_images(1, (c, h, w), seed=1)
    label = torch.tensor([3])
    with torch.no_grad():
        ref = model(base, label)[0]  # (C, 256, H, W)
    order = torch.arange(h * w * c).view(h, w, c).permute(2, 0, 1)  # (C, H, W): raster, then ch
    positions = probe_positions(c, h, w)
    noise = random_images(len(positions), (c, h, w), seed=2)
    after = order[None] >= positions[:, None, None, None]  # (N, C, H, W): at or after i
    perturbed = torch.where(after, noise, base)
    changed = 0
    with torch.no_grad():
        for start in range(0, len(positions), 32):
            idx = torch.arange(start, min(start + 32, len(positions)))
            logits = model(perturbed[idx], label.expand(len(idx)))
            moved = (logits - ref).abs().flatten(1).amax(1)  # (n,): largest change anywhere
            changed += int((moved > 1e-5).sum())
            for k, i in zip(range(len(idx)), positions[idx].tolist()):
                r, col, ch = (i // c) // w, (i // c) % w, i % c
                got, want = logits[k, ch, :, r, col], ref[ch, :, r, col]
                assert torch.allclose(got, want, atol=1e-5, rtol=0), (r, col, ch)
    assert changed >= len(positions) - 1  # only the very last position has nothing after it


@pytest.mark.parametrize("dataset", SHAPES)
def test_logits_do_see_the_past_with_no_blind_spot(dataset):
    """Positive control: pixel (10, 10) depends on its left neighbour, on the row above
    (including up-right, the blind spot of a plain masked PixelCNN), and on RGB, G sees R."""
    model = tiny(dataset)
    c, h, w = model.config.image_shape
    base = random_images(1, (c, h, w), seed=3)
    label = torch.tensor([0])
    with torch.no_grad():
        ref = model(base, label)[0, :, :, 10, 10]
        for r, col in ((10, 9), (9, 10), (9, 12), (8, 8)):
            x = base.clone()
            x[0, :, r, col] = -x[0, :, r, col] + 0.5
            assert not torch.allclose(model(x, label)[0, :, :, 10, 10], ref), (r, col)
        if c == 3:
            x = base.clone()
            x[0, 0, 10, 10] = -x[0, 0, 10, 10] + 0.5  # R of the pixel itself
            out = model(x, label)[0, :, :, 10, 10]
            assert torch.equal(out[0], ref[0]) and not torch.allclose(out[1], ref[1])


@pytest.mark.parametrize("dataset", SHAPES)
def test_cached_sampler_computes_the_same_logits_as_forward(dataset):
    """Teacher-forced through ``autoregress``, the cached per-row / per-pixel path reproduces
    the full forward's logits of every position."""
    model = tiny(dataset, seed=4)
    c, h, w = model.config.image_shape
    images = random_images(2, (c, h, w), seed=5)
    labels = torch.tensor([2, 7])
    want = model(images, labels).detach()
    got = torch.full_like(want, float("nan"))
    values = levels(images)

    def replay(r, col, ch, logits):
        got[:, ch, :, r, col] = logits
        return values[:, ch, r, col]

    assert torch.equal(model.autoregress(labels, replay), values)
    assert torch.allclose(got, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("dataset", SHAPES)
def test_pixelcnn_contract(dataset, tmp_path):
    """Shapes, range, labels, determinism, one image per seed, save/load bit-identical."""
    model = tiny(dataset)
    seeds, labels = [0, 1, 2, 3], [0, 1, 2, 9]
    out = sample(model, seeds, labels, batch_size=3)  # two chunks: 3 + 1
    assert out.images.shape == (4, *model.config.image_shape) and out.latents is None
    assert out.images.min() >= -1 and out.images.max() <= 1
    assert torch.equal(out.images, levels(out.images).float() / 127.5 - 1)  # uint8 values
    assert torch.equal(out.images, sample(model, seeds, labels).images)
    assert torch.equal(sample(model, [2], [2]).images[0], out.images[2])
    assert not torch.equal(sample(model, [2], [5]).images[0], out.images[2])
    assert not torch.equal(out.images[0], out.images[1])
    twin = tiny(dataset)
    assert torch.equal(sample(twin, seeds, labels).images, out.images)
    other = tiny(dataset, seed=1)
    assert any(not torch.equal(a, b) for a, b in zip(model.parameters(), other.parameters()))
    save_pretrained(model, tmp_path)
    loaded = load_pretrained(tmp_path)
    assert loaded.config == model.config
    a, b = model.state_dict(), loaded.state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    assert torch.equal(sample(loaded, seeds, labels).images, out.images)
    assert (tmp_path / WEIGHTS_NAME).stat().st_size > 0


def test_nll_of_a_uniform_model_is_8_bits_per_dim():
    """Zero output layer -> every value has probability 1/256 -> exactly log2(256) = 8 bits."""
    model = tiny("fake")
    with torch.no_grad():
        model.head_out.weight.zero_()
        model.head_out.bias.zero_()
    images = random_images(3, model.config.image_shape, seed=6)
    with torch.no_grad():
        bpd = float(model.nll_bpd(images, torch.tensor([0, 1, 2])))
    assert bpd == pytest.approx(8.0, abs=1e-5)
    assert evaluate_nll_bpd(model, "fake", limit=20) == pytest.approx(8.0, abs=1e-5)


def test_nll_matches_the_product_of_sampled_conditionals():
    """nll_bpd is -log2 p(x) / D with p(x) the product of the autoregressive conditionals."""
    model = tiny("fake32", seed=7)
    images = random_images(1, model.config.image_shape, seed=8)
    label = torch.tensor([4])
    values = levels(images)
    total = []

    def score(r, col, ch, logits):
        total.append(torch.log_softmax(logits.double(), -1)[0, values[0, ch, r, col]])
        return values[:, ch, r, col]

    model.autoregress(label, score)
    bits = -float(sum(total)) / math.log(2) / images[0].numel()
    with torch.no_grad():
        assert float(model.nll_bpd(images, label)) == pytest.approx(bits, rel=1e-4)


def test_bad_pixelcnn_configs_say_what_to_fix():
    with pytest.raises(ConfigError, match="multiple of the 3 image channels"):
        build_model(model_config("pixelcnn", "fake32", width=32))
    with pytest.raises(ConfigError, match="unknown pixelcnn extra"):
        build_model(model_config("pixelcnn", "fake", extra={"depth": 3}))
    with pytest.raises(ConfigError, match="odd"):
        build_model(model_config("pixelcnn", "fake", extra={"kernel": 4}))


@pytest.mark.parametrize("dataset", SHAPES)
def test_short_pixelcnn_run_writes_every_file(dataset, tmp_path, tiny_train_config):
    cfg = tiny_train_config(model="pixelcnn", dataset=dataset, lr=1e-3, beta1=0.9, sample_every=6)
    overrides = {"width": 6, "extra": {"layers": 1}}  # every grid is 100 pixel-by-pixel samples
    run = train(cfg, tmp_path / "run", model_overrides=overrides, progress=False)
    for name in (
        "config.json",
        "stats.jsonl",
        "checkpoint.safetensors",
        "model.safetensors",
        "summary.json",
        "nll.json",
        "samples/step_000006.png",
    ):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["family"] == "pixelcnn" and config["model"]["extra"]["layers"] == 1
    rows = read_jsonl(run / "stats.jsonl")
    assert [r["step"] for r in rows] == [2, 4, 6, 6]
    assert all("nll_bpd" in r and "wall_time" in r for r in rows[:3])
    assert rows[0]["nll_bpd"] == pytest.approx(rows[0]["nll"] / math.log(2), rel=1e-5)
    report = json.loads((run / "nll.json").read_text())
    assert rows[3]["event"] == "pixelcnn_eval"
    assert rows[3]["test_nll_bpd"] == report["test_nll_bpd"]
    summary = json.loads((run / "summary.json").read_text())
    assert report["train_wall_time_s"] == summary["wall_time_s"]
    assert report["sample_100_s"] > 0 and report["step"] == 6
    model = load_pretrained(run)
    assert report["test_nll_bpd"] == pytest.approx(evaluate_nll_bpd(model, dataset), abs=1e-4)
    assert 0 < report["test_nll_bpd"] < 8.5
