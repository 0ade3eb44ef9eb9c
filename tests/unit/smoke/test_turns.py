"""Splitting events into turns and pairing tool calls with their results."""

from __future__ import annotations

from collections.abc import Callable

from operator_iac.api.events import Event
from operator_iac.smoke.turns import split_turns, timestamp_ms, tool_calls

from .conftest import ConversationScript


def test_turn_zero_is_the_greeting_and_each_user_message_opens_a_turn(
        booking: ConversationScript) -> None:
    turns = split_turns(booking.events)
    assert [t.index for t in turns] == [0, 1]
    assert turns[0].user_text is None
    assert turns[0].agent_messages() == ["Hi, this is Amanda. How can I help?"]
    assert turns[1].user_text == "Is Tuesday free?"
    # What follows the reply (the end of the conversation) stays in the last turn.
    assert turns[1].events[-1].type == "conversation.ended"
    assert sum(len(t.events) for t in turns) == len(booking.events)


def test_no_events_still_have_a_turn_zero() -> None:
    assert [(t.index, t.events) for t in split_turns([])] == [(0, ())]


def test_tool_calls_are_paired_by_call_id_and_attributed_to_turns(
        script: Callable[..., ConversationScript]) -> None:
    events = (script().started().agent("Hi").user("one").tool("a", {"x": 1}, error="boom")
              .user("two").tool("b", returned=False).events)
    calls = tool_calls(events)
    assert [(c.name, c.turn, c.returned, c.failed) for c in calls] == [
        ("a", 1, True, True), ("b", 2, False, False)]
    assert calls[0].arguments == '{"x": 1}' and calls[0].error == "boom"


def test_a_returned_call_without_its_created_event_still_counts(
        script: Callable[..., ConversationScript]) -> None:
    events = script().started().user("hi").add(
        "agent.tool_call.returned", call_id="c9", name="lookup", arguments="{}",
        result="{}").events
    assert [(c.name, c.returned) for c in tool_calls(events)] == [("lookup", True)]


def test_timestamps_read_as_milliseconds() -> None:
    def at(text: str | None) -> float | None:
        return timestamp_ms(Event(created_at=text))

    assert at("2025-06-19T10:00:01.250Z") - at("2025-06-19T10:00:00Z") == 1250  # type: ignore[operator]
    assert at("2025-06-19T10:00:00") == at("2025-06-19T10:00:00Z")  # naive means UTC
    assert at("yesterday") is None and at(None) is None
