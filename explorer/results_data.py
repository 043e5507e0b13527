"""Reading the zoo's results for the Results page: the metrics CSV written next to RESULTS.md
(wide: one row per model, ``<metric>`` and ``<metric>_std`` columns; or long: ``model``,
``metric``, ``mean``, ``std``), else the per-model ``metrics.json`` files; and the claims'
verdicts from the claims.json that ``python -m core report`` writes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from core.evaluate.claims import CLAIMS_NAME, Claim, read_claims
from core.zoo.discover import NOT_MODELS

SPREAD_SUFFIXES = ("_std", "_err", "_sd", "_ci")
NAME_COLUMNS = ("model", "entry", "name", "run")
# Bookkeeping numbers, not scores: never offered as the chart's metric.
NOT_METRICS = ("n_samples", "n_seeds", "steps", "regime", "seed")
# The chart opens on the first of these that the table has (a score a class can read).
PREFERRED_METRICS = ("is_mean", "is", "is10k", "fidelity_mean", "fidelity")
LABEL_CHARS = 32  # a bar's label; the full name is in its hover


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
    found = [
        str(c)
        for c in table.columns
        if c != name
        and str(c).lower() not in NOT_METRICS
        and pd.api.types.is_numeric_dtype(table[c])
        and not str(c).endswith(SPREAD_SUFFIXES)
    ]
    # the preferred score first: it is the chart's default
    first = next((m for m in PREFERRED_METRICS if m in found), None)
    return [first, *(m for m in found if m != first)] if first else found


def error_column(table: pd.DataFrame, metric: str) -> str | None:
    """The spread column of ``metric``: ``is`` -> ``is_std``; ``is_mean`` -> ``is_err`` (the
    report's CSV names a mean ``<m>_mean`` and its spread ``<m>_err``)."""
    bases = [metric]
    if metric.endswith("_mean"):
        bases.append(metric[: -len("_mean")])
    for base in bases:
        for suffix in SPREAD_SUFFIXES:
            if base + suffix in table.columns:
                return base + suffix
    return None


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (the hover keeps it whole)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def bar_rows(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The chart's rows for ``metric``: data set (``"-"`` when the table has none), a short
    label, the full name (model, regime), the value and its spread (NaN when none); rows
    without a value are left out, data sets keep the table's order."""
    name = name_column(table)
    cols = {str(c).lower(): c for c in table.columns}
    sub = table.dropna(subset=[metric])
    names = sub[name].astype(str).tolist()
    regimes = sub[cols["regime"]].astype(str).tolist() if "regime" in cols else [""] * len(names)
    suffixes = ["" if r in ("-", "", "nan") else f" ({r})" for r in regimes]
    full = [n + s for n, s in zip(names, suffixes, strict=True)]
    err = error_column(table, metric)
    datasets = sub[cols["dataset"]].astype(str).tolist() if "dataset" in cols else ["-"] * len(sub)
    labels, seen = [], set()
    for dataset, text, suffix in zip(datasets, names, suffixes, strict=True):
        label, k = short_label(text, LABEL_CHARS - len(suffix)) + suffix, 1
        while (dataset, label) in seen:  # two long names cut alike must not share a bar
            k += 1
            tag = f" #{k}{suffix}"
            label = short_label(text, LABEL_CHARS - len(tag)) + tag
        seen.add((dataset, label))
        labels.append(label)
    return pd.DataFrame(
        {
            "dataset": datasets,
            "label": labels,
            "full": full,
            "value": sub[metric].astype(float).to_numpy(),
            "err": sub[err].astype(float).to_numpy() if err else float("nan"),
        }
    ).reset_index(drop=True)


def claims(root: Path) -> list[Claim]:
    """The paper's claims with our verdicts, from the claims.json ``python -m core report``
    writes beside RESULTS.md ([] when there is none)."""
    return read_claims(root / CLAIMS_NAME)


def metric_figure(table: pd.DataFrame, metric: str) -> go.Figure:
    """Bars of ``metric`` per model, one group per data set (scores are comparable only under
    one judge), with +- error bars when the table has a spread column for it."""
    err = error_column(table, metric)
    rows = bar_rows(table, metric)
    fig = go.Figure()
    for dataset in dict.fromkeys(rows["dataset"]):
        part = rows[rows["dataset"] == dataset]
        fig.add_bar(
            name=dataset,
            x=[part["dataset"].tolist(), part["label"].tolist()],
            y=part["value"],
            error_y=dict(type="data", array=part["err"], visible=True) if err else None,
            customdata=part["full"],
            hovertemplate="%{customdata}<br>%{y:.4g}<extra>" + dataset + "</extra>",
        )
    fig.update_layout(
        yaxis_title=metric + (f" (bars: +- {err})" if err else ""),
        height=600,
        margin=dict(t=20, b=300),  # room for the labels and the data set names under them
        xaxis=dict(automargin=False, tickangle=-90),
        legend_title_text="data set",
    )
    return fig
