"""The Operator API client: the only user of httpx and websockets in operator-iac.

Modules, from the bottom up: ``credentials`` (the key as a secret), ``retry`` (pure retry
policy), ``failures`` (error bodies to errors), ``models`` and ``events`` (tolerant response
models), ``pagination``, ``transport`` (what resources and the event stream need from the
client), ``resources`` (typed endpoints), ``client`` (``OperatorClient``), ``sse`` (pure SSE
decoder), ``event_stream`` (reconnecting SSE reader), ``session`` (WebSocket chat session)
and ``pool`` (self-throttling parallel reads).

The names below are re-exported lazily, like the package root's: importing a pure module
(``operator_iac.api.events``, ``operator_iac.api.models``) must not load httpx, websockets,
click or rich. Each name is imported from its module on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> "module" (same name there) or "module:attribute"; resolved on first access.
_LAZY_EXPORTS: dict[str, str] = {
    "API_VERSION": "operator_iac.api.constants",
    "DEFAULT_BASE_URL": "operator_iac.defaults:API_URL",
    "DEFAULT_WS_URL": "operator_iac.api.constants",
    "DEFAULT_API_KEY_ENV": "operator_iac.defaults:API_KEY_ENV",
    "api_key_from_environ": "operator_iac.api.credentials",
    "Agent": "operator_iac.api.models",
    "AgentSummary": "operator_iac.api.models",
    "Conversation": "operator_iac.api.models",
    "ConversationCreated": "operator_iac.api.models",
    "Procedure": "operator_iac.api.models",
    "VersionEntry": "operator_iac.api.models",
    "WriteResult": "operator_iac.api.models",
    "agent_id_of": "operator_iac.api.models",
    "transfer_target": "operator_iac.api.models",
    "version_number": "operator_iac.api.models",
    "Event": "operator_iac.api.events",
    "AmbiguousWriteError": "operator_iac.errors",
    "Attempt": "operator_iac.api.client",
    "OperatorClient": "operator_iac.api.client",
    "derive_ws_url": "operator_iac.api.client",
    "EventStream": "operator_iac.api.event_stream",
    "ended": "operator_iac.api.event_stream",
    "ChatSession": "operator_iac.api.session",
    "WorkPool": "operator_iac.api.pool",
}

__all__ = sorted(_LAZY_EXPORTS)


def __getattr__(name: str) -> Any:
    target = _LAZY_EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'operator_iac.api' has no attribute {name!r}")
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute or name)


def __dir__() -> list[str]:
    return sorted(__all__)
