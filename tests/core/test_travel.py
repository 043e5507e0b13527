"""core/zoo/travel.py: the tree fits a GPU call once the zoo's heavy files leave git's index,
restore puts them back exactly, and runs come back as tars that unpack to the same bytes."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from core.paths import REPO_ROOT
from core.zoo import bundle as bundling
from core.zoo import travel
from core.zoo.bundle import MIB, BundleError, bundle, plan_bundles, unbundle
from core.zoo.travel import (
    HEAVY,
    TRAVEL_LIMIT,
    TravelError,
    heavy_files,
    is_slim,
    restore,
    slim,
    travelling_bytes,
)

# the raw .gz files of MNIST and Fashion-MNIST (../shared/data/README.md; torchvision's files)
MNIST_FASHION_GZ = 9912422 + 28881 + 1648877 + 4542 + 26421880 + 29515 + 4422102 + 5148


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def write(path: Path, size: int, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(seed).bytes(size))
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repo shaped like the project: two zoo entries, a judge, a card, code."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.org")
    git(root, "config", "user.name", "t")
    write(root / "pretrained/a/model.safetensors", 3000, 1)
    write(root / "pretrained/a/samples.png", 700, 2)
    write(root / "pretrained/b/model.safetensors", 2000, 3)
    write(root / "pretrained/judges/mnist/model.safetensors", 900, 4)
    (root / "pretrained/a/README.md").write_text("card\n")
    (root / "core.py").write_text("x = 1\n")
    (root / ".git/info").mkdir(parents=True, exist_ok=True)
    (root / ".git/info/exclude").write_text("/.whl/\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "zoo")
    return root


def tracked(repo: Path) -> set[str]:
    return set(git(repo, "ls-files").split())


def test_heavy_files_are_the_entries_weights_and_sheets_not_the_judges(repo):
    assert heavy_files(repo) == [
        "pretrained/a/model.safetensors",
        "pretrained/a/samples.png",
        "pretrained/b/model.safetensors",
    ]


def test_slim_leaves_the_heavy_files_on_disk_out_of_the_tree_and_restore_puts_them_back(repo):
    before_bytes, before_files = travelling_bytes(repo), tracked(repo)
    predicted = travelling_bytes(repo, slimmed=True)
    taken = slim(repo)
    assert set(taken) == {p for p in before_files if HEAVY.match(p)}
    assert all((repo / p).is_file() for p in taken)  # only the index changed
    assert tracked(repo) == before_files - set(taken)
    assert "pretrained/judges/mnist/model.safetensors" in tracked(repo)
    # ignored, so they do not travel as untracked files either
    assert travelling_bytes(repo) == predicted == before_bytes - 3000 - 700 - 2000
    assert is_slim(repo) and slim(repo) == []  # a second slim changes nothing

    from_head, from_disk = restore(repo)
    assert sorted(from_head) == sorted(taken) and from_disk == []
    assert git(repo, "status", "--porcelain") == ""
    assert (repo / ".git/info/exclude").read_text() == "/.whl/\n"  # the user's lines kept
    assert tracked(repo) == before_files and travelling_bytes(repo) == before_bytes
    assert not is_slim(repo) and restore(repo) == ([], [])


def test_slim_refuses_while_the_zoo_has_changes_not_committed(repo):
    (repo / "pretrained/a/README.md").write_text("edited\n")
    with pytest.raises(TravelError, match="not committed"):
        slim(repo)
    assert not is_slim(repo) and tracked(repo) >= {"pretrained/a/model.safetensors"}


def test_restore_after_a_commit_made_while_slim_stages_the_zoo_again(repo):
    slim(repo)
    git(repo, "commit", "-q", "-m", "oops: committed while slim")
    assert "pretrained/a/model.safetensors" not in git(repo, "ls-tree", "-r", "HEAD")
    from_head, from_disk = restore(repo)
    assert from_head == [] and len(from_disk) == 3
    git(repo, "commit", "-q", "-m", "the zoo back")
    assert git(repo, "diff", "HEAD~2", "--stat") == ""  # the tree is as before the slip


def make_run(root: Path, name: str, sizes: dict[str, int]) -> Path:
    run = root / "zoo" / name
    (run / "config.json").parent.mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text('{"model": {}}')
    for i, (file, size) in enumerate(sizes.items()):
        write(run / file, size, seed=hash((name, file)) % 1000 + i)
    return run


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_bundles_stay_under_the_limit_and_unpack_to_the_same_bytes(tmp_path):
    runs = tmp_path / "runs"
    for i in range(5):
        make_run(
            runs,
            f"e-s{i}",
            {
                "model.safetensors": 30_000 + 977 * i,
                "checkpoint.safetensors": 50_000,
                "samples/step-1000.png": 4_000,
                "scores.jsonl": 123 * i + 1,
            },
        )
    limit = 200_000
    plan = plan_bundles([runs / "zoo"], runs, max_bytes=limit, max_files=8)
    assert len(plan) >= 2  # the limit forces several tars
    written = bundle([runs / "zoo"], tmp_path / "out", "full", base=runs, max_bytes=limit)
    assert len(written) == len(plan)
    for tar_path, files in zip(written, plan, strict=True):
        assert tar_path.stat().st_size == bundling._tar_bytes([p.stat().st_size for p in files])
    back = tmp_path / "back"
    unpacked = unbundle(written, base=back)
    assert unpacked == [f"zoo/e-s{i}" for i in range(5)]
    assert files_of(back) == files_of(runs)


def test_tar_size_formula_matches_tarfile_for_odd_sizes(tmp_path):
    sizes = [0, 1, 511, 512, 513, 10_239, 10_240, 77_777]
    paths = [write(tmp_path / "in" / f"f{i}", s, i) for i, s in enumerate(sizes)]
    out = tmp_path / "t.tar"
    with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as tar:
        for p in paths:
            tar.add(p, arcname=f"zoo/r/{p.name}")
    assert out.stat().st_size == bundling._tar_bytes(sizes)


def test_a_run_too_big_for_one_tar_travels_file_by_file_and_no_tar_passes_the_limit(tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "big-s0", {"checkpoint.safetensors": 60_000, "model.safetensors": 50_000})
    plan = plan_bundles([runs / "zoo" / "big-s0"], runs, max_bytes=75_000)
    assert len(plan) == 2
    assert all(bundling._tar_bytes([p.stat().st_size for p in b]) <= 75_000 for b in plan)


def test_too_many_tars_or_a_file_too_big_is_refused_before_anything_is_written(tmp_path):
    runs = tmp_path / "runs"
    for i in range(3):
        make_run(runs, f"e-s{i}", {"checkpoint.safetensors": 60_000, "model.safetensors": 5_000})
    with pytest.raises(BundleError, match="--no-checkpoints"):
        plan_bundles([runs / "zoo"], runs, max_bytes=80_000, max_files=2)
    # without the checkpoints the three runs fit one tar
    assert len(plan_bundles([runs / "zoo"], runs, "no-checkpoints", max_bytes=80_000)) == 1
    with pytest.raises(BundleError, match="--no-checkpoints"):  # few files, too many bytes
        plan_bundles([runs / "zoo"], runs, max_bytes=80_000, max_total=150_000)
    with pytest.raises(BundleError, match="cannot come back"):
        plan_bundles([runs / "zoo"], runs, max_bytes=20_000)
    with pytest.raises(BundleError, match="no run folder"):
        plan_bundles([tmp_path], runs)


def test_unbundle_refuses_a_name_that_leaves_the_runs_root(tmp_path):
    evil = tmp_path / "evil.tar"
    payload = write(tmp_path / "payload", 10)
    with tarfile.open(evil, "w") as tar:
        tar.add(payload, arcname="../outside/config.json")
    with pytest.raises(BundleError, match="bundle the runs again"):
        unbundle([evil], base=tmp_path / "runs")
    assert not (tmp_path / "outside").exists()


def test_the_cli_bundles_and_names_missing_paths(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TGAN_RUNS", str(tmp_path / "runs"))
    make_run(tmp_path / "runs", "e-s0", {"model.safetensors": 1000})
    assert travel.main(["bundle", "--out", str(tmp_path / "out")]) == 2
    assert "name the run folders" in capsys.readouterr().err
    assert travel.main(["bundle", str(tmp_path / "runs/zoo"), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o/runs-01.tar").is_file()


def test_this_repo_slimmed_travels_with_mnist_and_fashion_beside_it():
    """The project's own tree, less the zoo's heavy files, leaves room for the two data sets
    a GPU call carries for MNIST / Fashion-MNIST runs (the zoo's growth must keep it so)."""
    slimmed = travelling_bytes(REPO_ROOT, slimmed=True)
    assert slimmed + MNIST_FASHION_GZ <= TRAVEL_LIMIT, f"{slimmed / MIB:.1f} MiB of tree"


def test_a_compact_bundle_brings_back_a_run_that_samples_as_before_without_d(
    tmp_path, tiny_train_config
):
    """--compact: no checkpoint, no sample grids; the generator in float16 without D, which
    config.json records, so the run loads strictly and samples what the run's own weights do
    (to float16's precision)."""
    from core.sampling import sample
    from core.train import train
    from core.weights import load_pretrained

    runs = tmp_path / "runs"
    run = train(tiny_train_config(), runs / "zoo" / "tiny-s0", progress=False)
    written = bundle([runs / "zoo"], tmp_path / "out", "compact", base=runs)
    with tarfile.open(written[0]) as tar:
        names = sorted(m.name for m in tar.getmembers())
    assert "zoo/tiny-s0/model.safetensors" in names and "zoo/tiny-s0/config.json" in names
    assert not any("checkpoint" in n or "/samples/" in n for n in names)
    back = tmp_path / "back"
    assert unbundle(written, base=back) == ["zoo/tiny-s0"]
    config = json.loads((back / "zoo/tiny-s0/config.json").read_text())
    assert config["weights_dtype"] == "float16" and config["weights_omit"] == ["discriminator"]
    assert config["train"] == json.loads((run / "config.json").read_text())["train"]
    size = (back / "zoo/tiny-s0/model.safetensors").stat().st_size
    assert size < 0.5 * (run / "model.safetensors").stat().st_size
    before = sample(load_pretrained(run), [0, 1, 2], [0, 1, 2]).images
    after = sample(load_pretrained(back / "zoo/tiny-s0"), [0, 1, 2], [0, 1, 2]).images
    assert torch.allclose(before, after, atol=2e-2) and not torch.equal(before, after)


def test_the_readmes_travel_commands_parse():
    """Every ``core.zoo.travel`` command the README shows for a GPU call names an action and
    options the command line has (a renamed flag would strand the next GPU session)."""
    import re
    import shlex

    readme = (REPO_ROOT / "README.md").read_text()
    commands = re.findall(r"python3? -m core\.zoo\.travel ([^#;\n]+)", readme)
    assert len(commands) >= 6
    for command in commands:
        args = travel.build_parser().parse_intermixed_args(shlex.split(command.strip(" \\")))
        assert args.action in command
