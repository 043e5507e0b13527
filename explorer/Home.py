"""t-GAN Explorer, the entry: ``streamlit run explorer/Home.py``.

Declares the pages (files in the repo-root ``pages/`` folder) with ``st.navigation``; each page
holds layout and interaction only and calls ``core`` (through ``explorer.cache``) for the work.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # `streamlit run` puts only explorer/ on the path

from explorer.preload import preload  # noqa: E402

preload()  # every heavy import once, in one thread, before a page runs (see explorer.preload)

import streamlit as st  # noqa: E402

from explorer import perf, presenter, warm  # noqa: E402
from explorer.sitemap import PAGES  # noqa: E402
from explorer.space_link import route_shared_link  # noqa: E402

st.set_page_config(page_title="t-GAN Explorer", page_icon=":material/scatter_plot:", layout="wide")
# 28-px digits scaled up by the browser should stay crisp pixels, not blur.
st.markdown(
    "<style>[data-testid='stImage'] img {image-rendering: pixelated;}</style>",
    unsafe_allow_html=True,
)
warm.start_in_background()  # once per server: every page's default view, computed once
navigation = st.navigation(
    [
        st.Page(
            f"../pages/{p.file}",
            title=p.title,
            icon=p.icon,
            url_path=p.url_path,
            default=p.url_path == "home",
        )
        for p in PAGES
    ]
)
presenter.toggle()
route_shared_link()  # a Space link carries its page as ?page=<url path>
with perf.rerun(navigation.url_path or "home"), perf.overload_guard():
    navigation.run()  # an overload error is a "busy, retrying" note, never an exception
