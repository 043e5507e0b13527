"""A small Gradio demo of the core interaction: data set, class, v, seed -> sample grid; class A ->
class B codeword interpolation. Models come from the zoo (``pretrained/``, or ``$TGAN_PRETRAINED``).

    python explorer/gradio_demo.py [--port 7860] [--host 127.0.0.1]

API endpoints (for ``gradio_client``): ``/sample_grid`` (model, class, v, seed, radius) and
``/interpolate`` (model, class A, class B, frames, seed, mode); both return a PNG file.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.data import DATASETS  # noqa: E402
from core.explore import interpolation  # noqa: E402
from core.paths import zoo_root  # noqa: E402
from core.sampling import MAX_SEED, image_grid, sample  # noqa: E402
from core.weights import load_pretrained  # noqa: E402
from core.zoo.discover import ZooEntry, discover_models  # noqa: E402
from explorer import zoo_health  # noqa: E402


def entries() -> dict[str, ZooEntry]:
    """The zoo in discovery order: t-GANs, MNIST and featured models first, so the first is
    the featured MNIST t-GAN when one is shipped. A folder whose config cannot be parsed or
    built is left out (``explorer.zoo_health``), with one line on stderr naming it."""
    shown = {}
    for entry in discover_models(zoo_root()):
        config, weights = entry.folder / "config.json", entry.folder / "model.safetensors"
        stamp = tuple(p.stat().st_mtime if p.exists() else 0.0 for p in (config, weights))
        why = _problem(str(entry.folder), stamp)
        if why is None:
            shown[entry.name] = entry
    return shown


@functools.lru_cache(maxsize=1024)
def _problem(folder: str, stamp: tuple[float, ...]) -> str | None:
    why = zoo_health.entry_problem(Path(folder))
    if why is not None:
        print(f"gradio demo: skipping zoo folder {Path(folder).name}: {why}", file=sys.stderr)
    return why


def class_choices(entry: ZooEntry | None) -> list[tuple[str, int]]:
    """(label, class index) for the class pickers: "3: Dress" for Fashion-MNIST, "3" for MNIST."""
    if entry is None:
        return []
    spec = DATASETS.get(entry.dataset)
    names = spec.class_names if spec is not None else []
    out = []
    for i in range(max(1, entry.n_classes)):
        name = str(names[i]) if i < len(names) else str(i)
        out.append((name if name == str(i) else f"{i}: {name}", i))
    return out


def _classes_for(model: str, *current: int):
    """New class pickers for ``model`` (keeping each current class when the model has it)."""
    found = entries().get(model)
    choices = class_choices(found)
    n = len(choices)
    return [gr.update(choices=choices, value=c if 0 <= int(c or 0) < n else 0) for c in current]


@functools.lru_cache(maxsize=4)
def _model(folder: str) -> torch.nn.Module:
    return load_pretrained(folder).requires_grad_(False)


def _entry(name: str) -> ZooEntry:
    found = entries().get(name)
    if found is None:
        raise gr.Error(f"unknown model {name!r}; choose one of {sorted(entries())}")
    return found


def _class(entry: ZooEntry, value: float) -> int:
    label = int(value)
    if not 0 <= label < entry.n_classes:
        raise gr.Error(f"class must be in [0, {entry.n_classes - 1}] for {entry.name}")
    return label


def _plain(grid: np.ndarray) -> np.ndarray:
    """(H, W) for grey images, (H, W, 3) for colour: what PIL (and so Gradio) accepts."""
    return grid[..., 0] if grid.shape[-1] == 1 else grid


def sample_grid(model: str, label: float, v: float, seed: float, radius: float = 1.0) -> np.ndarray:
    """An 8x8 grid: 64 seeds (seed ... seed + 63) of one class, with v and the radius."""
    entry = _entry(model)
    cls = _class(entry, label)
    if not (v > 0 and math.isfinite(v)) or not 0 <= seed <= MAX_SEED or not 0 < radius <= 8:
        raise gr.Error("v must be > 0, seed in [0, 1000000], radius in (0, 8]")
    seeds = list(range(int(seed), int(seed) + 64))
    labels = [cls] * 64 if entry.conditional else None
    images = sample(_model(str(entry.folder)), seeds, labels, df=float(v), scale=float(radius))
    return _plain(image_grid(images.images, nrow=8))


def interpolate(
    model: str, class_a: float, class_b: float, frames: float, seed: float, mode: str
) -> np.ndarray:
    """A strip of frames G(z', c(t)) from class A's codeword to class B's."""
    entry = _entry(model)
    a, b = _class(entry, class_a), _class(entry, class_b)
    if not 3 <= int(frames) <= 24 or mode not in interpolation.MODES:
        raise gr.Error("frames must be in [3, 24] and mode linear or spherical")
    result = interpolation.interpolate(
        _model(str(entry.folder)), a, b, int(frames), int(seed), None, mode
    )
    return _plain(interpolation.strip(result.images))


def build_demo() -> gr.Blocks:
    zoo = entries()
    names = list(zoo)
    default = names[0] if names else None
    classes = class_choices(zoo.get(default)) if default else []
    last = classes[-1][1] if classes else 0
    with gr.Blocks(title="t-GAN Explorer (Gradio)") as demo:
        gr.Markdown(
            "# t-GAN Explorer\nA t-GAN draws its latent noise from a learned mixture of "
            "Student-t distributions. Small **v** = heavy tails; the **radius** pushes every "
            "latent further out. The full app: `streamlit run explorer/Home.py`."
        )
        if not names:
            gr.Markdown("No model in the zoo yet (`pretrained/<model>-<dataset>-<regime>/`).")
        with gr.Tab("Samples"):
            with gr.Row():
                model = gr.Dropdown(names, value=default, label="Model (data set in the name)")
                label = gr.Dropdown(classes, value=0, label="Class")
                v = gr.Slider(0.5, 100.0, value=3.0, step=0.5, label="Degrees of freedom v")
                seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
                radius = gr.Slider(0.25, 8.0, value=1.0, step=0.25, label="Radius")
            grid = gr.Image(label="64 samples", type="numpy", format="png")
            gr.Button("Sample", variant="primary").click(
                sample_grid, [model, label, v, seed, radius], grid, api_name="sample_grid"
            )
            model.change(_classes_for, [model, label], [label], api_name=False)
        with gr.Tab("Class A -> B"):
            with gr.Row():
                model_i = gr.Dropdown(names, value=default, label="Model")
                class_a = gr.Dropdown(classes, value=0, label="Class A")
                class_b = gr.Dropdown(classes, value=last, label="Class B")
                frames = gr.Slider(3, 24, value=10, step=1, label="Frames")
                seed_i = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
                mode = gr.Radio(list(interpolation.MODES), value="linear", label="Path")
            strip = gr.Image(label="c(t) from A to B", type="numpy", format="png")
            gr.Button("Interpolate", variant="primary").click(
                interpolate,
                [model_i, class_a, class_b, frames, seed_i, mode],
                strip,
                api_name="interpolate",
            )
            model_i.change(
                _classes_for, [model_i, class_a, class_b], [class_a, class_b], api_name=False
            )
    return demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)
    build_demo().queue(default_concurrency_limit=2).launch(
        server_name=args.host, server_port=args.port
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
