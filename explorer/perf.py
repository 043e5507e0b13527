"""What each rerun of the app costs, and the shared caches' bookkeeping.

``shared_data`` is ``st.cache_data`` (shared by every session, bounded, with a TTL) that also
counts calls and computes per function: ``computes("sample_png")`` says how often the work was
really done in this process (tests prove a default view is computed once for many sessions).

``rerun(page)`` wraps one script run (Home.py around ``navigation.run()``; ``fragment`` around a
fragment's body): it pins torch to one thread for the request (a class of 30 on 2 vCPUs must not
oversubscribe the cores) and, when ``$TGAN_APP_PROFILE`` names a file, appends one JSON line per
run: page, whether it was a fragment run, script seconds, cached-function calls and computes.
benchmarks/load_app.py sets it and prints the per-page profile.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st
import torch

PROFILE_ENV = "TGAN_APP_PROFILE"
DEFAULT_TTL = 6 * 3600  # seconds: a shared result lives at most this long without a call

_lock = threading.Lock()
_calls: Counter[str] = Counter()
_computes: Counter[str] = Counter()
_local = threading.local()  # the current run's counters, per script thread


def _note(counter: Counter[str], name: str, attr: str) -> None:
    with _lock:
        counter[name] += 1
    run = getattr(_local, attr, None)
    if run is not None:
        run[name] += 1


def _counted(cache: Callable[..., Any], name: str | None) -> Callable[..., Any]:
    """Wrap a Streamlit cache decorator so calls (outside) and computes (inside) are counted."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        label = name or fn.__name__

        @functools.wraps(fn)
        def compute(*args: Any, **kwargs: Any) -> Any:
            _note(_computes, label, "computes")
            return fn(*args, **kwargs)

        cached = cache(compute)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            _note(_calls, label, "calls")
            return cached(*args, **kwargs)

        call.clear = cached.clear  # type: ignore[attr-defined]
        return call

    return decorate


def shared_data(
    *, max_entries: int, ttl: float | None = DEFAULT_TTL, name: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``st.cache_data(max_entries=..., ttl=..., show_spinner=False)`` with counters: each
    session gets its own copy of the result."""
    return _counted(st.cache_data(max_entries=max_entries, ttl=ttl, show_spinner=False), name)


def shared_resource(
    *, max_entries: int, ttl: float | None = DEFAULT_TTL, name: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``st.cache_resource`` with counters: one shared object, never copied, for results that
    are only read (figures handed to ``st.plotly_chart``, which does not change them)."""
    return _counted(st.cache_resource(max_entries=max_entries, ttl=ttl, show_spinner=False), name)


def computes(name: str) -> int:
    """How often ``name``'s body ran in this process (cache misses)."""
    with _lock:
        return _computes[name]


def calls(name: str) -> int:
    """How often ``name`` was called in this process (hits + misses)."""
    with _lock:
        return _calls[name]


@contextmanager
def rerun(page: str, fragment: bool = False) -> Iterator[None]:
    """One script run of ``page``: one torch thread; a profile line when asked for."""
    torch.set_num_threads(1)
    path = os.environ.get(PROFILE_ENV)
    outer = getattr(_local, "calls", None), getattr(_local, "computes", None)
    _local.calls, _local.computes = Counter(), Counter()
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - start
        run_calls, run_computes = _local.calls, _local.computes
        _local.calls, _local.computes = outer
        if path:
            _append(
                path,
                {
                    "page": page,
                    "fragment": fragment,
                    "seconds": round(seconds, 5),
                    "calls": sum(run_calls.values()),
                    "computes": sum(run_computes.values()),
                    "computed": sorted(run_computes),
                },
            )


def _append(path: str, record: dict) -> None:
    line = json.dumps(record) + "\n"
    with _lock:
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line)
        except OSError:
            pass  # a profile that cannot be written must not break a visitor's page


def fragment_rerun() -> bool:
    """True while a fragment reruns on its own (not as part of its page's full run)."""
    return bool(getattr(_local, "fragment_rerun", False))


def fragment(page: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``st.fragment`` whose reruns are profiled (and pinned to one torch thread) like a page."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def body(*args: Any, **kwargs: Any) -> Any:
            if getattr(_local, "calls", None) is not None:  # part of a full run: counted there
                return fn(*args, **kwargs)
            _local.fragment_rerun = True
            try:
                with rerun(page, fragment=True):
                    return fn(*args, **kwargs)
            finally:
                _local.fragment_rerun = False

        return st.fragment(body)

    return decorate


# --- overload: a short "busy, retrying" note instead of an exception -------------------------
RETRY_KEY = "_perf.overload_retries"
MAX_RETRIES = 3
RETRY_WAIT_S = 1.5  # times the retry number
_EXHAUSTED = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EAGAIN}


def is_overload(exc: BaseException) -> bool:
    """An error that means "the server is out of something right now", not a bug: memory, file
    descriptors, threads. Worth a retry in a moment."""
    if isinstance(exc, MemoryError):
        return True
    if isinstance(exc, OSError) and exc.errno in _EXHAUSTED:
        return True
    return isinstance(exc, RuntimeError) and "can't start new thread" in str(exc)


@contextmanager
def overload_guard() -> Iterator[None]:
    """Around a page run: an overload error becomes a short note and a retry after a pause
    (at most ``MAX_RETRIES`` in a row per session, then a note asking to reload later);
    any other error propagates as before."""
    try:
        yield
    except Exception as exc:
        if not is_overload(exc):
            raise
        tries = int(st.session_state.get(RETRY_KEY, 0)) + 1
        st.session_state[RETRY_KEY] = tries
        if tries > MAX_RETRIES:
            st.session_state[RETRY_KEY] = 0
            st.warning(
                "The app is very busy (many visitors at once) and could not draw this page "
                f"({type(exc).__name__}). Please reload in a minute.",
                icon=":material/hourglass_top:",
            )
            return
        st.info(
            f"Busy (many visitors at once), retrying in a moment ({tries} of {MAX_RETRIES}) ...",
            icon=":material/hourglass_top:",
        )
        time.sleep(RETRY_WAIT_S * tries)
        st.rerun()
    else:
        st.session_state[RETRY_KEY] = 0
