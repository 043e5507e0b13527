"""Who is visiting: one id per browser, not per tab, so a visitor's training runs and the
one-run-per-visitor cap follow them across tabs.

The id lives in a first-party cookie (``tgan_visitor``). A tab that arrives without it uses a
fresh id for its session and sets the cookie to that id, so tabs opened later share it.
Streamlit reads cookies from the tab's first request (``st.context.cookies``, read-only), hence
the small script that writes it.
"""

from __future__ import annotations

import re
import uuid

import streamlit as st

COOKIE = "tgan_visitor"
_ID = re.compile(r"^[a-f0-9]{16}$")
_STATE_KEY = "_visitor.id"


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no browser request (tests, bare mode): no cookie
        return None
    return value if isinstance(value, str) and _ID.match(value) else None


def visitor_id() -> str:
    """This visitor's id (16 hex digits): the cookie's when the browser sent one, else this
    session's new id, which the browser is then asked to keep."""
    cookie = _cookie()
    if cookie is not None:
        return cookie
    if _STATE_KEY not in st.session_state:
        st.session_state[_STATE_KEY] = uuid.uuid4().hex[:16]
    # on every run of this tab (the same frame, so it stays put): a rerun soon after the first
    # must not remove the script before the browser ran it
    _remember(st.session_state[_STATE_KEY])
    return st.session_state[_STATE_KEY]


def _remember(value: str) -> None:
    """Ask the browser to keep ``value`` as the visitor cookie (a year; SameSite=None on https
    so it also holds inside the Hugging Face page's iframe)."""
    script = (
        "<script>(function(){try{var d=window.parent.document;"
        f"if(d.cookie.indexOf('{COOKIE}=')>=0)return;"
        "var s=location.protocol==='https:'?'; SameSite=None; Secure':'; SameSite=Lax';"
        f"d.cookie='{COOKIE}={value}; Path=/; Max-Age=31536000'+s;}}catch(e){{}}}})();</script>"
    )
    st.components.v1.html(script, height=0)
