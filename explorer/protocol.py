"""A minimal Streamlit client that speaks the app's websocket protocol (protobuf ``BackMsg`` /
``ForwardMsg`` on ``/_stcore/stream``) and fetches the images a run refers to, as a visitor's
browser does, without drawing anything. Used by load_app.py so that 30 visitors cost the load
script almost no CPU: what it measures is the server (script runs, caches, messages, media),
which is what a Space's 2 vCPUs have to carry while the browsers run on the visitors' laptops.

One ``ProtocolSession`` is one Streamlit session (one browser tab). ``open(page)`` runs a page
as a first visit; ``switch(page)`` as a click in the sidebar navigation; ``move(label, value)``
as a slider drag. Each returns when the server says the run finished and every new image of the
run has been downloaded; exceptions shown by the run are collected with their text.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED = {
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
}


@dataclass
class RunResult:
    """What one script run sent: its wall time, bytes (messages + media), new images, the
    exceptions it showed (their first line) and whether it was a fragment run."""

    seconds: float = 0.0
    message_bytes: int = 0
    media_bytes: int = 0
    images: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    fragment: bool = False


class ProtocolSession:
    def __init__(self, url: str, timeout: float = 60.0, default_page: str = "home"):
        self.default_page = default_page  # the name the default page (url path "") goes by
        self.http = url.rstrip("/")
        self.ws_url = self.http.replace("http://", "ws://", 1) + "/_stcore/stream"
        self.timeout = timeout
        self.pages: dict[str, str] = {}  # url path -> page script hash
        self.sliders: dict[str, tuple[str, str]] = {}  # label -> (widget id, fragment id)
        self.page_hash = ""
        self.media_seen: set[str] = set()
        self._ws = None

    async def connect(self) -> None:
        self._ws = await websockets.connect(
            self.ws_url,
            subprotocols=["streamlit"],
            origin=self.http,
            max_size=None,
            open_timeout=self.timeout,
        )

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def open(self, page: str) -> RunResult:
        """The first visit of ``page`` (its url path, e.g. "latent_sliders")."""
        if self._ws is None:
            await self.connect()
        return await self._rerun(page_name=page)

    async def switch(self, page: str) -> RunResult:
        """A click on ``page`` in the sidebar navigation."""
        if page not in self.pages:
            raise KeyError(f"the app has no page {page!r} (has {sorted(self.pages)})")
        return await self._rerun(page_hash=self.pages[page], page_name=page)

    async def move(self, label: str, value: float) -> RunResult:
        """Set the slider labelled ``label`` to ``value`` (as a drag ending there does)."""
        if label not in self.sliders:
            raise KeyError(f"no slider {label!r} on this page (has {sorted(self.sliders)})")
        widget_id, fragment_id = self.sliders[label]
        state = WidgetState(id=widget_id)
        state.double_array_value.data.append(float(value))
        return await self._rerun(page_hash=self.page_hash, widgets=[state], fragment_id=fragment_id)

    async def _rerun(
        self,
        page_hash: str = "",
        page_name: str = "",
        widgets: list[WidgetState] | None = None,
        fragment_id: str = "",
    ) -> RunResult:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = ""
        state.page_script_hash = page_hash
        state.page_name = page_name
        state.fragment_id = fragment_id
        for widget in widgets or []:
            state.widget_states.widgets.append(widget)
        if not fragment_id:
            self.sliders = {}
        result = RunResult(fragment=bool(fragment_id))
        start = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        await asyncio.wait_for(self._receive(result), self.timeout)
        fetch = [u for u in result.images if u not in self.media_seen]
        if fetch:
            sizes = await asyncio.gather(*(asyncio.to_thread(self._get, u) for u in fetch))
            result.media_bytes = sum(sizes)
            self.media_seen.update(fetch)
        result.seconds = time.perf_counter() - start
        return result

    def _get(self, path: str) -> int:
        with urllib.request.urlopen(self.http + path, timeout=self.timeout) as response:
            return len(response.read())

    async def _receive(self, result: RunResult) -> None:
        while True:
            raw = await self._ws.recv()
            result.message_bytes += len(raw)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self._pages(fwd.new_session.app_pages)
                self.page_hash = fwd.new_session.page_script_hash
            elif kind == "navigation":
                self._pages(fwd.navigation.app_pages)
                self.page_hash = fwd.navigation.page_script_hash or self.page_hash
            elif kind == "delta":
                self._element(fwd.delta, result)
            elif kind == "script_finished" and fwd.script_finished in FINISHED:
                return

    def _pages(self, app_pages) -> None:
        for page in app_pages:
            name = page.url_pathname or (self.default_page if page.is_default else page.page_name)
            self.pages[name] = page.page_script_hash

    def _element(self, delta, result: RunResult) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "slider":
            self.sliders[element.slider.label] = (element.slider.id, delta.fragment_id)
        elif kind == "imgs":
            result.images.extend(img.url for img in element.imgs.imgs if img.url)
        elif kind == "exception":
            result.exceptions.append(
                f"{element.exception.type}: {element.exception.message}".splitlines()[0][:200]
            )
        elif kind == "heading" and element.heading.tag == "h1":
            result.titles.append(element.heading.body)
