"""Page state in the URL query string: every page declares its parameters (name, type, range or
choices, default); values in the URL are validated, a bad one gives a one-line ``st.error`` and the
page falls back to the default; widgets are seeded from the validated values and the URL is
rewritten from the widgets after each run, so a shared link opens exactly that view.

Run directories named in the URL or a form must resolve inside the configured roots (runs/,
pretrained/), symlinks followed (``core.paths.resolve_inside``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from core.paths import PathError, display_path, resolve_inside
from explorer import presenter
from explorer.space_link import share_with_parent

MAX_VALUE_CHARS = 200  # a URL value longer than this is refused outright (e.g. 10 kB strings)


@dataclass(frozen=True)
class Param:
    """One URL parameter. kind: "choice" (one of ``choices``), "int", "float" (inclusive
    [lo, hi]), "bool" ("0"/"1"), "path" (a run directory inside ``roots``)."""

    name: str
    kind: str
    default: Any
    choices: tuple = ()
    lo: float | None = None
    hi: float | None = None
    roots: tuple[Path, ...] = ()

    def parse(self, raw: str) -> Any:
        """The value ``raw`` means, or ValueError with a short reason."""
        if len(raw) > MAX_VALUE_CHARS:
            raise ValueError(f"value is {len(raw)} characters long (at most {MAX_VALUE_CHARS})")
        if self.kind == "choice":
            for choice in self.choices:
                if raw == str(choice):
                    return choice
            shown = ", ".join(str(c) for c in self.choices[:8])
            more = " ..." if len(self.choices) > 8 else ""
            raise ValueError(f"{raw!r} is not one of: {shown}{more}" if shown else "no choices")
        if self.kind == "bool":
            if raw in ("0", "1", "true", "false"):
                return raw in ("1", "true")
            raise ValueError(f"{raw!r} is not 0 or 1")
        if self.kind == "int":
            try:
                value: float = int(raw)
            except ValueError:
                raise ValueError(f"{raw!r} is not a whole number") from None
        elif self.kind == "float":
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"{raw!r} is not a number") from None
            if not math.isfinite(value):
                raise ValueError(f"{raw!r} is not a finite number")
        elif self.kind == "path":
            if not self.roots:
                raise ValueError("no folder is allowed here")
            try:
                path = resolve_inside(raw, list(self.roots))
            except PathError as exc:
                raise ValueError(str(exc)) from None
            if not path.is_dir():
                raise ValueError(f"{raw!r} is not a folder")
            return str(path)
        else:
            raise ValueError(f"unknown parameter kind {self.kind!r}")
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise ValueError(f"{raw} is outside [{self.lo:g}, {self.hi:g}]")
        return value

    def format(self, value: Any) -> str:
        if self.kind == "bool":
            return "1" if value else "0"
        if self.kind == "float":
            return f"{float(value):g}"
        if self.kind == "path":
            return display_path(value, list(self.roots))
        return str(value)


def _raw_query() -> dict[str, str]:
    return {k: st.query_params.get(k) for k in st.query_params}


def report_bad(name: str, text: str, message: str) -> None:
    """The one error line for a refused URL value (the page then shows the default)."""
    shown = text if len(text) <= 40 else text[:40] + "..."
    if len(message) > 160:
        message = message[:160] + "..."
    st.error(
        f"URL parameter `{name}` = `{shown}`: {message}; showing the default instead.",
        icon=":material/link_off:",
    )


def fit_range(page: str, name: str, lo: int, hi: int, default: int, why: str) -> None:
    """A bound only the chosen model knows (its classes, its components): a held value outside
    [lo, hi] becomes ``default``, with the one-line error when the URL asked for it (the
    static range check in ``Param`` could not)."""
    key = widget_key(page, name)
    held = st.session_state.get(key, default)
    if isinstance(held, int) and lo <= held <= hi:
        return
    if st.query_params.get(name) == str(held):
        report_bad(name, str(held), f"outside [{lo}, {hi}] ({why})")
    st.session_state[key] = default


def validated(params: Sequence[Param], raw: dict[str, str] | None = None) -> dict[str, Any]:
    """Each param's value from the URL (or ``raw``), else its default; one ``st.error`` line per
    bad value, naming the parameter, why, and the default used instead."""
    raw = _raw_query() if raw is None else raw
    values = {}
    for p in params:
        text = raw.get(p.name)
        if text is None:
            values[p.name] = p.default
            continue
        try:
            values[p.name] = p.parse(str(text))
        except ValueError as exc:
            report_bad(p.name, str(text), str(exc))
            values[p.name] = p.default
    return values


def seed_widgets(page: str, params: Sequence[Param]) -> dict[str, Any]:
    """Validate the URL and put each value into ``st.session_state[f"{page}.{name}"]`` unless a
    widget already holds one (so widgets keep the user's moves); returns the validated values."""
    raw = _raw_query()
    memory = st.session_state.get(f"_url.{page}")
    if memory and not any(p.name in raw for p in params):
        raw = dict(memory)  # navigation clears the URL: come back to the page as it was left
    values = validated(params, raw)
    for p in params:
        key = widget_key(page, p.name)
        if key not in st.session_state:
            st.session_state[key] = values[p.name]
    return values


def widget_key(page: str, name: str) -> str:
    return f"{page}.{name}"


def current(page: str, name: str, default: Any = None) -> Any:
    return st.session_state.get(widget_key(page, name), default)


def ensure_choice(page: str, name: str, choices: Sequence[Any]) -> None:
    """If the held value is no longer among ``choices`` (e.g. the data set changed), take the
    first choice."""
    key = widget_key(page, name)
    if choices and st.session_state.get(key) not in choices:
        st.session_state[key] = choices[0]


def write_url(page: str, params: Sequence[Param]) -> None:
    """Rewrite the query string from the widgets' current values (only when it changed)."""
    wanted = {}
    for p in params:
        value = st.session_state.get(widget_key(page, p.name), p.default)
        if value is not None:
            wanted[p.name] = p.format(value)
    if presenter.on():
        wanted[presenter.PARAM] = "1"  # the projector setting travels with the link
    st.session_state[presenter.WRITTEN] = wanted.get(presenter.PARAM)
    st.session_state[f"_url.{page}"] = wanted
    if _raw_query() != wanted:
        st.query_params.from_dict(wanted)
    share_with_parent(page, wanted)
