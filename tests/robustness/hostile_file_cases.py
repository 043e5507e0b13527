"""The hostile-input table, second half: weights files and data files (issue 8 §2)."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import torch
from hostile_support import (
    CIFAR_TRAIN,
    DATA_TRAIN,
    MNIST,
    RESUME,
    RUN,
    Case,
    _both,
    _deep_json,
    _edit_weights,
    _fifo,
    _first_float,
    _first_key,
    _gzip_bomb,
    _idx,
    _link,
    _npy,
    _pickle_bytes,
    _pickled_npy,
    _tarball,
    _truncate,
    _wider_weights,
    _with_labels,
    _write,
)

# --- the table --------------------------------------------------------------------------------

FILE_CASES = [
    # weights: truncated, wrong shapes/dtypes, missing/extra tensors, a pickle in disguise
    Case(
        "weights-missing",
        ["sample", RUN],
        ("model.safetensors: not found",),
        setup=lambda ws: (ws / RUN / "model.safetensors").unlink(),
    ),
    Case(
        "weights-truncated",
        ["sample", RUN],
        ("not a valid safetensors file",),
        setup=_truncate("model.safetensors"),
    ),
    Case(
        "weights-empty",
        ["sample", RUN],
        ("not a valid safetensors file",),
        setup=_write(f"{RUN}/model.safetensors", b""),
    ),
    Case(
        "weights-huge-header",
        ["sample", RUN],
        ("not a valid safetensors file",),
        setup=_write(f"{RUN}/model.safetensors", struct.pack("<Q", 1 << 60) + b"{}"),
    ),
    Case(
        "weights-pickle",
        ["sample", RUN],
        ("model.safetensors: not a valid safetensors",),
        setup=_write(f"{RUN}/model.safetensors", _pickle_bytes),
    ),
    Case(
        "weights-wrong-shapes",
        ["sample", RUN],
        ("weights do not match", "shape"),
        setup=_write(f"{RUN}/model.safetensors", _wider_weights),
    ),
    Case(
        "weights-int-dtype",
        ["sample", RUN],
        ("dtype torch.int32",),
        setup=_edit_weights(
            "model.safetensors",
            lambda s: s.update(
                {k: v.to(torch.int32) for k, v in s.items() if v.is_floating_point()}
            ),
        ),
    ),
    Case(
        "weights-int8-no-scale",
        ["sample", RUN],
        ("int8 tensors without their scale",),
        setup=_edit_weights(
            "model.safetensors",
            lambda s: s.update(
                {k: v.to(torch.int8) for k, v in s.items() if v.is_floating_point()}
            ),
        ),
    ),
    Case(
        "weights-float64",
        ["sample", RUN],
        ("expected float32 or float16",),
        setup=_edit_weights(
            "model.safetensors",
            lambda s: s.update({k: v.double() for k, v in s.items() if v.is_floating_point()}),
        ),
    ),
    Case(
        "weights-missing-tensor",
        ["sample", RUN],
        ("missing tensors",),
        setup=_edit_weights("model.safetensors", lambda s: s.pop(_first_float(s))),
    ),
    Case(
        "weights-extra-tensor",
        ["sample", RUN],
        ("unexpected tensors ['backdoor']",),
        setup=_edit_weights("model.safetensors", lambda s: s.update(backdoor=torch.zeros(2))),
    ),
    Case(
        "weights-nan",
        ["sample", RUN],
        ("holds NaN or Inf",),
        setup=_edit_weights("model.safetensors", lambda s: s[_first_float(s)].fill_(float("nan"))),
    ),
    Case(
        "checkpoint-truncated",
        RESUME,
        ("checkpoint.safetensors: not a valid safetensors",),
        setup=_truncate("checkpoint.safetensors"),
        writes_in=RUN,
    ),
    Case(
        "checkpoint-pickle",
        RESUME,
        ("checkpoint.safetensors: not a valid safetensors",),
        setup=_write(f"{RUN}/checkpoint.safetensors", _pickle_bytes),
        writes_in=RUN,
    ),
    Case(
        "checkpoint-no-rng",
        RESUME,
        ("checkpoint", "damaged", "delete it"),
        setup=_edit_weights("checkpoint.safetensors", lambda s: s.pop("rng.noise")),
        writes_in=RUN,
    ),
    Case(
        "checkpoint-no-metadata",
        RESUME,
        ("checkpoint metadata is incomplete",),
        setup=_edit_weights("checkpoint.safetensors", lambda s: None, meta={}),
        writes_in=RUN,
    ),
    Case(
        "checkpoint-wrong-shapes",
        RESUME,
        ("checkpoint.safetensors", "shape"),
        setup=_edit_weights(
            "checkpoint.safetensors", lambda s: s.update({_first_key(s, "model."): torch.zeros(3)})
        ),
        writes_in=RUN,
    ),
    Case(
        "checkpoint-adam-wrong-shape",
        RESUME,
        ("checkpoint", "opt_g", "shape", "delete it"),
        setup=_edit_weights(
            "checkpoint.safetensors", lambda s: s.update({_first_key(s, "opt_g."): torch.zeros(3)})
        ),
        writes_in=RUN,
    ),
    # data: missing root, truncated or wrong-magic idx, checksum mismatch, hostile npy
    Case("data-missing-root", DATA_TRAIN, ("'mnist' not found", "make data", "--data-root")),
    Case(
        "data-env-missing",
        [*DATA_TRAIN[:3], *DATA_TRAIN[5:]],
        ("not found", "$TGAN_DATA"),
        env={"TGAN_DATA": "nowhere"},
    ),
    Case("data-root-is-file", DATA_TRAIN, ("'mnist' not found",), setup=_write("data", b"x")),
    Case(
        "data-idx-truncated",
        DATA_TRAIN,
        ("train-images-idx3-ubyte", "truncated", "make data"),
        setup=_with_labels(
            f"{MNIST}/train-images-idx3-ubyte", _idx(2051, 10, (28, 28), payload=500)
        ),
    ),
    Case(
        "data-idx-tiny",
        DATA_TRAIN,
        ("truncated idx file (4 bytes)",),
        setup=_with_labels(f"{MNIST}/train-images-idx3-ubyte", b"\x00\x00\x08\x03"),
    ),
    Case(
        "data-idx-wrong-magic",
        DATA_TRAIN,
        ("not an idx file (magic 1234", "make data"),
        setup=_with_labels(f"{MNIST}/train-images-idx3-ubyte", _idx(1234, 10, (28, 28))),
    ),
    Case(
        "data-idx-bad-gzip",
        DATA_TRAIN,
        ("train-images-idx3-ubyte.gz: cannot read",),
        setup=_with_labels(f"{MNIST}/train-images-idx3-ubyte.gz", b"\x1f\x8bnot gzip"),
    ),
    Case(
        "data-idx-checksum",
        DATA_TRAIN,
        ("checksum mismatch", "make data"),
        setup=_with_labels(
            f"{MNIST}/train-images-idx3-ubyte.gz", gzip.compress(_idx(2051, 10, (28, 28)))
        ),
    ),
    Case(
        "data-labels-missing",
        DATA_TRAIN,
        ("'mnist' not found", "train-labels-idx1-ubyte"),
        setup=_write(f"{MNIST}/train-images-idx3-ubyte", _idx(2051, 10, (28, 28))),
    ),
    Case(
        "data-idx-oversized",
        DATA_TRAIN,
        ("truncated or oversized", "expected 7840"),
        setup=_with_labels(
            f"{MNIST}/train-images-idx3-ubyte", _idx(2051, 10, (28, 28), payload=9000)
        ),
    ),
    Case(
        "data-cifar-pickled-npy",
        CIFAR_TRAIN,
        ("cifar10", "unreadable", "allow_pickle"),
        setup=_both(
            _write("data/cifar10/x_train.npy", _pickled_npy),
            _write("data/cifar10/y_train.npy", _npy(np.zeros(1, np.int64))),
        ),
    ),
    Case(
        "data-cifar-wrong-dtype",
        CIFAR_TRAIN,
        ("x_train.npy: expected uint8",),
        setup=_both(
            _write("data/cifar10/x_train.npy", _npy(np.zeros((2, 32, 32, 3)))),
            _write("data/cifar10/y_train.npy", _npy(np.zeros(2, np.int64))),
        ),
    ),
    # files that are not what they claim: special files, endless streams, pathological JSON
    Case(
        "config-fifo",
        ["sample", RUN],
        ("config.json: cannot read it: not a regular file (a FIFO)",),
        setup=_fifo(f"{RUN}/config.json"),
    ),
    Case(
        "config-link-to-dev-zero",
        ["sample", RUN],
        ("config.json: cannot read it: not a regular file (a character device)",),
        setup=_link(f"{RUN}/config.json", "/dev/zero"),
    ),
    Case(
        "config-deep-nesting",
        ["sample", RUN],
        ("config.json: not valid JSON (nested too deeply)",),
        setup=_write(f"{RUN}/config.json", _deep_json()),
    ),
    Case(
        "config-huge-number",
        ["sample", RUN],
        ("config.json: not valid JSON",),
        setup=_write(f"{RUN}/config.json", b'{"format_version": ' + b"9" * 100_000 + b"}"),
    ),
    Case(
        "config-too-big",
        ["sample", RUN],
        ("config.json: cannot read it", "16 MiB"),
        setup=_write(f"{RUN}/config.json", b'{"pad": "' + b"x" * (17 << 20) + b'"}'),
    ),
    Case(
        "weights-fifo",
        ["sample", RUN],
        ("model.safetensors: cannot read it: not a regular file (a FIFO)",),
        setup=_fifo(f"{RUN}/model.safetensors"),
    ),
    Case(
        "weights-link-to-dev-zero",
        ["sample", RUN],
        ("model.safetensors: cannot read it: not a regular file (a character device)",),
        setup=_link(f"{RUN}/model.safetensors", "/dev/zero"),
    ),
    Case(
        "checkpoint-link-to-dev-urandom",
        RESUME,
        ("checkpoint.safetensors", "resolves to /dev/urandom"),
        setup=_link(f"{RUN}/checkpoint.safetensors", "/dev/urandom"),
        writes_in=RUN,
    ),
    Case(
        "checkpoint-fifo",
        RESUME,
        ("checkpoint.safetensors: cannot read it: not a regular file (a FIFO)",),
        setup=_fifo(f"{RUN}/checkpoint.safetensors"),
        writes_in=RUN,
    ),
    Case(
        "stats-fifo",
        RESUME,
        ("stats.jsonl: cannot read it: not a regular file (a FIFO)",),
        setup=_fifo(f"{RUN}/stats.jsonl"),
        writes_in=RUN,
    ),
    # data: loops, labels out of range, broken CIFAR folders and tarballs, bombs, offline
    Case(
        "data-root-symlink-loop",
        DATA_TRAIN,
        ("--data-root", "symlink loop"),
        setup=_link("data", "data"),
    ),
    Case(
        "data-env-symlink-loop",
        [*DATA_TRAIN[:3], *DATA_TRAIN[5:]],
        ("$TGAN_DATA", "symlink loop"),
        setup=_link("data", "data"),
        env={"TGAN_DATA": "data"},
    ),
    *(
        Case(
            f"data-cifar-labels-{tag}",
            CIFAR_TRAIN,
            ("y_train.npy", "labels must be whole numbers in [0, 9]"),
            setup=_both(
                _write("data/cifar10/x_train.npy", _npy(np.zeros((20, 32, 32, 3), np.uint8))),
                _write("data/cifar10/y_train.npy", _npy(labels)),
            ),
        )
        for tag, labels in (
            ("too-big", np.arange(20) % 11),
            ("negative", np.arange(20) % 10 - 1),
            ("float", np.arange(20) % 10 + 0.5),
        )
    ),
    Case(
        "data-cifar-npy-lies-about-its-shape",
        CIFAR_TRAIN,
        ("x_train.npy", "unreadable"),
        setup=_both(
            _write(
                "data/cifar10/x_train.npy",
                lambda ws: _npy(np.zeros((2, 32, 32, 3), np.uint8)).replace(b"(2,", b"(9999999,"),
            ),
            _write("data/cifar10/y_train.npy", _npy(np.zeros(2, np.int64))),
        ),
    ),
    Case(
        "data-cifar-batches-corrupt",
        CIFAR_TRAIN,
        ("cifar-10-batches-py", "make data"),
        setup=_write("data/cifar-10-batches-py/data_batch_1", b"not a pickle"),
    ),
    Case(
        "data-cifar-tarball-not-a-tarball",
        ["data", "cifar10", "--data-root", "data", "--cifar-tarball", "x.tgz"],
        ("--cifar-tarball x.tgz", "not a gzipped tar"),
        setup=_both(_write("x.tgz", b"hello"), _write("data/keep", b"")),
    ),
    Case(
        "data-cifar-tarball-missing-members",
        ["data", "cifar10", "--data-root", "data", "--cifar-tarball", "x.tgz"],
        ("--cifar-tarball x.tgz", "package/train_lables.json"),
        setup=_both(_write("x.tgz", _tarball({"package/README": b"hi"})), _write("data/keep", b"")),
    ),
    Case(
        "data-cifar-tarball-missing",
        ["data", "cifar10", "--data-root", "data", "--cifar-tarball", "nope.tgz"],
        ("--cifar-tarball nope.tgz", "not found"),
        setup=_write("data/keep", b""),
    ),
    Case(
        "data-idx-gzip-bomb",
        DATA_TRAIN,
        ("train-images-idx3-ubyte.gz", "inflates to more than"),
        setup=_with_labels(f"{MNIST}/train-images-idx3-ubyte.gz", _gzip_bomb),
    ),
    Case(
        "data-mnist-from-missing-offline",
        ["data", "mnist", "--data-root", "data", "--mnist-from", "/nonexistent"],
        ("--mnist-from /nonexistent", "four"),
        setup=_write("data/keep", b""),
        env={"TGAN_OFFLINE": "1"},
    ),
    Case(
        "data-offline-nothing-to-copy",
        ["data", "mnist", "--data-root", "data"],
        ("TGAN_OFFLINE", "--mnist-from"),
        setup=_write("data/keep", b""),
        env={"TGAN_OFFLINE": "1"},
    ),
]
