"""Turns: a conversation's events split into exchanges, so assertions can say where.

Turn 0 is everything up to the first ``user.message.received`` (setup, start, the greeting).
Turn *i* starts at the *i*-th ``user.message.received`` and runs until the next one: the
agent's reply, its tool calls, and whatever follows (errors, notices, the end of the
conversation) belong to the exchange that was going on when they happened. Every event lands
in exactly one turn. Pure functions over ``Event`` lists; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from operator_iac.api.events import (
    AGENT_MESSAGE_COMPLETED,
    TOOL_CALL_CREATED,
    TOOL_CALL_RETURNED,
    USER_MESSAGE_RECEIVED,
    Event,
)
from operator_iac.state.times import parse_time


@dataclass(frozen=True)
class Turn:
    """One exchange: its number and its events, in stream order."""

    index: int
    events: tuple[Event, ...]

    @property
    def user_text(self) -> str | None:
        """What the user said to open this turn (None for turn 0)."""
        first = self.events[0] if self.events else None
        if first is None or first.type != USER_MESSAGE_RECEIVED:
            return None
        return _text(first)

    def agent_messages(self) -> list[str]:
        return agent_messages(self.events)


@dataclass(frozen=True)
class ToolCallView:
    """A tool call as the stream tells it: created and (when it came) returned, by call id."""

    turn: int
    call_id: str | None
    name: str
    arguments: str
    returned: bool = False
    result: object = None
    error: object = None

    @property
    def failed(self) -> bool:
        return is_tool_error(self.error)


def is_tool_error(error: object) -> bool:
    """Whether a returned tool call's ``error`` reports a failure (an empty one does not)."""
    return error not in (None, "", {}, [])


def split_turns(events: Sequence[Event]) -> list[Turn]:
    """The events grouped into turns (always at least turn 0, possibly empty)."""
    groups: list[list[Event]] = [[]]
    for event in events:
        if event.type == USER_MESSAGE_RECEIVED:
            groups.append([])
        groups[-1].append(event)
    return [Turn(index, tuple(group)) for index, group in enumerate(groups)]


def turn_of_each(events: Sequence[Event]) -> list[tuple[int, Event]]:
    """Every event with the number of the turn it belongs to."""
    return [(turn.index, event) for turn in split_turns(events) for event in turn.events]


def agent_messages(events: Iterable[Event]) -> list[str]:
    """The full text of every completed agent message, in order (deltas are ignored)."""
    return [_text(e) for e in events if e.type == AGENT_MESSAGE_COMPLETED]


def tool_calls(events: Sequence[Event]) -> list[ToolCallView]:
    """Tool calls in order of creation, each completed by its ``returned`` event if any.

    A ``returned`` without a matching ``created`` (a stream that lost it) still counts.
    """
    calls: list[ToolCallView] = []
    open_calls: dict[str, int] = {}
    for turn, event in turn_of_each(events):
        if event.type == TOOL_CALL_CREATED:
            call = _call_view(turn, event)
            if call.call_id:
                open_calls[call.call_id] = len(calls)
            calls.append(call)
        elif event.type == TOOL_CALL_RETURNED:
            _record_return(calls, open_calls, turn, event)
    return calls


def _record_return(calls: list[ToolCallView], open_calls: dict[str, int], turn: int,
                   event: Event) -> None:
    returned = _call_view(turn, event, returned=True)
    position = open_calls.pop(returned.call_id, None) if returned.call_id else None
    if position is None:
        calls.append(returned)
        return
    created = calls[position]
    calls[position] = ToolCallView(created.turn, created.call_id, created.name or returned.name,
                                   created.arguments or returned.arguments, True,
                                   returned.result, returned.error)


def _call_view(turn: int, event: Event, returned: bool = False) -> ToolCallView:
    payload = event.payload
    call_id = payload.get("call_id")
    arguments = payload.get("arguments")
    return ToolCallView(
        turn=turn, call_id=call_id if isinstance(call_id, str) else None,
        name=str(payload.get("name") or ""),
        arguments=arguments if isinstance(arguments, str) else "",
        returned=returned, result=payload.get("result") if returned else None,
        error=payload.get("error") if returned else None)


def timestamp_ms(event: Event) -> float | None:
    """The event's ``created_at`` as epoch milliseconds; None when absent or unreadable."""
    moment = parse_time(event.created_at)
    if moment is None:
        return None
    return moment.timestamp() * 1000


def has_subsecond(event: Event) -> bool:
    """Whether the event's ``created_at`` carries a fraction of a second (``...:56.123Z``);
    the documented example has whole seconds, which cannot time a reply."""
    text = event.created_at or ""
    clock = text.partition("T")[2]
    return "." in clock or "," in clock


def _text(event: Event) -> str:
    value = event.payload.get("text")
    return value if isinstance(value, str) else ""
