"""Which zoo folders the app can show: one folder whose config.json fails to parse, to validate
or to build (deep nesting, huge sizes, a class count no picker can list) is skipped with one
warning naming it, instead of a traceback for every visitor (issue 23, item 12).

The checks are ``core.weights.check_model_folder``'s (the config's bounds, the model sized on
PyTorch's ``meta`` device, the weights header against it), so a config asking for billions of
parameters is caught before anything is allocated.
"""

from __future__ import annotations

from pathlib import Path

from core.weights import CONFIG_NAME, WEIGHTS_NAME, check_model_folder
from core.zoo.discover import NOT_MODELS, read_entry


def entry_problem(folder: Path) -> str | None:
    """Why the model folder ``folder`` cannot be shown (one short line), or None when it can:
    the checks ``load_pretrained`` makes before allocating (``check_model_folder``; its class
    bound, core.config.MAX_CLASSES, also keeps the app's class pickers listable)."""
    try:
        check_model_folder(folder)
    except RecursionError:
        return f"{CONFIG_NAME} is nested too deeply to read"
    except Exception as exc:  # noqa: BLE001 - any reason a folder fails is this entry's alone
        return str(exc)[:200]
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
