"""Confinement: the CLI and the app read and write only under their configured roots.

``confine(path, roots)`` resolves ``path`` (symlinks and ``..`` included, whether or not the path
exists yet) and returns it only if it lies inside one of ``roots`` (themselves resolved, so a
``runs`` folder that is a symlink to a bigger disk still works). Anything else, a symlink that
leads out included, raises ``ConfinementError`` (a ``ValueError``: the CLI prints it as one
``error:`` line).

Every root and environment variable of the project is defined here, once:

    REPO_ROOT                       the repository (this file's grandparent)
    runs_root()     $TGAN_RUNS       else <repo>/runs         training runs (the CLI and the app)
    zoo_runs_root()                  runs_root()/zoo          the zoo's runs (core.reproduce)
    zoo_root()      $TGAN_PRETRAINED else <repo>/pretrained   shipped models
    JUDGES_ROOT                      <repo>/pretrained/judges the shipped judges
    data root       $TGAN_DATA       else <repo>/data         (core.data.resolve_data_root)
    TGAN_OFFLINE=1  never download;  TGAN_DEBUG=1  tracebacks instead of one ``error:`` line

``resolve_inside`` and ``display_path`` do the same for paths that come from people (URLs,
forms): ``PathError`` instead of ``ConfinementError``, and paths shown relative to their root.

The check is made when a path is accepted; a symlink swapped in afterwards by someone who can
already write inside a root is out of scope.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNS_ENV = "TGAN_RUNS"
PRETRAINED_ENV = "TGAN_PRETRAINED"
DATA_ENV = "TGAN_DATA"
OFFLINE_ENV = "TGAN_OFFLINE"
DEBUG_ENV = "TGAN_DEBUG"
PRETRAINED_ROOT = REPO_ROOT / "pretrained"
JUDGES_ROOT = PRETRAINED_ROOT / "judges"
DEFAULT_DATA_ROOT = REPO_ROOT / "data"


class ConfinementError(ValueError):
    """A path resolves outside the folders it may use; the message names both and the fix."""


class PathError(ValueError):
    """A path named by a person is not allowed (outside the roots, a symlink escape, ...)."""


def runs_root(cli_value: str | os.PathLike | None = None) -> Path:
    """Where runs go: the given value, else ``$TGAN_RUNS``, else ``<repo>/runs`` (not resolved).
    The CLI, the zoo and the app's Training page all use this one folder."""
    if cli_value:
        return Path(cli_value).expanduser()
    if os.environ.get(RUNS_ENV):
        return Path(os.environ[RUNS_ENV]).expanduser()
    return REPO_ROOT / "runs"


def zoo_runs_root() -> Path:
    """Where ``core.reproduce`` trains the zoo's runs: ``runs_root()/zoo``."""
    return runs_root() / "zoo"


def zoo_root() -> Path:
    """The zoo folder: ``$TGAN_PRETRAINED`` if set, else ``<repo>/pretrained``."""
    return Path(os.environ.get(PRETRAINED_ENV) or PRETRAINED_ROOT)


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

    A run dir under the runs root (``$TGAN_RUNS``, else ``<repo>/runs``) must resolve inside it.
    Elsewhere (a folder the operator named on purpose) it must resolve inside its own parent:
    the run dir itself may not be a symlink that leads out of the folder it appears in.
    """
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in os.fspath(run_dir)):
        raise ConfinementError(
            f"--run-dir {os.fspath(run_dir)!r} contains a control character (a newline?); "
            "choose a plain folder name"
        )
    run_dir = Path(run_dir)
    root = runs_root(root)
    lexical = Path(os.path.abspath(run_dir))
    # as typed, before ".." is folded: "runs/../../x" names the runs root, so it must stay in it
    typed = run_dir if run_dir.is_absolute() else Path.cwd() / run_dir
    root_parts = Path(os.path.abspath(root)).parts
    if is_within(lexical, Path(os.path.abspath(root))) or typed.parts[: len(root_parts)] == (
        root_parts
    ):
        confine(run_dir, [root], what="--run-dir", allow_root=False)
    else:
        confine(run_dir, [lexical.parent], what="--run-dir", allow_root=False)
    return run_dir


def resolve_inside(path: str | os.PathLike, roots: list[Path]) -> Path:
    """``path`` (relative to the repo root, or absolute) resolved with symlinks followed; it must
    lie inside one of ``roots`` (also resolved). Raises PathError otherwise."""
    text = str(path)
    if not text or "\x00" in text or len(text) > 500:
        raise PathError("a run directory must be a short path like runs/NAME")
    candidate = Path(text)
    if not candidate.is_absolute():
        # "runs/x" means x under the runs root wherever it is configured; else repo-relative.
        first = candidate.parts[0] if candidate.parts else ""
        named = [Path(r) for r in roots if Path(r).name == first]
        base = named[0].joinpath(*candidate.parts[1:]) if named else REPO_ROOT / candidate
        candidate = base
    try:  # the project's one confinement check (symlinks and .. resolved)
        return confine(candidate, roots, what="run directory")
    except ConfinementError:
        names = ", ".join(str(r) for r in roots)
        raise PathError(f"{text!r} is outside the allowed folders ({names})") from None


def display_path(path: str | os.PathLike, roots: list[Path]) -> str:
    """``path`` as ``<root name>/<relative>`` when it lies in one of ``roots`` (what goes in a
    shareable URL), else unchanged."""
    resolved = Path(path).resolve()
    for root in roots:
        root_resolved = Path(root).resolve()
        if resolved == root_resolved or root_resolved in resolved.parents:
            return (Path(Path(root).name) / resolved.relative_to(root_resolved)).as_posix()
    return str(path)


def repo_relative(path: str | os.PathLike) -> str:
    """``path`` relative to the repository when it lies inside it (what files and cards
    record, so they read the same on every machine), else unchanged."""
    try:
        return Path(path).resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)
