"""Looking at how a platform behaves where the contract is silent, for ``operator-iac doctor``:
one raw request at a time, and a conversation's SSE stream read message by message with what
carried it (``id:`` lines, comments, multi-line data). Nothing here retries past one attempt
or interprets an answer beyond naming its shape; ``services.doctor`` draws the conclusions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from operator_iac.api.event_stream import interrupt
from operator_iac.api.events import Event, parse_event
from operator_iac.api.sse import SSEDecoder
from operator_iac.api.tolerance import noting
from operator_iac.api.transport import Params, segment
from operator_iac.errors import OperatorIacError

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient


@dataclass(frozen=True)
class RawAnswer:
    """What one attempt got back: the status, the content type and the body's shape."""

    status: int
    content_type: str
    body: bytes

    @property
    def shape(self) -> str:
        """``error object`` (``{"error": {"code", "message"}}``), ``other JSON``, ``HTML``,
        ``plain text`` or ``empty``."""
        text = self.body.decode("utf-8", "replace").strip()
        if not text:
            return "empty"
        try:
            value = json.loads(text)
        except ValueError:
            kind = self.content_type.lower()
            return "HTML" if "html" in kind or text.startswith("<") else "plain text"
        error = value.get("error") if isinstance(value, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return "error object"
        return "other JSON"


def raw(client: OperatorClient, method: str, path: str, *, params: Params | None = None,
        drop_headers: tuple[str, ...] = ()) -> RawAnswer:
    """One attempt at ``method path`` (``drop_headers`` removed), whatever its status."""
    response = client.send_once(method, path, params=params, drop_headers=drop_headers)
    return RawAnswer(response.status_code, response.headers.get("content-type", ""),
                     response.content)


class StreamWatch:
    """Reads a conversation's event stream in a background thread until ``stop()`` or its
    deadline, keeping the events and how they came: ``with_ids`` messages carried an
    ``id:`` line, ``comments`` keep-alive comment lines arrived, ``multiline`` messages
    spread over several ``data:`` lines."""

    def __init__(self, client: OperatorClient, conversation_id: str, token: str | None, *,
                 deadline_s: float) -> None:
        self._client, self._token, self._deadline_s = client, token, deadline_s
        self.path = f"/conversations/{segment(conversation_id)}/events"
        self.events: list[Event] = []
        self.messages = self.with_ids = self.comments = self.multiline = 0
        self.error: str | None = None
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._read, daemon=True,
                                        name=f"operator-iac-doctor:{conversation_id}")

    def start(self) -> StreamWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            interrupt(response)
        self._thread.join(5.0)

    def wait_for(self, wanted: Callable[[Event], bool], timeout: float) -> Event | None:
        """The first event ``wanted`` accepts, once it arrived (None after ``timeout``)."""
        def first() -> Event | None:
            return next((e for e in self.events if wanted(e)), None)

        with self._changed:
            self._changed.wait_for(lambda: first() is not None or not self._thread.is_alive(),
                                   timeout)
            return first()

    def wait_until(self, holds: Callable[[list[Event]], bool], timeout: float) -> bool:
        """Whether the events so far made ``holds`` true within ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(
                lambda: holds(self.events) or not self._thread.is_alive(), timeout) and \
                holds(self.events)

    def _read(self) -> None:
        params = {"token": self._token} if self._token else None
        until = time.monotonic() + self._deadline_s
        try:
            with self._client.stream(self.path, params=params, bearer=self._token is None,
                                     headers={"Accept": "text/event-stream"},
                                     read_timeout=self._deadline_s) as response:
                self._response = response
                decoder = SSEDecoder()
                for chunk in response.iter_bytes():
                    self._take(decoder, chunk)
                    if self._stop.is_set() or time.monotonic() > until:
                        return
        except (OperatorIacError, httpx.HTTPError) as exc:
            if not self._stop.is_set():
                self.error = str(exc) or type(exc).__name__
        finally:
            with self._changed:
                self._changed.notify_all()

    def _take(self, decoder: SSEDecoder, chunk: bytes) -> None:
        messages = decoder.feed(chunk)
        with self._changed, noting(self._client.notices):
            self.comments = decoder.comments
            for message in messages:
                self.messages += 1
                self.with_ids += bool(message.id)
                self.multiline += message.lines > 1
                event = parse_event(message.data)
                if event is not None:
                    self.events.append(event)
            self._changed.notify_all()
