"""The Operator API client: the only user of httpx and websockets in operator-iac.

Modules, from the bottom up: ``credentials`` (the key as a secret), ``retry`` (pure retry
policy), ``failures`` (error bodies to errors), ``models`` and ``events`` (tolerant response
models), ``pagination``, ``resources`` (typed endpoints), ``client`` (``OperatorClient``),
``sse`` (pure SSE decoder), ``event_stream`` (reconnecting SSE reader), ``session``
(WebSocket chat session) and ``pool`` (self-throttling parallel reads).
"""

from __future__ import annotations

from operator_iac.api.client import Attempt, OperatorClient, derive_ws_url
from operator_iac.api.constants import API_VERSION, DEFAULT_BASE_URL, DEFAULT_WS_URL
from operator_iac.api.credentials import DEFAULT_API_KEY_ENV, api_key_from_environ
from operator_iac.api.event_stream import EventStream, ended
from operator_iac.api.events import Event
from operator_iac.api.models import (
    Agent,
    AgentSummary,
    Conversation,
    ConversationCreated,
    Procedure,
    VersionEntry,
    WriteResult,
    agent_id_of,
    transfer_target,
    version_number,
)
from operator_iac.api.pool import ReadPool
from operator_iac.api.session import ChatSession
from operator_iac.errors import AmbiguousWriteError

__all__ = [
    "API_VERSION",
    "DEFAULT_API_KEY_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_WS_URL",
    "Agent",
    "AgentSummary",
    "AmbiguousWriteError",
    "Attempt",
    "ChatSession",
    "Conversation",
    "ConversationCreated",
    "Event",
    "EventStream",
    "OperatorClient",
    "Procedure",
    "ReadPool",
    "VersionEntry",
    "WriteResult",
    "agent_id_of",
    "api_key_from_environ",
    "derive_ws_url",
    "ended",
    "transfer_target",
    "version_number",
]
