"""The report's collapse check (issue 21): ACGAN's within-class diversity against DCGAN's; the
seed count behind a column that only some of a row's seeds have; how evidence names a row."""

from __future__ import annotations

import json

from core.evaluate import report
from core.evaluate.collapse import collapse_pairs, collapse_section
from core.evaluate.compare_rows import row_name, seed_noise

AUG = "d_projection=True,augment_shift=4,augment_color=True,augment_cutout=0.5"


BASE = {"format_version": 1, "kind": "model", "model_config": {"prior": "gaussian"}}
BASE |= {"train_wall_time_s": 60.0, "n_samples": 1000, "evaluated_at": "2026-01-01T00:00:00Z"}


def result(model, seed, diversity, dataset="mnist", regime="500", steps=5000):
    """One seed's metrics.json (1k samples): IS, FD, and diversity unless None."""
    metrics = {"is1k": {"mean": 5.0, "std": 0.1}, "fd1k": 1.0}
    if diversity is not None:
        metrics["diversity1k"] = {"mean": diversity, "std": 0.05}
    where = {"dataset": dataset, "regime": regime, "steps": steps, "judge": f"judge-{dataset}"}
    who = {"model": model, "preset": model.split("[")[0], "train_seed": seed}
    return {
        **BASE,
        **where,
        **who,
        "source": f"{model}-{steps}-{seed}",
        "_folder": "x",
        "metrics": metrics,
    }


def rows(*results):
    return report.group_rows(list(results))


def test_each_acgan_is_set_against_the_dcgan_of_its_own_track():
    modern_acgan = f"acgan[d_classifies_fakes=False,{AUG}]"
    modern_dcgan = f"dcgan[conditioning=onehot,{AUG}]"
    found = rows(
        result("dcgan", 0, 1.0),
        result("acgan", 0, 0.9),  # paper track: within 30%
        result("acgan[conditioning=embedding]", 0, 0.25),  # study: against the paper DCGAN
        result(modern_dcgan, 0, 0.8, steps=20000),
        result(modern_acgan, 0, 0.5, steps=20000),  # modern: 0.625, collapsed
        result("acgan", 0, 0.9, dataset="fashion"),  # no DCGAN on fashion: no pair
    )
    pairs = {(p["acgan"].model, p["dcgan"].model): p for p in collapse_pairs(found)}
    assert set(pairs) == {
        ("acgan", "dcgan"),
        ("acgan[conditioning=embedding]", "dcgan"),
        (modern_acgan, modern_dcgan),
    }
    assert abs(pairs["acgan", "dcgan"]["ratio"] - 0.9) < 1e-9 and pairs["acgan", "dcgan"]["within"]
    assert not pairs["acgan[conditioning=embedding]", "dcgan"]["within"]
    assert abs(pairs[modern_acgan, modern_dcgan]["ratio"] - 0.625) < 1e-9
    assert not pairs[modern_acgan, modern_dcgan]["within"]
    text = "\n".join(collapse_section(found))
    assert "| modern | mnist | 500 | 20,000 | `x` |" in text and "| 0.62 | **no** |" in text
    assert "| `x` (`acgan[conditioning=embedding]`) |" in text  # a study row says how it departs
    # in the paper track (one budget) a DCGAN of another budget is no partner
    assert collapse_pairs(rows(result("dcgan", 0, 1.0), result("acgan", 0, 0.9, steps=20000))) == []


def test_a_modern_acgan_is_set_against_dcgan_at_dcgans_own_plateau():
    """The modern track trains each entry to its plateau (MNIST's DCGAN to 40,000 steps, its
    ACGAN 20,000): the pair is made across budgets, the longest DCGAN taken, the same budget
    first when there is one, and the table gives both budgets."""
    acgan, dcgan = f"acgan[d_classifies_fakes=False,{AUG}]", f"dcgan[conditioning=onehot,{AUG}]"
    found = rows(
        result(acgan, 0, 0.8, steps=20000),
        result(dcgan, 0, 2.0, steps=10000),
        result(dcgan, 0, 1.0, steps=40000),
    )
    (pair,) = collapse_pairs(found)
    assert pair["dcgan"].steps == 40000 and abs(pair["ratio"] - 0.8) < 1e-9
    assert "| modern | mnist | 500 | 20,000 / 40,000 | `x` |" in "\n".join(collapse_section(found))
    same = rows(result(acgan, 0, 0.8, steps=20000), result(dcgan, 0, 0.4, steps=20000))
    (pair,) = collapse_pairs(same + [r for r in found if r.steps == 40000])
    assert pair["dcgan"].steps == 20000  # the same budget, where there is one


def test_a_column_some_seeds_lack_counts_only_the_seeds_that_have_it(tmp_path):
    """Seeds scored before the diversity column existed: the row's diversity is the one seed
    that has it (its own spread, not member 0's), the table says '1 of 3 seeds', and the seed
    noise of a comparison uses that count."""
    found = rows(result("dcgan", 0, None), result("dcgan", 1, 0.7), result("dcgan", 2, None))
    (row,) = found
    assert row.values["diversity"] == (0.7, 0.05)
    assert row.measured["diversity"] == 1 and row.measured["is"] == 3
    assert seed_noise(row, row, "diversity") is None  # one seed: no seed spread
    assert seed_noise(row, row, "is") is not None
    for i, r in enumerate((result("dcgan", 0, None), result("dcgan", 1, 0.7))):
        (tmp_path / f"e{i}").mkdir()
        (tmp_path / f"e{i}" / "metrics.json").write_text(json.dumps(r))
    md, _, _ = report.build_report([tmp_path], tmp_path / "R.md", tmp_path / "r.csv")
    assert "0.700 ± 0.050 (1 of 2 seeds)" in md.read_text()


def test_evidence_names_a_row_by_its_zoo_entry_when_it_has_one(tmp_path):
    """A row whose seeds all sit in one shipped entry (``<entry>`` and ``<entry>/seeds/s<N>``)
    is named by the entry in claims' evidence; runs outside the zoo, or seeds from two folders
    that are not one entry, keep the model label."""
    label = f"tgan[codeword_mean=onehot,{AUG}]"
    zoo = tmp_path / "tgan-mnist-500-modern"
    (zoo / "seeds" / "s1").mkdir(parents=True)
    (zoo / "entry.json").write_text("{}")
    shipped = [
        {**result(label, 0, 0.8), "_folder": str(zoo)},
        {**result(label, 1, 0.8), "_folder": str(zoo / "seeds" / "s1")},
    ]
    (row,) = rows(*shipped)
    assert row_name(row) == "`tgan-mnist-500-modern` (mnist, 500, 2 seed(s))"
    loose = [{**r, "_folder": str(tmp_path / f"run{i}")} for i, r in enumerate(shipped)]
    assert row_name(rows(*loose)[0]) == f"{label} (mnist, 500, 2 seed(s))"
    (unshipped,) = rows({**shipped[0], "_folder": str(tmp_path / "run0")})
    assert row_name(unshipped).startswith(label)  # one folder, but no entry.json: not an entry


def test_the_ratio_carries_its_standard_error_over_seeds_only_when_both_rows_have_seeds():
    acgan = [result("acgan", s, v) for s, v in enumerate((0.8, 0.9, 1.0))]
    dcgan = [result("dcgan", s, v) for s, v in enumerate((1.0, 1.2))]
    (pair,) = collapse_pairs(rows(*acgan, *dcgan))
    a, sa, d, sd = 0.9, 0.1, 1.1, 0.02**0.5  # means and ddof-1 stds over the seeds
    assert abs(pair["ratio"] - a / d) < 1e-9
    expected = (a / d) * ((sa / a) ** 2 / 3 + (sd / d) ** 2 / 2) ** 0.5
    assert abs(pair["se"] - expected) < 1e-6
    assert f"| {a / d:.2f} ± {expected:.2f} | yes |" in "\n".join(
        collapse_section(rows(*acgan, *dcgan))
    )
    (one,) = collapse_pairs(rows(acgan[0], *dcgan))
    assert one["se"] is None  # a 1-seed row's ± is not a seed spread
