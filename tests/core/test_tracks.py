"""The race's tracks (issue 21): which recipe a row is in, the report's steps / track columns,
claim C5m called within the modern track, the score-curve section with its flatness, and
``reproduce batch`` shipping every seed's curve."""

from __future__ import annotations

import csv
import io
import json

import pytest

from core.evaluate import report
from core.evaluate.claims import evaluate_claims
from core.evaluate.curve import mean_curve, tail_drift
from core.evaluate.tracks import recipe_without_prior, track_of
from core.zoo.recipes import ENTRIES, MODERN_STEPS, entry

MODERN = (
    "codeword_mean=onehot,d_classifies_fakes=False,d_projection=True,"
    "augment_shift=4,augment_color=True,augment_cutout=0.5"
)


def modern(prior: str | None = None, preset: str = "tgan") -> str:
    swapped = f"prior={prior}," if prior else ""
    return f"{preset}[{swapped}{MODERN}]"


@pytest.mark.parametrize(
    ("label", "track"),
    [
        ("tgan", "paper"),
        ("acgan", "paper"),
        ("tgan[prior=gmm]", "paper"),  # the paper's one-setting ablations
        ("tgan[df=None,prior=gmm]", "paper"),  # an older label: df=None changes nothing
        ("tgan[alpha=0.0]", "paper"),
        ("tgan[prior=gmm,alpha=0.0]", "study"),  # two changes: not the paper's ablation
        ("dcgan[prior=gmm]", "study"),
        ("acgan[conditioning=embedding]", "study"),  # the collapsed label-embedding ACGAN
        ("tgan[codeword_mean=onehot,augment_shift=2]", "study"),  # a step towards modern
        (modern(), "modern"),
        (modern("gaussian"), "modern"),
        (modern("gmm") + "", "modern"),
        (modern().replace(",augment_cutout=0.5", ""), "study"),  # not the whole DiffAugment
        (modern().replace("]", ",alpha=0.0]"), "study"),  # only the prior may differ
        (modern().replace("]", ",df=10.0]"), "modern"),  # v is the prior's own setting
    ],
)
def test_track_of_a_label(label, track):
    assert track_of(label) == track


def test_twins_share_the_recipe_without_the_prior():
    assert recipe_without_prior(modern("gaussian")) == recipe_without_prior(modern())
    assert recipe_without_prior(modern()) != recipe_without_prior("tgan[codeword_mean=onehot]")


def result(model, prior, seed, mis, recall, steps=20000, dataset="mnist", regime="500"):
    return {
        "format_version": 1,
        "kind": "model",
        "model": model,
        "preset": model.split("[")[0],
        "model_config": {"prior": prior},
        "dataset": dataset,
        "regime": regime,
        "train_seed": seed,
        "steps": steps,
        "train_wall_time_s": 60.0,
        "judge": f"judge-{dataset}",
        "n_samples": 1000,
        "evaluated_at": "2026-01-01T00:00:00Z",
        "source": f"{model}-{steps}-{seed}",
        "_folder": "x",
        "metrics": {
            "is1k": {"mean": 9.0, "std": 0.1},
            "mis1k": {"mean": mis, "std": 0.01},
            "fd1k": 1.0,
            "recall1k": recall,
            "diversity1k": {"mean": 0.9, "std": 0.05},
        },
    }


def verdict(results, claim="C5m"):
    c = next(c for c in evaluate_claims(report.group_rows(results)) if c.id == claim)
    return c.verdict, c.evidence


def seeds(model, prior, mis, recall, steps=20000):
    return [result(model, prior, s, mis + 0.01 * s, recall + 0.01 * s, steps) for s in range(2)]


def test_report_keeps_step_budgets_apart_and_names_each_rows_track(tmp_path):
    """A recipe trained for 5,000 and for 20,000 steps is two rows, never one row of 2 seeds."""
    short = result(modern(), "tmix", 0, 1.10, 0.30, steps=5000)
    long = result(modern(), "tmix", 0, 1.20, 0.35, steps=20000)
    paper = result("tgan", "tmix", 0, 1.0, 0.2, steps=5000)
    for i, r in enumerate((short, long, paper)):
        (tmp_path / f"e{i}").mkdir()
        (tmp_path / f"e{i}" / "metrics.json").write_text(json.dumps(r))
    md, csv_path, n_rows = report.build_report([tmp_path], tmp_path / "R.md", tmp_path / "r.csv")
    assert n_rows == 3
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert [(r["track"], r["steps"], r["n_seeds"]) for r in rows] == [
        ("paper", "5000", "1"),
        ("modern", "5000", "1"),
        ("modern", "20000", "1"),
    ]
    assert "| mnist | modern | " in md.read_text() and "| 20,000 |" in md.read_text()


def test_c5m_is_called_within_the_modern_track():
    t = seeds(modern(), "tmix", 1.30, 0.40)
    gmm = seeds(modern("gmm"), "gmm", 1.10, 0.30)
    gauss = seeds(modern("gaussian"), "gaussian", 1.05, 0.28)
    assert verdict(t + gmm + gauss)[0] == "confirmed"
    # the single Gaussian twin wins on recall: not confirmed
    assert verdict(t + gmm + seeds(modern("gaussian"), "gaussian", 1.0, 0.6))[0] == (
        "not confirmed"
    )
    # twins trained for other budgets are no twins; paper-track rows never count
    assert verdict(t + seeds(modern("gmm"), "gmm", 1.1, 0.3, steps=5000))[0] == "not measured"
    paper = seeds("tgan", "tmix", 1.3, 0.4) + seeds("tgan[prior=gmm]", "gmm", 1.1, 0.3)
    state, evidence = verdict(paper)
    assert state == "not measured" and any("tgan-mnist-500-modern" in e for e in evidence)
    # ... while C5 (paper track) reads exactly those rows and not the modern ones
    assert verdict(paper, "C5")[0] == "confirmed"
    assert verdict(t + gmm, "C5")[0] == "not measured"


def curve(fds, n=2000, every=1000):
    tag = f"{n // 1000}k"
    return [
        {"step": every * (i + 1), "n_samples": n, f"fd{tag}": v, f"fidelity{tag}": 0.9}
        for i, v in enumerate(fds)
    ]


def test_tail_drift_measures_the_last_quarter_of_the_steps():
    falling = tail_drift(curve([8, 6, 5, 4, 3, 2.5, 2.0, 1.6]))
    assert falling["from_step"] == 6000 and falling["points"] == 3 and not falling["flat"]
    # the line falls 0.45 per 1,000 steps: -0.9 over the window, whose mean FD is 6.1 / 3
    assert falling["drift"] == pytest.approx(-0.9 / (6.1 / 3), rel=1e-6)
    flat = tail_drift(curve([8, 4, 2, 1.02, 0.98, 1.01, 0.99, 1.0]))
    assert (
        flat["flat"] and abs(flat["drift"]) < 0.02 and flat["spread"] == pytest.approx(0.02)
    )  # 1.01 - 0.99
    assert tail_drift(curve([5, 4])) is None  # too few points in the window
    with pytest.raises(ValueError, match="share"):
        tail_drift(curve([1, 1, 1]), share=0)


def _jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_report_tabulates_and_draws_every_seeds_curve(tmp_path):
    zoo = tmp_path / "pretrained"
    entry = zoo / "tgan-mnist-500-modern"
    _jsonl(entry / "scores.jsonl", curve([8, 4, 2, 1.02, 0.98, 1.01, 0.99, 1.0]))  # seed 0
    (entry / "entry.json").write_text(json.dumps({"entry": entry.name, "seed": 0}))
    _jsonl(entry / "seeds" / "s1" / "scores.jsonl", curve([8, 6, 5, 4, 3, 2.5, 2.0, 1.6]))
    md, _, _ = report.build_report([zoo], zoo / "RESULTS.md", zoo / "results.csv")
    text = md.read_text()
    assert "## Score curves: trained to the plateau?" in text
    assert "| tgan-mnist-500-modern | 0 | 8 (1000-8000) | 8 -> 1 |" in text
    assert "| tgan-mnist-500-modern | 1 |" in text and "| **no** |" in text
    png = zoo / "curves-mnist.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "(curves-mnist.png)" in text


def test_the_seed_mean_curve_averages_the_shared_steps_and_is_tabulated(tmp_path):
    """Two seeds drifting opposite ways, each not flat, average to a flat entry; a step only
    one seed has is left out of the mean."""
    up = curve([3, 2, 1.0, 0.9, 1.0, 1.1, 1.2, 1.3])
    down = curve([3, 2, 1.4, 1.3, 1.2, 1.1, 1.0, 0.9]) + curve([9] * 9)[8:]  # a 9th step
    mean = mean_curve([up, down])
    assert [r["step"] for r in mean] == list(range(1000, 9000, 1000))
    assert mean[-1]["fd2k"] == pytest.approx(1.1) and mean[2]["fd2k"] == pytest.approx(1.2)
    assert not tail_drift(up)["flat"] and not tail_drift(down)["flat"]
    assert tail_drift(mean)["flat"] and abs(tail_drift(mean)["drift"]) < 1e-9
    assert mean_curve([]) == [] and mean_curve([[{"step": 1}]]) == []
    zoo = tmp_path / "pretrained"
    entry = zoo / "tgan-mnist-500-modern"
    _jsonl(entry / "seeds" / "s0" / "scores.jsonl", up)
    _jsonl(entry / "seeds" / "s1" / "scores.jsonl", down)
    md, _, _ = report.build_report([zoo], zoo / "RESULTS.md", zoo / "results.csv")
    line = next(x for x in md.read_text().splitlines() if "**mean of 2**" in x)
    assert line.startswith("| tgan-mnist-500-modern | **mean of 2** | 8 (1000-8000) | 3 -> 1.1 |")
    assert "| +0.0% |" in line and "| yes |" in line
    assert line.endswith("| yes | - | - | - |")  # 8 points: too few to cut at half the steps


def test_batch_ships_every_seeds_curve(tmp_path, monkeypatch):
    """``reproduce batch`` copies each finished seed's scores.jsonl beside its metrics."""
    from core.zoo import batch

    monkeypatch.setenv("TGAN_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("TGAN_PRETRAINED", str(tmp_path / "pretrained"))
    name = "tgan-mnist-500-modern"
    runs = {}
    for seed in (0, 1):
        run = tmp_path / "runs" / "zoo" / f"{name}-s{seed}"
        _jsonl(run / "scores.jsonl", curve([3.0 - seed, 2.0, 1.0]))
        (run / "summary.json").write_text(json.dumps({"steps": entry(name).steps}))
        (run / "metrics.json").write_text(json.dumps({"seed": seed}))
        runs[seed] = run
    shipped = []
    monkeypatch.setattr(batch, "ship", lambda n, s: shipped.append((n, s)) or tmp_path / "dest")
    monkeypatch.setattr(batch, "report_and_manifest", lambda: None)
    batch.batch([name], [0, 1], jobs=1, device="cpu", n_eval=20)
    assert shipped == [(name, 0)]
    for seed, run in runs.items():
        copied = tmp_path / "dest" / "seeds" / f"s{seed}"
        assert (copied / "scores.jsonl").read_text() == (run / "scores.jsonl").read_text()
        assert json.loads((copied / "metrics.json").read_text()) == {"seed": seed}


def test_batch_adding_a_later_seed_keeps_the_shipped_seeds_weights(tmp_path, monkeypatch):
    """Seed 1 is shipped and its run is gone (a fresh clone); ``batch --seeds 2`` adds seed 2's
    scores beside it and ships nothing, so the app's model does not change seed. A lower seed
    than the shipped one does replace it."""
    from core.zoo import batch

    monkeypatch.setenv("TGAN_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("TGAN_PRETRAINED", str(tmp_path / "pretrained"))
    name = "tgan-mnist-500-modern"
    dest = tmp_path / "pretrained" / name
    dest.mkdir(parents=True)
    (dest / "model.safetensors").write_bytes(b"seed 1")
    (dest / "entry.json").write_text(json.dumps({"entry": name, "seed": 1}))
    for seed in (0, 2):
        run = tmp_path / "runs" / "zoo" / f"{name}-s{seed}"
        _jsonl(run / "scores.jsonl", curve([2.0, 1.0]))
        (run / "summary.json").write_text(json.dumps({"steps": entry(name).steps}))
        (run / "metrics.json").write_text(json.dumps({"seed": seed}))
    shipped = []
    monkeypatch.setattr(batch, "ship", lambda n, s: shipped.append((n, s)) or dest)
    monkeypatch.setattr(batch, "report_and_manifest", lambda: None)
    batch.batch([name], [2], jobs=1, device="cpu", n_eval=20)
    assert shipped == []
    assert json.loads((dest / "seeds" / "s2" / "metrics.json").read_text()) == {"seed": 2}
    assert (dest / "model.safetensors").read_bytes() == b"seed 1"
    batch.batch([name], [0, 2], jobs=1, device="cpu", n_eval=20)
    assert shipped == [(name, 0)]


@pytest.mark.parametrize("pack", [False, True])
def test_batch_does_not_retrain_a_seed_the_zoo_holds_unless_told(tmp_path, monkeypatch, pack):
    """On a fresh clone the zoo holds seeds 0 and 1 (scores, no runs here): ``batch --seeds
    0,1,2`` trains seed 2 only, and seed 0 too once its run is on this machine (to resume);
    ``retrain=True`` trains all three."""
    from core.zoo import batch

    monkeypatch.setenv("TGAN_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("TGAN_PRETRAINED", str(tmp_path / "pretrained"))
    name = "tgan-mnist-500-modern"
    dest = tmp_path / "pretrained" / name
    for seed in (0, 1):
        (dest / "seeds" / f"s{seed}").mkdir(parents=True)
        (dest / "seeds" / f"s{seed}" / "metrics.json").write_text("{}")
    (dest / "metrics.json").write_text("{}")
    (dest / "entry.json").write_text(json.dumps({"entry": name, "seed": 0}))
    trained = []

    def fake_pool(commands, jobs, time_limit=None):
        trained.extend(label for label, _, _ in commands if label.startswith("train"))
        return [], []

    monkeypatch.setattr(batch, "run_pool", fake_pool)
    monkeypatch.setattr(batch, "report_and_manifest", lambda: None)
    assert batch.zoo_seeds(name) == {0, 1}
    batch.batch([name], [0, 1, 2], jobs=1, device="cpu", n_eval=20, pack=pack)
    assert trained == [f"train {name} s2"]
    trained.clear()
    (tmp_path / "runs" / "zoo" / f"{name}-s0").mkdir(parents=True)
    batch.batch([name], [0, 1, 2], jobs=1, device="cpu", n_eval=20, pack=pack)
    assert trained == (
        [f"train {name} s0-2 (packed)"] if pack else [f"train {name} s{s}" for s in (0, 2)]
    )
    trained.clear()
    batch.batch([name], [0, 1, 2], jobs=1, device="cpu", n_eval=20, pack=pack, retrain=True)
    want = [f"train {name} s0-1-2 (packed)"] if pack else [f"train {name} s{s}" for s in (0, 1, 2)]
    assert trained == want


def test_relabel_moves_the_label_embedding_acgan_out_of_the_paper_track(tmp_path, monkeypatch):
    """The shipped ACGANs were scored when the preset was a label embedding, so their label
    says plain ``acgan`` (paper track). ``relabel`` re-derives it from the recorded config:
    ``acgan[conditioning=embedding]`` (study track), every seed's file, scores untouched."""
    from core.models import model_config
    from core.zoo import rescore

    monkeypatch.setenv("TGAN_PRETRAINED", str(tmp_path))
    dest = tmp_path / "acgan-mnist-500"
    cfg = model_config("acgan", "mnist", conditioning="embedding").to_dict()
    (dest / "seeds" / "s1").mkdir(parents=True)
    (dest / "config.json").write_text(json.dumps({"model": cfg, "train": {"augment_shift": 0}}))
    (dest / "model.safetensors").write_bytes(b"weights")
    old = json.loads(json.dumps({**result("acgan", "gaussian", 0, 1.2, 0.3), "model_config": cfg}))
    for path in (dest / "metrics.json", dest / "seeds" / "s1" / "metrics.json"):
        path.write_text(json.dumps(old))
    written = []
    monkeypatch.setattr(rescore, "write_card", lambda d: written.append(d))
    changed = rescore.relabel(["acgan-mnist-500"])
    assert len(changed) == 2 and written == [dest]
    for path in changed:
        new = json.loads(path.read_text())
        assert new["model"] == "acgan[conditioning=embedding]"
        assert {k: v for k, v in new.items() if k != "model"} == {
            k: v for k, v in old.items() if k != "model"
        }
        assert track_of(new["model"]) == "study"
    assert rescore.relabel(["acgan-mnist-500"]) == []  # nothing left to change


def test_the_modern_twins_differ_only_in_the_prior_and_are_in_the_modern_track():
    from core.evaluate.scoring import model_label
    from core.evaluate.tracks import track_of
    from core.models import model_config

    for dataset in MODERN_STEPS:
        twins = {
            e.tag: e
            for e in ENTRIES.values()
            if e.model == "tgan" and e.dataset == dataset and "modern" in e.tag
        }
        assert sorted(twins) == ["modern", "modern-gaussian", "modern-gmm"]
        t = twins["modern"]
        for tag, e in twins.items():
            assert {k: v for k, v in e.overrides.items() if k != "prior"} == t.overrides, tag
            assert (e.model, e.n_train, e.steps, e.train_options) == (
                t.model,
                t.n_train,
                t.steps,
                t.train_options,
            )
            cfg = model_config(e.model, dataset, **e.overrides)
            assert cfg.prior == {"modern": "tmix"}.get(tag, tag.split("-")[-1])
            assert track_of(model_label(cfg.to_dict(), e.train_options)) == "modern", tag


def test_every_gan_rival_has_a_modern_track_entry_with_the_one_recipe():
    """Issue 21: each GAN on MNIST-500, Fashion-500 and CIFAR-10 (2,000 images) in the modern
    track, the same DiffAugment policy and curve as the t-GAN and at least the data set's
    minimum budget (each trains to its own plateau: PLATEAU_STEPS); planned until trained and
    shipped."""
    from core.evaluate.scoring import model_label
    from core.evaluate.tracks import track_of
    from core.models import GAN_PRESETS, model_config

    for dataset, n in (("mnist", 500), ("fashion", 500), ("cifar10", 2000)):
        t = entry(f"tgan-{dataset}-{n}-modern")
        for preset in GAN_PRESETS:
            e = entry(f"{preset}-{dataset}-{n}-modern")
            assert e.train_options == t.train_options, e.name
            assert e.steps >= MODERN_STEPS[dataset] and e.steps % MODERN_STEPS[dataset] == 0
            cfg = model_config(e.model, dataset, **e.overrides)
            assert cfg.d_projection and cfg.conditioning in ("onehot", "codeword"), e.name
            assert not (cfg.alpha > 0 and cfg.d_classifies_fakes), e.name  # C: real images only
            assert track_of(model_label(cfg.to_dict(), e.train_options)) == "modern", e.name


def test_batch_train_only_trains_and_stops_before_scoring_shipping_and_the_report(
    tmp_path, monkeypatch
):
    """A GPU call on a travel pack has no data to score with: ``train_only`` runs the training
    jobs and nothing after them, even for runs that finished (the same command without it
    scores and ships them where the full data is)."""
    from core.zoo import batch
    from core.zoo.recipes import entry

    monkeypatch.setenv("TGAN_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("TGAN_PRETRAINED", str(tmp_path / "pretrained"))
    name = "tgan-cifar10-2000-modern"
    labels, reported = [], []

    def fake_pool(commands, jobs, time_limit=None):
        for label, _, _ in commands:
            labels.append(label)
            run = entry(name).run_dir(int(label.rsplit("s", 1)[1]))
            run.mkdir(parents=True, exist_ok=True)  # the run finishes
            (run / "summary.json").write_text(json.dumps({"steps": entry(name).steps}))
            (run / "model.safetensors").write_bytes(b"weights")
        return [], []

    monkeypatch.setattr(batch, "run_pool", fake_pool)
    monkeypatch.setattr(batch, "report_and_manifest", lambda: reported.append(1))
    batch.batch([name], [0, 1], jobs=2, device="cpu", n_eval=20, train_only=True)
    assert labels == [f"train {name} s0", f"train {name} s1"]
    assert reported == [] and not (tmp_path / "pretrained").exists()
