"""Packed runs: N GAN runs of one model config (its seeds) trained in one process, one step for
all at once (issue 20). ``python -m core train --seeds 0,1,2 --run-dir runs/x-s{seed}`` and
``python -m core.reproduce batch ... --pack`` use it; core/train.py drives the loop.

How: each parameter and buffer of the N models is stacked into one (N, ...) tensor, and every
model's own tensors become views of row i of the stacks. The networks run once for all N under
``torch.func.vmap`` (``functional_call`` on the stacks: a convolution of N weight sets becomes a
grouped convolution, N small launches become one), and the gradients of the stacks are handed
back to each run's own optimiser as views. So each run keeps its model, its Adam, its noise
generator, and writes its own run directory, checkpoints included, in exactly the format of a
run trained alone; a packed run resumes packed or alone.

What stays per run, outside vmap, is everything random: each run draws its fake labels, its
prior's noise, its codeword noise and its DiffAugment parameters from its own generator in the
order ``GANTrainer.step`` draws them, so a packed run sees the same random numbers as the same
run trained alone. The objectives are the same functions (``core.gan.d_objective`` /
``g_objective``). Packed and alone then differ only by floating-point rounding (vmap's batched
kernels sum in another order); tests/core/test_packed.py bounds the gap.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import fields
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from core import precision
from core.augment import diff_augment
from core.config import ConfigError, TrainConfig
from core.evaluate.judges import Judge
from core.gan import (
    GANModel,
    GANTrainer,
    LatentBatch,
    d_objective,
    g_objective,
    prior_stats,
    step_stats,
)
from core.priors import PriorNoise
from core.run_dir import TrainingError
from core.train import Run, run_loop


class _Call(nn.Module):
    """``functional_call`` runs a module's forward: this one runs ``fn(model, *args)``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, fn, *args):
        return fn(self.model, *args)


def _fakes(model: GANModel, forward, component, eps, chi2_over_df, cond, labels) -> Tensor:
    """G's images from drawn noise (the part of ``draw_latents`` + ``generate`` with
    parameters); ``cond`` None means the learned label embedding, looked up here."""
    z = model.prior.transform(PriorNoise(component, eps, chi2_over_df))
    if cond is None:
        cond = model.label_embedding(labels)
    return forward(model.generate, LatentBatch(z, component, labels, cond))


class PackedGANStep:
    """One optimisation step of D, then G, for N runs of one model config at once.

    ``models`` and ``trainers`` are the runs' own (``GANTrainer`` on each model); from here on
    their tensors are views of the stacks, so a checkpoint of run i is what it would be alone.
    """

    def __init__(self, models: list[GANModel], trainers: list[GANTrainer]) -> None:
        if not models or len(models) != len(trainers):
            raise ValueError("PackedGANStep needs one trainer per model, at least one")
        first = models[0]
        for m in models[1:]:
            if m.config != first.config:
                raise ConfigError("packed runs must share one model config (only seeds differ)")
        if len({t.precision for t in trainers}) != 1:
            raise ConfigError("packed runs must share one precision")
        self.models, self.trainers = models, trainers
        self.cfg = trainers[0].cfg
        lead = trainers[0]
        self.forward = functools.partial(
            precision.forward, lead.precision, lead.device, channels_last=False
        )
        self.call = _Call(first)
        self.params: dict[str, Tensor] = {}
        self.buffers: dict[str, Tensor] = {}
        for name, _ in first.named_parameters():
            rows = [m.get_parameter(name) for m in models]
            self.params[name] = torch.stack([p.detach() for p in rows]).requires_grad_()
            for i, p in enumerate(rows):
                p.data = self.params[name].detach()[i]
        for name, _ in first.named_buffers():
            stacked = torch.stack([m.get_buffer(name) for m in models])
            self.buffers[name] = stacked
            for i, m in enumerate(models):
                owner, _, leaf = name.rpartition(".")
                module = m.get_submodule(owner) if owner else m
                module._buffers[leaf] = stacked[i]
        self.d_names = self._names(first, first.discriminator_parameters())
        self.g_names = self._names(first, first.generator_parameters())

    @staticmethod
    def _names(model: nn.Module, params: list[nn.Parameter]) -> list[str]:
        by_id = {id(p): n for n, p in model.named_parameters()}
        return [by_id[id(p)] for p in params]

    def _vmap(self, fn, *args):
        """``fn(model_i, *args_i)`` for every run i, on the stacks (a None argument is shared)."""

        def one(params, buffers, *a):
            named = {f"model.{k}": v for k, v in {**params, **buffers}.items()}
            return functional_call(self.call, named, (fn, *a))

        dims = (0, 0, *(None if a is None else 0 for a in args))
        return vmap(one, in_dims=dims, randomness="error")(self.params, self.buffers, *args)

    def _draw(self, model: GANModel, n: int, generator: torch.Generator) -> tuple:
        """Run i's random draws for a step, in ``GANTrainer.step``'s order: fake labels, then
        the prior's noise, then the codeword noise (its condition made here unless learned)."""
        mcfg = model.config
        labels = torch.randint(
            0, mcfg.n_classes, (n,), generator=generator, device=generator.device
        )
        noise = model.prior.draw_noise(n, generator)
        cond = None
        if mcfg.conditioning != "embedding":
            cond_noise = (
                model.codewords.draw_noise(n, generator) if model.codewords is not None else None
            )
            cond = model.condition(labels, cond_noise)
        return labels, noise, cond

    def _backward(self, total: Tensor, names: list[str]) -> None:
        """Gradients of the runs' summed objective, handed to each run's parameters as views."""
        for name in self.params:
            self.params[name].grad = None
        total.sum().backward()
        for i, model in enumerate(self.models):
            for name in names:
                grad = self.params[name].grad
                model.get_parameter(name).grad = None if grad is None else grad[i]

    def step(
        self, reals: list[Tensor], labels: list[Tensor], noises: list[torch.Generator]
    ) -> list[dict[str, Tensor]]:
        """One step of every run: run i trains on (reals[i], labels[i]) with its generator
        noises[i]. Returns each run's stats, as ``GANTrainer.step`` returns them."""
        n_runs = len(self.models)
        draws = [
            self._draw(m, len(r), g) for m, r, g in zip(self.models, reals, noises, strict=True)
        ]
        fake_labels = torch.stack([d[0] for d in draws])
        noise = [torch.stack([getattr(d[1], f.name) for d in draws]) for f in fields(PriorNoise)]
        cond = None if draws[0][2] is None else torch.stack([d[2] for d in draws])
        forward = self.forward

        def fakes(model, *args):
            return _fakes(model, forward, *args)

        fake = self._vmap(fakes, *noise, cond, fake_labels)
        # DiffAugment from each run's own generator, real first, as GANTrainer.step does
        real_aug, fake_aug = [], []
        for i in range(n_runs):
            real_aug.append(diff_augment(reals[i], self.cfg, noises[i]))
            fake_aug.append(diff_augment(fake[i], self.cfg, noises[i]))
        real, fake = torch.stack(real_aug), torch.stack(fake_aug)
        labels_ = torch.stack(labels)

        def d_part(model, real_i, fake_i, labels_i, fake_labels_i):
            return d_objective(model, forward, real_i, fake_i, labels_i, fake_labels_i)

        d_total, d_stats = self._vmap(d_part, real, fake.detach(), labels_, fake_labels)
        self._backward(d_total, self.d_names)
        for t in self.trainers:
            t.opt_d.step()

        def g_part(model, fake_i, fake_labels_i):
            return g_objective(model, forward, fake_i, fake_labels_i)

        g_total, g_stats = self._vmap(g_part, fake, fake_labels)
        self._backward(g_total, self.g_names)
        for t in self.trainers:
            t.opt_g.step()
        return [
            step_stats(
                {k: v[i].detach() for k, v in d_stats.items()},
                {k: v[i].detach() for k, v in g_stats.items()},
                prior_stats(model),
            )
            for i, model in enumerate(self.models)
        ]


def train_packed(
    cfgs: list[TrainConfig],
    run_dirs: list[str | os.PathLike],
    *,
    model_overrides: dict | None = None,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    judge: Judge | None = None,
) -> list[Path]:
    """Train N runs of one GAN config (``cfgs`` differ in their seed only) in one process, one
    packed step for all (core/packed.py); each writes its own ``run_dirs[i]`` as it would
    alone, and resumes packed or alone. Runs must be at the same step (all new, or all
    checkpointed together). A run that diverges stops recording; the others go on, and a
    TrainingError names it at the end."""
    if not cfgs or len(cfgs) != len(run_dirs):
        raise ValueError("train_packed needs one run directory per config")
    if any(dataclasses.replace(c, seed=0) != dataclasses.replace(cfgs[0], seed=0) for c in cfgs):
        raise ConfigError("packed runs may differ in --seed only")
    if len({str(Path(d).resolve()) for d in run_dirs}) != len(run_dirs):
        raise ConfigError("packed runs need one run directory each (put {seed} in --run-dir)")
    runs, scorer = [], None
    for cfg, run_dir in zip(cfgs, run_dirs, strict=True):
        run = Run(
            cfg,
            run_dir,
            model_overrides=model_overrides,
            resume=resume,
            judge=judge,
            scorer=scorer,
        )
        scorer = run.scorer
        runs.append(run)
    if runs[0].mcfg.family != "gan":
        raise ConfigError(f"--model {cfgs[0].model}: only GANs train packed")
    steps = {r.run_dir.name: r.step for r in runs}
    if len(set(steps.values())) != 1:
        raise TrainingError(
            f"packed runs must resume from one step; these are at {steps}: resume each alone "
            "(python -m core train --run-dir DIR --resume) or start them afresh"
        )
    for run in runs:
        run.announce()
    packed = PackedGANStep([r.model for r in runs], [r.trainer for r in runs])

    def step(batches):
        reals, labels = zip(*batches, strict=True)
        return packed.step(list(reals), list(labels), [r.noise for r in runs])

    desc = f"{runs[0].mcfg.preset}/{runs[0].cfg.dataset} x{len(runs)}"
    run_loop(runs, step, desc, progress, stop_after)
    failed = [f"{r.run_dir}: {r.failed}" for r in runs if r.failed]
    if failed:
        raise TrainingError(
            f"{len(failed)} of {len(runs)} packed runs failed: " + "; ".join(failed)
        )
    return [r.run_dir for r in runs]
