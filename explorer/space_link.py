"""Shared links on a Hugging Face Space. The Space shows the app in an iframe on a
huggingface.co page; that page's address is what people copy, and it does not follow the
app's own query string. Spaces document a ``postMessage({queryString})`` to the parent page
for this: each run sends the view's query string (with ``page=`` naming the page, since the
Space passes only the query string to the app's root) and ``route_shared_link`` opens that page
when such a link comes back.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlencode

import streamlit as st

from explorer.sitemap import PAGES

SPACE_ENV = "SPACE_ID"  # set by Hugging Face inside a Space's container
PARENT_ORIGIN = "https://huggingface.co"
PAGE_PARAM = "page"


def on_space() -> bool:
    return bool(os.environ.get(SPACE_ENV))


def parent_query(page: str, query: dict[str, str]) -> str:
    """The query string for the huggingface.co page: ``?page=<url path>&<the page's state>``
    (no ``page`` for Home, the app's root)."""
    pairs = ({} if page == "home" else {PAGE_PARAM: page}) | query
    return "?" + urlencode(pairs) if pairs else ""


def share_with_parent(page: str, query: dict[str, str]) -> None:
    """On a Space, post this view's query string to the huggingface.co page around the app
    (from a component frame: its parent is the app, the app's parent is the Space page)."""
    if not on_space():
        return
    message = json.dumps({"queryString": parent_query(page, query)})
    st.components.v1.html(
        "<script>try{window.parent.parent.postMessage("
        f"{message}, {json.dumps(PARENT_ORIGIN)});}}catch(e){{}}</script>",
        height=0,
    )


def route_shared_link() -> None:
    """A link ``/?page=<url path>&...`` opens that page with the rest of its query string; an
    unknown page is one error line (and Home)."""
    target = st.query_params.get(PAGE_PARAM)
    if target is None:
        return
    by_path = {p.url_path: p for p in PAGES}
    if target not in by_path:
        shown = target if len(target) <= 40 else target[:40] + "..."
        st.error(
            f"URL parameter `{PAGE_PARAM}` = `{shown}`: not one of "
            f"{', '.join(by_path)}; showing Home instead.",
            icon=":material/link_off:",
        )
        del st.query_params[PAGE_PARAM]
        return
    rest = {k: st.query_params.get(k) for k in st.query_params if k != PAGE_PARAM}
    if target == "home":
        del st.query_params[PAGE_PARAM]
        return
    st.switch_page(f"../pages/{by_path[target].file}", query_params=rest)
