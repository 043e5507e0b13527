"""What travels to a GPU machine and what comes back (issue 21's big runs).

The device tool sends the checkout's tracked and untracked-not-ignored files plus the paths a
call carries, 64 MiB in all. The zoo's shipped generators and sample sheets alone are over 60
MiB, so the tree cannot travel with them and a data set too; CIFAR-10's arrays (176 MB) cannot
travel at all, so a call carries a travel pack of what its runs read (core/data_pack.py). What
comes back is packed by core/zoo/bundle.py. Hence, for the MNIST / Fashion-MNIST runs:

    python -m core.zoo.travel size --carry data/MNIST data/FashionMNIST
    python -m core.zoo.travel slim                  # zoo weights + sheets out of git's index
    # the call: python3 -m core.reproduce batch ... --device cuda;
    #           python3 -m core.zoo.travel bundle runs/zoo --out "$OUT"
    python -m core.zoo.travel unbundle <the tar files that came back>
    python -m core.zoo.travel restore               # put them back: do this before committing

and for CIFAR-10 ``pack-data cifar10`` first, carrying ``data/cifar10-travel.npz``, with
``batch --train-only`` in the call and ``bundle --compact`` after it (README: "A GPU call").

``slim`` removes the files from the index only (they stay on disk) and lists them in
``.git/info/exclude``; ``restore`` undoes both. A commit made in between would delete the zoo
from ``main``; ``restore`` notices and stages the files again.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from core.atomic import atomic_write_text
from core.cli import OneLineParser, parse_seed_list, positive_int
from core.data import load_split, resolve_data_root, training_set
from core.data_pack import reference_key, spreads_key, train_key, write_pack
from core.errors import UserError, report_errors
from core.evaluate.judges import load_judge
from core.evaluate.scoring import REFERENCE_SEED, real_class_spreads, reference_indices
from core.paths import REPO_ROOT, repo_relative, runs_root
from core.zoo.bundle import MIB, bundle, unbundle
from core.zoo.recipes import CURVE, MODERN_N_TRAIN

TRAVEL_LIMIT = 64 * MIB  # the working tree that travels, carried paths included
# The zoo's heavy files, one folder down (the judges, two down, stay: scoring needs them).
HEAVY = re.compile(r"^pretrained/[^/]+/(model\.safetensors|samples\.png)$")
STATE_NAME = "tgan-travel-slim"  # inside the git dir: the paths slim took out
EXCLUDE_BEGIN = "# tgan travel slim: begin (python -m core.zoo.travel restore removes this)"
EXCLUDE_END = "# tgan travel slim: end"


class TravelError(UserError):
    """The tree cannot travel as asked; the message names the fix."""


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if done.returncode != 0:
        raise TravelError(f"git {' '.join(args[:3])} failed in {repo}: {done.stderr.strip()}")
    return done.stdout


def _git_dir(repo: Path) -> Path:
    return (repo / _git(repo, "rev-parse", "--git-dir").strip()).resolve()


def _zlist(text: str) -> list[str]:
    return [name for name in text.split("\0") if name]


def heavy_files(repo: Path = REPO_ROOT) -> list[str]:
    """The zoo's generators and sample sheets that git tracks (repo-relative, sorted)."""
    return sorted(p for p in _zlist(_git(repo, "ls-files", "-z", "pretrained")) if HEAVY.match(p))


def _bytes_under(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def travelling_bytes(
    repo: Path = REPO_ROOT, carry: tuple[str, ...] = (), slimmed: bool = False
) -> int:
    """Bytes the device tool would send: tracked and untracked-not-ignored files that exist,
    plus each carried path (a file or a folder) not already among them; ``slimmed`` counts the
    tree as ``slim`` would leave it (the zoo's heavy files left out)."""
    names = set(_zlist(_git(repo, "ls-files", "-z", "-co", "--exclude-standard")))
    if slimmed:
        names = {n for n in names if not HEAVY.match(n)}
    total = sum((repo / n).stat().st_size for n in names if (repo / n).is_file())
    for path in carry:
        if not (repo / path).exists():
            raise TravelError(f"--carry {path}: not found under {repo}")
        total += _bytes_under(repo / path) if path not in names else 0
    return total


def is_slim(repo: Path = REPO_ROOT) -> bool:
    return (_git_dir(repo) / STATE_NAME).is_file()


def _without_block(text: str) -> str:
    pattern = re.escape(EXCLUDE_BEGIN) + r".*?" + re.escape(EXCLUDE_END) + r"\n?"
    return re.sub(pattern, "", text, flags=re.DOTALL)


def slim(repo: Path = REPO_ROOT) -> list[str]:
    """Take ``heavy_files`` out of git's index (not off the disk) and ignore them, so the tree
    travels without them. Refused while pretrained/ has changes not committed (they would be
    lost from the index). Returns the paths taken out; a second call takes out none."""
    if is_slim(repo):
        return []
    if _git(repo, "status", "--porcelain", "--", "pretrained").strip():
        raise TravelError(
            "pretrained/ has changes that are not committed; commit them first (slim takes "
            "files out of git's index, and restore puts back the committed ones)"
        )
    paths = heavy_files(repo)
    if not paths:
        raise TravelError(f"git tracks no zoo weights under {repo / 'pretrained'}")
    git_dir = _git_dir(repo)
    # the state first: if what follows breaks, restore still knows what to put back
    atomic_write_text(git_dir / STATE_NAME, "\n".join(paths) + "\n")
    _git(repo, "rm", "-q", "--cached", "--", *paths)
    exclude = git_dir / "info" / "exclude"
    old = exclude.read_text() if exclude.is_file() else ""
    block = "\n".join([EXCLUDE_BEGIN, *(f"/{p}" for p in paths), EXCLUDE_END]) + "\n"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        exclude, _without_block(old).rstrip("\n") + ("\n" if old.strip() else "") + block
    )
    return paths


def restore(repo: Path = REPO_ROOT) -> tuple[list[str], list[str]]:
    """Undo ``slim``: the paths back in the index as HEAD has them, the exclude block gone.
    A path HEAD lacks (a commit was made while slim) is staged from the disk instead.
    Returns (reset from HEAD, staged from disk)."""
    git_dir = _git_dir(repo)
    state = git_dir / STATE_NAME
    if not state.is_file():
        return [], []
    paths = [p for p in state.read_text().splitlines() if p]
    in_head = set(_zlist(_git(repo, "ls-tree", "-r", "-z", "--name-only", "HEAD", "pretrained")))
    from_head = [p for p in paths if p in in_head]
    from_disk = [p for p in paths if p not in in_head and (repo / p).is_file()]
    exclude = git_dir / "info" / "exclude"
    if exclude.is_file():
        atomic_write_text(exclude, _without_block(exclude.read_text()))
    if from_head:
        _git(repo, "reset", "-q", "--", *from_head)
    if from_disk:
        _git(repo, "add", "--", *from_disk)
    state.unlink()
    return from_head, from_disk


def pack_data(
    dataset: str,
    n_train: int,
    seeds: list[int],
    eval_samples: int,
    data_root: str | Path | None = None,
    out: Path | None = None,
) -> Path:
    """Write the data set's travel pack (core/data_pack.py) into ``out`` (default: the data
    root) from its full arrays here: each seed's ``n_train`` subset, the ``eval_samples``
    reference images of the score curve, and the real class spreads under the data set's judge
    (scored on the CPU)."""
    arrays = {}
    for seed in seeds:
        images, labels = training_set(dataset, n_train, seed, data_root)
        arrays[train_key(n_train, seed)] = [images.numpy(), labels.numpy()]
    train_images, _ = load_split(dataset, "train", data_root)
    chosen = train_images[reference_indices(len(train_images), eval_samples)]
    arrays[reference_key(REFERENCE_SEED, eval_samples)] = [chosen.numpy()]
    judge = load_judge(dataset, "cpu")
    spreads, _ = real_class_spreads(judge, dataset, data_root)
    n_test = len(load_split(dataset, "test", data_root)[1])
    values = np.array([np.nan if v is None else v for v in spreads], dtype=np.float64)
    arrays[spreads_key(judge.name)] = [values, np.array(n_test)]
    return write_pack(dataset, out or resolve_data_root(data_root), arrays)


def _size_line(repo: Path, carry: tuple[str, ...]) -> str:
    def verdict(total: int) -> str:
        fits = "fits" if total <= TRAVEL_LIMIT else "is over"
        return f"{total / MIB:.1f} MiB, {fits} the {TRAVEL_LIMIT // MIB} MiB limit"

    what = f"carrying {', '.join(carry)}" if carry else "no carry"
    if is_slim(repo):
        return f"the tree is slim; {what}: {verdict(travelling_bytes(repo, carry))}"
    slimmed = verdict(travelling_bytes(repo, carry, slimmed=True))
    as_is = verdict(travelling_bytes(repo, carry))
    return f"{what}: {as_is} as it is; {slimmed} after python -m core.zoo.travel slim"


def run_travel(args: argparse.Namespace) -> int:
    repo = REPO_ROOT
    if args.action in ("bundle", "unbundle", "pack-data") and not args.paths:
        what = {"bundle": "run folders", "unbundle": "tar files", "pack-data": "data set"}
        raise ValueError(f"{args.action}: name the {what[args.action]}")
    if args.action == "slim":
        paths = slim(repo)
        print(
            f"{len(paths)} zoo files out of git's index (still on disk)"
            if paths
            else "already slim"
        )
        print(_size_line(repo, tuple(args.carry)))
        print("restore before any commit: python -m core.zoo.travel restore")
    elif args.action == "restore":
        from_head, from_disk = restore(repo)
        print(
            f"{len(from_head)} zoo files back in git's index"
            if from_head or from_disk
            else "not slim"
        )
        if from_disk:
            n = len(from_disk)
            print(f"{n} were deleted by a commit made while slim: staged again; commit them")
    elif args.action == "size":
        print(_size_line(repo, tuple(args.carry)))
    elif args.action == "bundle":
        if args.out is None:
            raise ValueError("bundle: give --out (the device's $OUT)")
        mode = "compact" if args.compact else "no-checkpoints" if args.no_checkpoints else "full"
        for path in bundle([Path(s) for s in args.paths], Path(args.out), mode):
            print(f"{path}: {path.stat().st_size / MIB:.1f} MiB")
    elif args.action == "pack-data":
        for dataset in args.paths:
            n_train = args.n_train or MODERN_N_TRAIN.get(dataset)
            if n_train is None:
                raise ValueError(f"pack-data {dataset}: give --n-train")
            path = pack_data(dataset, n_train, args.seeds, args.eval_samples)
            print(f"{repo_relative(path)}: {path.stat().st_size / MIB:.1f} MiB")
    else:
        for run_dir in unbundle([Path(s) for s in args.paths]):
            print(f"unpacked {repo_relative(runs_root() / run_dir)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m core.zoo.travel",
        description="fit the tree to a GPU machine's 64 MiB, and bring its runs back",
    )
    parser.add_argument(
        "action", choices=("size", "slim", "restore", "bundle", "unbundle", "pack-data")
    )
    parser.add_argument(
        "paths", nargs="*", help="bundle: run folders; unbundle: tar files; pack-data: a data set"
    )
    parser.add_argument("--carry", nargs="*", default=[], help="size / slim: paths a call carries")
    parser.add_argument("--out", help="bundle: the folder the tars go to ($OUT on the device)")
    parser.add_argument(
        "--no-checkpoints", action="store_true", help="bundle: leave checkpoint.safetensors out"
    )
    parser.add_argument(
        "--compact",
        action="store_true",
        help="bundle: no checkpoints or sample grids, generators in float16 without D",
    )
    parser.add_argument("--seeds", type=parse_seed_list, default=[0, 1, 2], help="pack-data")
    parser.add_argument(
        "--n-train", type=positive_int, help="pack-data (default: the modern track's)"
    )
    parser.add_argument(
        "--eval-samples", type=positive_int, default=CURVE["eval_samples"], help="pack-data"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_intermixed_args(argv)
    return report_errors(lambda: run_travel(args))


if __name__ == "__main__":
    sys.exit(main())
