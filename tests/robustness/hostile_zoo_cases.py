"""The hostile-input table, third part (issue 23): the module command lines (``python -m
core.reproduce``, ``embed``, ``report``), run-dir names and ``sample --out`` targets."""

from __future__ import annotations

import json

from hostile_support import RUN, TRAIN, Case, _deep_json, _fifo, _link, _write

ZOO = "core.reproduce"
ZOO_RUN = "runs/zoo/gan-mnist-500-s0"  # where ``ship gan-mnist-500`` looks for seed 0
REPORT = ["report", "runs", "--out", "R.md", "--csv", "r.csv"]


def _metrics_without(key: str):
    row = {
        "format_version": 1,
        "kind": "model",
        "model": "tgan",
        "dataset": "fake",
        "regime": "100",
        "judge": "j",
        "n_samples": 20,
        "evaluated_at": "2026-01-01T00:00:00Z",
        "metrics": {},
    }
    row.pop(key)
    return _write(f"{RUN}/metrics.json", json.dumps(row).encode())


def _copy_run_to_zoo(ws) -> None:
    import shutil

    shutil.copytree(ws / RUN, ws / ZOO_RUN)


ZOO_AND_PATH_CASES = [
    # python -m core.reproduce: the same one-line funnel as python -m core
    Case("zoo-unknown-entry", ["ship", "no-such-entry"], ("'no-such-entry'",), module=ZOO),
    Case("zoo-seeds-not-int", ["ship", "gan-mnist-500", "--seeds", "a"], ("--seeds",), module=ZOO),
    Case("zoo-seeds-empty", ["ship", "gan-mnist-500", "--seeds", ""], ("--seeds",), module=ZOO),
    Case("zoo-seeds-minus", ["ship", "gan-mnist-500", "--seeds", "-1"], ("--seeds",), module=ZOO),
    Case("zoo-unknown-action", ["fly"], ("invalid choice: 'fly'",), module=ZOO),
    Case("zoo-no-entries", ["ship"], ("name the entries",), module=ZOO),
    Case("zoo-jobs-zero", ["batch", "all", "--jobs", "0"], ("--jobs",), module=ZOO),
    Case(
        "zoo-ship-untrained",
        ["ship", "gan-mnist-500"],
        ("not a finished run", "python -m core.reproduce train gan-mnist-500"),
        module=ZOO,
    ),
    Case(
        "zoo-ship-config-deep",
        ["ship", "gan-mnist-500"],
        ("config.json: not valid JSON (nested too deeply)",),
        setup=lambda ws: _copy_run_to_zoo(ws) or _write(f"{ZOO_RUN}/config.json", _deep_json())(ws),
        module=ZOO,
    ),
    Case(
        "zoo-ship-summary-fifo",
        ["ship", "gan-mnist-500"],
        ("summary.json", "not a regular file (a FIFO)"),
        setup=lambda ws: _copy_run_to_zoo(ws) or _fifo(f"{ZOO_RUN}/summary.json")(ws),
        module=ZOO,
    ),
    Case(
        "zoo-repack-unshipped",
        ["repack", "gan-mnist-500"],
        ("not a shipped entry", "ship it first"),
        module=ZOO,
    ),
    # embed and report
    Case("embed-missing-folder", ["embed", "runs/nothing"], ("config.json: not found",)),
    Case("embed-n-zero", ["embed", RUN, "--n", "0"], ("--n", ">= 1")),
    Case("embed-n-one", ["embed", RUN, "--n", "1"], ("--n 1", "2 to")),
    Case("embed-n-huge", ["embed", RUN, "--n", "10000000"], ("--n", "at most")),
    Case(
        "report-metrics-no-kind",
        REPORT,
        ("runs/run/metrics.json", "'kind'", "python -m core evaluate"),
        setup=_metrics_without("kind"),
    ),
    Case(
        "report-metrics-no-judge",
        REPORT,
        ("runs/run/metrics.json", "'judge'"),
        setup=_metrics_without("judge"),
    ),
    Case(
        "report-metrics-deep",
        REPORT,
        ("metrics.json: not valid JSON (nested too deeply)",),
        setup=_write(f"{RUN}/metrics.json", _deep_json()),
    ),
    Case(
        "report-metrics-fifo",
        REPORT,
        ("metrics.json", "not a regular file (a FIFO)"),
        setup=_fifo(f"{RUN}/metrics.json"),
    ),
    # run-dir names: .. out of the runs root, control characters
    Case(
        "cli-run-dir-dotdot-escape",
        [*TRAIN[:-1], "runs/../../elsewhere"],
        ("--run-dir", "outside"),
    ),
    Case(
        "cli-run-dir-newline",
        [*TRAIN[:-1], "runs/bad\nname"],
        ("--run-dir", "control character"),
    ),
    Case(
        "sample-folder-newline",
        ["sample", "runs/no\nthing"],
        ("runs/no thing/config.json: not found",),
    ),
    # sample --out: a regular file or a new path, nothing else
    Case(
        "sample-out-fifo",
        ["sample", RUN, "--out", "pipe.png"],
        ("--out pipe.png", "not a regular file"),
        setup=_fifo("pipe.png"),
    ),
    Case(
        "sample-out-link-to-device",
        ["sample", RUN, "--out", "null.png"],
        ("--out null.png", "symlink"),
        setup=_link("null.png", "/dev/null"),
    ),
    Case(
        "sample-out-link-to-proc-fd",
        ["sample", RUN, "--out", "fd.png"],
        ("--out fd.png", "symlink"),
        setup=_link("fd.png", "/proc/self/fd/2"),
    ),
    Case(
        "sample-out-link-to-file",
        ["sample", RUN, "--out", "other.png"],
        ("--out other.png", "symlink"),
        setup=lambda ws: _write("real.png", b"keep")(ws) or _link("other.png", "real.png")(ws),
    ),
    Case(
        "sample-out-folder",
        ["sample", RUN, "--out", "runs"],
        ("--out runs", "a folder"),
    ),
]
