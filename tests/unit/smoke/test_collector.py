"""Reading a conversation's events for a transcript: when "what exists now" has all arrived."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from operator_iac.api.events import Event
from operator_iac.smoke.collector import FIRST_EVENT_S, read_events

from .conftest import ConversationScript


class SlowStream:
    """An SSE stream that takes ``connect_s`` to deliver the events that exist, then stays
    open without ending, like the platform's stream of a conversation that has not ended."""

    reconnects = 0

    def __init__(self, events: list[Event], connect_s: float) -> None:
        self._events, self._connect_s = events, connect_s
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[Event]:
        if self._closed.wait(self._connect_s):
            return
        yield from self._events
        self._closed.wait()

    def close(self) -> None:
        self._closed.set()


class StreamOnlyClient:
    def __init__(self, stream: SlowStream) -> None:
        self.stream = stream

    def events(self, conversation_id: str, **options: Any) -> SlowStream:
        return self.stream


def read_now(stream: SlowStream, first_s: float = FIRST_EVENT_S) -> tuple[list[Event], float]:
    """``transcript`` without ``--follow``, with a short quiet gap; and how long it took."""
    started = time.monotonic()
    events = read_events(StreamOnlyClient(stream), "conv_test",  # type: ignore[arg-type]
                         quiet_s=0.05, first_s=first_s)
    return events, time.monotonic() - started


def test_a_slow_connection_is_not_taken_for_a_quiet_stream(
        script: Callable[..., ConversationScript]) -> None:
    existing = script().setup().events
    events, _ = read_now(SlowStream(existing, connect_s=0.2))
    assert [e.type for e in events] == ["conversation.setup"]


def test_a_stream_that_brings_no_event_is_given_up_after_first_s() -> None:
    events, took = read_now(SlowStream([], connect_s=0.0), first_s=0.2)
    assert events == []
    assert 0.2 <= took < 2


def test_unknown_event_types_are_kept_and_passed_on(
        script: Callable[..., ConversationScript]) -> None:
    existing = (script().started().add("agent.mood.changed", mood="happy")
                .agent("Hello there", deltas=True).ended().events)
    seen: list[Event] = []
    client = StreamOnlyClient(SlowStream(existing, connect_s=0.0))
    events = read_events(client, "conv_test", on_event=seen.append,  # type: ignore[arg-type]
                         quiet_s=0.05)
    assert [e.type for e in events] == ["conversation.setup", "conversation.started",
                                        "agent.mood.changed", "agent.message.completed",
                                        "conversation.ended"]
    assert events[2].payload == {"type": "agent.mood.changed", "mood": "happy"}
    assert seen == existing  # every event, text deltas too, reaches the listener
