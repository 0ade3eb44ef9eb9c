"""Conversation events: the envelope both the SSE stream and the chat session carry, the
one vocabulary of their type names, and the canonical form of their variants.

``Event`` keeps the payload as a dict, so unknown event types and unknown payload fields
pass through untouched: the readers of events (smoke turns and assertions, the transcript)
take the fields they know with ``payload.get`` and tolerate a missing or oddly typed one,
and list an unknown type by its name. Code that asks what an event is compares
``event.type`` with the constants below, never with a string of its own.

Events reach the rest of operator-iac in one canonical form (``EventReader``), whatever the
platform's variant:

- ``conversation.context.updated`` carries the update under ``context`` (some platforms put
  its keys in the payload itself);
- ``agent.message.completed`` carries ``has_tool_calls`` meaning "tool calls follow in this
  turn": a flag set on the reply that used this turn's tools (another reading platforms
  have), or a missing flag, reads as false;
- ``conversation.ended`` carries the final ``status``; where the platform sent none, the
  event stream reads it from the conversation (``event_stream``).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from operator_iac.api.tolerance import Timestamp, note, said_true

# Event types (``payload.type``) the platform sends, in the order a conversation meets them.
CONVERSATION_SETUP = "conversation.setup"
CONVERSATION_STARTED = "conversation.started"
USER_MESSAGE_RECEIVED = "user.message.received"
AGENT_MESSAGE_DELTA = "agent.message.delta"  # a piece of a reply, before it is completed
AGENT_MESSAGE_COMPLETED = "agent.message.completed"
TOOL_CALL_CREATED = "agent.tool_call.created"
TOOL_CALL_RETURNED = "agent.tool_call.returned"
NOTICE_SENT = "agent.notice.sent"
CONTEXT_UPDATED = "conversation.context.updated"
SERVER_ERROR = "server.error"
CONVERSATION_ENDED = "conversation.ended"

# Command types a client sends on the chat session (``operator_iac.api.session``).
START_CONVERSATION = "conversation.start"
SEND_USER_MESSAGE = "user.message.send"
UPDATE_CONTEXT = "conversation.context.update"
END_CONVERSATION = "conversation.end"


class Event(BaseModel):
    """One event of a conversation, as the SSE stream and the chat session deliver it.

    The envelope's fields are typed; ``payload`` keeps every field the platform sent, with
    its ``type`` (one of the constants of this module, or a type this version does not know).
    """

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    created_at: Timestamp = None
    agent_id: str | None = None
    livemode: bool | None = None
    conversation_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    experimental: bool = False

    @property
    def testmode(self) -> bool:
        """Whether the event is of a testmode conversation: it does not say livemode."""
        return not said_true(self.livemode)

    @property
    def type(self) -> str:
        """``payload.type`` ("" when the platform sent none)."""
        value = self.payload.get("type", "")
        return value if isinstance(value, str) else ""


def updated_context(payload: dict[str, Any]) -> dict[str, Any]:
    """The update a canonical ``conversation.context.updated`` payload carries."""
    context = payload.get("context")
    return context if isinstance(context, dict) else {}


def parse_event(data: str) -> Event | None:
    """The envelope in one SSE ``data`` field or WebSocket message, in its canonical form as
    far as one event alone tells (``EventReader`` does the rest); None if it is not one."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    try:
        return _canonical(Event.model_validate(value))
    except ValidationError:
        return None


def _canonical(event: Event) -> Event:
    if event.type == CONTEXT_UPDATED and not isinstance(event.payload.get("context"), dict):
        note("context_event", "the bare update")
        update = {k: v for k, v in event.payload.items() if k != "type"}
        return _with_payload(event, {"type": CONTEXT_UPDATED, "context": update})
    return event


def _with_payload(event: Event, payload: dict[str, Any]) -> Event:
    return event.model_copy(update={"payload": payload})


class EventReader:
    """The canonical form of one conversation's events, read in order: what only the
    events before an event tell about it (``has_tool_calls``)."""

    def __init__(self) -> None:
        self._calls = 0
        self._open_calls: set[str] = set()

    def read(self, event: Event) -> Event:
        kind = event.type
        if kind == USER_MESSAGE_RECEIVED:
            self._calls, self._open_calls = 0, set()
        elif kind == TOOL_CALL_CREATED:
            self._calls += 1
            self._open_calls.add(str(event.payload.get("call_id")))
        elif kind == TOOL_CALL_RETURNED:
            self._open_calls.discard(str(event.payload.get("call_id")))
        elif kind == AGENT_MESSAGE_COMPLETED:
            return self._completed(event)
        return event

    def _completed(self, event: Event) -> Event:
        flag = event.payload.get("has_tool_calls")
        follow = flag is True and not (self._calls and not self._open_calls)
        if flag is True and not follow:
            note("has_tool_calls", "true on the reply that used tools")
        elif flag is None:
            note("has_tool_calls", "absent")
        if follow:
            return event
        self._calls, self._open_calls = 0, set()
        if flag is False:
            return event
        return _with_payload(event, {**event.payload, "has_tool_calls": False})
