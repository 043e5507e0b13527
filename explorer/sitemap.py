"""The app's pages in order: file (in the repo-root ``pages/``), title (each page's st.title),
icon and URL path. The guided path on Home and the tests read this table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageInfo:
    file: str
    title: str
    icon: str
    url_path: str
    blurb: str


PAGES = (
    PageInfo(
        "home.py",
        "t-GAN Explorer",
        ":material/home:",
        "home",
        "what a t-GAN is, and samples from the default model",
    ),
    PageInfo(
        "heavy_tails.py",
        "Heavy tails",
        ":material/school:",
        "heavy_tails",
        "Gaussian vs Student-t: densities, tail mass, samples, mixtures, v -> infinity",
    ),
    PageInfo(
        "playground.py",
        "Playground: priors in 2-D",
        ":material/scatter_plot:",
        "playground",
        "race a Gaussian, a Gaussian-mixture and a t-mixture prior on 2-D data, live",
    ),
    PageInfo(
        "latent_sliders.py",
        "Latent sliders",
        ":material/tune:",
        "latent_sliders",
        "move one latent by hand, push it into the tails, see what G makes of it",
    ),
    PageInfo(
        "compare.py",
        "Race into the tails",
        ":material/compare:",
        "compare",
        "a t-GAN and its Gaussian twin, same seeds, pushed out side by side",
    ),
    PageInfo(
        "interpolation.py",
        "Codeword interpolation",
        ":material/timeline:",
        "interpolation",
        "walk from one class's codeword to another's",
    ),
    PageInfo(
        "tsne.py",
        "t-SNE: Gaussian vs t-mixture",
        ":material/bubble_chart:",
        "tsne",
        "the same seeds under both priors, embedded in 2-D",
    ),
    PageInfo(
        "training.py",
        "Training & loss curves",
        ":material/monitoring:",
        "training",
        "train a small model live, watch D and G settle",
    ),
    PageInfo(
        "results.py",
        "Results",
        ":material/leaderboard:",
        "results",
        "the zoo's scores and the paper's claims, with our verdicts",
    ),
)
TITLES = {p.file: p.title for p in PAGES}
