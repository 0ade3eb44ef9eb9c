"""Conversation events: the envelope both the SSE stream and the chat session carry.

``Event`` keeps the payload as a dict, so unknown event types and unknown payload fields
pass through untouched; ``Event.typed_payload()`` offers a typed view of the known types.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str


class ConversationSetup(_Payload):
    channel: dict[str, Any] | None = None
    direction: str | None = None


class ConversationStarted(_Payload):
    pass


class UserMessageReceived(_Payload):
    text: str = ""


class AgentMessageDelta(_Payload):
    text_delta: str = ""
    generation_id: str | None = None


class AgentMessageCompleted(_Payload):
    text: str = ""
    generation_id: str | None = None
    interrupted: bool = False
    has_tool_calls: bool = False


class ToolCallCreated(_Payload):
    call_id: str | None = None
    name: str = ""
    arguments: str = ""  # JSON-encoded, as the platform sends it

    def parsed_arguments(self) -> Any:
        """The decoded arguments, or the raw string when it is not JSON."""
        try:
            return json.loads(self.arguments) if self.arguments else {}
        except ValueError:
            return self.arguments


class ToolCallReturned(ToolCallCreated):
    result: Any = None
    error: Any = None


class NoticeSent(_Payload):
    text: str = ""


class ContextUpdated(_Payload):
    context: dict[str, Any] | None = None


class ConversationEnded(_Payload):
    status: str | None = None


class ServerErrorEvent(_Payload):
    error: Any = None


KnownPayload = (
    ConversationSetup | ConversationStarted | UserMessageReceived | AgentMessageDelta
    | AgentMessageCompleted | ToolCallCreated | ToolCallReturned | NoticeSent
    | ContextUpdated | ConversationEnded | ServerErrorEvent
)

PAYLOAD_TYPES: dict[str, type[_Payload]] = {
    "conversation.setup": ConversationSetup,
    "conversation.started": ConversationStarted,
    "user.message.received": UserMessageReceived,
    "agent.message.delta": AgentMessageDelta,
    "agent.message.completed": AgentMessageCompleted,
    "agent.tool_call.created": ToolCallCreated,
    "agent.tool_call.returned": ToolCallReturned,
    "agent.notice.sent": NoticeSent,
    "conversation.context.updated": ContextUpdated,
    "conversation.ended": ConversationEnded,
    "server.error": ServerErrorEvent,
}


class Event(BaseModel):
    """One event envelope; ``payload`` keeps every field the platform sent."""

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

    def typed_payload(self) -> KnownPayload | None:
        """A typed view of the payload for the documented types; None for the others
        (and for a known type whose fields do not have the documented types)."""
        model = PAYLOAD_TYPES.get(self.type)
        if model is None:
            return None
        try:
            return model.model_validate(self.payload)  # type: ignore[return-value]
        except ValidationError:
            return None


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
