"""Wall time of ``python -m core evaluate`` on a run, in total and by phase.

    python benchmarks/bench_evaluate.py RUN_DIR [--n 10000] [--threads 2]

Times (a) the whole ``core.evaluate.evaluate_model`` with a freshly loaded judge (nothing cached;
the issue's budget is under 2 minutes for 10k samples on 2 CPU cores), then (b) each phase on its
own: sampling (core.sampling.sample), the judge's forward pass on the samples, and every metric
function; and, as the reference in the same process, the judge's forward pass on N real test
images, printing each phase as a ratio to it. CPU time (all threads) is printed next to wall
time: on a machine shared with other jobs, wall time overstates what the command costs and CPU
time / threads is the wall time on idle cores. Figures only; nothing is asserted or written.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere


def timed(label: str, fn, reference: float | None = None):
    """Run fn; print its wall time and the process CPU time (all threads) it used."""
    start, cpu_start = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    ratio = f"  ({wall / reference:5.1f} x judge on real)" if reference else ""
    print(f"  {label:<34s} {wall:7.2f} s wall  {cpu:7.2f} s CPU{ratio}")
    return out, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from core.data import load_split, to_model_range, training_set
    from core.evaluate import metrics as M
    from core.evaluate.judges import load_judge
    from core.evaluate.scoring import evaluate_model, reference_features
    from core.sampling import default_labels, sample
    from core.weights import load_pretrained, read_config

    print(
        f"{platform.machine()} CPU, torch {torch.__version__}, {torch.get_num_threads()} "
        f"thread(s); run {args.run_dir}, N = {args.n}"
    )
    model = load_pretrained(args.run_dir)
    dataset = model.config.dataset

    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print("total (evaluate_model, fresh judge, nothing cached):")
    cpu_before = time.process_time()
    result, total = timed(
        "evaluate_model",
        lambda: evaluate_model(args.run_dir, args.n, judge=load_judge(dataset), write=False),
    )
    total_cpu = time.process_time() - cpu_before

    print("phases:")
    judge = load_judge(dataset)
    real, _ = load_split(dataset, "test")
    real = to_model_range(real[: args.n])
    _, ref = timed("reference: judge on N real images", lambda: judge.logits_and_features(real))
    labels = default_labels(args.n, model.config.n_classes)
    images = timed("sampling", lambda: sample(model, list(range(args.n)), labels).images, ref)[0]
    logits, feats = timed("judge on samples", lambda: judge.logits_and_features(images), ref)[0]
    probs = torch.softmax(logits.double(), 1)
    train_ref = timed(
        "judge on N training images", lambda: reference_features(judge, dataset, args.n), ref
    )[0][0]
    timed("inception_score", lambda: M.inception_score(probs), ref)
    timed("modified_inception_score", lambda: M.modified_inception_score(probs), ref)
    timed("class_fidelity", lambda: M.class_fidelity(probs, torch.tensor(labels)), ref)
    timed("frechet_distance", lambda: M.frechet_distance(train_ref, feats.double()), ref)
    timed("precision_recall", lambda: M.precision_recall(train_ref, feats.double()), ref)
    n_train = read_config(args.run_dir).get("train", {}).get("n_train")
    train_images, _ = training_set(dataset, n_train or None, 0)
    flat = lambda x: x.reshape(len(x), -1).float().numpy()  # noqa: E731
    train_pixels = flat(to_model_range(train_images))
    timed("memorisation", lambda: M.memorisation(flat(images), flat(real), train_pixels), ref)
    tag = "10k" if args.n == 10_000 else str(args.n)
    threads = torch.get_num_threads()
    print(
        f"result: is{tag} {result['metrics'][f'is{tag}']['mean']:.3f}; total {total:.1f} s wall, "
        f"{total_cpu:.1f} s CPU: on {threads} idle cores between {total_cpu / threads:.1f} s "
        f"(perfect scaling) and {total_cpu:.1f} s (none); "
        f"{'under' if total_cpu < 120 else 'check against'} the 2-minute budget"
    )


if __name__ == "__main__":
    main()
