"""core/atomic.py: the guarded readers every project file goes through, and the temp-file names
a cleanup may delete."""

from __future__ import annotations

import json
import os
import tempfile

import pytest

from core.atomic import (
    append_line,
    check_write_target,
    load_json_file,
    own_temp_files,
    parse_json,
    read_jsonl,
    read_limited,
)


def test_a_fifo_is_refused_at_once_not_read(tmp_path):
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)  # nobody writes to it: a plain open() would block forever
    with pytest.raises(ValueError, match=r"config\.json: cannot read it: not a regular file"):
        load_json_file(fifo)
    with pytest.raises(ValueError, match="a FIFO"):
        read_jsonl(fifo)


def test_an_endless_stream_is_refused_before_any_read(tmp_path):
    link = tmp_path / "model.safetensors"
    link.symlink_to("/dev/zero")
    with pytest.raises(ValueError, match="a character device"):
        read_limited(link, 1 << 20)


def test_a_file_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b"0" * 2049)
    assert read_limited(path, 2049) == b"0" * 2049
    with pytest.raises(ValueError, match="2049 bytes"):
        read_limited(path, 2048)


@pytest.mark.parametrize(
    "text, why",
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"df": Infinity}', "Infinity"),
        ('{"df": NaN}', "NaN"),
        ('{"df": 1e999}', "overflows"),
        ('{"n": ' + "9" * 5000 + "}", "not valid JSON"),
        (b"\xff{}", "not valid JSON"),
    ],
)
def test_pathological_json_is_one_value_error_naming_the_file(text, why):
    with pytest.raises(ValueError, match=why) as info:
        parse_json(text, "runs/x/config.json")
    assert str(info.value).startswith("runs/x/config.json: not valid JSON")


def test_strict_json_still_reads_what_the_project_writes():
    data = {"a": [1, 2.5, -3e-7, None, True, "x"], "b": {"c": 10**30}}
    assert parse_json(json.dumps(data, allow_nan=False), "f") == data


def test_an_append_after_a_torn_line_keeps_both_lines_apart(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"n": 1}\n{"n": 2, "tor')  # a kill cut the second line short
    append_line(path, json.dumps({"n": 3}))
    assert read_jsonl(path) == [{"n": 1}, {"n": 3}]
    assert path.read_text().endswith('{"n": 3}\n')


def test_own_temp_files_match_the_names_atomic_writes_use_and_nothing_else(tmp_path):
    ours = []
    for name in ("metrics.json", "stats.jsonl", "metrics.json"):
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=tmp_path)
        os.close(fd)
        ours.append(os.path.basename(tmp))
    theirs = [".notes.tmp", ".metrics.json.bak.tmp", ".metrics.json.ABCDEFGH.tmp", "metrics.json"]
    for name in theirs:
        (tmp_path / name).write_text("keep")
    found = sorted(p.name for p in own_temp_files(tmp_path, r"metrics\.json|stats\.jsonl"))
    assert found == sorted(ours)


@pytest.mark.parametrize("kind", ["fifo", "symlink", "folder"])
def test_a_write_target_must_be_new_or_a_regular_file(kind, tmp_path):
    target = tmp_path / "out.png"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        target.symlink_to(tmp_path / "elsewhere.png")
    else:
        target.mkdir()
    with pytest.raises(ValueError, match=r"--out .*out\.png"):
        check_write_target(target, "--out")
    check_write_target(tmp_path / "new.png", "--out")
    (tmp_path / "file.png").write_bytes(b"")
    check_write_target(tmp_path / "file.png", "--out")
