"""The CLI: ``python -m core train | sample | data | evaluate | report | train-judge | embed |
nll | toy | toy-study`` (core/cli.py lists every option). Unknown options are rejected; user
mistakes print one ``error:`` line naming the fix (exit 2), never a traceback (core/errors.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch

from core.atomic import atomic_write_json, check_write_target
from core.cli import MODEL_OPTIONS, build_parser
from core.config import ConfigError, TrainConfig
from core.data import resolve_data_root
from core.data_prepare import prepare
from core.device import resolve_device
from core.errors import report_errors
from core.evaluate.judge_training import fit_judge, save_judge
from core.evaluate.judges import (
    JUDGE_DATASETS,
    JUDGE_RECIPES,
    inception_judge,
    judge_available,
    judge_dir,
    load_judge,
)
from core.evaluate.report import build_report
from core.evaluate.scoring import DEFAULT_N, evaluate_model, evaluate_real, summary_line
from core.explore.embedding import (
    EMBEDDINGS_DIR,
    MAX_POINTS,
    compute_embeddings,
    save_embeddings,
    weights_sha256,
)
from core.explore.toy import ToyConfig
from core.explore.toy_study import COMMAND, run_study, train_toy, write_outputs
from core.models import model_config
from core.packed import train_packed
from core.paths import confine_run_dir, runs_root, zoo_root
from core.pixelcnn.trainer import rewrite_nll_report
from core.precision import resolve_precision
from core.sampling import parse_seeds, sample, save_grid
from core.train import train
from core.weights import load_pretrained, read_config


def _train_setup(given: dict) -> tuple[TrainConfig, str, dict, bool]:
    """(config, run dir, model overrides, resume) of ``python -m core train``'s options; with
    --resume the run's config.json fills in every option not given."""
    model_keys = {
        flag.lstrip("-").replace("-", "_"): key for flag, (key, _, _) in MODEL_OPTIONS.items()
    }
    overrides = {model_keys[k]: v for k, v in given.items() if k in model_keys}
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    train_values = {k: v for k, v in given.items() if k in train_fields}
    run_dir = given.get("run_dir")
    resume = given.get("resume", False)
    if run_dir:
        confine_run_dir(run_dir)
    if resume:
        if not run_dir:
            raise ValueError("--resume needs --run-dir (the run to continue)")
        config_path = Path(run_dir) / "config.json"
        if config_path.exists():
            saved = read_config(run_dir)
            saved_train = TrainConfig.from_dict(saved.get("train"), str(config_path)).to_dict()
            saved_overrides = saved.get("model_overrides", {})
            if not isinstance(saved_overrides, dict):
                raise ConfigError(f"{config_path}: 'model_overrides' must be a JSON object")
            train_values = {**saved_train, **train_values}
            overrides = {**saved_overrides, **overrides}
    cfg = TrainConfig(**train_values)
    if not run_dir:
        name = f"{cfg.model}-{cfg.dataset}-n{cfg.n_train or 'full'}-s{cfg.seed}"
        run_dir = str(runs_root() / name)
        confine_run_dir(run_dir)
    return cfg, run_dir, overrides, resume


def cmd_train(args: argparse.Namespace) -> int:
    given = vars(args)
    seeds = given.pop("seeds", None)
    if seeds is not None:
        return _train_packed(given, seeds)
    cfg, run_dir, overrides, resume = _train_setup(given)
    if given.get("dry_run"):
        mcfg = model_config(cfg.model, cfg.dataset, **overrides)
        print(
            json.dumps(
                {"run_dir": run_dir, "model": mcfg.to_dict(), "train": cfg.to_dict()},
                indent=2,
                sort_keys=True,
            )
        )
        return 0
    out = train(
        cfg,
        run_dir,
        model_overrides=overrides,
        resume=resume,
        progress=not given.get("no_progress", False),
    )
    print(f"done: {out}")
    return 0


def _train_packed(given: dict, seeds: list[int]) -> int:
    """``train --seeds 0,1,2 --run-dir DIR{seed}``: the seeds' runs in one packed process."""
    template = given.get("run_dir")
    if not template or "{seed}" not in template:
        raise ValueError("--seeds needs --run-dir with {seed} in it, e.g. runs/tgan-s{seed}")
    if "seed" in given:
        raise ValueError("give --seed or --seeds, not both")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds {seeds}: each seed once")
    setups = [
        _train_setup({**given, "seed": s, "run_dir": template.replace("{seed}", str(s))})
        for s in seeds
    ]
    overrides = setups[0][2]
    if any(o != overrides for _, _, o, _ in setups):
        raise ConfigError("the packed runs' saved model options differ; resume each alone")
    if given.get("dry_run"):
        print(json.dumps([{"run_dir": d, "train": c.to_dict()} for c, d, _, _ in setups], indent=2))
        return 0
    out = train_packed(
        [c for c, _, _, _ in setups],
        [d for _, d, _, _ in setups],
        model_overrides=overrides,
        resume=given.get("resume", False),
        progress=not given.get("no_progress", False),
    )
    print("done: " + ", ".join(map(str, out)))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    seeds = parse_seeds(args.seeds)
    labels = None
    if args.labels is not None:
        try:
            labels = [int(x) for x in args.labels.split(",") if x.strip()]
        except ValueError:
            msg = f"--labels {args.labels!r}: expected whole numbers like '0,1,2'"
            raise ValueError(msg) from None
        if len(labels) == 1:
            labels = labels * len(seeds)
    check_write_target(args.out, "--out")
    model = load_pretrained(args.model_dir, device=resolve_device(args.device))
    result = sample(model, seeds, labels, component=args.component, df=args.df, scale=args.scale)
    try:
        path = save_grid(result.images, args.out, nrow=args.nrow)
    except OSError as exc:
        raise ValueError(
            f"--out {args.out}: cannot write it ({exc.strerror or exc}); choose a writable path"
        ) from exc
    print(f"wrote {len(seeds)} samples to {path}")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    opt = lambda v: Path(v) if v else None  # noqa: E731
    lines = prepare(
        args.datasets,
        resolve_data_root(args.data_root),
        opt(args.mnist_from),
        opt(args.fashion_from),
        opt(args.cifar_tarball),
    )
    print("\n".join(lines))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    args.device = str(resolve_device(args.device))  # "auto" (reproduce batch's default) included
    if (args.folder is None) == (args.real is None):
        raise ValueError("give a run / pretrained folder, or --real DATASET (not both)")
    if args.n < 20:
        raise ValueError(f"--n {args.n}: use at least 20 samples (10 splits of 2)")
    if args.folder is not None and not Path(args.folder).is_dir():
        raise ValueError(f"{args.folder}: not a folder (give a run or pretrained/<entry>)")
    if args.out is not None:
        check_write_target(args.out, "--out")
    if args.judge_dir is not None and args.judge != "own":
        raise ValueError("--judge-dir replaces the data set's own judge: drop --judge")
    judge = None
    if args.judge == "inception":
        judge = inception_judge(args.device)
    elif args.judge != "own":
        raise ValueError(f"--judge {args.judge!r}: choose own (the data set's judge) or inception")
    if args.judge_dir is not None:
        judge = _judge_from_dir(
            args.judge_dir, args.real or read_config(args.folder)["model"]["dataset"], args.device
        )
    # another judge's scores never go into the folder: its metrics.json is the shipped judge's
    write = args.judge_dir is None
    if args.real is not None:
        n = None if args.n == DEFAULT_N else args.n
        result = evaluate_real(args.real, n, args.device, judge, write=write)
    else:
        result = evaluate_model(args.folder, args.n, args.device, judge, write=write)
    print(summary_line(result))
    if args.out is not None:
        atomic_write_json(args.out, result)
        print(f"wrote {args.out}")
    return 0


def _judge_from_dir(folder: str, dataset: str, device: str):
    """The judge saved in ``folder`` (sha256-checked like the shipped ones), for ``dataset``."""
    judge = load_judge(dataset, device, root=folder)
    if judge.dataset != dataset:
        raise ValueError(
            f"--judge-dir {folder}: that is a {judge.dataset} judge; the samples are {dataset}"
        )
    return judge


def cmd_train_judge(args: argparse.Namespace) -> int:
    if args.dataset not in JUDGE_DATASETS + ("fake", "fake32"):
        raise ValueError(f"--dataset {args.dataset!r}: choose one of {JUDGE_DATASETS}")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.recipe not in JUDGE_RECIPES:
        raise ValueError(f"--recipe {args.recipe!r}: choose one of {', '.join(JUDGE_RECIPES)}")
    recipe = JUDGE_RECIPES[args.recipe](args.dataset)
    changes = {
        k: getattr(args, k)
        for k in ("epochs", "batch_size", "lr", "seed")
        if getattr(args, k) is not None
    }
    changes["precision"] = resolve_precision(args.precision, "cpu")
    recipe = dataclasses.replace(recipe, **changes)
    out = Path(args.out) if args.out else judge_dir(args.dataset)
    print(f"training the {args.dataset} judge: {recipe}", flush=True)
    net, info = fit_judge(recipe, args.data_root, log=lambda m: print(m, flush=True))
    config = save_judge(net, recipe, info, out, args.data_root)
    print(f"test accuracy {config['test_accuracy']:.4%} (float16 weights); wrote {out}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    roots = [Path(r) for r in (args.roots or [zoo_root(), runs_root()])]
    md_path, csv_path, n_rows = build_report(roots, Path(args.out), Path(args.csv))
    print(f"{n_rows} rows: wrote {md_path} and {csv_path}")
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    if not 2 <= args.n <= MAX_POINTS // 2:  # checked before the model loads
        raise ValueError(f"--n {args.n}: give 2 to {MAX_POINTS // 2} points per prior (at most)")
    folder = Path(args.model_dir)
    model = load_pretrained(folder)
    dataset = model.config.dataset
    features = load_judge(dataset).features if judge_available(dataset) else None
    emb = compute_embeddings(
        model,
        args.n,
        args.seed,
        features,
        weights_sha256(folder),
        progress=lambda f, t: print(f"{f:4.0%} {t}"),
    )
    out = Path(args.out) if args.out else folder.parent / EMBEDDINGS_DIR
    path = save_embeddings(emb, out / f"{folder.name}.npz")
    print(f"wrote {path} ({path.stat().st_size} bytes, features: {emb.feature_space})")
    return 0


def cmd_nll(args: argparse.Namespace) -> int:
    print(json.dumps(rewrite_nll_report(args.run_dir), indent=2))
    return 0


def cmd_toy(args: argparse.Namespace) -> int:
    config = ToyConfig(
        data=args.data, prior=args.prior, df=args.df, seed=args.seed, batch_size=args.batch_size
    )
    result = train_toy(config, args.steps).to_dict()
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "config"}, sort_keys=True))
    else:
        print(
            f"{args.data} {config.label} seed {args.seed}: {result['modes_covered']}/"
            f"{result['n_modes']} modes, high quality {result['high_quality']:.3f}, reverse "
            f"KL {result['reverse_kl']:.3f}, energy distance {result['energy_distance']:.4f} "
            f"({result['steps_per_s']} steps/s)"
        )
    return 0


def cmd_toy_study(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else zoo_root() / "toy"
    rows = run_study(out, args.steps, args.seeds, log=print, train=not args.no_train)
    if not rows:
        raise ValueError(f"no finished runs of {args.steps} steps in {out}: train them first")
    flags = [f"--steps {args.steps}"] * (args.steps != 1500)
    flags += [f"--seeds {args.seeds}"] * (args.seeds != 10)
    print(f"wrote {write_outputs(out, rows, args.steps, args.seeds, ' '.join([COMMAND, *flags]))}")
    return 0


HANDLERS = {
    "train": cmd_train,
    "sample": cmd_sample,
    "data": cmd_data,
    "evaluate": cmd_evaluate,
    "report": cmd_report,
    "train-judge": cmd_train_judge,
    "embed": cmd_embed,
    "nll": cmd_nll,
    "toy": cmd_toy,
    "toy-study": cmd_toy_study,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return report_errors(lambda: HANDLERS[args.command](args))


if __name__ == "__main__":
    sys.exit(main())
