"""Crash-safe file writes, and guarded reads of every file the project reads.

Writes: a temporary file in the same folder, fsync, then ``os.replace`` (atomic on POSIX), so a
kill at any moment leaves the old file or the new one, never half; ``own_temp_files`` finds the
temp files a kill left, and only those. Reads (``read_limited``, ``load_json_file``,
``read_jsonl``): a regular file of bounded size only, checked before the first read, so a FIFO
or a link to ``/dev/zero`` fails in one line instead of hanging or exhausting memory; JSON is
parsed strictly (no NaN / Infinity, no overflowing numbers, deep nesting refused), and every
problem is a ValueError that names the file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import tempfile
from pathlib import Path

JSON_LIMIT = 16 * 2**20  # config / metrics / summary files: kilobytes; 16 MiB is far beyond
JSONL_LIMIT = 64 * 2**20  # stats.jsonl, metrics.jsonl: one short line per log step or score
_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def own_temp_files(folder: str | os.PathLike, names: str) -> list[Path]:
    """The temp files that ``atomic_write_bytes`` of a file whose name matches the regex
    ``names`` leaves when killed mid-write (``.NAME.XXXXXXXX.tmp``, mkstemp's 8 characters);
    a person's own ``.something.tmp`` never matches."""
    pattern = re.compile(rf"\.(?:{names})\.[a-z0-9_]{{8}}\.tmp")
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [
        Path(e.path)
        for e in entries
        if pattern.fullmatch(e.name) and e.is_file(follow_symlinks=False)
    ]


def check_write_target(path: str | os.PathLike, what: str) -> None:
    """A path a command is told to write (``what``: the option, e.g. ``--out``) must be new or
    a regular file: a symlink, a FIFO, a device or a folder raises ValueError naming it (an
    atomic write would replace it with a regular file, or write where the link points)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ValueError(f"{what} {os.fspath(path)}: cannot use it ({exc.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise ValueError(
            f"{what} {os.fspath(path)}: a symlink; name a regular file or a new path instead"
        )
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a plain file")
        raise ValueError(
            f"{what} {os.fspath(path)}: not a regular file ({kind}); name a regular file or a "
            "new path"
        )


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: object) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def atomic_copy(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Copy a (small, regular) file atomically: the target is the old file or the whole new
    one."""
    atomic_write_bytes(target, read_limited(source, JSONL_LIMIT))


def append_line(path: str | os.PathLike, line: str) -> None:
    """Append one line with a single write() on an O_APPEND descriptor, then fsync.

    A kill can at worst leave a torn last line, which ``read_jsonl`` drops and
    ``repair_jsonl`` removes on resume.
    """
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    fd = os.open(path, flags, 0o644)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a plain file")
            raise ValueError(f"{path}: cannot append to it: not a regular file ({kind})")
        if info.st_size and os.pread(fd, 1, info.st_size - 1) != b"\n":
            data = b"\n" + data  # a torn last line (a kill mid-write) must not swallow this one
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_limited(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of ``path``, which must be a regular file (a symlink to one is fine) of at most
    ``limit`` bytes. A FIFO, a device (``/dev/zero``), a folder or a bigger file raises
    ValueError naming the file, before any read: never a hang, never an endless read.
    FileNotFoundError (and other OSError) pass through."""
    path = Path(path)
    # O_NONBLOCK: opening a FIFO with no writer would otherwise block forever
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a plain file")
            raise ValueError(f"{path}: cannot read it: not a regular file ({kind})")
        if info.st_size > limit:
            raise ValueError(
                f"{path}: cannot read it: {info.st_size} bytes, more than the "
                f"{limit // 2**20} MiB such a file can hold"
            )
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # a file that grows (or lies about its size) while we read
                raise ValueError(f"{path}: cannot read it: more than {limit // 2**20} MiB")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} (JSON has no NaN or Infinity)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} overflows a float")
    return value


def parse_json(data: bytes | str, source: str | os.PathLike) -> object:
    """Strict JSON (the only kind the project writes: no NaN / Infinity, finite numbers), any
    problem a ValueError ``<source>: not valid JSON (...)``; deep nesting included."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError(f"{source}: not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, the two refusals above
        raise ValueError(f"{source}: not valid JSON ({exc})") from None


def load_json_file(path: str | os.PathLike, limit: int = JSON_LIMIT) -> object:
    """A JSON file, strictly (``read_limited`` + ``parse_json``): ValueError naming the file
    when it is not a regular file, too big, or not valid JSON; OSError as it comes."""
    return parse_json(read_limited(path, limit), path)


def read_jsonl(path: str | os.PathLike, limit: int = JSONL_LIMIT) -> list[dict]:
    """Every complete JSON line of a file ([] when it is missing); a torn or unparsable line is
    skipped. A file that is not a regular file or is too big raises ValueError naming it."""
    rows = []
    try:
        text = read_limited(path, limit).decode("utf-8", errors="replace")
    except FileNotFoundError:
        return rows
    for line in text.splitlines():
        try:
            row = parse_json(line, path)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def read_json(path: str | os.PathLike) -> dict | None:
    """A JSON object file, or None when it is missing, unreadable, not a regular file, too big,
    not JSON or not an object (callers that must name the problem use ``load_json_file`` or
    ``core.weights.read_config``)."""
    try:
        data = load_json_file(path)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
