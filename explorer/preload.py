"""Import what the pages need once, in one thread, before any page runs.

Streamlit runs each session's script in its own thread. When a class's first visitors arrive
together, several threads import pandas, plotly, torch ... for the first time at once, and
Python's import-deadlock detection can hand one of them a half-initialised module: under
benchmarks/load_app.py a page showed "AttributeError: partially initialized module 'pandas' has
no attribute 'Series' (most likely due to a circular import)". Home.py calls ``preload()``
before importing anything heavy; the first caller imports everything under a lock, the others
wait for it, and later runs return at once.
"""

from __future__ import annotations

import importlib
import threading

# Third-party first (the ones seen half-initialised), then the app's own modules and what the
# pages import inside functions (t-SNE, PCA, image drawing).
MODULES = (
    "numpy",
    "pandas",
    "pyarrow",
    "PIL.Image",
    "PIL.ImageDraw",
    "plotly.graph_objects",
    "plotly.subplots",
    "plotly.io",
    "torch",
    "torchvision",
    "scipy.stats",
    "scipy.special",
    "sklearn.manifold",
    "sklearn.decomposition",
    "streamlit",
    "explorer.cache",
    "explorer.perf",
    "explorer.presenter",
    "explorer.results_data",
    "explorer.run_logs",
    "explorer.state",
    "explorer.training_jobs",
    "explorer.widgets",
    "explorer.warm",
    "core.explore.embedding",
    "core.explore.toy",
    "core.explore.toy_study",
)

_lock = threading.Lock()
_done = threading.Event()


def preload() -> None:
    """Import ``MODULES`` (once per process; concurrent callers wait for the first)."""
    if _done.is_set():
        return
    with _lock:
        if _done.is_set():
            return
        for name in MODULES:
            importlib.import_module(name)
        _done.set()
