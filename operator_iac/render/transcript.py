"""A conversation's events as a readable transcript, in text or JSON.

What a reader needs is the conversation, not the stream: the user's messages and the agent's
*final* messages (text deltas are skipped), each tool call with its arguments and its result
or error, the start and the end (with the final status), server errors, notices and context
updates, each with its time, and a marker where each turn begins (the turn numbers smoke
test failures refer to). Unknown event types are listed by name so nothing is silently lost.

``TranscriptWriter`` renders one event at a time (``transcript --follow`` prints as events
arrive); ``render_transcript`` and ``transcript_json`` take a whole list. Pure functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from operator_iac.api.events import (
    AGENT_MESSAGE_COMPLETED,
    AGENT_MESSAGE_DELTA,
    CONTEXT_UPDATED,
    CONVERSATION_ENDED,
    CONVERSATION_SETUP,
    CONVERSATION_STARTED,
    NOTICE_SENT,
    SERVER_ERROR,
    TOOL_CALL_CREATED,
    TOOL_CALL_RETURNED,
    USER_MESSAGE_RECEIVED,
    Event,
    updated_context,
)
from operator_iac.render.envelope import JsonReport
from operator_iac.smoke.matchers import clip, show
from operator_iac.smoke.turns import is_tool_error

MAX_VALUE_CHARS = 300
SKIPPED_TYPES = frozenset({AGENT_MESSAGE_DELTA})


def _clock(event: Event) -> str:
    """``05:31:56`` from ``2023-11-07T05:31:56Z`` (the date is in the header)."""
    text = event.created_at or ""
    _, sep, time_part = text.partition("T")
    if not sep:
        return text or "--:--:--"
    return time_part.rstrip("Zz").split("+")[0][:12] or "--:--:--"


def _json(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """A value compactly; JSON-encoded strings (tool arguments, results) are decoded first,
    and a string that is not JSON is shown as it is."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return clip(value, limit)
    return show(value, limit)


def _str(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    return value if isinstance(value, str) else ("" if value is None else _json(value))


@dataclass
class TranscriptWriter:
    """Turns events into transcript lines, remembering the turn and the open tool calls."""

    turn: int = 0
    _calls: dict[str, str] = field(default_factory=dict)

    def lines(self, event: Event) -> list[str]:
        kind = event.type
        if kind in SKIPPED_TYPES:
            return []
        stamp = f"[{_clock(event)}] "
        payload = event.payload
        if kind == USER_MESSAGE_RECEIVED:
            self.turn += 1
            return [f"--- turn {self.turn} ---", f"{stamp}User: {_str(payload, 'text')}"]
        return [stamp + line for line in self._describe(kind, payload)]

    def _describe(self, kind: str, payload: dict[str, Any]) -> list[str]:
        if kind == AGENT_MESSAGE_COMPLETED:
            cut = " (interrupted)" if payload.get("interrupted") else ""
            return [f"Agent: {_str(payload, 'text')}{cut}"]
        if kind == TOOL_CALL_CREATED:
            return [self._call_created(payload)]
        if kind == TOOL_CALL_RETURNED:
            return [self._call_returned(payload)]
        return [_SIMPLE.get(kind, _unknown)(payload, kind)]

    def _call_created(self, payload: dict[str, Any]) -> str:
        call = f"{_str(payload, 'name')}({_json(payload.get('arguments') or '{}')})"
        call_id = payload.get("call_id")
        if isinstance(call_id, str):
            self._calls[call_id] = call
        return f"Tool call {call}"

    def _call_returned(self, payload: dict[str, Any]) -> str:
        call_id = payload.get("call_id")
        known = self._calls.pop(call_id, None) if isinstance(call_id, str) else None
        error = payload.get("error")
        outcome = f"error: {_json(error)}" if is_tool_error(error) else _json(payload.get("result"))
        if known is not None:
            return f"  -> {_str(payload, 'name')} returned {outcome}"
        call = f"{_str(payload, 'name')}({_json(payload.get('arguments') or '{}')})"
        return f"Tool call {call} returned {outcome}"


def _started(payload: dict[str, Any], kind: str) -> str:
    return "Conversation started"


def _setup(payload: dict[str, Any], kind: str) -> str:
    channel = payload.get("channel")
    channel_type = channel.get("type") if isinstance(channel, dict) else None
    direction = payload.get("direction")
    details = ", ".join(str(p) for p in (channel_type, direction) if p)
    return f"Conversation set up ({details})" if details else "Conversation set up"


def _ended(payload: dict[str, Any], kind: str) -> str:
    status = payload.get("status")
    return f"Conversation ended ({status})" if status else "Conversation ended"


def _server_error(payload: dict[str, Any], kind: str) -> str:
    return f"Server error: {_str(payload, 'error')}"


def _notice(payload: dict[str, Any], kind: str) -> str:
    return f"Notice: {_str(payload, 'text')}"


def _context(payload: dict[str, Any], kind: str) -> str:
    return f"Context updated: {_json(updated_context(payload))}"


def _unknown(payload: dict[str, Any], kind: str) -> str:
    return f"({kind or 'event without a type'})"


_SIMPLE = {
    CONVERSATION_SETUP: _setup,
    CONVERSATION_STARTED: _started,
    CONVERSATION_ENDED: _ended,
    SERVER_ERROR: _server_error,
    NOTICE_SENT: _notice,
    CONTEXT_UPDATED: _context,
}


def transcript_header(events: Sequence[Event], conversation_id: str | None = None) -> str:
    """``Conversation conv_x with ca_y@v2 (testmode), 2025-06-19``."""
    first = events[0] if events else None
    conversation = conversation_id or (first.conversation_id if first else None) or "?"
    parts = [f"Conversation {conversation}"]
    if first is not None and first.agent_id:
        parts.append(f"with {first.agent_id}")
    if first is not None and first.testmode:
        parts.append("(testmode)")
    if first is not None and first.created_at and "T" in first.created_at:
        parts.append(f"on {first.created_at.partition('T')[0]}")
    return " ".join(parts)


def render_transcript(events: Iterable[Event], *, conversation_id: str | None = None,
                      header: bool = True) -> str:
    """The whole transcript as text, one line per message or event."""
    listed = list(events)
    writer = TranscriptWriter()
    lines = [transcript_header(listed, conversation_id)] if header else []
    for event in listed:
        lines.extend(writer.lines(event))
    if len(lines) == (1 if header else 0):
        lines.append("(no events)")
    return "\n".join(lines)


def transcript_entries(events: Iterable[Event]) -> list[dict[str, Any]]:
    """The transcript as JSON-ready entries: one per message, tool call or event."""
    entries: list[dict[str, Any]] = []
    open_calls: dict[str, dict[str, Any]] = {}
    turn = 0
    for event in events:
        if event.type in SKIPPED_TYPES:
            continue
        turn += event.type == USER_MESSAGE_RECEIVED
        entry = _entry(event, turn)
        call_id = event.payload.get("call_id")
        if event.type == TOOL_CALL_RETURNED and isinstance(call_id, str) \
                and call_id in open_calls:
            open_calls.pop(call_id).update(_call_outcome(event.payload))
            continue
        if event.type == TOOL_CALL_CREATED and isinstance(call_id, str):
            open_calls[call_id] = entry
        entries.append(entry)
    return entries


def _entry(event: Event, turn: int) -> dict[str, Any]:
    payload = event.payload
    base: dict[str, Any] = {"turn": turn, "timestamp": event.created_at, "event_id": event.id}
    kind = event.type
    if kind == USER_MESSAGE_RECEIVED:
        return {**base, "type": "message", "role": "user", "text": payload.get("text")}
    if kind == AGENT_MESSAGE_COMPLETED:
        return {**base, "type": "message", "role": "agent", "text": payload.get("text"),
                "generation_id": payload.get("generation_id"),
                "interrupted": bool(payload.get("interrupted"))}
    if kind in (TOOL_CALL_CREATED, TOOL_CALL_RETURNED):
        call = {**base, "type": "tool_call", "call_id": payload.get("call_id"),
                "name": payload.get("name"), "arguments": payload.get("arguments"),
                "returned": False}
        return call if kind == TOOL_CALL_CREATED else {**call, **_call_outcome(payload)}
    if kind == SERVER_ERROR:
        return {**base, "type": "server_error", "error": payload.get("error")}
    fields = {k: v for k, v in payload.items() if k != "type"}
    return {**base, "type": kind, **fields}


def _call_outcome(payload: dict[str, Any]) -> dict[str, Any]:
    return {"returned": True, "result": payload.get("result"), "error": payload.get("error")}


def transcript_json(events: Iterable[Event], conversation_id: str | None = None) -> dict[str, Any]:
    listed = list(events)
    first = listed[0] if listed else None
    return {
        "conversation_id": conversation_id or (first.conversation_id if first else None),
        "agent_id": first.agent_id if first else None,
        "livemode": not first.testmode if first else None,
        "entries": transcript_entries(listed),
    }


def transcript_report(events: Iterable[Event], conversation_id: str | None = None
                      ) -> JsonReport:
    """``transcript --format json``: the entries, and counts of what they hold."""
    data = transcript_json(events, conversation_id)
    kinds = [entry.get("role", entry["type"]) for entry in data["entries"]]
    summary = {"entries": len(kinds), "user_messages": kinds.count("user"),
               "agent_messages": kinds.count("agent"), "tool_calls": kinds.count("tool_call"),
               "server_errors": kinds.count("server_error")}
    return JsonReport(data, summary)
