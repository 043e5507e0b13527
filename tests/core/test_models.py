"""Contract test over every registered model: shapes, range, heads, determinism, save/load."""

import pytest
import torch

from core.config import ConfigError
from core.evaluate.scoring import model_label
from core.models import GAN_PRESETS, build_model, model_config
from core.paths import PRETRAINED_ROOT
from core.sampling import sample
from core.weights import WEIGHTS_NAME, load_pretrained, read_config, save_pretrained

CASES = [(p, d) for p in GAN_PRESETS for d in ("fake", "fake32")]


@pytest.mark.parametrize("preset,dataset", CASES)
def test_model_contract(preset, dataset, tmp_path):
    cfg = model_config(preset, dataset, width=8)
    model = build_model(cfg, seed=0).eval()
    seeds = [0, 1, 2, 3, 4]
    out = sample(model, seeds, [0, 1, 2, 3, 9])
    c, h, w = cfg.image_shape
    assert out.images.shape == (5, c, h, w)
    assert out.images.min() >= -1 and out.images.max() <= 1
    adv, cls, feats = model.discriminate(out.images)
    assert adv.shape == (5,) and cls.shape == (5, cfg.n_classes) and feats.shape[0] == 5
    # determinism under a seed, and one image per seed whatever the batch around it
    again = sample(model, seeds, [0, 1, 2, 3, 9])
    assert torch.equal(out.images, again.images)
    alone = sample(model, [2], [2])
    assert torch.allclose(alone.images[0], out.images[2], atol=1e-6)
    # a second build from the same seed is the same model
    twin = build_model(cfg, seed=0).eval()
    assert torch.equal(sample(twin, seeds, [0, 1, 2, 3, 9]).images, out.images)
    # save / load round trip is bit-identical
    save_pretrained(model, tmp_path)
    loaded = load_pretrained(tmp_path)
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b), k
    assert torch.equal(sample(loaded, seeds, [0, 1, 2, 3, 9]).images, out.images)
    assert (tmp_path / WEIGHTS_NAME).stat().st_size > 0


def test_shipping_without_the_discriminator_samples_the_same_images(tmp_path):
    """A shipped GAN leaves D out (omit): the file holds no D tensor, loads strictly, and draws
    bit-identical images; a D tensor in such a file, or omitting a non-module, is an error."""
    import json

    from safetensors.torch import load_file, save_file

    from core.weights import WeightsError

    model = build_model(model_config("tgan", "fake32", width=8), seed=0).eval()
    save_pretrained(model, tmp_path, dtype=torch.float16, omit=("discriminator",))
    keys = load_file(tmp_path / WEIGHTS_NAME).keys()
    assert keys and not any(k.startswith("discriminator.") for k in keys)
    assert json.loads((tmp_path / "config.json").read_text())["weights_omit"] == ["discriminator"]
    full = tmp_path / "full"
    save_pretrained(model, full, dtype=torch.float16)
    assert (tmp_path / WEIGHTS_NAME).stat().st_size < (full / WEIGHTS_NAME).stat().st_size
    seeds, labels = [0, 1, 2], [0, 5, 9]
    assert torch.equal(
        sample(load_pretrained(tmp_path), seeds, labels).images,
        sample(load_pretrained(full), seeds, labels).images,
    )
    save_file(load_file(full / WEIGHTS_NAME), tmp_path / WEIGHTS_NAME)  # D back in the file
    with pytest.raises(WeightsError, match="unexpected tensors"):
        load_pretrained(tmp_path)
    with pytest.raises(ValueError, match="may be left out"):
        save_pretrained(model, tmp_path / "x", omit=("critic",))
    with pytest.raises(ValueError, match="may be left out"):  # sampling needs G
        save_pretrained(model, tmp_path / "x", omit=("generator",))
    config = json.loads((full / "config.json").read_text())
    (full / "config.json").write_text(json.dumps({**config, "weights_omit": ["generator"]}))
    with pytest.raises(WeightsError, match="weights_omit"):  # a config cannot drop G silently
        load_pretrained(full)


def test_int8_weights_quarter_the_generator_and_draw_nearly_the_same_images(tmp_path):
    """dtype=int8 (the CIFAR-10 zoo's format): the generator's large kernels are int8 with one
    scale per row, each weight within half a step of its value; the rest stays float16; images
    drawn from the file match the float32 model's to well under one 8-bit grey level on
    average; a file whose scale is missing or of the wrong shape is refused by name."""
    import json

    from safetensors.torch import load_file, save_file

    from core.weights import SCALE_SUFFIX, WeightsError, dequantize_int8, quantize_int8

    model = build_model(model_config("tgan", "fake32", width=64), seed=0).eval()
    save_pretrained(model, tmp_path / "h", dtype=torch.float16, omit=("discriminator",))
    save_pretrained(model, tmp_path / "q", dtype=torch.int8, omit=("discriminator",))
    size = {k: (tmp_path / k / WEIGHTS_NAME).stat().st_size for k in "hq"}
    assert size["q"] < 0.6 * size["h"], size
    assert json.loads((tmp_path / "q" / "config.json").read_text())["weights_dtype"] == "int8"
    stored = load_file(tmp_path / "q" / WEIGHTS_NAME)
    quantised = [k for k, v in stored.items() if v.dtype == torch.int8]
    assert quantised and all(k.startswith("generator.") for k in quantised)
    assert all(stored[k].dtype == torch.float16 for k in stored if k.startswith("prior."))
    loaded = load_pretrained(tmp_path / "q")
    own, back = model.state_dict(), loaded.state_dict()
    for key in quantised:
        step = stored[key + SCALE_SUFFIX].float().view((-1,) + (1,) * (own[key].ndim - 1))
        assert ((back[key] - own[key]).abs() <= 0.5 * step + 1e-6).all(), key
        assert not torch.equal(back[key], own[key]), key  # it was quantised, not copied
    seeds, labels = list(range(32)), [i % 10 for i in range(32)]
    diff = (sample(loaded, seeds, labels).images - sample(model, seeds, labels).images).abs()
    assert diff.mean() < 1 / 255, float(diff.mean())
    zero_row = {"generator.w": torch.cat([torch.zeros(1, 300), torch.randn(1, 300)]).repeat(128, 1)}
    packed = quantize_int8(zero_row)  # no zero scale: 0 / 0 would make the cast undefined
    assert (packed["generator.w" + SCALE_SUFFIX].float() > 0).all()
    back = dequantize_int8(packed, "test")["generator.w"]
    assert torch.isfinite(back).all() and torch.equal(back[::2], torch.zeros(128, 300))
    key = quantised[0]
    save_file(
        {k: v for k, v in stored.items() if k != key + SCALE_SUFFIX}, tmp_path / "q" / WEIGHTS_NAME
    )
    with pytest.raises(WeightsError, match="without their scale"):
        load_pretrained(tmp_path / "q")
    save_file(
        {**stored, key + SCALE_SUFFIX: torch.ones(3, dtype=torch.float16)},
        tmp_path / "q" / WEIGHTS_NAME,
    )
    with pytest.raises(WeightsError, match="one per row"):
        load_pretrained(tmp_path / "q")


def test_conditioning_changes_images_only_for_conditional_models():
    for preset, conditional in (("tgan", True), ("acgan", True), ("dcgan", False)):
        model = build_model(model_config(preset, "fake", width=8), seed=0).eval()
        a = sample(model, [7], [1]).images
        b = sample(model, [7], [6]).images
        assert (not torch.equal(a, b)) == conditional, preset


def test_prior_overrides_reach_the_images():
    model = build_model(model_config("tgan", "fake", width=8), seed=0).eval()
    base = sample(model, [3], [0]).images
    assert not torch.equal(base, sample(model, [3], [0], scale=4.0).images)
    assert not torch.equal(base, sample(model, [3], [0], df=1000.0).images)
    assert (sample(model, [3, 4], [0, 0], component=5).latents.component == 5).all()


def test_presets_follow_the_paper_table():
    t = model_config("tgan", "mnist")
    assert (t.prior, t.df, t.latent_dim, t.n_components, t.conditioning, t.alpha) == (
        "tmix",
        3.0,
        30,
        50,
        "codeword",
        1.0,
    )
    assert t.sigma_reg == pytest.approx(1 / 3)
    c = model_config("tgan", "cifar10")
    assert (c.latent_dim, c.n_components, c.sigma_reg) == (100, 100, 0.05)
    assert model_config("gan", "mnist").net == "mlp"
    assert model_config("deligan", "mnist").prior == "gmm"
    assert model_config("acgan", "mnist").conditioning == "onehot"  # Odena et al.'s input
    # ablations are overrides, not new code
    abl = model_config("tgan", "mnist", conditioning="none", alpha=0.0)
    assert abl.prior == "tmix" and abl.cond_dim == 0
    with pytest.raises(ConfigError, match="unknown model option"):
        model_config("tgan", "mnist", dof=3)
    with pytest.raises(ConfigError, match="unknown model"):
        model_config("vae", "mnist")
    with pytest.raises(ConfigError):
        model_config("tgan", "mnist", df=-1.0)


def test_projection_discriminator_judges_the_image_with_its_label(tmp_path):
    """With d_projection D's real/fake logit is adv(x) + <embed(y), phi(x)>: it changes with
    the label, the class head and features do not, and without labels D judges x alone. The
    embedding is drawn from the model seed (two builds agree) and survives save/load."""
    cfg = model_config("tgan", "fake", width=8, d_projection=True)
    model = build_model(cfg, seed=0).eval()
    images = sample(model, [0, 1, 2], [0, 1, 2]).images
    with torch.no_grad():
        alone, cls0, feats = model.discriminate(images)
        as0, cls_a, _ = model.discriminate(images, torch.tensor([0, 0, 0]))
        as7, cls_b, _ = model.discriminate(images, torch.tensor([7, 7, 7]))
        emb = model.discriminator.projection.weight
        want = alone + (emb[[0, 0, 0]] * feats).sum(1)
    assert torch.allclose(as0, want, atol=1e-6)
    assert not torch.allclose(as0, as7) and torch.equal(cls_a, cls_b) and torch.equal(cls0, cls_a)
    twin = build_model(cfg, seed=0)
    assert torch.equal(twin.discriminator.projection.weight, emb)
    assert not torch.equal(build_model(cfg, seed=1).discriminator.projection.weight, emb)
    assert 0.005 < float(emb.detach().std()) < 0.05  # the DCGAN init, not nn.Embedding's N(0, 1)
    save_pretrained(model, tmp_path)
    loaded = load_pretrained(tmp_path)
    assert torch.equal(loaded.discriminator.projection.weight, emb)
    # a plain model ignores labels entirely
    plain = build_model(model_config("tgan", "fake", width=8), seed=0).eval()
    assert plain.discriminator.projection is None
    with torch.no_grad():
        assert torch.equal(
            plain.discriminate(images)[0], plain.discriminate(images, torch.tensor([0, 1, 2]))[0]
        )
    with pytest.raises(ConfigError, match="d_projection needs a conditioning"):
        model_config("dcgan", "fake", d_projection=True)


def test_embedding_acgan_still_builds_and_loads_as_trained(tmp_path):
    """The acgan preset feeds G a one-hot label now; a folder whose config.json says
    "embedding" (every shipped acgan entry) rebuilds its learned nn.Embedding from that config,
    not from the preset, and samples exactly what it saved."""
    onehot = build_model(model_config("acgan", "fake", width=8), seed=0)
    assert onehot.label_embedding is None and onehot.config.cond_dim == onehot.config.n_classes
    cfg = model_config("acgan", "fake", width=8, conditioning="embedding")
    model = build_model(cfg, seed=0).eval()
    assert model.label_embedding is not None
    images = sample(model, [0, 1, 2, 3], [0, 1, 2, 9]).images
    save_pretrained(model, tmp_path)
    loaded = load_pretrained(tmp_path)
    assert loaded.config == cfg and loaded.label_embedding is not None
    assert torch.equal(loaded.label_embedding.weight, model.label_embedding.weight)
    assert torch.equal(sample(loaded, [0, 1, 2, 3], [0, 1, 2, 9]).images, images)


@pytest.mark.parametrize(
    "entry", ["acgan-mnist-500", "acgan-fashion-500", "acgan-mnist-full", "acgan-fashion-full"]
)
def test_the_retrained_acgan_entries_are_the_papers_one_hot_acgan(entry):
    """The 500-image ACGANs (2026-12-01) and the full-set ones (2026-12-08) were retrained
    with the preset as it is now (one-hot label input): no embedding, and the report label is
    the bare preset (paper track)."""
    folder = PRETRAINED_ROOT / entry
    model = load_pretrained(folder)
    assert model.config.conditioning == "onehot" and model.label_embedding is None
    assert model_label(read_config(folder)["model"]) == "acgan"


@pytest.mark.parametrize("entry", ["acgan-cifar10-2000"])
def test_shipped_acgan_entries_keep_their_embedding(entry):
    """Until they are retrained, the other shipped acgan rows are the embedding ACGANs; the
    report labels a re-score of one as a departure from the (now one-hot) preset."""
    folder = PRETRAINED_ROOT / entry
    model = load_pretrained(folder)
    assert model.config.preset == "acgan" and model.config.conditioning == "embedding"
    assert isinstance(model.label_embedding, torch.nn.Embedding)
    block = read_config(folder)["model"]
    assert model_label(block) == "acgan[conditioning=embedding]"
