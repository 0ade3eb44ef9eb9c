"""Conversation events: the envelope both the SSE stream and the chat session carry, and the
one vocabulary of their type names.

``Event`` keeps the payload as a dict, so unknown event types and unknown payload fields
pass through untouched: the readers of events (smoke turns and assertions, the transcript)
take the fields they know with ``payload.get`` and tolerate a missing or oddly typed one,
and list an unknown type by its name. Code that asks what an event is compares
``event.type`` with the constants below, never with a string of its own.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
    created_at: str | None = None
    agent_id: str | None = None
    livemode: bool | None = None
    conversation_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    experimental: bool = False

    @property
    def type(self) -> str:
        """``payload.type`` ("" when the platform sent none)."""
        value = self.payload.get("type", "")
        return value if isinstance(value, str) else ""


def updated_context(payload: dict[str, Any]) -> dict[str, Any]:
    """The update a ``conversation.context.updated`` payload carries: under ``context``, or
    (platforms that send the bare update) as the payload's own keys."""
    context = payload.get("context")
    if isinstance(context, dict):
        return context
    return {k: v for k, v in payload.items() if k != "type"}


def parse_event(data: str) -> Event | None:
    """The envelope in one SSE ``data`` field or WebSocket message; None if it is not one."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    try:
        return Event.model_validate(value)
    except ValidationError:
        return None
