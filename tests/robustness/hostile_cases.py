"""The hostile-input table, first half: command-line options and config.json (issue 8 §2).
Each row: a command, the words its one ``error:`` line must hold, the surgery that makes the
input hostile."""

from __future__ import annotations

from hostile_support import (
    RESUME,
    RUN,
    TRAIN,
    Case,
    _config_literal,
    _edit_config,
    _symlink_out,
    _write,
)

# --- the table --------------------------------------------------------------------------------

CLI_AND_CONFIG_CASES = [
    # CLI options: unknown, wrong type, out of range, missing value, bad choice
    Case("cli-unknown-option", [*TRAIN, "--dof", "3"], ("unrecognized arguments: --dof",)),
    Case("cli-no-command", [], ("required: COMMAND",)),
    Case("cli-unknown-command", ["fly"], ("invalid choice: 'fly'",)),
    Case("cli-steps-not-int", [*TRAIN, "--steps", "abc"], ("--steps", "whole number")),
    Case("cli-steps-zero", [*TRAIN, "--steps", "0"], ("--steps", ">= 1")),
    Case("cli-width-float", [*TRAIN, "--width", "1.5"], ("--width", "whole number")),
    Case("cli-lr-negative", [*TRAIN, "--lr", "-1"], ("--lr", "> 0")),
    Case("cli-lr-nan", [*TRAIN, "--lr", "nan"], ("--lr", "finite")),
    Case("cli-df-inf", [*TRAIN, "--df", "inf"], ("--df", "finite")),
    Case("cli-seed-negative", [*TRAIN, "--seed", "-5"], ("--seed", ">= 0")),
    Case("cli-missing-value", [*TRAIN, "--batch-size"], ("--batch-size", "expected one argument")),
    Case("cli-beta1-out-of-range", [*TRAIN, "--beta1", "1.5"], ("betas", "--beta1")),
    Case("cli-unknown-model", [*TRAIN, "--model", "vae"], ("unknown model 'vae'", "choose one")),
    Case("cli-unknown-dataset", [*TRAIN, "--dataset", "svhn"], ("unknown data set 'svhn'",)),
    Case("cli-unknown-prior", [*TRAIN, "--prior", "cauchy"], ("prior must be one of",)),
    Case("cli-bad-conditioning", [*TRAIN, "--conditioning", "x"], ("conditioning must be one",)),
    Case("cli-bad-device", [*TRAIN, "--device", "tpu"], ("--device 'tpu'", "cpu")),
    Case("cli-n-train-not-balanced", [*TRAIN, "--n-train", "15"], ("--n-train 15", "multiple")),
    Case("cli-batch-too-big", [*TRAIN, "--batch-size", "500"], ("--batch-size 500", "exceeds")),
    Case("cli-resume-without-run-dir", ["train", "--resume"], ("--resume needs --run-dir",)),
    Case("cli-run-exists", [*TRAIN[:-1], RUN], ("already holds a run", "--resume")),
    Case(
        "cli-resume-changed-option", [*RESUME, "--df", "9"], ("differ", "model.df"), writes_in=RUN
    ),
    Case(
        "cli-run-dir-symlink-escape",
        [*TRAIN[:-1], "runs/escape/r"],
        ("--run-dir", "outside"),
        setup=_symlink_out,
    ),
    Case(
        "cli-run-dir-is-a-file",
        [*TRAIN[:-1], "afile"],
        ("afile", "--run-dir"),
        setup=_write("afile", b"x"),
    ),
    Case(
        "cli-stats-symlink-escape",
        RESUME,
        ("stats.jsonl", "outside"),
        setup=lambda ws: (
            (ws / RUN / "stats.jsonl").unlink()
            or (ws / RUN / "stats.jsonl").symlink_to(ws / "victim.txt")
        ),
    ),
    Case("cli-sample-bad-seeds", ["sample", RUN, "--seeds", "5-1"], ("cannot read seeds '5-1'",)),
    Case("cli-sample-label-range", ["sample", RUN, "--labels", "99"], ("must be in [0, 9]",)),
    Case("cli-sample-label-type", ["sample", RUN, "--labels", "a,b"], ("--labels 'a,b'",)),
    Case(
        "cli-sample-label-count",
        ["sample", RUN, "--seeds", "0-2", "--labels", "1,2"],
        ("3 seeds but 2 labels",),
    ),
    Case("cli-sample-component", ["sample", RUN, "--component", "999"], ("component must be",)),
    Case("cli-sample-scale-zero", ["sample", RUN, "--scale", "0"], ("--scale", "> 0")),
    Case("cli-sample-no-cuda", ["sample", RUN, "--device", "cuda:7"], ("--device cuda:7",)),
    Case(
        "cli-sample-bad-out",
        ["sample", RUN, "--out", "nowhere/x.png"],
        ("--out nowhere/x.png", "writable"),
    ),
    Case("cli-sample-missing-folder", ["sample", "runs/nothing"], ("config.json: not found",)),
    # config.json: broken, missing/extra keys, wrong types, future format
    Case(
        "config-not-json",
        ["sample", RUN],
        ("config.json: not valid JSON",),
        setup=_write(f"{RUN}/config.json", b"{nope"),
    ),
    Case(
        "config-not-utf8",
        ["sample", RUN],
        ("config.json: not valid JSON",),
        setup=_write(f"{RUN}/config.json", b"\xff\xfe{}"),
    ),
    Case(
        "config-a-list",
        ["sample", RUN],
        ("expected a JSON object",),
        setup=_write(f"{RUN}/config.json", b"[1, 2]"),
    ),
    Case(
        "config-is-a-folder",
        ["sample", RUN],
        ("config.json: cannot read",),
        setup=lambda ws: (ws / RUN / "config.json").unlink() or (ws / RUN / "config.json").mkdir(),
    ),
    Case(
        "config-no-version",
        ["sample", RUN],
        ("'format_version'",),
        setup=_edit_config(RUN, lambda c: c.pop("format_version")),
    ),
    Case(
        "config-version-string",
        ["sample", RUN],
        ("non-integer 'format_version'",),
        setup=_edit_config(RUN, lambda c: c.update(format_version="1")),
    ),
    Case(
        "config-future-version",
        ["sample", RUN],
        ("format_version 99 is newer", "update"),
        setup=_edit_config(RUN, lambda c: c.update(format_version=99)),
    ),
    Case(
        "config-no-model",
        ["sample", RUN],
        ("missing the 'model' block",),
        setup=_edit_config(RUN, lambda c: c.pop("model")),
    ),
    Case(
        "config-model-missing-key",
        ["sample", RUN],
        ("missing model key(s) ['n_classes']",),
        setup=_edit_config(RUN, lambda c: c["model"].pop("n_classes")),
    ),
    Case(
        "config-model-extra-key",
        ["sample", RUN],
        ("unknown model key(s) ['depth']",),
        setup=_edit_config(RUN, lambda c: c["model"].update(depth=3)),
    ),
    Case(
        "config-model-wrong-type",
        ["sample", RUN],
        ("'width' must be int",),
        setup=_edit_config(RUN, lambda c: c["model"].update(width="8")),
    ),
    Case(
        "config-model-bool-as-int",
        ["sample", RUN],
        ("'latent_dim' must be int",),
        setup=_edit_config(RUN, lambda c: c["model"].update(latent_dim=True)),
    ),
    Case(
        "config-model-bad-value",
        ["sample", RUN],
        ("prior must be one of",),
        setup=_edit_config(RUN, lambda c: c["model"].update(prior="cauchy")),
    ),
    Case(
        "config-model-not-object",
        ["sample", RUN],
        ("the 'model' block must be a JSON object",),
        setup=_edit_config(RUN, lambda c: c.update(model=[1])),
    ),
    Case(
        "config-train-extra-key",
        RESUME,
        ("unknown train key(s) ['epochs']",),
        setup=_edit_config(RUN, lambda c: c["train"].update(epochs=3)),
    ),
    Case(
        "config-train-wrong-type",
        RESUME,
        ("train key 'seed' must be int",),
        setup=_edit_config(RUN, lambda c: c["train"].update(seed="0")),
    ),
    Case(
        "config-train-not-object",
        RESUME,
        ("'train' block must be a JSON object",),
        setup=_edit_config(RUN, lambda c: c.update(train=None)),
    ),
    Case(
        "config-overrides-not-object",
        RESUME,
        ("'model_overrides' must be a JSON object",),
        setup=_edit_config(RUN, lambda c: c.update(model_overrides=[])),
    ),
    # config.json values that size allocations: bounded, and checked before anything is built
    *(
        Case(
            f"config-{key.replace('_', '-')}-{tag}",
            ["sample", RUN],
            (f"{RUN}/config.json", f"{key} must be in [1, "),
            setup=_edit_config(RUN, lambda c, k=key, v=value: c["model"].update({k: v})),
        )
        for key, value, tag in (
            ("latent_dim", 150_000, "150000"),
            ("latent_dim", 10**9, "1e9"),
            ("width", 10**9, "1e9"),
            ("n_components", 10**9, "1e9"),
            ("codeword_dim", 10**9, "1e9"),
            ("n_classes", 10**12, "1e12"),
            ("n_classes", -3, "negative"),
        )
    ),
    Case(
        "config-image-shape-string",
        ["sample", RUN],
        ("config.json", "image_shape must be"),
        setup=_edit_config(RUN, lambda c: c["model"].update(image_shape="abc")),
    ),
    Case(
        "config-image-shape-huge",
        ["sample", RUN],
        ("config.json", "image_shape must be"),
        setup=_edit_config(RUN, lambda c: c["model"].update(image_shape=[1, 10**6, 10**6])),
    ),
    Case(
        "config-model-too-big-in-all",
        ["sample", RUN],
        ("config.json", "more than", "width, latent_dim"),
        setup=_edit_config(
            RUN, lambda c: c["model"].update(width=1024, latent_dim=4096, n_components=10_000)
        ),
    ),
    Case(
        "config-df-infinity",
        ["sample", RUN],
        ("config.json: not valid JSON", "Infinity"),
        setup=_config_literal("df", "Infinity"),
    ),
    Case(
        "config-df-overflow",
        ["sample", RUN],
        ("config.json: not valid JSON", "overflows"),
        setup=_config_literal("df", "1e999"),
    ),
    Case(
        "config-df-negative",
        ["sample", RUN],
        ("config.json", "tmix needs df > 0"),
        setup=_config_literal("df", "-2.5"),
    ),
    Case(
        "config-sigma-init-zero",
        ["sample", RUN],
        ("config.json", "sigma_init must be > 0"),
        setup=_config_literal("sigma_init", "0"),
    ),
    # evaluate reads the train block too: it is checked before any sample is drawn
    Case(
        "evaluate-train-not-object",
        ["evaluate", RUN, "--n", "20"],
        ("config.json", "'train' block must be a JSON object"),
        setup=_edit_config(RUN, lambda c: c.update(train=[1])),
    ),
    Case(
        "evaluate-n-train-string",
        ["evaluate", RUN, "--n", "20"],
        ("config.json", "train key 'n_train' must be int"),
        setup=_edit_config(RUN, lambda c: c["train"].update(n_train="abc")),
    ),
    Case(
        "evaluate-df-infinity",
        ["evaluate", RUN, "--n", "20"],
        ("config.json: not valid JSON", "Infinity"),
        setup=_config_literal("df", "Infinity"),
    ),
    Case(
        "evaluate-codeword-sd-infinity",
        ["evaluate", RUN, "--n", "20"],
        ("config.json: not valid JSON", "Infinity"),
        setup=_config_literal("codeword_sd", "Infinity"),
    ),
    Case(
        "evaluate-no-judge",
        ["evaluate", RUN, "--n", "20"],
        ("judge",),
    ),
]
