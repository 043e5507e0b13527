"""Latent priors (standard Gaussian, DeLiGAN Gaussian mixture, mixture of multivariate Student-t)
and class codewords. Method: shared/docs/paper.md §1-§2.

Every prior draws through an explicit ``torch.Generator`` and returns ``(z, component)``:
``z`` is (n, p) and ``component`` is (n,) int64. Sampling is reparameterised, so gradients reach
the learned locations ``mu`` (N, p) and scales ``sigma`` (N, p).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

PRIOR_KINDS = ("gaussian", "gmm", "tmix")
CODEWORD_MEANS = ("index", "onehot")


def sample_standard_gamma(
    n: int, shape: float, generator: torch.Generator, device: torch.device | str = "cpu"
) -> Tensor:
    """(n,) float64 draws of Gamma(shape, rate 1), through ``generator`` only.

    Marsaglia & Tsang (2000) rejection; for shape < 1 the boost Gamma(a+1) * U^(1/a).
    torch's own gamma sampler takes no generator, hence this one.
    """
    if not shape > 0:
        raise ValueError(f"gamma shape must be > 0, got {shape}")
    boost = shape < 1.0
    a = shape + 1.0 if boost else shape
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    out = torch.empty(n, dtype=torch.float64, device=device)
    pending = torch.arange(n, device=device)
    while pending.numel() > 0:
        m = pending.numel()
        x = torch.randn(m, generator=generator, device=device, dtype=torch.float64)
        u = torch.rand(m, generator=generator, device=device, dtype=torch.float64)
        v = (1.0 + c * x) ** 3
        log_v = torch.log(v.clamp_min(1e-300))
        accept = (v > 0) & (torch.log(u) < 0.5 * x * x + d - d * v + d * log_v)
        out[pending[accept]] = d * v[accept]
        pending = pending[~accept]
    if boost:
        u = torch.rand(n, generator=generator, device=device, dtype=torch.float64)
        out = out * u.pow(1.0 / shape)
    return out


def sample_chi2(
    n: int, df: float, generator: torch.Generator, device: torch.device | str = "cpu"
) -> Tensor:
    """(n,) float64 draws of chi^2 with ``df`` degrees of freedom (= 2 Gamma(df/2, 1))."""
    return 2.0 * sample_standard_gamma(n, df / 2.0, generator, device)


@dataclass(frozen=True)
class PriorNoise:
    """The standardised randomness behind a batch of latents, before location and scale.

    component: (n,) int64; eps: (n, p) standard normal; chi2_over_df: (n,) = u / v with
    u ~ chi^2_v, one per sample (all ones for Gaussian kinds).
    """

    component: Tensor
    eps: Tensor
    chi2_over_df: Tensor


class LatentPrior(nn.Module):
    """p(z) = sum_i pi_i f(z; mu_i, diag(sigma_i^2)), pi_i = 1/N fixed.

    kind="gaussian": N = 1, mu = 0, sigma = 1, nothing learned (f normal).
    kind="gmm":      DeLiGAN, f normal, mu_i and sigma_i learned.
    kind="tmix":     t-GAN, f multivariate Student-t with ``df`` degrees of freedom.
    """

    def __init__(
        self,
        kind: str,
        dim: int,
        n_components: int = 1,
        df: float | None = None,
        sigma_init: float = 0.2,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if kind not in PRIOR_KINDS:
            raise ValueError(f"prior kind must be one of {PRIOR_KINDS}, got {kind!r}")
        if dim < 1:
            raise ValueError(f"latent dim must be >= 1, got {dim}")
        if kind == "tmix" and not (df is not None and df > 0):
            raise ValueError(f"the t mixture needs degrees of freedom df > 0, got {df}")
        self.kind = kind
        self.dim = dim
        self.df = float(df) if kind == "tmix" else None
        if kind == "gaussian":
            self.register_buffer("mu", torch.zeros(1, dim))
            self.register_buffer("sigma", torch.ones(1, dim))
        else:
            if n_components < 1:
                raise ValueError(f"n_components must be >= 1, got {n_components}")
            # DeLiGAN's initialisation: mu ~ U(-1, 1), sigma = 0.2.
            mu = torch.rand(n_components, dim, generator=generator) * 2.0 - 1.0
            self.mu = nn.Parameter(mu)
            self.sigma = nn.Parameter(torch.full((n_components, dim), float(sigma_init)))

    @property
    def n_components(self) -> int:
        return self.mu.shape[0]

    @property
    def learned(self) -> bool:
        return self.kind != "gaussian"

    def _resolve_df(self, df: float | None) -> float | None:
        """Degrees of freedom in force: an override wins; None means Gaussian tails."""
        if df is not None:
            if not df > 0:
                raise ValueError(f"degrees of freedom must be > 0, got {df}")
            return float(df)
        return self.df

    def draw_noise(
        self,
        n: int,
        generator: torch.Generator,
        *,
        component: int | Tensor | None = None,
        df: float | None = None,
    ) -> PriorNoise:
        """Standardised draws for n latents, on the generator's device; the component is drawn
        unless given."""
        device = generator.device
        if component is None:
            comp = torch.randint(0, self.n_components, (n,), generator=generator, device=device)
        else:
            comp = torch.as_tensor(component, dtype=torch.long, device=device).expand(n).clone()
            if comp.min() < 0 or comp.max() >= self.n_components:
                raise ValueError(
                    f"component must be in [0, {self.n_components - 1}], got {component}"
                )
        eps = torch.randn(n, self.dim, generator=generator, device=device)
        dof = self._resolve_df(df)
        if dof is None or math.isinf(dof):
            w = torch.ones(n, device=device)
        else:
            # One chi-square per sample: an elliptical (multivariate) t, not a product of t's.
            w = (sample_chi2(n, dof, generator, device) / dof).to(eps.dtype)
        return PriorNoise(comp, eps, w)

    def noise_from_uniforms(
        self,
        uniforms: Tensor,
        *,
        component: int | None = None,
        df: float | None = None,
    ) -> PriorNoise:
        """Standardised draws from uniforms (n, 2 + p) in (0, 1), by inverse CDFs: column 0 picks
        the component, column 1 the chi-square, the rest the normals. Exact up to float64
        rounding; lets the per-seed sampling path draw one block of uniforms per seed."""
        u = uniforms.to(torch.float64).clamp(1e-16, 1 - 1e-16)
        n = u.shape[0]
        if component is None:
            comp = (u[:, 0] * self.n_components).long().clamp_max(self.n_components - 1)
        else:
            if not 0 <= component < self.n_components:
                raise ValueError(
                    f"component must be in [0, {self.n_components - 1}], got {component}"
                )
            comp = torch.full((n,), int(component), dtype=torch.long)
        eps = torch.special.ndtri(u[:, 2 : 2 + self.dim]).to(torch.float32)
        dof = self._resolve_df(df)
        if dof is None or math.isinf(dof):
            w = torch.ones(n)
        else:
            from scipy.special import gammaincinv

            chi2 = 2.0 * gammaincinv(dof / 2.0, u[:, 1].numpy())
            w = torch.as_tensor(chi2 / dof, dtype=torch.float32)
        return PriorNoise(comp, eps, w)

    def transform(self, noise: PriorNoise, scale: float = 1.0) -> Tensor:
        """z = mu_c + scale * sigma_c * eps / sqrt(u / v); differentiable in mu and sigma."""
        device = self.mu.device
        component = noise.component.to(device)
        mu, sigma = self.mu[component], self.sigma[component]
        radial = noise.chi2_over_df.to(device).rsqrt().unsqueeze(1)
        return mu + scale * sigma * noise.eps.to(device) * radial

    def sample(
        self,
        n: int,
        generator: torch.Generator,
        *,
        component: int | Tensor | None = None,
        df: float | None = None,
        scale: float = 1.0,
    ) -> tuple[Tensor, Tensor]:
        """Draw n latents. Returns (z (n, p), component (n,) int64).

        Overrides: ``component`` fixes the mixture component, ``df`` replaces the degrees of
        freedom (any kind; None keeps the prior's own), ``scale`` stretches the deviation from
        mu (scale > 1 pushes z into the tails).
        """
        noise = self.draw_noise(n, generator, component=component, df=df)
        return self.transform(noise, scale), noise.component

    def component_log_prob(self, z: Tensor) -> Tensor:
        """(n, N) log density of each component at z (n, p), in z's dtype."""
        mu = self.mu.to(z.dtype)
        sigma = self.sigma.to(z.dtype).abs()
        p = self.dim
        diff = (z.unsqueeze(1) - mu.unsqueeze(0)) / sigma.unsqueeze(0)
        maha = diff.pow(2).sum(-1)
        log_det = sigma.log().sum(-1).unsqueeze(0)
        if self.df is None:
            return -0.5 * p * math.log(2 * math.pi) - log_det - 0.5 * maha
        v = self.df
        const = math.lgamma((v + p) / 2) - math.lgamma(v / 2) - 0.5 * p * math.log(v * math.pi)
        return const - log_det - 0.5 * (v + p) * torch.log1p(maha / v)

    def log_prob(self, z: Tensor) -> Tensor:
        """(n,) exact log p(z) for z (n, p): log-sum-exp over components with weights 1/N."""
        comp = self.component_log_prob(z)
        return torch.logsumexp(comp, dim=1) - math.log(self.n_components)


def tail_mass(r: Tensor | float, dim: int, df: float | None) -> Tensor:
    """P(||z|| > r) for z standard (mu = 0, Sigma = I) in ``dim`` dims, in closed form.

    Gaussian: ||z||^2 ~ chi^2_p. Student-t: ||z||^2 / p ~ F(p, v).
    """
    r = torch.as_tensor(r, dtype=torch.float64)
    if df is None or math.isinf(df):
        # Regularised upper incomplete gamma: Q(p/2, r^2/2).
        return torch.special.gammaincc(torch.tensor(dim / 2.0, dtype=torch.float64), r * r / 2)
    # F(p, v) survival via the regularised incomplete beta: sf(f) = I_{v/(v+p f)}(v/2, p/2).
    from scipy.special import betainc

    f = (r * r / dim).numpy()
    x = df / (df + dim * f)
    return torch.as_tensor(betainc(df / 2.0, dim / 2.0, x), dtype=torch.float64)


class ClassCodewords(nn.Module):
    """Class codewords c (q dims) around a class mean: c = m_l + sd * N(0, I). paper.md §2.

    mean="index":  m_l = l * 1_q (the paper's literal choice).
    mean="onehot": m_l = onehot_scale * e_l, q >= number of classes.
    Nothing is learned; the means are a buffer.
    """

    def __init__(
        self,
        n_classes: int,
        dim: int = 10,
        mean: str = "index",
        sd: float = 0.2,
        onehot_scale: float = 1.0,
    ) -> None:
        super().__init__()
        if mean not in CODEWORD_MEANS:
            raise ValueError(f"codeword mean must be one of {CODEWORD_MEANS}, got {mean!r}")
        if sd < 0:
            raise ValueError(f"codeword sd must be >= 0, got {sd}")
        if mean == "onehot" and dim < n_classes:
            raise ValueError(
                f'codeword mean "onehot" needs codeword dim >= n_classes ({n_classes}), got {dim}'
            )
        self.n_classes = n_classes
        self.dim = dim
        self.sd = float(sd)
        if mean == "index":
            means = torch.arange(n_classes, dtype=torch.float32).unsqueeze(1).expand(-1, dim)
        else:
            means = torch.zeros(n_classes, dim)
            means[torch.arange(n_classes), torch.arange(n_classes)] = float(onehot_scale)
        self.register_buffer("means", means.contiguous())

    def standardize(self, codewords: Tensor) -> Tensor:
        """(c - mean over classes of the means) / sd of all mean entries (1 if that is 0)."""
        centre = self.means.mean(0)
        spread = self.means.std(unbiased=False)
        spread = torch.where(spread > 0, spread, torch.ones_like(spread))
        return (codewords - centre) / spread

    def _check_labels(self, labels: Tensor) -> Tensor:
        labels = torch.as_tensor(labels, dtype=torch.long, device=self.means.device)
        if labels.numel() and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise ValueError(f"class labels must be in [0, {self.n_classes - 1}]")
        return labels

    def mean(self, labels: Tensor) -> Tensor:
        """(B, q) codeword means of ``labels`` (B,)."""
        return self.means[self._check_labels(labels)]

    def draw_noise(self, n: int, generator: torch.Generator) -> Tensor:
        """(n, q) standard normal draws behind the codewords, on the generator's device."""
        return torch.randn(n, self.dim, generator=generator, device=generator.device)

    def sample(self, labels: Tensor, generator: torch.Generator) -> Tensor:
        """(B, q) codewords for ``labels`` (B,)."""
        labels = self._check_labels(labels)
        noise = self.draw_noise(labels.numel(), generator).to(self.means.device)
        return self.means[labels] + self.sd * noise

    def interpolate(
        self,
        class_a: int,
        class_b: int,
        t: Tensor,
        noise: Tensor | None = None,
        mode: str = "linear",
    ) -> Tensor:
        """(T, q) codewords c(t) = (1 - t) m_a + t m_b (+ sd * noise, one shared draw (q,)).

        mode="spherical" interpolates along the great circle between the two means (falls
        back to linear when either mean is the zero vector, where the angle is undefined).
        """
        m_a, m_b = self.mean(torch.tensor([class_a, class_b]))
        t = torch.as_tensor(t, dtype=m_a.dtype, device=m_a.device).reshape(-1, 1)
        if mode not in ("linear", "spherical"):
            raise ValueError(f'interpolation mode must be "linear" or "spherical", got {mode!r}')
        path = (1 - t) * m_a + t * m_b
        if mode == "spherical":
            path = slerp(m_a, m_b, t)
        if noise is not None:
            path = path + self.sd * noise.reshape(1, -1).to(path)
        return path


def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation between vectors a, b (q,) at t (T, 1); linear where degenerate."""
    na, nb = a.norm(), b.norm()
    linear = (1 - t) * a + t * b
    if na < 1e-8 or nb < 1e-8:
        return linear
    cos = torch.clamp((a @ b) / (na * nb), -1.0, 1.0)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-6:
        return linear
    so = torch.sin(omega)
    direction = (torch.sin((1 - t) * omega) / so) * (a / na) + (torch.sin(t * omega) / so) * (
        b / nb
    )
    # Radius interpolated linearly, so the path's norm goes from |a| to |b|.
    radius = (1 - t) * na + t * nb
    return direction * radius
