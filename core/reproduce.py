"""``python -m core.reproduce``: the zoo's command line (train, ship, batch, rescore, relabel,
repack, manifest). What an entry is and how it trains: core/zoo/recipes.py; shipping:
core/zoo/ship.py; many runs at once: core/zoo/batch.py. Errors print as one ``error:`` line
(core/errors.py).

    python -m core.reproduce train tgan-mnist-500 --seeds 0,1,2
    python -m core.reproduce ship tgan-mnist-500 --seeds 0
    python -m core.reproduce batch all --seeds 0,1,2 --jobs 8 --device cuda   # the GPU script
    python -m core.reproduce manifest        # pretrained/MANIFEST.json (sha256 + size per file)
    python -m core.reproduce rescore all     # every shipped seed again, after a judge changed
    python -m core.reproduce relabel all     # report labels again, after a preset changed
    python -m core.reproduce longer <entry> --seeds 0,1,2 --steps 80000   # past the budget,
    python -m core.reproduce plateau <entry> --steps 80000                # beside the zoo
"""

from __future__ import annotations

import argparse
import sys

from core.cli import OneLineParser, parse_seed_list, positive_float, positive_int
from core.errors import report_errors
from core.paths import zoo_runs_root
from core.zoo.batch import ZooError, batch, report_and_manifest, train_entries
from core.zoo.longer import longer, plateau_lines
from core.zoo.recipes import ENTRIES, entry
from core.zoo.rescore import relabel, rescore
from core.zoo.ship import repack, ship, write_manifest

ACTIONS = (
    "train",
    "ship",
    "batch",
    "manifest",
    "repack",
    "rescore",
    "relabel",
    "longer",
    "plateau",
)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m core.reproduce", description="train, ship or batch-run zoo entries"
    )
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("entries", nargs="*", help="entry names, or 'all'")
    parser.add_argument(
        "--jobs", type=positive_int, default=1, help="parallel processes (batch, rescore)"
    )
    parser.add_argument("--n-eval", type=positive_int, default=10000, help="samples scored per run")
    parser.add_argument(
        "--seeds",
        type=parse_seed_list,
        default=[0],
        help="comma-separated training seeds (default 0)",
    )
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    parser.add_argument(
        "--time-limit",
        type=positive_float,
        default=None,
        help="seconds of training (batch); runs still going are stopped, "
        "resumable, and left unscored",
    )
    parser.add_argument(
        "--pack",
        action="store_true",
        help="batch: each entry's seeds train in one process, one packed step for all "
        "(GANs; the GPU's way to fill itself)",
    )
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="batch: train again a seed the zoo already scored whose run is not on this "
        "machine (without it such a seed is skipped, not retrained from scratch)",
    )
    parser.add_argument(
        "--train-only",
        action="store_true",
        help="batch: train, then stop (a GPU call on a travel pack; the same command without "
        "it scores and ships where the full data is)",
    )
    parser.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="longer: train on to this many steps in runs/longer/<steps>/ (the zoo stays as it "
        "is); plateau: read those runs (default: the entry's own budget, from pretrained/)",
    )
    parser.add_argument(
        "--drop-missing",
        action="store_true",
        help="rescore: drop from seeds/ a seed another judge scored whose weights are not on "
        "this machine (without it the rescore refuses and names them)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    names = args.entries
    if args.entries == ["all"]:  # what re-scoring / relabelling / repacking can act on: shipped
        shipped_only = args.action in ("rescore", "relabel", "repack")
        names = sorted(n for n in ENTRIES if not (shipped_only and ENTRIES[n].planned))
    for name in names:
        entry(name)  # every name checked before any work starts
    if not names and args.action != "manifest":
        raise ValueError(f"name the entries to {args.action} (or 'all'); see --help")
    if args.action == "train":
        train_entries(names, args.seeds, args.device)
    elif args.action == "batch":
        batch(
            names,
            args.seeds,
            args.jobs,
            args.device,
            args.n_eval,
            args.time_limit,
            args.pack,
            args.retrain,
            args.train_only,
        )
    elif args.action == "manifest":
        print(write_manifest())
    elif args.action == "rescore":
        failed = rescore(names, args.jobs, args.device, args.n_eval, args.drop_missing)
        report_and_manifest()
        if failed:
            logs = zoo_runs_root() / "logs"
            raise ZooError(f"{len(failed)} job(s) failed: {failed}; logs in {logs}")
    elif args.action == "relabel":
        print(f"{len(relabel(names))} metrics.json relabelled")
        report_and_manifest()
    elif args.action == "longer":
        if args.steps is None:
            raise ValueError("longer: give --steps (the longer budget, e.g. --steps 80000)")
        longer(names, args.seeds, args.steps, args.jobs, args.device, args.n_eval)
    elif args.action == "plateau":
        print("\n".join(plateau_lines(names, args.seeds, args.steps)))
    elif args.action == "repack":
        for name in names:
            print(repack(name))
    else:
        for name in names:
            print(ship(name, args.seeds[0]))
    return 0


def main(argv: list[str] | None = None) -> int:
    # options may come before or after the entries
    args = build_parser().parse_intermixed_args(argv)
    return report_errors(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
