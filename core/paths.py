"""Confinement: the CLI and the app read and write only under their configured roots.

``confine(path, roots)`` resolves ``path`` (symlinks and ``..`` included, whether or not the path
exists yet) and returns it only if it lies inside one of ``roots`` (themselves resolved, so a
``runs`` folder that is a symlink to a bigger disk still works). Anything else, a symlink that
leads out included, raises ``ConfinementError`` (a ``ValueError``: the CLI prints it as one
``error:`` line).

Roots: runs go under ``$TGAN_RUNS`` (else ``./runs``), shipped models under ``<repo>/pretrained``,
data under the data root (``core.data.resolve_data_root``).

The check is made when a path is accepted; a symlink swapped in afterwards by someone who can
already write inside a root is out of scope.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

RUNS_ENV = "TGAN_RUNS"
PRETRAINED_ROOT = Path(__file__).resolve().parents[1] / "pretrained"


class ConfinementError(ValueError):
    """A path resolves outside the folders it may use; the message names both and the fix."""


def runs_root(cli_value: str | os.PathLike | None = None) -> Path:
    """Where runs go: the given value, else ``$TGAN_RUNS``, else ``./runs`` (not resolved)."""
    if cli_value:
        return Path(cli_value).expanduser()
    if os.environ.get(RUNS_ENV):
        return Path(os.environ[RUNS_ENV]).expanduser()
    return Path("runs")


def resolve(path: str | os.PathLike) -> Path:
    """The absolute path with every symlink and ``..`` resolved (the path need not exist)."""
    text = os.fspath(path)
    if not str(text).strip():
        raise ConfinementError("empty path; name a folder")
    if "\x00" in str(text):
        raise ConfinementError(f"path {text!r} contains a NUL byte; name a real folder")
    return Path(os.path.realpath(Path(text).expanduser()))


def is_within(path: Path, root: Path) -> bool:
    """True if the resolved ``path`` is ``root`` or lies below it (both already resolved)."""
    return path == root or root in path.parents


def confine(
    path: str | os.PathLike,
    roots: Iterable[str | os.PathLike],
    *,
    what: str = "path",
    allow_root: bool = True,
) -> Path:
    """``path`` resolved, if it lies inside one of ``roots``; else ConfinementError.

    ``what`` names the path in the message (e.g. ``"--run-dir"`` or ``"?run="``);
    ``allow_root=False`` also refuses a path that is a root itself.
    """
    resolved_roots = [resolve(r) for r in roots]
    if not resolved_roots:
        raise ConfinementError(f"{what} {os.fspath(path)!r}: no allowed folder is configured")
    target = resolve(path)
    for root in resolved_roots:
        if is_within(target, root) and (allow_root or target != root):
            return target
    shown = ", ".join(str(r) for r in resolved_roots)
    via = "" if target == Path(os.path.abspath(os.fspath(path))) else " (through a symlink or ..)"
    raise ConfinementError(
        f"{what} {os.fspath(path)!r} resolves to {target}{via}, outside the allowed "
        f"folder(s) {shown}; choose a path inside them"
    )


def confine_run_dir(run_dir: str | os.PathLike, root: str | os.PathLike | None = None) -> Path:
    """Check a ``--run-dir`` before training writes to it; returns it (unresolved).

    A run dir under the runs root (``$TGAN_RUNS``, else ``./runs``) must resolve inside it.
    Elsewhere (a folder the operator named on purpose) it must resolve inside its own parent:
    the run dir itself may not be a symlink that leads out of the folder it appears in.
    """
    run_dir = Path(run_dir)
    root = runs_root(root)
    lexical = Path(os.path.abspath(run_dir))
    if is_within(lexical, Path(os.path.abspath(root))):
        confine(run_dir, [root], what="--run-dir", allow_root=False)
    else:
        confine(run_dir, [lexical.parent], what="--run-dir", allow_root=False)
    return run_dir
