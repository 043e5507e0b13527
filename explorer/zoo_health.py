"""Which zoo folders the app can show: one folder whose config.json fails to parse, to validate
or to build (deep nesting, huge sizes, a class count no picker can list) is skipped with one
warning naming it, instead of a traceback for every visitor (issue 23, item 12).

The build is a dry run on PyTorch's ``meta`` device (shapes only, no memory, milliseconds), so a
config asking for billions of parameters is caught before anything is allocated.
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.models import build_model
from core.weights import CONFIG_NAME, WEIGHTS_NAME, model_config_from, read_config
from core.zoo.discover import NOT_MODELS, read_entry

MAX_CLASSES = 1000  # the class pickers list every class: more would freeze the browser tab
# float32 weights take 4 bytes a parameter, int8 ones 1; a config asking for far more
# parameters than its weights file could hold is not the model that file was saved from.
PARAMS_PER_BYTE = 2
PARAM_SLACK = 1_000_000


def entry_problem(folder: Path) -> str | None:
    """Why the model folder ``folder`` cannot be shown (one short line), or None when it can."""
    try:
        config = model_config_from(folder, read_config(folder))
    except RecursionError:
        return f"{CONFIG_NAME} is nested too deeply to read"
    except Exception as exc:  # noqa: BLE001 - any reason a config fails is this entry's alone
        return f"{CONFIG_NAME}: {str(exc)[:160]}"
    if not 1 <= config.n_classes <= MAX_CLASSES:
        return f"n_classes = {config.n_classes} (the app lists at most {MAX_CLASSES})"
    try:
        with torch.device("meta"):
            n_params = sum(p.numel() for p in build_model(config).parameters())
    except Exception as exc:  # noqa: BLE001
        return f"the model in {CONFIG_NAME} cannot be built ({type(exc).__name__}: {exc})"[:200]
    try:
        file_bytes = (folder / WEIGHTS_NAME).stat().st_size
    except OSError as exc:
        return f"{WEIGHTS_NAME}: {exc.strerror or exc}"
    if n_params > PARAMS_PER_BYTE * file_bytes + PARAM_SLACK:
        return (
            f"{CONFIG_NAME} asks for {n_params:,} parameters but {WEIGHTS_NAME} holds "
            f"{file_bytes:,} bytes"
        )
    return None


def unlisted_problems(root: Path, listed: set[str]) -> list[tuple[str, str]]:
    """(folder name, why) for model folders under ``root`` that discovery dropped because their
    config could not be read (other families, e.g. the PixelCNN, are not problems)."""
    found = []
    if not root.is_dir():
        return found
    for folder in sorted(root.iterdir()):
        if folder.name in listed or folder.name in NOT_MODELS or folder.name.startswith("."):
            continue
        if not (folder / CONFIG_NAME).is_file() or not (folder / WEIGHTS_NAME).is_file():
            continue
        try:
            if read_entry(folder) is not None:
                continue
        except RecursionError:
            pass
        found.append((folder.name, entry_problem(folder) or f"{CONFIG_NAME} cannot be read"))
    return found
