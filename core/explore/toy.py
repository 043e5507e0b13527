"""The 2-D toy GAN of the playground: does a heavy-tailed latent prior cover modes a Gaussian
one misses? Data sets, small MLP nets, the training step, and the mode-coverage metrics.

Data sets (all are mixtures of isotropic bumps, so each has mode centres and one sd; the data's
own points are drawn once with the data set's fixed seed, ``DATA_POINTS`` of them):

- ``ring8``: 8 Gaussians on a circle of radius 2, sd 0.05, equal weights (VEEGAN's ring has
  radius 2 and sd 0.02; we widen it to PacGAN's grid sd so a small MLP learns it in seconds).
- ``grid25``: 25 Gaussians at {-4, -2, 0, 2, 4}^2, sd 0.1, equal weights (PacGAN's grid has
  sd 0.05; at 2,000 steps our G placed only 2-14% of its samples within 3 sd of it).
- ``spiral``: 20 Gaussians at equal arc length along the spiral r = 0.35 theta, sd 0.1.
- ``moons``: two interleaved half circles (scikit-learn's moons scaled by 2, centred), 8
  Gaussians on each, sd 0.08.
- ``imbalanced``: the ring8 centres and sd, mode 0 twenty times rarer than each other mode.
- ``heavy``: the ring8 centres, each bump a bivariate Student-t with v = 3 and scale 0.05
  ("sd" below means this scale), so the data has outliers far from every centre.

Metrics (the protocol of VEEGAN, Srivastava et al. NeurIPS 2017, as PacGAN, Lin et al. NeurIPS
2018, coded it in fjxmlzn/PacGAN ``synthetic_data_experiments/PacGAN/pacgan/extensions.py``):
``EVAL_SAMPLES`` = 2,500 samples of G; a sample is *high quality* when its distance to the
nearest mode centre is below 3 sd (radially, ||x - c|| / sd < 3: on 2-D Gaussian data that is
1 - exp(-9/2) = 98.9% of the points, not the 1-D figure 99.7%); a mode is *covered* when it
receives at least one high-quality sample; *reverse KL* is KL(q || p) from the histogram q of
high-quality samples over modes to the data's mode weights p (0 is perfect; when there is no
high-quality sample it is log(1 / min p), the worst a histogram can score). The energy
distance 2 E|X - Y| - E|X - X'| - E|Y - Y'| compares ``ENERGY_POINTS`` samples of G with as
many data points (unbiased within-set means, fixed subsample seed; 0 for equal laws).

Choices: latent_dim 2 so latents are plotted as they are; the learned mixtures have 10
components (not the number of modes: the prior is not told the answer); Gaussian prior N(0, I).
G and D are MLPs with two hidden layers of 128 units; Adam (lr 1e-3, betas 0.5, 0.999) on G
with the prior's mu and sigma, and on D; batch 256; the same losses as the image GANs
(core.losses) with DeLiGAN's sigma regulariser (lambda 0.05) for the learned priors.
Deterministic on the CPU per seed: weights from the seed, batches and latents from one
``torch.Generator``, evaluation from its own fixed generator (so looking never changes training).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor, nn

from core.losses import d_adversarial_loss, g_adversarial_loss, sigma_regulariser
from core.priors import PRIOR_KINDS, LatentPrior, sample_chi2

DATA_POINTS = 5000
EVAL_SAMPLES = 2500
ENERGY_POINTS = 1000
HQ_RADIUS = 3.0  # in sd: the VEEGAN / PacGAN "high quality" threshold
EVAL_SEED = 20_171_204  # one fixed noise for every evaluation


@dataclass(frozen=True)
class ToyData:
    """A 2-D data set: ``centres`` (K, 2), ``weights`` (K,) summing to 1, isotropic ``sd`` (the
    scale for t bumps), ``df`` the bumps' Student-t degrees of freedom (None = Gaussian),
    ``seed`` the fixed seed of its points."""

    name: str
    centres: np.ndarray
    weights: np.ndarray
    sd: float
    df: float | None
    seed: int
    blurb: str

    @property
    def n_modes(self) -> int:
        return len(self.centres)

    @property
    def extent(self) -> float:
        """Half-width of a square view that holds every centre with a margin."""
        return float(np.abs(self.centres).max()) + 1.5


def _ring(n: int = 8, radius: float = 2.0) -> np.ndarray:
    angle = 2 * np.pi * np.arange(n) / n
    return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def _spiral(n: int = 20, a: float = 0.35, theta0: float = math.pi / 2) -> np.ndarray:
    theta_end = 4 * math.pi
    # arc length of r = a theta is ~ a theta^2 / 2: equal steps in theta^2 are equal arcs
    theta = np.sqrt(np.linspace(theta0**2, theta_end**2, n))
    return a * theta[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)


def _moons(per_moon: int = 8) -> np.ndarray:
    t = np.linspace(0, np.pi, per_moon)
    outer = np.stack([np.cos(t), np.sin(t)], axis=1)
    inner = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    return 2.0 * (np.concatenate([outer, inner]) - np.array([0.5, 0.25]))


_IMBALANCED = np.r_[1.0 / 20, np.ones(7)] / (1.0 / 20 + 7)
TOY_DATASETS: dict[str, ToyData] = {
    d.name: d
    for d in (
        ToyData("ring8", _ring(), np.full(8, 1 / 8), 0.05, None, 101, "8 Gaussians on a circle"),
        ToyData(
            "grid25",
            np.array([[x, y] for y in range(-4, 5, 2) for x in range(-4, 5, 2)], float),
            np.full(25, 1 / 25),
            0.1,
            None,
            102,
            "5 x 5 grid of Gaussians",
        ),
        ToyData(
            "spiral", _spiral(), np.full(20, 1 / 20), 0.1, None, 103, "20 Gaussians on a spiral"
        ),
        ToyData(
            "moons", _moons(), np.full(16, 1 / 16), 0.08, None, 104, "two moons of 8 Gaussians"
        ),
        ToyData("imbalanced", _ring(), _IMBALANCED, 0.05, None, 105, "ring8, mode 0 20x rarer"),
        ToyData(
            "heavy", _ring(), np.full(8, 1 / 8), 0.05, 3.0, 106, "ring8 with Student-t (v=3) bumps"
        ),
    )
}


def toy_dataset(name: str) -> ToyData:
    """The data set called ``name``; ValueError naming the choices otherwise."""
    if name not in TOY_DATASETS:
        raise ValueError(
            f"--data (the toy data set) must be one of {', '.join(TOY_DATASETS)}, got {name!r}"
        )
    return TOY_DATASETS[name]


def sample_data(data: ToyData, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """n points of ``data``: (points (n, 2) float32, mode index (n,) int64)."""
    weights = torch.as_tensor(data.weights, dtype=torch.float64)
    mode = torch.multinomial(weights, n, replacement=True, generator=generator)
    eps = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    if data.df is not None:  # one chi-square per point: an elliptical (bivariate) t
        eps = eps / (sample_chi2(n, data.df, generator) / data.df).sqrt().unsqueeze(1)
    points = torch.as_tensor(data.centres)[mode] + data.sd * eps
    return points.float(), mode


def data_points(data: ToyData, n: int = DATA_POINTS) -> Tensor:
    """The data set's own (n, 2) points, drawn with its fixed seed (same bytes every call)."""
    return sample_data(data, n, torch.Generator().manual_seed(data.seed))[0]


# --- metrics -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToyMetrics:
    """One evaluation (see the module docstring for the protocol)."""

    modes_covered: int
    n_modes: int
    high_quality: float
    reverse_kl: float
    energy_distance: float

    def to_dict(self) -> dict:
        return asdict(self)


def mode_histogram(samples: np.ndarray, data: ToyData) -> tuple[np.ndarray, np.ndarray]:
    """(counts (K,) of high-quality samples per nearest mode, high-quality mask (n,))."""
    samples = np.asarray(samples, dtype=np.float64)
    dist = np.linalg.norm(samples[:, None, :] - data.centres[None], axis=2)
    nearest = dist.argmin(1)
    good = dist[np.arange(len(samples)), nearest] < HQ_RADIUS * data.sd
    return np.bincount(nearest[good], minlength=data.n_modes), good


def reverse_kl(counts: np.ndarray, weights: np.ndarray) -> float:
    """KL(q || p) of the histogram q = counts / sum to the mode weights p; log(1 / min p) for an
    empty histogram (the largest value any histogram can reach)."""
    total = counts.sum()
    if total == 0:
        return float(np.log(1.0 / weights.min()))
    q = counts / total
    seen = q > 0
    return float(np.sum(q[seen] * np.log(q[seen] / weights[seen])))


def energy_distance(x: Tensor, y: Tensor, n: int = ENERGY_POINTS, seed: int = 0) -> float:
    """2 E|X - Y| - E|X - X'| - E|Y - Y'| on up to n points of each set (chosen with ``seed``);
    within-set means leave out the zero diagonal, so the estimate is unbiased (0 for equal laws).
    x: (n_x, d), y: (n_y, d)."""
    g = torch.Generator().manual_seed(seed)
    x = x.double()[torch.randperm(len(x), generator=g)[:n]]
    y = y.double()[torch.randperm(len(y), generator=g)[:n]]

    def within(a: Tensor) -> Tensor:
        return torch.cdist(a, a).sum() / (len(a) * (len(a) - 1))

    return float(2 * torch.cdist(x, y).mean() - within(x) - within(y))


def toy_metrics(samples: Tensor, data: ToyData, reference: Tensor | None = None) -> ToyMetrics:
    """The metrics of G's samples (n, 2) on ``data`` (energy distance to ``reference`` points,
    by default the data set's own)."""
    reference = data_points(data) if reference is None else reference
    counts, good = mode_histogram(samples.detach().numpy(), data)
    return ToyMetrics(
        modes_covered=int((counts >= 1).sum()),
        n_modes=data.n_modes,
        high_quality=float(good.mean()),
        reverse_kl=reverse_kl(counts, data.weights),
        energy_distance=energy_distance(samples.detach(), reference),
    )


# --- nets and training -------------------------------------------------------------------------


@dataclass(frozen=True)
class ToyConfig:
    """One toy run. ``df`` is used by the t mixture only."""

    data: str = "ring8"
    prior: str = "tmix"
    df: float = 3.0
    latent_dim: int = 2
    n_components: int = 10
    hidden: int = 128
    batch_size: int = 256
    lr: float = 1e-3
    sigma_reg: float = 0.05
    seed: int = 0

    def __post_init__(self) -> None:
        toy_dataset(self.data)
        if self.prior not in PRIOR_KINDS:
            raise ValueError(f"--prior must be one of {', '.join(PRIOR_KINDS)}, got {self.prior!r}")
        checks = {
            "df": self.df > 0,
            "latent_dim": self.latent_dim >= 1,
            "lr": self.lr > 0,
            "n_components": self.n_components >= 1,
            "hidden": self.hidden >= 1,
            "batch_size": self.batch_size >= 1,
            "sigma_reg": self.sigma_reg >= 0,
            "seed": self.seed >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"toy option {name} = {getattr(self, name)} is out of range")

    @property
    def label(self) -> str:
        """gaussian | gmm | tmix-v3 ..."""
        return f"tmix-v{self.df:g}" if self.prior == "tmix" else self.prior

    def to_dict(self) -> dict:
        return asdict(self)


def mlp(n_in: int, hidden: int, n_out: int, slope: float) -> nn.Sequential:
    """Two hidden layers; slope 0 is ReLU (G), 0.2 LeakyReLU (D)."""
    act = (lambda: nn.LeakyReLU(slope)) if slope else nn.ReLU
    return nn.Sequential(
        nn.Linear(n_in, hidden), act(), nn.Linear(hidden, hidden), act(), nn.Linear(hidden, n_out)
    )


@dataclass(frozen=True)
class ToySnapshot:
    """What the page draws. real (n, 2), fake (m, 2), latent (m, 2) and component (m,) of the
    same m draws; d_prob (g, g) = D's sigmoid at (grid[j], grid[i]); warp (L, P, 2) = G's image
    of a latent grid's lines (None unless latent_dim is 2); mu, sigma (N, p) of the prior."""

    step: int
    real: np.ndarray
    fake: np.ndarray
    latent: np.ndarray
    component: np.ndarray
    grid: np.ndarray
    d_prob: np.ndarray
    warp: np.ndarray | None
    mu: np.ndarray
    sigma: np.ndarray
    metrics: ToyMetrics
    d_loss: float
    g_loss: float


class ToyTrainer:
    """A toy GAN being trained: ``step(n)`` trains, ``evaluate()`` / ``snapshot()`` look;
    ``history`` keeps the metrics of every snapshot (the page's race chart)."""

    def __init__(self, config: ToyConfig) -> None:
        self.config = config
        self.data = toy_dataset(config.data)
        self.points = data_points(self.data)
        self.step_count = 0
        self.d_loss = self.g_loss = float("nan")
        self.history: list[tuple[int, ToyMetrics]] = []  # (step, metrics) of each snapshot
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)  # nn.Linear's init draws from the global generator
            self.generator_net = mlp(config.latent_dim, config.hidden, 2, 0.0)
            self.discriminator = mlp(2, config.hidden, 1, 0.2)
        init = torch.Generator().manual_seed(config.seed + 1)
        self.prior = LatentPrior(
            config.prior,
            config.latent_dim,
            config.n_components,
            df=config.df if config.prior == "tmix" else None,
            generator=init,
        )
        betas = (0.5, 0.999)
        g_params = [*self.generator_net.parameters(), *self.prior.parameters()]
        self.opt_g = torch.optim.Adam(g_params, lr=config.lr, betas=betas, fused=True)
        self.opt_d = torch.optim.Adam(
            self.discriminator.parameters(), lr=config.lr, betas=betas, fused=True
        )
        self.noise = torch.Generator().manual_seed(config.seed + 2)

    def step(self, n: int = 1) -> None:
        """n training steps (D then G on one batch each)."""
        cfg, g, d = self.config, self.generator_net, self.discriminator
        b = cfg.batch_size
        for _ in range(n):
            real = self.points[torch.randint(0, len(self.points), (b,), generator=self.noise)]
            z, _ = self.prior.sample(b, self.noise)
            fake = g(z)
            logits = d(torch.cat([real, fake.detach()])).squeeze(1)  # one pass for both halves
            d_loss = d_adversarial_loss(logits[:b], logits[b:])
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            d.requires_grad_(False)  # G's step needs gradients through D, not for D
            g_loss = g_adversarial_loss(d(fake).squeeze(1))
            d.requires_grad_(True)
            total = g_loss
            if self.prior.learned and cfg.sigma_reg:
                total = total + cfg.sigma_reg * sigma_regulariser(self.prior.sigma)
            self.opt_g.zero_grad(set_to_none=True)
            total.backward()
            self.opt_g.step()
        self.step_count += n
        if n:
            self.d_loss, self.g_loss = float(d_loss.detach()), float(g_loss.detach())

    @torch.no_grad()
    def draw(self, n: int = EVAL_SAMPLES) -> tuple[Tensor, Tensor, Tensor]:
        """(latents (n, p), components (n,), samples (n, 2)) from the fixed evaluation noise."""
        z, comp = self.prior.sample(n, torch.Generator().manual_seed(EVAL_SEED))
        return z, comp, self.generator_net(z)

    def evaluate(self) -> ToyMetrics:
        """The metrics of G now, on the fixed evaluation noise."""
        return toy_metrics(self.draw()[2], self.data, self.points)

    @torch.no_grad()
    def snapshot(self, n_show: int = 600, grid_n: int = 48, warp_lines: int = 13) -> ToySnapshot:
        """Arrays for the page: ``n_show`` points of each kind, D on a grid_n^2 grid."""
        z, comp, fake = self.draw()
        metrics = toy_metrics(fake, self.data, self.points)
        if not self.history or self.history[-1][0] != self.step_count:
            self.history.append((self.step_count, metrics))
        ext = self.data.extent
        axis = torch.linspace(-ext, ext, grid_n)
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        logits = self.discriminator(torch.stack([xx.ravel(), yy.ravel()], 1))
        warp = None
        if self.config.latent_dim == 2:
            lo, hi = np.percentile(z.numpy(), [1, 99], axis=0)
            warp = self.generator_net(latent_grid_lines(lo, hi, warp_lines)).numpy()
        return ToySnapshot(
            step=self.step_count,
            real=self.points[:n_show].numpy(),
            fake=fake[:n_show].numpy(),
            latent=z[:n_show, :2].numpy(),
            component=comp[:n_show].numpy(),
            grid=axis.numpy(),
            d_prob=torch.sigmoid(logits).reshape(grid_n, grid_n).numpy(),
            warp=warp,
            mu=self.prior.mu.detach().numpy().copy(),
            sigma=self.prior.sigma.detach().abs().numpy().copy(),
            metrics=metrics,
            d_loss=self.d_loss,
            g_loss=self.g_loss,
        )


def latent_grid_lines(lo: np.ndarray, hi: np.ndarray, n_lines: int, n_points: int = 64) -> Tensor:
    """(2 n_lines, n_points, 2) latent points on the horizontal and vertical lines of a grid
    spanning [lo, hi] (each (2,))."""
    xs = torch.linspace(float(lo[0]), float(hi[0]), n_points)
    ys = torch.linspace(float(lo[1]), float(hi[1]), n_points)
    x_levels = torch.linspace(float(lo[0]), float(hi[0]), n_lines)
    y_levels = torch.linspace(float(lo[1]), float(hi[1]), n_lines)
    rows = [torch.stack([xs, torch.full_like(xs, float(y))], 1) for y in y_levels]
    cols = [torch.stack([torch.full_like(ys, float(x)), ys], 1) for x in x_levels]
    return torch.stack(rows + cols)
