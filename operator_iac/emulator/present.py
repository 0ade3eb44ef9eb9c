"""How domain records look on the wire, per compatibility mode: pure functions to dicts."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from operator_iac.emulator import compat
from operator_iac.emulator.agents import Revision
from operator_iac.emulator.clock import iso, iso_ms
from operator_iac.emulator.conversations import QUEUED, Conversation
from operator_iac.emulator.procedures import Procedure

Modes = Collection[str]
EXTRA_FIELD = "platform_extension"


def ref(revision: Revision) -> dict[str, Any]:
    return {"id": revision.agent_id, "version_id": revision.version_id}


def agent(revision: Revision, modes: Modes) -> dict[str, Any]:
    body = _summary(revision, modes)
    body["config"] = _config(revision.config, modes)
    if revision.postprocess_agents is not None:
        body["postprocess_agents"] = list(revision.postprocess_agents)
    return compat.shown(_extra(body, modes), modes)


def agent_list_item(revision: Revision, modes: Modes) -> dict[str, Any]:
    body = _extra({"id": revision.agent_id, **_summary(revision, modes)}, modes)
    if "list_without_description" in modes:
        del body["description"]
    return compat.shown(body, modes)


def version_item(revision: Revision, modes: Modes) -> dict[str, Any]:
    body = _summary(revision, modes)
    del body["id"]
    return compat.shown(body, modes)


def _summary(revision: Revision, modes: Modes) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": revision.agent_id,
        "version_id": revision.version_id,
        "name": revision.name,
        "description": revision.description,
        "created_at": _stamp(revision.created_at, modes),
        "updated_at": _stamp(revision.updated_at, modes),
    }
    if "is_released" in modes:
        body["is_released"] = revision.status == "released"
    else:
        body["version_status"] = revision.status
    return body


def _stamp(moment: float, modes: Modes) -> str:
    """A revision's time, with milliseconds (``whole_seconds``: whole seconds, the form the
    contract shows)."""
    return iso_ms(moment) if "whole_seconds" not in modes else iso(moment) or ""


def _config(config: dict[str, Any], modes: Modes) -> dict[str, Any]:
    """The stored config as shown, built anew where a mode changes it (never changed in
    place: a revision may be shown again)."""
    tool = config.get("tool")
    if "transfer_id" in modes and isinstance(tool, dict) and \
            isinstance(tool.get("transfers"), list):
        spelt = [{("id" if k == "entity_id" else k): v for k, v in item.items()}
                 if isinstance(item, dict) else item for item in tool["transfers"]]
        config = {**config, "tool": {**tool, "transfers": spelt}}
    if "extra_fields" in modes:
        config = {**config, EXTRA_FIELD: {"added_by": "platform"}}
    return config


def _extra(body: dict[str, Any], modes: Modes) -> dict[str, Any]:
    if "extra_fields" in modes:
        body[EXTRA_FIELD] = {"added_by": "platform"}
    return body


def conversation(c: Conversation, modes: Modes) -> dict[str, Any]:
    status = "enqueued" if c.status == QUEUED and "enqueued" in modes else c.status
    return compat.shown(_extra({
        "id": c.id,
        "agent_id": c.agent_id,
        "customer_id": c.customer_id,
        "channel_type": c.channel_type,
        "channel": dict(c.channel),
        "livemode": c.livemode,
        "override_config": c.override_config,
        "created_at": iso(c.created_at),
        "started_at": iso(c.started_at),
        "completed_at": iso(c.completed_at),
        "direction": c.direction,
        "status": status,
        "failure_reason": c.failure_reason,
        "custom_fields": dict(c.custom_fields or {}),
        "summary": c.summary,
        "duration_sec": c.duration_sec,
        "sentiment": c.sentiment,
    }, modes), modes)


def created_channel(c: Conversation, token: str, http_base: str, ws_base: str,
                    modes: Modes) -> dict[str, Any]:
    """The ``channel`` of the create-conversation response: what the caller connects with."""
    channel: dict[str, Any] = {"type": c.channel_type}
    if c.channel_type == "phone":
        channel["callee_no"] = c.channel.get("callee_no")
        channel["caller_no"] = c.channel.get("caller_no")
    tokenless = c.channel_type == "chat_realtime" and "no_chat_token" in modes
    if not tokenless:
        channel["token"] = token
    channel["events_url"] = f"{http_base}/conversations/{c.id}/events"
    if c.channel_type == "chat_realtime" and "no_session_url" not in modes and not tokenless:
        origin = "" if "relative_session_url" in modes else ws_base
        channel["session_url"] = f"{origin}/conversations/{c.id}/session?token={token}"
    return channel


def procedure(p: Procedure, modes: Modes) -> dict[str, Any]:
    output = p.output
    if output is not None and "output_as_string" in modes:
        output = json.dumps(output)
    return compat.shown({
        "id": p.id,
        "livemode": p.livemode,
        "name": p.name,
        "conversation_id": p.conversation_id,
        "created_at": iso(p.created_at),
        "status": p.status,
        "agent_id": p.agent_id,
        "agent_version_id": p.agent_version_id,
        "error": p.error,
        "input": p.input,
        "output": output,
        "summary": p.summary,
    }, modes)


def customer(doc: dict[str, Any]) -> dict[str, Any]:
    created = doc.get("created_at")
    return {**doc, "created_at": iso(created) if isinstance(created, int | float) else created}
