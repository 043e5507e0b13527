"""Training and measuring the PixelCNN baseline: ``PixelCNNTrainer`` (the step the one training
loop drives), test-set bits/dim and sampling time (``nll.json``).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import torch
from torch import Tensor, nn

from core.atomic import append_line, atomic_write_json, read_json
from core.data import load_split, to_model_range
from core.device import hardware
from core.pixelcnn.model import PixelCNN
from core.run_dir import STATS_NAME
from core.sampling import sample
from core.weights import load_pretrained, read_config

NLL_NAME = "nll.json"
SAMPLE_TIME_SEEDS = list(range(100))


class PixelCNNTrainer:
    """Adam on the NLL; ``step`` returns ``nll`` (nats/dim) and ``nll_bpd`` (bits/dim)."""

    def __init__(self, model: nn.Module, cfg) -> None:
        self.model = model
        self.cfg = cfg
        self.opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt": self.opt}

    def step(self, real: Tensor, labels: Tensor, noise: torch.Generator) -> dict[str, Tensor]:
        """real (B, C, H, W) in [-1, 1], labels (B,); ``noise`` is unused (the NLL is exact)."""
        bpd = self.model.nll_bpd(real, labels)
        self.opt.zero_grad(set_to_none=True)
        bpd.backward()
        self.opt.step()
        bpd = bpd.detach()
        return {"nll": bpd * math.log(2), "nll_bpd": bpd}

    def finish(self, run_dir: Path, step: int, wall_time_s: float) -> dict:
        """At the end of training: test-set bits/dim and the time to sample 100 images, into
        ``nll.json`` and one ``stats.jsonl`` line."""
        return write_nll_report(
            self.model, run_dir, self.cfg.dataset, step, wall_time_s, self.cfg.data_root
        )


@torch.no_grad()
def evaluate_nll_bpd(
    model: PixelCNN,
    dataset: str,
    data_root: str | None = None,
    batch_size: int = 250,
    limit: int | None = None,
) -> float:
    """Mean test-split NLL in bits per dimension over all (or the first ``limit``) images."""
    images, labels = load_split(dataset, "test", data_root)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total = 0.0
    for start in range(0, len(labels), batch_size):
        x = to_model_range(images[start : start + batch_size]).to(device)
        y = labels[start : start + batch_size].to(device)
        total += float(model.nll_bpd(x, y)) * len(y)
    model.train(was_training)
    return total / max(len(labels), 1)


def time_sampling(model: PixelCNN, n: int = 100) -> float:
    """Seconds to sample ``n`` images (seeds 0..n-1, labels 0..K-1 repeating) in one batch."""
    was_training = model.training
    started = time.perf_counter()
    sample(model, list(range(n)), [i % model.config.n_classes for i in range(n)])
    seconds = time.perf_counter() - started
    model.train(was_training)
    return seconds


def write_nll_report(
    model: PixelCNN,
    run_dir: str | Path,
    dataset: str,
    step: int,
    wall_time_s: float,
    data_root: str | None = None,
) -> dict:
    """Write ``nll.json`` = {test_nll_bpd, sample_100_s, train_wall_time_s, ...} atomically and
    append the same numbers as one ``stats.jsonl`` line (``event: "pixelcnn_eval"``)."""
    run_dir = Path(run_dir)
    device = next(model.parameters()).device
    started = time.perf_counter()
    bpd = evaluate_nll_bpd(model, dataset, data_root)
    eval_s = time.perf_counter() - started
    sample_s = time_sampling(model, len(SAMPLE_TIME_SEEDS))
    report = {
        "step": step,
        "dataset": dataset,
        "split": "test",
        "test_nll_bpd": round(bpd, 5),
        "train_wall_time_s": round(wall_time_s, 2),
        "sample_100_s": round(sample_s, 3),
        "test_nll_eval_s": round(eval_s, 2),
        "hardware": hardware(device),
    }
    atomic_write_json(run_dir / NLL_NAME, report)
    line = {k: v for k, v in report.items() if k != "hardware"}
    line.update(event="pixelcnn_eval", wall_time=round(wall_time_s, 3))
    append_line(run_dir / STATS_NAME, json.dumps(line, allow_nan=False))
    return report


def rewrite_nll_report(run_dir: str | Path) -> dict:
    """(Re)write nll.json of a finished PixelCNN run (``python -m core nll RUN_DIR``)."""
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    model = load_pretrained(run_dir)
    if model.config.family != "pixelcnn":
        raise ValueError(f"{run_dir}: not a PixelCNN run (family {model.config.family!r})")
    summary_path = run_dir / "summary.json"
    summary = read_json(summary_path)
    if summary is None or not isinstance(summary.get("steps"), int):
        raise ValueError(f"{summary_path}: missing or unreadable; is the run finished?")
    train_cfg = config.get("train") if isinstance(config.get("train"), dict) else {}
    return write_nll_report(
        model,
        run_dir,
        model.config.dataset,
        summary["steps"],
        float(summary.get("wall_time_s", 0.0)),
        train_cfg.get("data_root"),
    )
