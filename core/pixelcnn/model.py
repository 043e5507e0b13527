"""Class-conditional gated PixelCNN (van den Oord et al. 2016), the paper's likelihood baseline.

p(x | y) = prod_i p(x_i | x_<i, y) in raster order; on RGB data the channels of a pixel come
R, then G, then B. Each x_i is a 256-way softmax over its uint8 value. The objective is the
negative log-likelihood, reported in bits per dimension (``nll_bpd``).

The network: a vertical stack (rows above) and a horizontal stack (pixels to the left in the
row), as in the gated PixelCNN, so there is no blind spot. Gates are tanh(a) * sigmoid(b) with a
learned per-class bias (the class embedding) added to a and b. On RGB data every feature map is
split into three channel groups (R, G, B); at the current pixel group g only sees groups < g
(first layer, mask "A") or <= g (later layers, mask "B"), so channel c's logits see the
channels < c of its own pixel and nothing after it.

Sampling (``PixelCNN.sample_images``) is one pixel at a time but caches every layer: the
vertical stack is computed once per row, the horizontal stack once per pixel (and channel) at
that position only, so 100 images cost about one batched forward pass plus Python overhead.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.config import ConfigError, ModelConfig

N_LEVELS = 256
DEFAULT_EXTRA = {"layers": 8, "kernel": 3, "first_kernel": 7}


def channel_groups(n: int, n_colors: int) -> Tensor:
    """Colour group (0..n_colors-1) of each of ``n`` feature channels: contiguous blocks."""
    return torch.arange(n) * n_colors // n


def centre_mask(in_groups: Tensor, out_groups: Tensor, strict: bool) -> Tensor:
    """(out, in) 0/1 mask of the current-pixel tap: out group g sees in groups < g (strict,
    mask A) or <= g (mask B)."""
    allowed = (
        in_groups[None, :] < out_groups[:, None]
        if strict
        else (in_groups[None, :] <= out_groups[:, None])
    )
    return allowed.float()


class MaskedConv2d(nn.Conv2d):
    """A conv whose last kernel column (the current pixel, for kernels (1, w) and 1x1) is masked
    by colour group; the other taps are all strictly before the pixel and left as they are."""

    def __init__(self, in_groups: Tensor, out_groups: Tensor, width: int, strict: bool) -> None:
        super().__init__(len(in_groups), len(out_groups), (1, width))
        mask = torch.ones(len(out_groups), len(in_groups), 1, width)
        mask[:, :, 0, -1] = centre_mask(in_groups, out_groups, strict)
        self.register_buffer("mask", mask, persistent=False)

    def masked_weight(self) -> Tensor:
        return self.weight * self.mask

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.masked_weight(), self.bias)


def gate(x: Tensor) -> Tensor:
    """tanh(a) * sigmoid(b) over the channel halves (dim 1 for maps, dim -1 for vectors)."""
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(nn.Module):
    """One gated layer: (v, h) (B, in, H, W) each -> (v', h') (B, hidden, H, W)."""

    def __init__(
        self, in_ch: int, hidden: int, n_colors: int, n_classes: int, kernel: int, first: bool
    ) -> None:
        super().__init__()
        self.pad = kernel // 2
        self.first = first
        in_groups = torch.arange(in_ch) if first else channel_groups(in_ch, n_colors)
        hid = channel_groups(hidden, n_colors)
        gated = torch.cat([hid, hid])  # the a half and the b half share a group layout
        self.v_conv = nn.Conv2d(in_ch, 2 * hidden, (self.pad + 1, kernel))
        self.v_to_h = nn.Conv2d(2 * hidden, 2 * hidden, 1)
        self.h_conv = MaskedConv2d(in_groups, gated, self.pad + 1, strict=first)
        self.h_res = MaskedConv2d(hid, hid, 1, strict=False)
        self.class_bias = nn.Embedding(n_classes, 4 * hidden)

    def forward(self, v: Tensor, h: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        p = self.pad
        cond_v, cond_h = self.class_bias(labels)[:, :, None, None].chunk(2, dim=1)
        v_pre = self.v_conv(F.pad(v, (p, p, p, 0)))  # row r sees rows r-p..r
        above = F.pad(v_pre, (0, 0, 1, 0))[:, :, :-1]  # row r now holds row r-1: strictly above
        h_pre = self.h_conv(F.pad(h, (p, 0, 0, 0))) + self.v_to_h(above) + cond_h
        h_out = self.h_res(gate(h_pre))
        return gate(v_pre + cond_v), h_out if self.first else h_out + h


class PixelCNN(nn.Module):
    """Gated PixelCNN for images (C, H, W), C in {1, 3}; ``config.width`` hidden channels."""

    def __init__(self, config: ModelConfig, seed: int = 0) -> None:
        super().__init__()
        if config.family != "pixelcnn":
            raise ConfigError(f"PixelCNN cannot build family {config.family!r}")
        unknown = sorted(set(config.extra) - set(DEFAULT_EXTRA))
        if unknown:
            raise ConfigError(
                f"model config {config.preset!r}: unknown pixelcnn extra key(s) {unknown}; "
                f"known: {sorted(DEFAULT_EXTRA)}"
            )
        settings = {**DEFAULT_EXTRA, **config.extra}
        n_colors, hidden = config.image_shape[0], config.width
        if hidden % n_colors:
            raise ConfigError(
                f"model config {config.preset!r}: width {hidden} must be a multiple of the "
                f"{n_colors} image channels (one feature group per colour); set --width"
            )
        for key in ("kernel", "first_kernel"):
            if settings[key] < 1 or settings[key] % 2 == 0:
                raise ConfigError(f"pixelcnn extra {key!r} must be odd and >= 1")
        if settings["layers"] < 1:
            raise ConfigError("pixelcnn extra 'layers' must be >= 1")
        self.config = config
        self.n_colors = n_colors
        self.layers = nn.ModuleList(
            GatedLayer(
                n_colors if i == 0 else hidden,
                hidden,
                n_colors,
                config.n_classes,
                settings["first_kernel"] if i == 0 else settings["kernel"],
                first=i == 0,
            )
            for i in range(settings["layers"])
        )
        hid = channel_groups(hidden, n_colors)
        self.head_hidden = MaskedConv2d(hid, hid, 1, strict=False)
        self.head_out = MaskedConv2d(
            hid, torch.arange(n_colors).repeat_interleave(N_LEVELS), 1, strict=False
        )
        self._init_weights(seed)

    @torch.no_grad()
    def _init_weights(self, seed: int) -> None:
        """Uniform(+-1/sqrt(fan_in)) weights, zero biases, N(0, 0.1^2) class biases, from seed."""
        gen = torch.Generator().manual_seed(seed)
        for name, param in self.named_parameters():
            if name.endswith("class_bias.weight"):
                param.copy_(torch.randn(param.shape, generator=gen) * 0.1)
            elif param.dim() > 1:
                bound = 1.0 / math.sqrt(param[0].numel())
                param.copy_((torch.rand(param.shape, generator=gen) * 2 - 1) * bound)
            else:
                param.zero_()

    def forward(self, images: Tensor, labels: Tensor) -> Tensor:
        """images (B, C, H, W) in [-1, 1], labels (B,) -> logits (B, C, 256, H, W)."""
        labels = labels.to(images.device)
        v, h = images, images
        for layer in self.layers:
            v, h = layer(v, h, labels)
        logits = self.head_out(F.relu(self.head_hidden(F.relu(h))))
        b, _, height, width = images.shape
        return logits.view(b, self.n_colors, N_LEVELS, height, width)

    def nll_bpd(self, images: Tensor, labels: Tensor) -> Tensor:
        """Mean negative log-likelihood in bits per dimension (0-dim) of uint8-valued images
        given in [-1, 1] (B, C, H, W)."""
        target = levels(images)
        nats = F.cross_entropy(self(images, labels).transpose(1, 2), target)
        return nats / math.log(2)

    @torch.no_grad()
    def sample_images(self, seeds: list[int], labels: list[int], batch_size: int = 500) -> Tensor:
        """One image per (seed, label): (B, C, H, W) float in [-1, 1] on the CPU.

        Image i's uniforms (C, H, W) come from ``torch.Generator().manual_seed(seeds[i])`` and
        each value is drawn by inverse CDF, so an image depends on its own seed and label only.
        """
        self.eval()
        c, h, w = self.config.image_shape
        out = []
        for start in range(0, len(seeds), batch_size):
            part = seeds[start : start + batch_size]
            uniforms = torch.stack(
                [
                    torch.rand(
                        (c, h, w),
                        generator=torch.Generator().manual_seed(int(s)),
                        dtype=torch.float64,
                    )
                    for s in part
                ]
            )
            lab = torch.tensor(labels[start : start + batch_size], dtype=torch.long)

            def draw(r: int, col: int, ch: int, logits: Tensor, u: Tensor = uniforms) -> Tensor:
                cdf = torch.softmax(logits.double(), dim=-1).cumsum(-1)
                target = u[:, ch, r, col].to(cdf.device)[:, None]
                return (cdf < target).sum(-1).clamp(max=N_LEVELS - 1)

            values = self.autoregress(lab, draw)
            out.append(values.float().div(127.5).sub(1.0).cpu())
        return torch.cat(out) if out else torch.empty(0, c, h, w)

    @torch.no_grad()
    def autoregress(
        self, labels: Tensor, choose: Callable[[int, int, int, Tensor], Tensor]
    ) -> Tensor:
        """The cached pixel-by-pixel pass. For each row r, column col, channel ch in order,
        ``choose(r, col, ch, logits (B, 256))`` returns that value (B,) in 0..255; returns the
        uint8-valued images (B, C, H, W) as int64. Equal to ``forward`` up to float rounding."""
        device = next(self.parameters()).device
        with single_cpu_thread(device):
            return self._autoregress(labels.to(device), choose, device)

    def _autoregress(
        self, labels: Tensor, choose: Callable[[int, int, int, Tensor], Tensor], device
    ) -> Tensor:
        b = len(labels)
        c, height, width = self.config.image_shape
        layers = list(self.layers)
        pads = [layer.pad for layer in layers]
        ins = [layer.v_conv.in_channels for layer in layers]
        conds = [layer.class_bias(labels).chunk(2, dim=1) for layer in layers]
        h_w = [layer.h_conv.masked_weight().flatten(1) for layer in layers]
        res_w = [layer.h_res.masked_weight().flatten(1) for layer in layers]
        head_w = (
            self.head_hidden.masked_weight().flatten(1),
            self.head_out.masked_weight().flatten(1),
        )
        # vertical inputs of every layer, zero-padded (p rows on top, p columns either side)
        v_in = [
            torch.zeros(b, n, height + p, width + 2 * p, device=device) for n, p in zip(ins, pads)
        ]
        values = torch.zeros(b, c, height, width, dtype=torch.long, device=device)
        for r in range(height):
            above = []  # per layer: v_to_h of the vertical pre-activation of row r-1, (B, 2h, W)
            for i, layer in enumerate(layers):
                p = pads[i]
                if r == 0:
                    pre = torch.zeros(b, layer.v_conv.out_channels, 1, width, device=device)
                else:
                    pre = layer.v_conv(v_in[i][:, :, r - 1 : r + p])
                    if i + 1 < len(layers):
                        q = pads[i + 1]
                        nxt = gate(pre + conds[i][0][:, :, None, None])[:, :, 0]
                        v_in[i + 1][:, :, r - 1 + q, q : q + width] = nxt
                above.append(layer.v_to_h(pre)[:, :, 0] + conds[i][1][:, :, None])
            h_in = [torch.zeros(b, n, width + p, device=device) for n, p in zip(ins, pads)]
            for col in range(width):
                for ch in range(c):
                    x = None
                    for i, layer in enumerate(layers):
                        p = pads[i]
                        window = h_in[i][:, :, col : col + p + 1].flatten(1)
                        pre = F.linear(window, h_w[i], layer.h_conv.bias) + above[i][:, :, col]
                        x = F.linear(gate(pre), res_w[i], layer.h_res.bias)
                        if not layer.first:
                            x = x + h_in[i][:, :, col + p]
                        if i + 1 < len(layers):
                            h_in[i + 1][:, :, col + pads[i + 1]] = x
                    hidden = F.relu(F.linear(F.relu(x), head_w[0], self.head_hidden.bias))
                    logits = F.linear(hidden, head_w[1], self.head_out.bias).view(b, c, N_LEVELS)
                    value = choose(r, col, ch, logits[:, ch]).to(device)
                    values[:, ch, r, col] = value
                    pixel = value.float().div(127.5).sub(1.0)
                    h_in[0][:, ch, col + pads[0]] = pixel
                    v_in[0][:, ch, r + pads[0], col + pads[0]] = pixel
        return values


@contextlib.contextmanager
def single_cpu_thread(device: torch.device) -> Iterator[None]:
    """One intra-op thread on the CPU for the duration (restored after): the per-pixel ops are
    tiny, and on a busy machine extra threads make them ~30x slower, never faster."""
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def levels(images: Tensor) -> Tensor:
    """[-1, 1] images -> their uint8 values as int64 (the softmax targets)."""
    return images.add(1.0).mul(127.5).round().clamp(0, N_LEVELS - 1).long()


def pixelcnn_preset(d: dict) -> dict:
    """CPU-sized: 32 hidden channels on 28x28x1; 48 (3 groups of 16) on 32x32x3."""
    return {
        "family": "pixelcnn",
        "width": 32 if d["image_shape"][0] == 1 else 48,
        "extra": dict(DEFAULT_EXTRA),
    }
