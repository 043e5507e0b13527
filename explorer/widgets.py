"""Controls shared by several pages: the data set / model picker (zoo-driven, URL-backed) and the
class picker with the data set's class names."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from core.data import DATASETS
from core.paths import zoo_root
from core.weights import WeightsError
from core.zoo.discover import ZooEntry
from explorer import cache, state

SHARED_MODEL = "_model.shared"  # the model last chosen on any page: the next page opens on it
LAST_PAGE = "_model.page"  # the page that last drew the model picker


def model_params(entries: Sequence[ZooEntry]) -> list[state.Param]:
    """URL parameters ``dataset`` and ``model`` with the zoo's current choices."""
    datasets = tuple(dict.fromkeys(e.dataset for e in entries))
    names = tuple(e.name for e in entries)
    return [
        state.Param("dataset", "choice", datasets[0] if datasets else None, datasets),
        state.Param("model", "choice", names[0] if names else None, names),
    ]


def class_name(dataset: str, index: int) -> str:
    spec = DATASETS.get(dataset)
    if spec is None or not 0 <= index < spec.n_classes:
        return str(index)
    return (
        f"{index}: {spec.class_names[index]}"
        if spec.class_names[index] != str(index)
        else (str(index))
    )


def zoo_or_info(require_conditional: bool = False) -> list[ZooEntry]:
    """The zoo's entries; shows st.info (how to get a model) when there is none."""
    entries = cache.zoo(str(zoo_root()))
    skipped = cache.zoo_problems(str(zoo_root()))
    if skipped:
        st.warning(
            f"Skipped {len(skipped)} zoo folder(s) that cannot be shown: "
            + "; ".join(f"`{name}` ({why})" for name, why in skipped)
            + ". Fix or remove the folder (then reload).",
            icon=":material/warning:",
        )
    if require_conditional:
        entries = [e for e in entries if e.conditional] or entries
    if not entries:
        st.info(
            "No model in the zoo yet. Models are folders `pretrained/<model>-<dataset>-<regime>/` "
            "holding config.json + model.safetensors; train one with "
            "`python -m core train --model tgan --dataset mnist --steps 5000` and copy the run "
            "folder there (or set `$TGAN_PRETRAINED`).",
            icon=":material/info:",
        )
    return entries


def pick_model(page: str, entries: Sequence[ZooEntry], url_values: dict) -> ZooEntry | None:
    """Data set and model select boxes in the sidebar (state keys ``{page}.dataset`` and
    ``{page}.model``). A model named in the URL brings its own data set."""
    if not entries:
        return None
    by_name = {e.name: e for e in entries}
    dkey, mkey = state.widget_key(page, "dataset"), state.widget_key(page, "model")
    in_url = "model" in st.query_params or "dataset" in st.query_params
    if not st.session_state.get(f"{page}._model_synced"):
        # First run of this page in the session: the URL's model decides the data set.
        chosen = by_name.get(url_values.get("model"))
        if chosen is not None and "model" in st.query_params:
            st.session_state[dkey] = chosen.dataset
        st.session_state[f"{page}._model_synced"] = True
    shared = by_name.get(st.session_state.get(SHARED_MODEL))
    if st.session_state.get(LAST_PAGE) != page and not in_url and shared is not None:
        # Arriving from another page: the model chosen there comes along (a link's wins).
        st.session_state[dkey], st.session_state[mkey] = shared.dataset, shared.name
    st.session_state[LAST_PAGE] = page
    datasets = list(dict.fromkeys(e.dataset for e in entries))
    state.ensure_choice(page, "dataset", datasets)
    dataset = st.sidebar.selectbox("Data set", datasets, key=dkey)
    names = [e.name for e in entries if e.dataset == dataset]
    state.ensure_choice(page, "model", names)
    name = st.sidebar.selectbox("Model", names, key=mkey)
    st.session_state[SHARED_MODEL] = name
    try:
        cache.model(by_name[name])  # loads once per process; a broken folder is reported here
    except (WeightsError, OSError, ValueError, RuntimeError, MemoryError) as exc:
        st.info(
            f"`{name}` cannot be loaded, so this page has nothing to show for it: {exc}",
            icon=":material/info:",
        )
        return None
    return by_name[name]


def pick_class(page: str, entry: ZooEntry, name: str = "cls", label: str = "Class") -> int:
    """A class select box (state key ``{page}.{name}``), clamped to the model's classes."""
    key = state.widget_key(page, name)
    options = list(range(entry.n_classes))
    why = f"`{entry.name}` has classes 0-{entry.n_classes - 1}"
    state.fit_range(page, name, 0, entry.n_classes - 1, 0, why)
    return st.sidebar.selectbox(
        label, options, key=key, format_func=lambda i: class_name(entry.dataset, i)
    )
