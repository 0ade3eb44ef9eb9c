"""The real-time chat session: a WebSocket that carries client commands and server events.

The client sends ``{"id": <unique id>, "payload": {"type": ...}}`` messages
(``conversation.start``, ``user.message.send``, ``conversation.context.update``,
``conversation.end``) and receives the same event envelopes as the SSE stream. Every receive
has a timeout (messages that are not events, such as application-level pings, do not extend
it), and a socket the server closes before the conversation ended is a ``StreamError`` with
the close code, never a hang. A server may also keep the socket open after the end: readers
stop at ``conversation.ended`` (``saw_end``) rather than wait for the close.

Events arrive in their canonical form (``events.EventReader``). Some platforms carry only the
agent's own events on the session (the SSE stream has them all), so a caller that needs the
whole conversation follows the SSE stream and uses the session to send, reading it in the
background (``read_in_background``) so that the server is never held up.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from websockets.exceptions import (
    ConnectionClosed,
    InvalidStatus,
    InvalidURI,
    WebSocketException,
)
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from operator_iac import defaults
from operator_iac.api.constants import API_VERSION, USER_AGENT
from operator_iac.api.events import (
    CONVERSATION_ENDED,
    END_CONVERSATION,
    SEND_USER_MESSAGE,
    START_CONVERSATION,
    UPDATE_CONTEXT,
    Event,
    EventReader,
    parse_event,
)
from operator_iac.api.failures import server_message
from operator_iac.api.tolerance import Notices, noting
from operator_iac.errors import (
    OperatorIacError,
    RequestTimeoutError,
    StreamError,
    TransportError,
    api_error_for,
)

# Returns a context manager entering into the connection (``websockets.sync.client.connect``).
Connector = Callable[..., AbstractContextManager[ClientConnection]]
NORMAL_CLOSURE = 1000
# How long a background read waits for each message before looking again (a quiet session is
# no failure: the conversation's progress is followed elsewhere).
BACKGROUND_WAIT_S = 1.0


def session_url_for(ws_base_url: str, conversation_id: str, token: str) -> str:
    """``<ws base>/conversations/{id}/session?token=...``, for when none was returned."""
    query = urlencode({"token": token})
    return f"{ws_base_url.rstrip('/')}/conversations/{quote(conversation_id, safe='')}" \
           f"/session?{query}"


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class ChatSession:
    """One open chat session. Use ``ChatSession.connect(url)``; close it (or use ``with``).

    Usually opened by ``OperatorClient.open_session(created)`` for a conversation just
    created. ``start``, ``send_message``, ``update_context`` and ``end`` send commands;
    ``recv``, ``events`` and ``until`` receive events, each within ``recv_timeout``.
    """

    def __init__(self, connection: ClientConnection, path: str, *,
                 recv_timeout: float = defaults.SESSION_RECV_TIMEOUT_S,
                 closer: ExitStack | None = None,
                 notices: Notices | None = None) -> None:
        self._ws = connection
        self._closer = closer
        self._reader = EventReader()
        self._notices = notices
        self._background: threading.Thread | None = None
        self.failure: StreamError | None = None  # what ended a background read early
        self.path = path  # for messages: the URL without its query (which holds the token)
        self.recv_timeout = recv_timeout
        self.sent_end = False
        self.saw_end = False
        self.closed_here = False  # closed by this side (possibly from another thread)
        self.skipped = 0  # messages that were not events (application-level pings ...)

    @classmethod
    def connect(cls, url: str, *, open_timeout: float = defaults.SESSION_OPEN_TIMEOUT_S,
                recv_timeout: float = defaults.SESSION_RECV_TIMEOUT_S,
                connect: Connector = ws_connect, notices: Notices | None = None) -> ChatSession:
        """Open the session at ``url`` (the ``session_url`` of the conversation)."""
        path = urlsplit(url).path or "/"
        closer = ExitStack()
        try:
            connection = closer.enter_context(connect(
                url, open_timeout=open_timeout, close_timeout=5,
                additional_headers={"Operator-Version": API_VERSION},
                user_agent_header=USER_AGENT))
        except (OSError, WebSocketException) as exc:
            raise _connect_failure(exc, path) from exc
        return cls(connection, path, recv_timeout=recv_timeout, closer=closer, notices=notices)

    def __enter__(self) -> ChatSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket; a thread blocked in ``recv`` then gets None, not an error."""
        self.closed_here = True
        if self._closer is not None:
            self._closer.close()
        self._ws.close()
        if self._background is not None and self._background is not threading.current_thread():
            self._background.join(5.0)

    def wait_closed(self, timeout: float) -> bool:
        """Whether the background read ended (the server closed the socket, or it broke)
        within ``timeout`` seconds."""
        if self._background is None:
            return False
        self._background.join(timeout)
        return not self._background.is_alive()

    def read_in_background(self, on_event: Callable[[Event], None]) -> None:
        """Receive every message in a thread of its own until the session closes, handing
        each event to ``on_event``; a socket closed abnormally leaves ``failure`` set."""
        def pump() -> None:
            while True:
                try:
                    event = self.recv(timeout=BACKGROUND_WAIT_S)
                except StreamError as exc:
                    if isinstance(exc.__cause__, TimeoutError) and not self.closed_here:
                        continue  # a quiet session is no failure
                    if not self.closed_here:
                        self.failure = exc
                    return
                if event is None:
                    return
                on_event(event)

        self._background = threading.Thread(target=pump, daemon=True,
                                             name=f"operator-iac-session:{self.path}")
        self._background.start()

    # ---- client -> server ------------------------------------------------------------------

    def send(self, payload: Mapping[str, Any]) -> str:
        """Send one command; returns the unique message id it was sent with."""
        message_id = new_message_id()
        try:
            self._ws.send(json.dumps({"id": message_id, "payload": dict(payload)}))
        except ConnectionClosed as exc:
            raise StreamError(self._closed_message(exc)) from exc
        return message_id

    def start(self) -> str:
        return self.send({"type": START_CONVERSATION})

    def send_message(self, text: str) -> str:
        return self.send({"type": SEND_USER_MESSAGE, "text": text})

    def update_context(self, context: Mapping[str, Any]) -> str:
        return self.send({"type": UPDATE_CONTEXT, "context": dict(context)})

    def end(self) -> str:
        message_id = self.send({"type": END_CONVERSATION})
        self.sent_end = True
        return message_id

    # ---- server -> client ------------------------------------------------------------------

    def recv(self, timeout: float | None = None) -> Event | None:
        """The next event, or None once the server closed the socket after the end.

        Raises ``StreamError`` when nothing arrives within ``timeout`` (default
        ``recv_timeout``) or when the socket closes while the conversation is still on.
        """
        limit = self.recv_timeout if timeout is None else timeout
        until = time.monotonic() + limit
        while True:
            raw = self._recv_raw(max(0.0, until - time.monotonic()), limit)
            if raw is None:
                return None
            with noting(self._notices):
                event = parse_event(raw if isinstance(raw, str) else
                                    raw.decode("utf-8", "replace"))
                # A message without a payload is no event: an application-level ping or
                # another keep-alive. It is skipped, and the wait goes on to the same deadline.
                if event is not None and event.payload:
                    self.saw_end = self.saw_end or event.type == CONVERSATION_ENDED
                    return self._reader.read(event)
            self.skipped += 1

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Events until the server closes the socket after the conversation ended."""
        while (event := self.recv(timeout)) is not None:
            yield event

    def until(self, predicate: Callable[[Event], bool],
              timeout: float | None = None) -> list[Event]:
        """Receive events up to and including the first one ``predicate`` accepts."""
        received: list[Event] = []
        for event in self.events(timeout):
            received.append(event)
            if predicate(event):
                return received
        raise StreamError(f"chat session {self.path}: the session ended before the "
                          "awaited event arrived")

    def _recv_raw(self, remaining: float, limit: float) -> str | bytes | None:
        try:
            return self._ws.recv(timeout=remaining)
        except TimeoutError as exc:
            raise StreamError(
                f"chat session {self.path}: no event within {limit:g}s") from exc
        except ConnectionClosed as exc:
            if self.closed_here or (
                    _code(exc) == NORMAL_CLOSURE and (self.sent_end or self.saw_end)):
                return None
            raise StreamError(self._closed_message(exc)) from exc

    def _closed_message(self, exc: ConnectionClosed) -> str:
        frame = exc.rcvd
        code = f"code {frame.code}" if frame is not None else "no close frame"
        reason = f", {frame.reason!r}" if frame is not None and frame.reason else ""
        return (f"chat session {self.path}: the server closed the connection ({code}{reason}) "
                "before the conversation ended")


def _code(exc: ConnectionClosed) -> int | None:
    return exc.rcvd.code if exc.rcvd is not None else None


def _connect_failure(exc: OSError | WebSocketException, path: str) -> OperatorIacError:
    """The error for a session that could not be opened (never showing the token)."""
    if isinstance(exc, InvalidStatus):
        response = exc.response
        body = bytes(response.body or b"")
        message = server_message(response.headers.get("Content-Type", ""), body)
        return api_error_for(response.status_code, "GET", path, message)
    if isinstance(exc, TimeoutError):
        return RequestTimeoutError(f"chat session {path}: the connection was not opened in time")
    if isinstance(exc, InvalidURI):
        return StreamError("chat session: the session URL is not a WebSocket URL")
    if isinstance(exc, OSError):
        return TransportError(f"chat session {path}: could not connect ({exc.strerror or exc})")
    return StreamError(f"chat session {path}: the WebSocket handshake failed "
                       f"({type(exc).__name__})")
