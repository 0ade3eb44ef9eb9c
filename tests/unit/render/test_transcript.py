"""The transcript renderer: final messages, tool calls, turns, times; text and JSON."""

from __future__ import annotations

import json

import pytest

from operator_iac.api.events import Event
from operator_iac.render.transcript import (
    TranscriptWriter,
    render_transcript,
    transcript_entries,
    transcript_report,
)

from ..smoke.conftest import ConversationScript


@pytest.fixture
def conversation() -> ConversationScript:
    return (ConversationScript().started().wait(1000).agent("Hi, this is Amanda.", deltas=True)
            .wait(2000).user("Is Tuesday free?")
            .tool("check_availability", {"day": "Tuesday"}, result={"slots": ["10:00"]})
            .tool("book", {"day": "Tuesday"}, error="calendar offline")
            .server_error("upstream failure")
            .add("agent.notice.sent", text="Recording is on")
            .add("conversation.context.updated", context={"tier": "gold"})
            .add("agent.mood.changed", mood="happy")
            .agent("Tuesday at 10:00 is free.").wait(500).ended())


def test_text_transcript(conversation: ConversationScript) -> None:
    assert render_transcript(conversation.events) == "\n".join([
        "Conversation conv_test with ca_test@v1 (testmode) on 2025-06-19",
        "[10:00:00.000] Conversation set up (chat_realtime, inbound)",
        "[10:00:00.000] Conversation started",
        "[10:00:01.000] Agent: Hi, this is Amanda.",
        "--- turn 1 ---",
        "[10:00:03.000] User: Is Tuesday free?",
        '[10:00:03.000] Tool call check_availability({"day": "Tuesday"})',
        '[10:00:03.000]   -> check_availability returned {"slots": ["10:00"]}',
        '[10:00:03.000] Tool call book({"day": "Tuesday"})',
        "[10:00:03.000]   -> book returned error: calendar offline",
        "[10:00:03.000] Server error: upstream failure",
        "[10:00:03.000] Notice: Recording is on",
        '[10:00:03.000] Context updated: {"tier": "gold"}',
        "[10:00:03.000] (agent.mood.changed)",
        "[10:00:03.000] Agent: Tuesday at 10:00 is free.",
        "[10:00:03.500] Conversation ended (completed)",
    ])


def test_deltas_are_left_out(conversation: ConversationScript) -> None:
    assert "delta" not in render_transcript(conversation.events)
    assert all(e["type"] != "agent.message.delta" for e in transcript_entries(conversation.events))


def test_a_result_without_its_call_shows_the_call_too() -> None:
    returned = Event(created_at="2025-06-19T10:00:00Z", payload={
        "type": "agent.tool_call.returned", "call_id": "c1", "name": "lookup",
        "arguments": '{"id": 7}', "result": "not json"})
    assert TranscriptWriter().lines(returned) == [
        '[10:00:00] Tool call lookup({"id": 7}) returned not json']


def test_an_empty_error_is_a_result_as_the_assertions_judge_it() -> None:
    returned = Event(created_at="2025-06-19T10:00:00Z", payload={
        "type": "agent.tool_call.returned", "call_id": "c1", "name": "lookup",
        "arguments": "{}", "result": '{"ok": true}', "error": {}})
    assert TranscriptWriter().lines(returned) == [
        '[10:00:00] Tool call lookup({}) returned {"ok": true}']


def test_empty_transcript() -> None:
    assert render_transcript([], conversation_id="conv_x") == "Conversation conv_x\n(no events)"


def test_json_transcript_pairs_tool_calls(conversation: ConversationScript) -> None:
    made = transcript_report(conversation.events)
    data = json.loads(json.dumps(made.data))
    assert made.summary == {"entries": len(data["entries"]), "user_messages": 1,
                            "agent_messages": 2, "tool_calls": 2, "server_errors": 1}
    assert data["conversation_id"] == "conv_test" and data["agent_id"] == "ca_test@v1"
    entries = data["entries"]
    calls = [e for e in entries if e["type"] == "tool_call"]
    assert [(c["name"], c["returned"], c["result"], c["error"], c["turn"]) for c in calls] == [
        ("check_availability", True, '{"slots": ["10:00"]}', None, 1),
        ("book", True, None, "calendar offline", 1)]
    messages = [(e["role"], e["text"], e["turn"]) for e in entries if e["type"] == "message"]
    assert messages == [("agent", "Hi, this is Amanda.", 0), ("user", "Is Tuesday free?", 1),
                        ("agent", "Tuesday at 10:00 is free.", 1)]
    assert {"type": "server_error", "error": "upstream failure"}.items() <= entries[6].items()
    assert entries[-1]["type"] == "conversation.ended" and entries[-1]["status"] == "completed"
    assert entries[-1]["timestamp"] == "2025-06-19T10:00:03.500Z"
