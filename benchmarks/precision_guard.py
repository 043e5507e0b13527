"""Quality guard of --precision bf16: does a bf16 run train as well as float32?

    python benchmarks/precision_guard.py [--runs runs/precision-guard] [--out FILE]

The float32 side is the zoo entry's own 3 seeds (pretrained/<entry>/seeds/s*/metrics.json,
trained and scored by the project's commands). The bf16 side is the same recipe trained with
``--precision bf16`` (one run per seed, commands in BF16_TRAIN / EVALUATE below) and scored with
``python -m core evaluate``. For FD and fidelity it checks
|mean_bf16 - mean_fp32| <= 2 * sqrt(sd_bf16^2 / n_bf16 + sd_fp32^2 / n_fp32) (two standard errors
of the difference; sd over seeds) and writes every per-seed score, the means, sds, the verdict,
the commands, the hardware and the wall times to ``--out`` (JSON). Fewer than 3 scored bf16
seeds give the verdict "incomplete".
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a plain script

from core.atomic import atomic_write_json  # noqa: E402

ENTRY = "tgan-mnist-500-onehot-diffaug-realc-proj"
METRICS = ("fd10k", "fidelity10k")
BF16_TRAIN = (
    "OMP_NUM_THREADS=1 python -m core train --model tgan --dataset mnist --n-train 500 "
    "--steps 5000 --seed {seed} --device cpu --run-dir {run} --no-progress --codeword-mean onehot "
    "--d-classifies-fakes False --d-projection True --augment-shift 4 --augment-color True "
    "--augment-cutout 0.5 --precision bf16"
)
EVALUATE = "python -m core evaluate {run} --threads 1"


def _value(metrics: dict, key: str) -> float:
    value = metrics["metrics"][key]
    return float(value["mean"] if isinstance(value, dict) else value)


def _side(paths: list[Path]) -> dict:
    seeds = {}
    for path in paths:
        data = json.loads(path.read_text())
        summary_path = path.parent / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        seeds[str(data.get("train_seed"))] = {
            **{k: _value(data, k) for k in METRICS},
            "train_wall_time_s": data.get("train_wall_time_s"),
            "evaluate_wall_time_s": data.get("wall_time_s"),
            "train_images_per_s": summary.get("images_per_s"),
            "hardware": summary.get("hardware") or data.get("hardware"),
            "source": data.get("source"),
        }
    out = {"seeds": seeds}
    for key in METRICS:
        values = [s[key] for s in seeds.values()]
        out[key] = {
            "mean": statistics.fmean(values) if values else None,
            "sd": statistics.stdev(values) if len(values) > 1 else None,
            "n": len(values),
        }
    return out


def guard(runs: Path) -> dict:
    fp32 = _side(sorted((REPO / "pretrained" / ENTRY / "seeds").glob("s*/metrics.json")))
    bf16 = _side(sorted(runs.glob(f"{ENTRY}-bf16-s*/metrics.json")))
    checks, complete = {}, bf16[METRICS[0]]["n"] >= 3
    for key in METRICS:
        a, b = fp32[key], bf16[key]
        if a["sd"] is None or b["sd"] is None:
            # until there are seeds enough: each bf16 seed's distance from the float32 mean
            z = {seed: (s[key] - a["mean"]) / a["sd"] for seed, s in bf16["seeds"].items()}
            checks[key] = {
                "pass": None,
                "why": f"{b['n']} bf16 seed(s) scored; need >= 2",
                "bf16_seed_minus_fp32_mean_in_fp32_sds": z,
            }
            continue
        bound = 2 * math.sqrt(b["sd"] ** 2 / b["n"] + a["sd"] ** 2 / a["n"])
        diff = b["mean"] - a["mean"]
        checks[key] = {"diff_bf16_minus_fp32": diff, "bound_2se": bound, "pass": abs(diff) <= bound}
    passed = all(c["pass"] for c in checks.values())
    verdict = ("pass" if passed else "fail") if complete else "incomplete"
    return {
        "entry": ENTRY,
        "rule": "|mean_bf16 - mean_fp32| <= 2 * sqrt(sd_bf16^2/n_bf16 + sd_fp32^2/n_fp32)",
        "verdict": verdict,
        "checks": checks,
        "float32": fp32,
        "bf16": bf16,
        "commands": {
            "bf16_train": BF16_TRAIN,
            "evaluate": EVALUATE,
            "float32": f"pretrained/{ENTRY}/card.md (the entry's own command)",
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=str(REPO / "runs" / "precision-guard"))
    parser.add_argument(
        "--out", default=str(REPO / "benchmarks" / "results" / "precision_guard.json")
    )
    parser.add_argument("--note", default=None, help="what to know about the machine / runs")
    args = parser.parse_args()
    result = guard(Path(args.runs))
    if args.note:
        result["note"] = args.note
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(Path(args.out), result)
    for key, check in result["checks"].items():
        print(key, f"float32 {result['float32'][key]}", f"bf16 {result['bf16'][key]}", check)
    print(f"verdict: {result['verdict']} -> {args.out}")


if __name__ == "__main__":
    main()
