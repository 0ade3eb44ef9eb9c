"""The bytes of one SSE message, per compatibility mode."""

from __future__ import annotations

import json

from operator_iac.emulator.sse import format_event

ENVELOPE = {"id": "ev_1", "created_at": "2025-06-19T00:00:00Z", "agent_id": "ca_1@v0",
            "livemode": False, "conversation_id": "conv_1",
            "payload": {"type": "agent.message.completed", "text": "line one\nline two"},
            "experimental": False}


def data_of(message: bytes) -> dict[str, object]:
    lines = message.decode().split("\n")
    joined = "\n".join(line[len("data: "):] for line in lines if line.startswith("data: "))
    return dict(json.loads(joined))


def test_default_message_has_an_id_line_and_one_data_line() -> None:
    message = format_event(ENVELOPE, frozenset())
    assert message.startswith(b"id: ev_1\ndata: {")
    assert message.endswith(b"\n\n") and message.count(b"\n") == 3
    assert data_of(message) == ENVELOPE


def test_no_sse_ids_mode_drops_the_id_line() -> None:
    message = format_event(ENVELOPE, {"no_sse_ids"})
    assert message.startswith(b"data: ") and b"id: " not in message.split(b"\n")[0]
    assert data_of(message) == ENVELOPE


def test_multiline_mode_spreads_json_over_data_lines() -> None:
    message = format_event(ENVELOPE, {"multiline_sse"})
    assert message.count(b"\ndata: ") > 5
    assert data_of(message) == ENVELOPE
