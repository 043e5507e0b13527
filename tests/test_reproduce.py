"""The zoo protocol: every entry is a valid command; a shipped folder gets its card."""

import json

import pytest

from core.__main__ import main
from core.reproduce import ENTRIES, STEPS, entry


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_every_entry_is_a_valid_train_command(name, capsys):
    e = entry(name)
    assert main([*e.train_argv(0), "--dry-run"]) == 0
    resolved = json.loads(capsys.readouterr().out)
    assert resolved["model"]["preset"] == e.model and resolved["train"]["steps"] == e.steps
    for key, value in e.overrides.items():
        assert resolved["model"][key] == value


def test_gans_of_one_dataset_share_the_step_count():
    for e in ENTRIES.values():
        if e.model != "pixelcnn":
            assert e.steps == STEPS[e.dataset], e.name


def test_unknown_entry_names_the_known_ones():
    with pytest.raises(ValueError, match="tgan-mnist-500"):
        entry("tgan-mnist-50")


def test_manifest_lists_every_shipped_file_with_its_hash():
    """pretrained/MANIFEST.json is current (regenerate: python -m core.reproduce manifest)."""
    from core.reproduce import MANIFEST_NAME, ZOO_ROOT, manifest

    shipped = json.loads((ZOO_ROOT / MANIFEST_NAME).read_text())
    assert shipped["files"] == manifest(ZOO_ROOT)
    assert shipped["total_bytes"] == sum(f["bytes"] for f in shipped["files"].values())
    assert shipped["total_bytes"] < 80 * 2**20  # the zoo's size budget
