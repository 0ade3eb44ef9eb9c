"""Collecting a conversation's SSE events in a background thread.

The smoke runner talks over the WebSocket while this thread reads the SSE stream, the
platform's own record and the one assertions are judged on; the ``transcript`` command uses
it to print a conversation, live or not. Reconnection and de-duplication are the
``EventStream``'s job. Text deltas are not kept: assertions and transcripts use the completed
messages, and a long reply must not grow memory word by word.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from operator_iac.api.event_stream import EventStream, ended
from operator_iac.api.events import AGENT_MESSAGE_DELTA, CONVERSATION_ENDED, Event
from operator_iac.api.models import FINAL_CONVERSATION_STATUSES
from operator_iac.errors import OperatorIacError, StreamError

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient

OnEvent = Callable[[Event], None]


class EventCollector:
    """Reads ``GET /conversations/{id}/events`` until ``conversation.ended`` or ``close()``."""

    def __init__(self, client: OperatorClient, conversation_id: str, *,
                 token: str | None = None, deadline_s: float | None = None,
                 on_event: OnEvent | None = None) -> None:
        self._stream: EventStream = client.events(conversation_id, token=token, stop=ended,
                                                  deadline=deadline_s)
        self._on_event = on_event
        self._events: list[Event] = []
        self._ids: set[str] = set()
        # Event id -> when it arrived (monotonic ms): a latency measure for platforms whose
        # timestamps have whole seconds only.
        self._arrived: dict[str, float] = {}
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True,
                                        name=f"operator-iac-sse:{conversation_id}")
        self.saw_end = False
        self.finished = False
        self.error: str | None = None
        # None until the first event: connecting is not silence.
        self.last_event_at: float | None = None

    def start(self) -> EventCollector:
        self._thread.start()
        return self

    def __enter__(self) -> EventCollector:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def reconnects(self) -> int:
        return self._stream.reconnects

    def events(self) -> list[Event]:
        """The events received so far, in stream order (a copy)."""
        with self._changed:
            return list(self._events)

    def arrivals(self) -> dict[str, float]:
        """Event id -> the monotonic time (ms) it arrived at (a copy)."""
        with self._changed:
            return dict(self._arrived)

    def close(self, timeout: float = 5.0) -> None:
        """Stop reading (safe from any thread, and more than once)."""
        self._stream.close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # ---- waiting -------------------------------------------------------------------------

    def wait_ended(self, timeout: float) -> bool:
        """Whether ``conversation.ended`` arrived within ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self.saw_end or self.finished, timeout) \
                and self.saw_end

    def wait_for(self, event_id: str, timeout: float) -> bool:
        """Whether the event with this id (seen on another channel) arrived here too."""
        with self._changed:
            return self._changed.wait_for(
                lambda: event_id in self._ids or self.finished, timeout) and \
                event_id in self._ids

    def wait_quiet(self, gap: float, limit: float, first: float) -> None:
        """Return once the stream ended, or no event came for ``gap`` seconds after the
        last one (at most ``limit`` seconds in all): all the events that existed have arrived
        by then. The stream starts with the events that exist, so the gap counts from an
        event, never from the request, however long connecting takes; a stream that brings
        no event at all is given up after ``first`` seconds."""
        started = time.monotonic()
        with self._changed:
            while not (self.saw_end or self.finished):
                last = self.last_event_at
                quiet_at = started + first if last is None else last + gap
                remaining = min(quiet_at, started + limit) - time.monotonic()
                if remaining <= 0:
                    return
                self._changed.wait(remaining)

    # ---- the reading thread --------------------------------------------------------------

    def _read(self) -> None:
        try:
            for event in self._stream:
                self._add(event)
        except OperatorIacError as exc:
            self.error = str(exc)
        finally:
            with self._changed:
                self.finished = True
                self._changed.notify_all()

    def _add(self, event: Event) -> None:
        with self._changed:
            self.last_event_at = time.monotonic()
            if event.type != AGENT_MESSAGE_DELTA:
                self._events.append(event)
                if event.id:
                    self._ids.add(event.id)
                    self._arrived.setdefault(event.id, self.last_event_at * 1000)
            self.saw_end = self.saw_end or event.type == CONVERSATION_ENDED
            self._changed.notify_all()
        if self._on_event is not None:
            self._on_event(event)


# Every conversation has at least its conversation.setup event, which the stream sends as
# soon as it is connected; none within the client's connect timeout means there is none.
FIRST_EVENT_S = 10.0


def read_events(client: OperatorClient, conversation_id: str, *, follow: bool = False,
                on_event: OnEvent | None = None, quiet_s: float = 1.0,
                limit_s: float = 60.0, poll_s: float = 2.0,
                first_s: float = FIRST_EVENT_S) -> list[Event]:
    """A conversation's events for a transcript.

    Without ``follow``: what exists now (until ``conversation.ended``, or until the stream
    has been quiet for ``quiet_s`` after an event, or brought none in ``first_s``). With
    ``follow``: until the conversation ends, calling ``on_event`` as each event arrives; a
    conversation that finished without a ``conversation.ended`` event is noticed by polling
    its status every ``poll_s``. Raises ``StreamError`` when the stream broke for good.
    """
    with EventCollector(client, conversation_id, on_event=on_event) as collector:
        if follow:
            while not collector.wait_ended(poll_s) and not collector.finished:
                status = client.conversations.get(conversation_id).status
                if status in FINAL_CONVERSATION_STATUSES:
                    collector.wait_quiet(quiet_s, limit_s, first_s)
                    break
        else:
            collector.wait_quiet(quiet_s, limit_s, first_s)
        events = collector.events()
    if collector.error and not collector.saw_end:
        raise StreamError(collector.error)
    return events
