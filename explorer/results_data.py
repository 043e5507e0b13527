"""Reading the zoo's results for the Results page: the metrics CSV written next to RESULTS.md
(wide: one row per model, ``<metric>`` and ``<metric>_std`` columns; or long: ``model``,
``metric``, ``mean``, ``std``), else the per-model ``metrics.json`` files; and the claims'
verdicts from the claims.json that ``python -m core report`` writes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from core.evaluate.claims import CLAIMS_NAME, Claim, read_claims
from core.zoo.discover import NOT_MODELS

SPREAD_SUFFIXES = ("_std", "_err", "_sd", "_ci")
NAME_COLUMNS = ("model", "entry", "name", "run")


def _flatten(prefix: str, value: object, out: dict) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        out[prefix] = float(value)
    elif isinstance(value, dict):
        if "mean" in value and isinstance(value["mean"], int | float):
            out[prefix] = float(value["mean"])
            if isinstance(value.get("std"), int | float):
                out[prefix + "_std"] = float(value["std"])
            return
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)


def _from_metrics_json(root: Path) -> pd.DataFrame | None:
    rows = []
    for path in sorted(root.glob("*/metrics.json")):
        if path.parent.name in NOT_MODELS:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        row: dict = {"model": path.parent.name}
        _flatten("", data, row)
        rows.append(row)
    return pd.DataFrame(rows) if rows else None


def metrics_table(root: Path) -> pd.DataFrame | None:
    """The zoo's metrics as one wide table (a name column first), or None when nothing exists."""
    csvs = sorted(root.glob("*.csv"), key=lambda p: (p.name != "results.csv", p.name))
    for path in csvs:
        try:
            table = pd.read_csv(path)
        except (OSError, ValueError, pd.errors.ParserError):
            continue
        if table.empty:
            continue
        cols = {c.lower(): c for c in table.columns}
        if {"metric", "mean"} <= set(cols) and name_column(table) in table.columns:
            name = name_column(table)
            wide = table.pivot_table(index=name, columns=cols["metric"], values=cols["mean"])
            if "std" in cols:
                spread = table.pivot_table(index=name, columns=cols["metric"], values=cols["std"])
                spread.columns = [f"{c}_std" for c in spread.columns]
                wide = wide.join(spread)
            return wide.reset_index()
        return table
    return _from_metrics_json(root)


def name_column(table: pd.DataFrame) -> str:
    for c in table.columns:
        if str(c).lower() in NAME_COLUMNS:
            return str(c)
    return str(table.columns[0])


def metric_columns(table: pd.DataFrame) -> list[str]:
    """Numeric columns that are metrics (not spreads, not the name)."""
    name = name_column(table)
    return [
        str(c)
        for c in table.columns
        if c != name
        and pd.api.types.is_numeric_dtype(table[c])
        and not str(c).endswith(SPREAD_SUFFIXES)
    ]


def error_column(table: pd.DataFrame, metric: str) -> str | None:
    for suffix in SPREAD_SUFFIXES:
        if metric + suffix in table.columns:
            return metric + suffix
    return None


def claims(root: Path) -> list[Claim]:
    """The paper's claims with our verdicts, from the claims.json ``python -m core report``
    writes beside RESULTS.md ([] when there is none)."""
    return read_claims(root / CLAIMS_NAME)
