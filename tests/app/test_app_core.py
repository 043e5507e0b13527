"""The core modules behind the app's pages: codeword interpolation (+ GIF), latent editing,
embeddings (+ their file), zoo discovery, the results reader and the background training jobs."""

from __future__ import annotations

import io
import math
import time

import numpy as np
import pytest
import torch

from core.explore import embedding, interpolation, latent_edit
from core.models import build_model, model_config
from core.sampling import sample
from core.weights import save_pretrained


@pytest.fixture(scope="module")
def tgan():
    return build_model(model_config("tgan", "fake"), seed=0).eval()


@pytest.fixture(scope="module")
def dcgan():
    return build_model(model_config("dcgan", "fake"), seed=0).eval()


def test_codeword_path_ends_on_the_class_codewords(tgan):
    t, lat = interpolation.codeword_latents(tgan, 2, 7, 5, seed_a=3)
    # Seed A's own sample of class 2 has exactly the first frame's z and codeword.
    ref = sample(tgan, [3], [2]).latents
    torch.testing.assert_close(lat.z[0], ref.z[0])
    torch.testing.assert_close(lat.cond[0], ref.cond[0])
    # The last frame is class 7's mean plus the same noise.
    shift = lat.cond[-1] - lat.cond[0]
    torch.testing.assert_close(shift, torch.full_like(shift, 5.0))
    assert torch.all(lat.z == lat.z[0])  # z' is held fixed when seed_b = seed_a
    assert t[0] == 0 and t[-1] == 1


def test_spherical_and_linear_share_ends_but_not_the_middle(tgan):
    _, lin = interpolation.codeword_latents(tgan, 1, 8, 7, 0, 5, "linear")
    _, sph = interpolation.codeword_latents(tgan, 1, 8, 7, 0, 5, "spherical")
    torch.testing.assert_close(lin.cond[[0, -1]], sph.cond[[0, -1]])
    torch.testing.assert_close(lin.z[[0, -1]], sph.z[[0, -1]])
    assert not torch.allclose(lin.z[3], sph.z[3])


def test_interpolation_images_and_gif(tgan, dcgan):
    from PIL import Image

    result = interpolation.interpolate(tgan, 0, 9, 6)
    assert result.images.shape == (6, 1, 28, 28)
    assert interpolation.strip(result.images).shape[1] > 6 * 28
    gif = interpolation.gif_bytes(result.images, bounce=False)
    img = Image.open(io.BytesIO(gif))
    assert img.format == "GIF" and img.n_frames == 6
    # Unconditional models interpolate z' only.
    assert interpolation.interpolate(dcgan, 0, 0, 4, 0, 1).images.shape[0] == 4
    with pytest.raises(ValueError, match="class_b"):
        interpolation.codeword_latents(tgan, 0, 10, 4)


def test_latent_edit_reproduces_the_seed_and_moves(tgan):
    base = latent_edit.seed_latent(tgan, 11, 4)
    same = latent_edit.decode_deviations(tgan, base, base.deviation[None, :])
    torch.testing.assert_close(same, sample(tgan, [11], [4]).images, atol=1e-5, rtol=1e-5)
    dirs = latent_edit.coordinate_directions(tgan.prior.dim, 4)
    moved = latent_edit.apply_sliders(base.deviation, [2.0, 0, 0, 0], dirs)
    assert moved[0] == pytest.approx(base.deviation[0] + 2.0)
    np.testing.assert_allclose(moved[1:], base.deviation[1:])
    far = latent_edit.decode_deviations(tgan, base, moved[None, :], scale=4.0)
    assert not torch.allclose(far, same)


def test_principal_directions_are_orthonormal(tgan):
    dirs, spread = latent_edit.principal_directions(tgan, 4, n=500)
    np.testing.assert_allclose(dirs @ dirs.T, np.eye(4), atol=1e-8)
    assert np.all(np.diff(spread) <= 1e-12)
    nb = latent_edit.neighbours(np.zeros(tgan.prior.dim), 8, 0.5, seed=1)
    assert nb.shape == (8, tgan.prior.dim)


def test_embeddings_pair_the_priors_and_round_trip(tgan, tmp_path):
    emb = embedding.compute_embeddings(tgan, 40, seed=0)
    assert emb.n_points == 80 and emb.df == 3.0 and emb.feature_space == "pixels"
    np.testing.assert_array_equal(emb.seeds[:40], emb.seeds[40:])
    np.testing.assert_array_equal(emb.component[:40], emb.component[40:])
    for name in ("latent_tsne", "latent_pca", "image_tsne", "image_pca"):
        assert getattr(emb, name).shape == (80, 2)
    path = embedding.save_embeddings(emb, tmp_path / "e" / "x.npz")
    back = embedding.load_embeddings(path)
    np.testing.assert_allclose(back.latent_tsne, emb.latent_tsne, rtol=1e-6)
    assert back.df == emb.df and back.feature_space == "pixels"
    with pytest.raises(ValueError, match="at most"):
        embedding.embed_2d(np.zeros((embedding.MAX_POINTS + 1, 3)), "pca")
    with pytest.raises(ValueError, match="n_per_prior"):
        embedding.compute_embeddings(tgan, embedding.MAX_POINTS)


def test_pca_embedding_matches_numpy_svd():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 6)) * np.arange(1, 7)
    got = embedding.embed_2d(x, "pca")
    xc = x - x.mean(0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    ref = xc @ vt[:2].T
    np.testing.assert_allclose(np.abs(got), np.abs(ref), rtol=1e-8, atol=1e-8)


def test_discover_models_skips_non_models(tmp_path, tgan, dcgan):
    from core.zoo.discover import discover_models

    save_pretrained(dcgan, tmp_path / "dcgan-fake-x")
    save_pretrained(tgan, tmp_path / "tgan-fake-x")
    (tmp_path / "judges" / "mnist").mkdir(parents=True)
    save_pretrained(tgan, tmp_path / "judges")  # even with weights, judges/ is not a model
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("not json")
    (tmp_path / "broken" / "model.safetensors").write_bytes(b"")
    names = [e.name for e in discover_models(tmp_path)]
    assert names == ["tgan-fake-x", "dcgan-fake-x"]  # t-GANs first
    assert discover_models(tmp_path / "missing") == []
    # a featured t-GAN (entry.json from `core.reproduce ship`) becomes the default model
    save_pretrained(tgan, tmp_path / "tgan-fake-y")
    (tmp_path / "tgan-fake-y" / "entry.json").write_text('{"featured": true}')
    (tmp_path / "tgan-fake-x" / "entry.json").write_text('{"featured": "yes"}')  # not a bool
    entries = discover_models(tmp_path)
    assert [e.name for e in entries] == ["tgan-fake-y", "tgan-fake-x", "dcgan-fake-x"]
    assert entries[0].featured and not entries[1].featured


def test_results_reader_wide_long_and_metrics_json(tmp_path):
    from explorer import results_data

    (tmp_path / "results.csv").write_text("model,metric,mean,std\na,is,2.0,0.1\nb,is,3.0,0.2\n")
    table = results_data.metrics_table(tmp_path)
    assert list(table["is"]) == [2.0, 3.0] and list(table["is_std"]) == [0.1, 0.2]
    assert results_data.metric_columns(table) == ["is"]
    (tmp_path / "results.csv").unlink()
    (tmp_path / "m1").mkdir()
    (tmp_path / "m1" / "metrics.json").write_text('{"is10k": {"mean": 4.0, "std": 0.3}, "n": 5}')
    table = results_data.metrics_table(tmp_path)
    assert table.loc[0, "is10k"] == 4.0 and table.loc[0, "is10k_std"] == 0.3
    assert results_data.error_column(table, "is10k") == "is10k_std"
    # verdicts come from the claims.json `python -m core report` writes, not from RESULTS.md
    (tmp_path / "RESULTS.md").write_text("C2 beats DeLiGAN: not confirmed\n")
    assert results_data.claims(tmp_path) == []
    (tmp_path / "claims.json").write_text(
        '{"format_version": 1, "claims": ['
        '{"id": "C2", "text": "beats DeLiGAN", "verdict": "not confirmed", "evidence": []},'
        '{"id": "C5", "text": "diverse", "verdict": "not measured", "evidence": ["no row"]},'
        '{"id": "C6", "text": "broken", "verdict": "maybe", "evidence": []}, 7]}'
    )
    verdicts = {c.id: c.verdict for c in results_data.claims(tmp_path)}
    assert verdicts == {"C2": "not confirmed", "C5": "not measured"}  # malformed rows skipped


def test_training_jobs_cap_one_per_session_and_cancel(tmp_path, monkeypatch):
    from explorer import training_jobs as jobs

    monkeypatch.setenv("TGAN_RUNS", str(tmp_path))
    monkeypatch.setenv(jobs.MAX_RUNS_ENV, "1")
    job = jobs.start("alice", "gan", "fake", 2000)
    try:
        assert jobs.is_running(job)
        with pytest.raises(ValueError, match="already has a run"):
            jobs.start("alice", "gan", "fake", 10)
        with pytest.raises(jobs.BusyError, match="busy"):
            jobs.start("bob", "gan", "fake", 10)
        assert [j.session for j in jobs.running_jobs()] == ["alice"]
    finally:
        assert jobs.cancel("alice", wait_s=10)
    assert not jobs.is_running(jobs.job_for("alice"))
    assert jobs.running_jobs() == []
    with pytest.raises(ValueError, match="session id"):
        jobs.start("../evil", "gan", "fake", 10)
    with pytest.raises(ValueError, match="model"):
        jobs.start("carol", "rm -rf", "fake", 10)


def test_training_job_runs_to_completion(tmp_path, monkeypatch):
    from explorer import training_jobs as jobs

    monkeypatch.setenv("TGAN_RUNS", str(tmp_path))
    job = jobs.start("dora", "gan", "fake", 10)
    deadline = time.monotonic() + 120
    while jobs.is_running(job) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not jobs.is_running(job), jobs.log_tail(job)
    from core.atomic import read_jsonl

    rows = read_jsonl(f"{job.run_dir}/stats.jsonl")
    assert [r["step"] for r in rows] == [10]
    assert math.isfinite(rows[0]["d_adv"])


def test_shipped_embeddings_load_and_match_their_model():
    from core.paths import REPO_ROOT

    shipped = sorted((REPO_ROOT / "pretrained" / "embeddings").glob("*.npz"))
    if not shipped:
        pytest.skip("no precomputed embeddings shipped")
    for path in shipped:
        emb = embedding.load_embeddings(path)
        assert emb.n_points <= embedding.MAX_POINTS and path.stat().st_size < 200_000
        assert np.all(np.isfinite(emb.latent_tsne)) and np.all(np.isfinite(emb.image_tsne))
        folder = REPO_ROOT / "pretrained" / path.stem
        if (folder / "model.safetensors").is_file():
            assert emb.weights_sha256 == embedding.weights_sha256(folder), (
                f"{path} was made from other weights: python -m core embed {folder}"
            )


def test_a_busy_server_keeps_a_line_and_starts_the_first_in_turn(tmp_path, monkeypatch):
    from explorer import training_jobs as jobs

    monkeypatch.setenv("TGAN_RUNS", str(tmp_path))
    monkeypatch.setenv(jobs.MAX_RUNS_ENV, "0")  # every slot busy
    with pytest.raises(jobs.BusyError, match="join the line"):
        jobs.start("bob", "gan", "fake", 2000)
    assert jobs.enqueue("bob", "gan", "fake", 2000) == 1
    assert jobs.enqueue("carl", "gan", "fake", 10) == 2
    assert jobs.enqueue("bob", "gan", "fake", 2000) == 1  # asking again keeps the place
    assert jobs.start_when_my_turn("carl") == 2 and jobs.start_when_my_turn("zed") is None

    monkeypatch.setenv(jobs.MAX_RUNS_ENV, "1")  # a slot frees up
    with pytest.raises(jobs.BusyError, match="waiting"):
        jobs.start("dan", "gan", "fake", 10)  # a newcomer cannot jump the line
    assert jobs.start_when_my_turn("carl") == 2  # not first: still waits
    job = jobs.start_when_my_turn("bob")
    try:
        assert isinstance(job, jobs.Job) and jobs.is_running(job)
        assert jobs.queue_place("bob") is None and jobs.queue_place("carl") == 1
        assert jobs.start_when_my_turn("carl") == 1  # first now, but the one slot is taken
    finally:
        assert jobs.cancel("bob", wait_s=10)
    jobs.leave_queue("carl")
    assert jobs.queue_place("carl") is None

    jobs.enqueue("erin", "gan", "fake", 10)
    monkeypatch.setattr(jobs, "QUEUE_STALE_S", -1.0)  # erin's page stopped asking
    assert jobs.queue_place("erin") is None
    (jobs.jobs_dir() / jobs.QUEUE_NAME).write_text("{not json")
    assert jobs.queue_place("erin") is None  # a torn line file is an empty line
