"""``evaluate`` and ``report``: metrics.json is the metric functions applied to the sampling path,
independent of batch size; the report groups seeds with error bars and marks the claims."""

import csv
import io
import json

import numpy as np
import pytest
import torch

from core.evaluate import metrics, report
from core.evaluate import scoring as ev
from core.evaluate.claims import evaluate_claims
from core.evaluate.judge_training import accuracy


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory, tiny_train_config):
    from core.train import train

    cfg = tiny_train_config(sample_every=6, checkpoint_every=6)
    return train(cfg, tmp_path_factory.mktemp("runs") / "tgan-fake", progress=False)


def test_evaluate_model_is_the_metric_functions_on_the_sampling_path(fake_run, fake_judge):
    from core.sampling import sample
    from core.weights import load_pretrained

    result = ev.evaluate_model(fake_run, n=200, judge=fake_judge)
    saved = json.loads((fake_run / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(result))
    assert saved["judge"] == fake_judge.name and saved["judge_sha256"] == fake_judge.sha256
    assert saved["n_samples"] == 200 and saved["regime"] == "200" and saved["model"] == "tgan"
    assert set(saved["metrics"]) == {f"{b}200" for b in report.METRIC_BASES}

    model = load_pretrained(fake_run)
    k = model.config.n_classes
    images = sample(model, list(range(200)), [i % k for i in range(200)]).images
    probs = fake_judge.predict_proba(images)
    m = saved["metrics"]
    assert m["is200"]["mean"] == pytest.approx(metrics.inception_score(probs).mean, rel=1e-9)
    assert m["mis200"]["mean"] == pytest.approx(
        metrics.modified_inception_score(probs).mean, rel=1e-9
    )
    labels = torch.tensor([i % k for i in range(200)])
    assert m["fidelity200"]["per_class"] == metrics.class_fidelity(probs, labels).per_class
    assert m["fd200"] >= 0 and 0 <= m["precision200"] <= 1 and 0 <= m["recall200"] <= 1
    assert m["memorisation200"]["ratio"] > 0
    feats = fake_judge.features(images)
    spreads, _ = ev.real_class_spreads(fake_judge, "fake")
    diversity = metrics.within_class_diversity(feats.double().numpy(), labels, spreads)
    assert m["diversity200"]["per_class"] == pytest.approx(diversity.per_class, rel=1e-6)
    lines = (fake_run / "metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["metrics"] == saved["metrics"]


def test_evaluate_is_independent_of_batch_size(fake_run, fake_judge):
    a = ev.evaluate_model(fake_run, n=120, judge=fake_judge, batch_size=1000, write=False)
    b = ev.evaluate_model(fake_run, n=120, judge=fake_judge, batch_size=17, write=False)
    for key in ("is120", "mis120", "fidelity120"):
        assert a["metrics"][key]["mean"] == pytest.approx(b["metrics"][key]["mean"], rel=1e-6)
    for key in ("fd120", "precision120", "recall120"):
        assert a["metrics"][key] == pytest.approx(b["metrics"][key], rel=1e-6, abs=1e-9)


def test_evaluate_real_reference_row(fake_judge, tmp_path):
    from core.data import load_split

    result = ev.evaluate_real("fake", judge=fake_judge, out=tmp_path)
    images, labels = load_split("fake", "test")
    n = len(labels)
    m = result["metrics"]
    assert result["kind"] == "real" and result["n_samples"] == n
    # the fidelity of real data is the judge's accuracy
    acc = accuracy(fake_judge.net, images, labels)
    assert m[f"fidelity{n}"]["mean"] == pytest.approx(acc)
    assert m[f"memorisation{n}"]["ratio"] == pytest.approx(1.0)
    assert m[f"diversity{n}"]["mean"] == pytest.approx(1.0)  # real data is as varied as itself
    assert (tmp_path / "metrics.json").is_file()


def test_protocol_names_and_labels():
    assert ev.protocol(10_000) == "10k" and ev.protocol(500) == "500" and ev.protocol(2000) == "2k"
    assert ev.regime_of(0, "mnist") == "full" and ev.regime_of(500, "mnist") == "500"
    assert ev.regime_of(60_000, "mnist") == "full"
    from core.models import model_config

    block = model_config("tgan", "mnist").to_dict()
    assert ev.model_label(block) == "tgan"
    assert ev.model_label({**block, "alpha": 0.0}) == "tgan[alpha=0.0]"
    # DiffAugment changes the protocol, so it is part of the label; a seed or step count is not
    assert ev.model_label(block, {"augment_shift": 2, "seed": 1}) == "tgan[augment_shift=2]"
    assert ev.model_label(block, {"augment_shift": 0, "steps": 9}) == "tgan"
    assert ev.model_label({**block, "alpha": 0.0}, {"augment_shift": 1}) == (
        "tgan[alpha=0.0,augment_shift=1]"
    )


def _result(model, dataset, regime, seed, is_mean, mis_mean, wall=None, kind="model", recall=0.4):
    tag = "1k"
    return {
        "format_version": 1,
        "kind": kind,
        "model": model,
        "preset": model.split("[")[0],
        "dataset": dataset,
        "regime": regime,
        "train_seed": seed,
        "steps": 100,
        "train_wall_time_s": wall,
        "judge": f"judge-{dataset}",
        "n_samples": 1000,
        "evaluated_at": "2026-01-01T00:00:00Z",
        "source": f"{model}-{dataset}-{regime}-{seed}",
        "metrics": {
            f"is{tag}": {"mean": is_mean, "std": 0.1, "splits": 10},
            f"mis{tag}": {"mean": mis_mean, "std": 0.2, "per_class": [], "counts": []},
            f"fidelity{tag}": None,
            f"fd{tag}": 1.0,
            f"precision{tag}": 0.5,
            f"recall{tag}": recall,
            f"memorisation{tag}": {"ratio": 1.1},
        },
    }


def _write(root, results):
    for i, r in enumerate(results):
        folder = root / f"entry{i}"
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps(r))


def test_report_groups_seeds_with_error_bars(tmp_path):
    _write(
        tmp_path,
        [
            _result("tgan", "mnist", "500", 0, 8.0, 1.5),
            _result("tgan", "mnist", "500", 1, 9.0, 1.7),
            _result("tgan", "mnist", "500", 2, 9.5, 1.6),
            _result("gan", "mnist", "500", 0, 5.0, 1.2),
            _result("real data (test split)", "mnist", "-", None, 9.9, 1.3, kind="real"),
        ],
    )
    md, csv_path, n_rows = report.build_report([tmp_path], tmp_path / "R.md", tmp_path / "r.csv")
    assert n_rows == 3
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert rows[0]["model"] == "real data (test split)"  # the real row leads its data set
    tgan = next(r for r in rows if r["model"] == "tgan")
    assert tgan["n_seeds"] == "3" and tgan["error_bars"] == "seeds"
    assert float(tgan["is_mean"]) == pytest.approx(np.mean([8.0, 9.0, 9.5]))
    assert float(tgan["is_err"]) == pytest.approx(np.std([8.0, 9.0, 9.5], ddof=1), rel=1e-5)
    gan = next(r for r in rows if r["model"] == "gan")
    assert gan["error_bars"] == "within-run" and float(gan["is_err"]) == pytest.approx(0.1)
    text = md.read_text()
    assert "8.833 ± 0.764" in text and "C1" in text and "C6" in text


def test_report_names_the_entry_each_row_comes_from(tmp_path):
    """A shipped entry, its extra seeds and a run of it under runs/zoo are one entry; two
    recipes are two."""
    folders = {
        "pretrained/tgan-mnist-500-modern": 0,
        "pretrained/tgan-mnist-500-modern/seeds/s1": 1,
        "runs/zoo/tgan-mnist-500-modern-s2": 2,
        "pretrained/gan-mnist-500": 0,
    }
    for folder, seed in folders.items():
        model = "gan" if "gan-mnist" in folder and "tgan" not in folder else "tgan"
        (tmp_path / folder).mkdir(parents=True)
        result = _result(model, "mnist", "500", seed, 8.0 + seed, 1.5)
        (tmp_path / folder / "metrics.json").write_text(json.dumps(result))
    md, csv_path, _ = report.build_report([tmp_path], tmp_path / "R.md", tmp_path / "r.csv")
    rows = {r["model"]: r for r in csv.DictReader(io.StringIO(csv_path.read_text()))}
    assert rows["tgan"]["entry"] == "tgan-mnist-500-modern" and rows["tgan"]["n_seeds"] == "3"
    assert rows["gan"]["entry"] == "gan-mnist-500"
    assert "| `tgan-mnist-500-modern` | tgan |" in md.read_text()


def test_report_keeps_one_result_per_seed(tmp_path):
    old = _result("tgan", "mnist", "500", 0, 3.0, 1.0)
    new = {**_result("tgan", "mnist", "500", 0, 8.0, 1.5), "evaluated_at": "2026-02-01T00:00:00Z"}
    _write(tmp_path, [old, new])
    rows = report.group_rows(report.find_metrics([tmp_path]))
    assert len(rows) == 1 and rows[0].values["is"][0] == 8.0 and len(rows[0].seeds) == 1


def _verdicts(results):
    rows = report.group_rows([{**r, "_folder": "x"} for r in results])
    return {c.id: c.verdict for c in evaluate_claims(rows)}


def test_claims_are_confirmed_refuted_or_not_measured_by_the_numbers():
    base = [
        _result("gan", "mnist", "500", 0, 5.0, 1.2),
        _result("deligan", "mnist", "500", 0, 6.0, 1.3),
        _result("dcgan", "mnist", "full", 0, 8.5, 1.4),
        _result("pixelcnn", "mnist", "full", 0, 4.0, 1.1, wall=3000.0),
    ]
    good = _result("tgan", "mnist", "500", 0, 8.0, 1.5, wall=600.0)
    v = _verdicts(base + [good])
    assert v["C1"] == "confirmed" and v["C2"] == "confirmed"
    assert v["C3"] == v["C4"] == v["C5"] == v["C6"] == "not measured"
    weak = _result("tgan", "mnist", "500", 0, 5.5, 1.25, wall=600.0)  # beats GAN, not DeLiGAN
    v = _verdicts(base + [weak])
    assert v["C2"] == "not confirmed" and v["C1"] == "confirmed"
    slow = _result("tgan", "mnist", "500", 0, 8.0, 1.5, wall=5000.0)
    assert _verdicts(base + [slow])["C1"] == "not confirmed"
    assert _verdicts(base[:1] + [good])["C2"] == "not measured"  # deligan, dcgan missing
    # C5 like for like: tgan vs tgan[prior=gmm]
    gmm = _result("tgan[df=None,prior=gmm]", "mnist", "500", 0, 8.0, 1.4, recall=0.3)
    assert _verdicts([good, gmm])["C5"] == "confirmed"
    gmm_better = _result("tgan[df=None,prior=gmm]", "mnist", "500", 0, 8.0, 1.9, recall=0.3)
    assert _verdicts([good, gmm_better])["C5"] == "not confirmed"


def test_a_claim_with_seeds_on_both_sides_must_clear_the_seed_noise():
    """C5 with 3 seeds each: a recall gap of 0.1 over a seed spread of 0.01 holds; the same
    mean gap over a spread of 0.2 is noise, so the claim is not confirmed."""

    def seeds(model, recalls, mis=1.5):
        return [
            _result(model, "mnist", "500", i, 8.0, mis + 0.01 * i, recall=r)
            for i, r in enumerate(recalls)
        ]

    gmm_model = "tgan[df=None,prior=gmm]"
    tight = seeds("tgan", [0.49, 0.50, 0.51]) + seeds(gmm_model, [0.39, 0.40, 0.41], mis=1.2)
    assert _verdicts(tight)["C5"] == "confirmed"
    loose = seeds("tgan", [0.30, 0.50, 0.70]) + seeds(gmm_model, [0.39, 0.40, 0.41], mis=1.2)
    assert _verdicts(loose)["C5"] == "not confirmed"
    rows = report.group_rows([{**r, "_folder": "x"} for r in loose])
    c5 = next(c for c in evaluate_claims(rows) if c.id == "C5")
    assert any("recall" in e and "within noise" in e for e in c5.evidence)


def test_claim_c4_compares_cifar_models_in_t_gans_own_regime():
    """t-GAN (2,000 images) against the rivals' 2,000-image rows, not their full-set rows."""
    rows = [
        _result("tgan", "cifar10", "2000", 0, 2.0, 1.7),
        _result("dcgan", "cifar10", "2000", 0, 2.0, 1.8),  # the like-for-like rival: better
        _result("dcgan", "cifar10", "full", 0, 2.0, 1.5),  # worse, but another regime
        _result("acgan", "cifar10", "full", 0, 2.0, 1.4),  # only a full row: the fallback
    ]
    assert _verdicts(rows)["C4"] == "not confirmed"
    deligan = _result("deligan", "cifar10", "full", 0, 2.0, 1.3)
    assert _verdicts([rows[0], rows[2], rows[3], deligan])["C4"] == "confirmed"
    assert _verdicts([rows[0], rows[2], rows[3]])["C4"] == "not measured"  # no DeLiGAN


def test_claim_c3_reads_the_loss_curves(tmp_path):
    run = tmp_path / "tgan-fashion"
    run.mkdir()
    lines = [
        {"step": s, "d_adv": 1.39, "g_adv": 1.0 if s < 3000 else 1.4} for s in range(50, 10001, 50)
    ]
    (run / "stats.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    result = {**_result("tgan", "fashion", "500", 0, 7.0, 1.3), "source": str(run)}
    assert _verdicts([result])["C3"] == "confirmed"
    lines = [{**x, "g_adv": 0.69} for x in lines]  # G settles at log 2, not 2 log 2
    (run / "stats.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert _verdicts([result])["C3"] == "not confirmed"


def test_cli_errors_are_one_line(tmp_path, capsys):
    from core.__main__ import main

    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["evaluate"]) == 2
    assert main(["evaluate", "--real", "mnist", "--n", "5"]) == 2
    assert "at least 20" in capsys.readouterr().err
    assert (
        main(
            [
                "report",
                str(tmp_path),
                "--out",
                str(tmp_path / "R.md"),
                "--csv",
                str(tmp_path / "r.csv"),
            ]
        )
        == 0
    )
    assert (tmp_path / "R.md").is_file() and "No metrics.json found" in (
        tmp_path / "R.md"
    ).read_text()


def test_cli_evaluate_resolves_device_auto(tmp_path, monkeypatch):
    """reproduce batch / rescore hand their own --device (default auto) to evaluate."""
    from core.__main__ import main

    seen = {}

    def fake_evaluate(folder, n, device, judge, write=True):
        seen["device"] = device
        return {}

    import core.__main__ as cli

    monkeypatch.setattr(cli, "evaluate_model", fake_evaluate)
    monkeypatch.setattr(cli, "summary_line", lambda result: "")
    assert main(["evaluate", str(tmp_path), "--n", "20", "--device", "auto"]) == 0
    assert seen["device"] == ("cuda" if torch.cuda.is_available() else "cpu")


def test_claim_c4_is_called_in_the_regime_where_the_rivals_are():
    """With t-GAN rows in both regimes, C4 is called where most rivals have their own row (the
    2,000-image set here); the full-set comparison is shown, marked not counted."""
    rows = [
        _result("tgan", "cifar10", "2000", 0, 2.0, 1.9),
        _result("dcgan", "cifar10", "2000", 0, 2.0, 1.8),
        _result("acgan", "cifar10", "2000", 0, 2.0, 1.7),
        _result("deligan", "cifar10", "2000", 0, 2.0, 1.6),
        _result("tgan", "cifar10", "full", 0, 2.0, 1.4),  # worse than the full-set rival
        _result("dcgan", "cifar10", "full", 0, 2.0, 1.5),
    ]
    assert _verdicts(rows)["C4"] == "confirmed"
    grouped = report.group_rows([{**r, "_folder": "x"} for r in rows])
    c4 = next(c for c in evaluate_claims(grouped) if c.id == "C4")
    counted, shown = c4.evidence[:3], c4.evidence[4:]
    assert all("2000" in e and "holds" in e for e in counted)
    assert "not counted" in c4.evidence[3] and "full" in shown[0] and "fails" in shown[0]
    # "the best among the GANs" is not called while a GAN is missing (here the ACGAN)
    assert _verdicts(rows[:2] + rows[3:])["C4"] == "not measured"
    # with the rivals' rows only in the full set, the full-set t-GAN is the one called
    assert _verdicts([rows[0], rows[4], rows[5]])["C4"] == "not confirmed"


def test_evaluate_with_another_judge_leaves_the_folder_alone(
    fake_run, fake_judge_dir, tmp_path, capsys
):
    """--judge-dir scores with a candidate judge (e.g. pretrained/judges/compass/<ds>): the same
    scores as evaluate_model with that judge, --out gets them, the folder's metrics.json (the
    shipped judge's) is untouched; a judge of another data set or beside --judge is refused."""
    import shutil

    from core.__main__ import main
    from core.evaluate.judges import load_judge

    ev.evaluate_model(fake_run, n=40, judge=load_judge("fake", root=fake_judge_dir))
    before = (fake_run / "metrics.json").read_bytes(), (fake_run / "metrics.jsonl").read_bytes()
    other = tmp_path / "candidate"
    shutil.copytree(fake_judge_dir, other)
    out = tmp_path / "scores.json"
    argv = ["evaluate", str(fake_run), "--n", "60", "--judge-dir", str(other), "--out", str(out)]
    assert main(argv) == 0
    after = (fake_run / "metrics.json").read_bytes(), (fake_run / "metrics.jsonl").read_bytes()
    assert after == before
    got = json.loads(out.read_text())
    want = ev.evaluate_model(fake_run, n=60, judge=load_judge("fake", root=other), write=False)
    assert got["n_samples"] == 60 and got["judge_sha256"] == want["judge_sha256"]
    assert got["metrics"] == json.loads(json.dumps(want["metrics"]))

    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "dataset": "mnist"}))
    assert main(argv) == 2
    assert "a mnist judge; the samples are fake" in capsys.readouterr().err
    assert json.loads(out.read_text()) == got  # a refused run writes nothing
    assert main([*argv[:-2], "--judge", "inception"]) == 2
    assert "drop --judge" in capsys.readouterr().err
