"""Reading a conversation's events over SSE: reconnect, de-duplicate, stop on request.

``GET /conversations/{id}/events`` starts with every event that already exists and, on the
real platform, stays open for 24 hours after the conversation ends. So an ``EventStream``
never waits for the end of the stream: the caller's ``stop(event)`` decides when it has seen
enough. A dropped or silent connection is reopened (with ``Last-Event-ID`` when the server
sent ids); because the server may ignore it and replay from the start, events are
de-duplicated by their id. Memory stays flat: only the set of seen ids grows.

Events are yielded in their canonical form (``events.EventReader``); a ``conversation.ended``
that carries no status gets the conversation's own final status, read once it is final (for
at most ``STATUS_GRACE_S``).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
from pydantic import ValidationError

from operator_iac import defaults
from operator_iac.api.events import CONVERSATION_ENDED, Event, EventReader, parse_event
from operator_iac.api.models import FINAL_CONVERSATION_STATUSES, Conversation
from operator_iac.api.sse import SSEDecoder, SSEMessage
from operator_iac.api.tolerance import Notices, note, noting
from operator_iac.api.transport import ApiTransport, segment
from operator_iac.errors import OperatorIacError, StreamError

StopWhen = Callable[[Event], bool]
MAX_RECONNECT_DELAY = 10.0
# How long a conversation's status may take to become final after conversation.ended.
STATUS_GRACE_S = 5.0
STATUS_POLL_S = 0.2


def never(_event: Event) -> bool:
    return False


def ended(event: Event) -> bool:
    """A ready-made ``stop``: the conversation has ended."""
    return event.type == CONVERSATION_ENDED


class EventStream:
    """An iterable of a conversation's events, each yielded once, in server order.

    Made by ``OperatorClient.events(conversation_id, stop=ended)``. Iterating reconnects as
    needed and ends when ``stop`` accepts an event or ``close()`` is called (from any
    thread); it raises ``StreamError`` past ``deadline`` or after ``max_reconnects``
    fruitless reconnects. ``reconnects`` and ``skipped`` count what it had to cope with.
    """

    def __init__(self, client: ApiTransport, conversation_id: str, *,
                 token: str | None = None, stop: StopWhen = never,
                 max_reconnects: int = defaults.EVENTS_MAX_RECONNECTS,
                 idle_timeout: float = defaults.EVENTS_IDLE_TIMEOUT_S,
                 deadline: float | None = None,
                 reconnect_delay: float = 0.5, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 notices: Notices | None = None) -> None:
        self.conversation_id = conversation_id
        self._reader = EventReader()
        self._notices = notices
        self._client, self._token, self._stop = client, token, stop
        self.max_reconnects, self.idle_timeout, self.deadline = (
            max_reconnects, idle_timeout, deadline)
        self._reconnect_delay, self._sleep, self._clock = reconnect_delay, sleep, clock
        self._seen: set[str] = set()
        self._closed = threading.Event()
        self._response: httpx.Response | None = None
        self._server_retry_ms: int | None = None
        self.last_event_id = ""
        self.reconnects = 0
        self.skipped = 0  # messages whose data was not an event envelope

    @property
    def path(self) -> str:
        return f"/conversations/{segment(self.conversation_id)}/events"

    def __iter__(self) -> Iterator[Event]:
        return self._events()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading; safe to call from another thread while iterating."""
        self._closed.set()
        response = self._response
        if response is not None:
            interrupt(response)

    def _events(self) -> Iterator[Event]:
        started = self._clock()
        failures = 0
        while not self._closed.is_set():
            try:
                for event in self._read_once(started):
                    failures = 0
                    yield event
                    if self._stop(event):
                        return
                reason = "the server ended the stream"
            except httpx.TimeoutException:
                reason = f"no data for {self._read_timeout(started):g}s"
            except (httpx.TransportError, httpx.StreamError):
                reason = "the connection dropped"
            if self._closed.is_set():
                return
            failures += 1
            self._pause_before_reconnect(failures, reason, started)

    def _read_once(self, started: float) -> Iterator[Event]:
        """Events of one connection, new ones only, until it ends or breaks."""
        with self._client.stream(self.path, params=self._params(), headers=self._headers(),
                                 bearer=self._token is None,
                                 read_timeout=self._read_timeout(started)) as response:
            _check_event_stream(response, self.path)
            self._response = response
            decoder = SSEDecoder()
            try:
                for chunk in response.iter_bytes():
                    for message in decoder.feed(chunk):
                        event = self._accept(message)
                        if event is not None:
                            yield event
                    self._check_deadline(started)
                decoder.close()  # a message torn by the end of the stream is dropped
            finally:
                self._response = None
                self._server_retry_ms = decoder.retry or self._server_retry_ms

    def _accept(self, message: SSEMessage) -> Event | None:
        if message.id:
            self.last_event_id = message.id
        with noting(self._notices):
            event = parse_event(message.data)
            if event is None:
                self.skipped += 1
                return None
            key = event.id or message.id
            if key:
                if key in self._seen:
                    return None
                self._seen.add(key)
            return self._with_status(self._reader.read(event))

    def _with_status(self, event: Event) -> Event:
        """``conversation.ended`` with the final status, read from the conversation when the
        event carries none."""
        if event.type != CONVERSATION_ENDED or isinstance(event.payload.get("status"), str):
            return event
        note("ended_status", "absent")
        status = self._final_status()
        if status is None:
            return event
        return event.model_copy(update={"payload": {**event.payload, "status": status}})

    def _final_status(self) -> str | None:
        until = self._clock() + STATUS_GRACE_S
        path = f"/conversations/{segment(self.conversation_id)}"
        while True:
            try:
                status = Conversation.model_validate(
                    self._client.request_json("GET", path)).status
            except (OperatorIacError, ValidationError):
                return None
            if status is None:
                return None
            if status in FINAL_CONVERSATION_STATUSES or self._clock() >= until:
                return status
            self._sleep(STATUS_POLL_S)

    def _params(self) -> dict[str, str] | None:
        return {"token": self._token} if self._token else None

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        return headers

    def _read_timeout(self, started: float) -> float:
        if self.deadline is None:
            return self.idle_timeout
        remaining = self.deadline - (self._clock() - started)
        return max(0.01, min(self.idle_timeout, remaining))

    def _check_deadline(self, started: float) -> None:
        if self.deadline is not None and self._clock() - started > self.deadline:
            raise StreamError(
                f"event stream of {self.conversation_id}: the expected events did not "
                f"arrive within {self.deadline:g}s")

    def _pause_before_reconnect(self, failures: int, reason: str, started: float) -> None:
        self._check_deadline(started)
        if failures > self.max_reconnects:
            raise StreamError(
                f"event stream of {self.conversation_id}: {reason}, and "
                f"{self.max_reconnects} reconnects brought no new events")
        self.reconnects += 1
        if self._server_retry_ms is not None:
            delay = self._server_retry_ms / 1000
        else:
            delay = self._reconnect_delay * 2 ** (failures - 1)
        self._sleep(min(delay, MAX_RECONNECT_DELAY))


def interrupt(response: httpx.Response) -> None:
    """Wake a thread blocked reading ``response``: closing a socket from another thread does
    not interrupt a pending read, shutting it down does. The reading thread then sees the
    error, notices the stream was closed, and releases the connection itself."""
    network = response.extensions.get("network_stream")
    sock = network.get_extra_info("socket") if network is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    else:
        response.close()


def _check_event_stream(response: httpx.Response, path: str) -> None:
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type:
        raise StreamError(f"GET {path}: expected an event stream, got "
                          f"{content_type.partition(';')[0] or 'no content type'}")

