"""The reading boundary: whatever shape a platform sends, operator-iac reads one canonical
form, and notes which variation it adapted to (doctor reports the notes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from operator_iac.api.events import EventReader, parse_event
from operator_iac.api.models import Agent, AgentSummary, Conversation, Procedure, VersionEntry
from operator_iac.api.tolerance import Notices, noting

from .conftest import Harness, json_response, sequence

MakeHarness = Callable[..., Harness]


def read(model: Any, data: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    notices = Notices()
    with noting(notices):
        return model.model_validate(data), notices.seen()


def test_null_where_no_null_fits_reads_as_absent_and_is_noted() -> None:
    agent, seen = read(Agent, {"version_id": "ca_1@v0", "name": "A", "description": None,
                               "config": None, "postprocess_agents": None})
    assert (agent.description, agent.config, agent.postprocess_agents) == ("", {}, None)
    assert seen == {"empty_strings": "Agent.description is null"}
    entry, _ = read(VersionEntry, {"version_id": "ca_1@v1", "description": None,
                                   "version_status": "draft"})
    assert entry.description == ""


def test_absent_fields_read_like_null_ones_and_the_gap_is_noted() -> None:
    conversation, seen = read(Conversation, {"id": "conv_1", "status": "enqueued"})
    assert conversation.status == "queued" and not conversation.is_started
    assert conversation.started_at is None
    assert seen["not_started_status"] == "enqueued"
    assert seen["null_fields"].startswith("left out (agent_id, channel_type, completed_at")


def test_a_json_encoded_output_is_decoded_where_an_object_is_expected() -> None:
    procedure, seen = read(Procedure, {"id": "trun_1", "output": json.dumps({"ok": True}),
                                       "input": {"conversation_id": "conv_1"}})
    assert procedure.output == {"ok": True}
    assert seen == {"output_shape": "Procedure.output is a JSON-encoded string"}
    plain, seen = read(Procedure, {"id": "trun_2", "output": "just words"})
    assert plain.output == "just words" and seen == {}


def test_an_object_field_sent_as_json_text_is_decoded_and_the_answer_left_as_it_came(
        ) -> None:
    answer = {"version_id": "ca_1@v0", "description": None,
              "config": json.dumps({"runtime": {"model": "m"}})}
    sent = dict(answer)
    agent, _ = read(Agent, answer)
    assert agent.config == {"runtime": {"model": "m"}} and agent.description == ""
    assert answer == sent


def test_an_older_status_field_and_list_items_without_descriptions_are_noted() -> None:
    entry, seen = read(VersionEntry, {"version_id": "ca_1@v0", "is_released": True})
    assert entry.status == "released" and seen == {"version_status":
                                                   "is_released (the older boolean)"}
    summary, seen = read(AgentSummary, {"id": "ca_1", "version_id": "ca_1@v0", "x": 1})
    assert not summary.described and summary.description == ""
    assert set(seen) == {"list_descriptions", "extra_fields"}
    nulled, _ = read(AgentSummary, {"id": "ca_1", "description": None})
    assert not nulled.described  # null in a list item: the versions list is asked


def test_a_bare_context_event_reads_as_the_update_under_context() -> None:
    notices = Notices()
    with noting(notices):
        event = parse_event(json.dumps({"id": "ev_1", "payload": {
            "type": "conversation.context.updated", "verdict": "passed"}}))
    assert event is not None and event.payload == {
        "type": "conversation.context.updated", "context": {"verdict": "passed"}}
    assert notices.seen() == {"context_event": "the bare update"}


def completed(has_tool_calls: Any = "absent") -> Any:
    payload: dict[str, Any] = {"type": "agent.message.completed", "text": "x"}
    if has_tool_calls != "absent":
        payload["has_tool_calls"] = has_tool_calls
    return parse_event(json.dumps({"id": "ev", "payload": payload}))


def event(kind: str, **payload: Any) -> Any:
    return parse_event(json.dumps({"id": "ev", "payload": {"type": kind, **payload}}))


def test_has_tool_calls_reads_as_tool_calls_follow() -> None:
    reader, notices = EventReader(), Notices()
    with noting(notices):
        announced = reader.read(completed(True))
        reader.read(event("agent.tool_call.created", call_id="c1", name="t"))
        reader.read(event("agent.tool_call.returned", call_id="c1", name="t"))
        reply = reader.read(completed(True))  # the reply that used the tools
        absent = reader.read(completed())
    assert announced.payload["has_tool_calls"] is True
    assert reply.payload["has_tool_calls"] is False
    assert absent.payload["has_tool_calls"] is False
    assert notices.seen() == {"has_tool_calls": "true on the reply that used tools"}


def test_a_relative_session_url_is_resolved_and_a_missing_one_built(
        harness: MakeHarness) -> None:
    relative = {"id": "conv_1", "channel": {
        "type": "chat_realtime", "token": "t", "events_url": "/conversations/conv_1/events",
        "session_url": "/conversations/conv_1/session?token=t"}}
    absent = {"id": "conv_2", "channel": {"type": "chat_realtime", "token": "u"}}
    h = harness(sequence(json_response(200, relative), json_response(200, absent)))
    created = h.client.conversations.create("ca_1")
    # Resolved against https://api.example.test/conversations, the URL they came from.
    assert created.channel.session_url == \
        "wss://api.example.test/conversations/conv_1/session?token=t"
    assert created.channel.events_url == "https://api.example.test/conversations/conv_1/events"
    built, _ = h.client.conversations.create_test("ca_1")
    assert built.channel.session_url == f"{h.client.ws_url}/conversations/conv_2/session?token=u"
    assert h.client.notices.seen() == {"session_url": "relative"}


def test_a_status_missing_from_conversation_ended_is_read_from_the_conversation(
        harness: MakeHarness) -> None:
    stream = (b'data: {"id": "ev_1", "payload": {"type": "conversation.started"}}\n\n'
              b'data: {"id": "ev_2", "payload": {"type": "conversation.ended"}}\n\n')
    answers = iter([
        httpx.Response(200, headers={"content-type": "text/event-stream"}, content=stream),
        json_response(200, {"id": "conv_1", "status": "in-progress"}),
        json_response(200, {"id": "conv_1", "status": "completed"})])
    h = harness(lambda request: next(answers))
    from operator_iac.api.event_stream import ended

    events = list(h.client.events("conv_1", stop=ended))
    assert events[-1].payload == {"type": "conversation.ended", "status": "completed"}
    assert [r.url.path for r in h.requests][1:] == ["/conversations/conv_1"] * 2
    assert h.client.notices.seen()["ended_status"] == "absent"


# ---- times ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("sent", "read_as"), [
    ("2026-12-05T19:53:45Z", "2026-12-05T19:53:45Z"),  # the documented form, kept
    ("2026-12-05T19:53:45.120Z", "2026-12-05T19:53:45.120Z"),
    ("2026-12-05T21:53:45.5+02:00", "2026-12-05T19:53:45.5Z"),  # offsets, in UTC
    ("2026-12-05 19:53:45", "2026-12-05T19:53:45Z"),  # no zone: UTC, like the documented form
    ("2026-12-05T19:53:45.123456789Z", "2026-12-05T19:53:45.123456Z"),  # nanoseconds
    (1764964425, "2025-12-05T19:53:45Z"),  # Unix seconds
    (1764964425.25, "2025-12-05T19:53:45.250Z"),
    (1764964425250, "2025-12-05T19:53:45.250Z"),  # Unix milliseconds
    ("1764964425", "2025-12-05T19:53:45Z"),  # as digits
    ("1764964425.25", "2025-12-05T19:53:45.250Z"),
    ("yesterday", "yesterday"),  # no time: kept as sent, never refused
    (None, None),
])
def test_a_time_is_read_in_any_form_into_rfc_3339_in_utc(sent: Any, read_as: str | None) -> None:
    version, seen = read(VersionEntry, {"version_id": "ca_1@v0", "created_at": sent,
                                        "updated_at": sent})
    assert version.created_at == version.updated_at == read_as
    unix = isinstance(sent, int | float) or (isinstance(sent, str) and sent[:1].isdigit()
                                             and "-" not in sent)
    assert ("time_form" in seen) == unix


def test_times_in_every_response_are_read_alike() -> None:
    stamp = 1764964425
    conversation, seen = read(Conversation, {"id": "conv_1", "created_at": stamp,
                                             "started_at": stamp, "completed_at": None})
    procedure, _ = read(Procedure, {"id": "trun_1", "created_at": str(stamp)})
    listed, _ = read(AgentSummary, {"id": "ca_1", "version_id": "ca_1@v0",
                                    "created_at": stamp, "updated_at": stamp})
    event = parse_event(json.dumps({"created_at": stamp + 0.5, "payload": {"type": "x"}}))
    assert conversation.created_at == conversation.started_at == procedure.created_at == \
        listed.updated_at == "2025-12-05T19:53:45Z"
    assert event is not None and event.created_at == "2025-12-05T19:53:45.500Z"
    assert seen["time_form"] == "a time as the number 1764964425"


def test_times_compare_as_times_whatever_their_forms() -> None:
    from operator_iac.state.times import parse_time, same_time

    # Text order is not time order across precisions: "45Z" sorts after "45.5Z".
    assert "2026-12-05T19:53:45Z" > "2026-12-05T19:53:45.5Z"
    assert parse_time("2026-12-05T19:53:45Z") < parse_time("2026-12-05T19:53:45.5Z")
    assert same_time("2026-12-05T19:53:45Z", "2026-12-05T21:53:45.000+02:00")
    assert not same_time("2026-12-05T19:53:45Z", "2026-12-05T19:53:46Z")
    assert same_time("soon", "soon") and not same_time("soon", "2026-12-05T19:53:45Z")


def test_the_precision_of_a_time_is_read_from_the_form_the_platform_wrote() -> None:
    from operator_iac.api.models import VersionEntry
    from operator_iac.state.times import precision

    assert precision("2026-12-05T19:53:45Z") == 1.0  # the contract's form: ties within a second
    assert precision("2026-12-05T19:53:45.250Z") == 0.001
    assert precision("2026-12-05T19:53:45.250123+00:00") == pytest.approx(1e-6)
    assert precision("soon") is None and precision(None) is None
    # Unix time as a number reads to the precision it carries.
    stamped = [VersionEntry.model_validate({"version_id": "ca_x@v0", "created_at": sent})
               for sent in (1764964425, 1764964425.25)]
    assert [precision(entry.created_at) for entry in stamped] == [1.0, 0.001]


def test_a_write_answered_with_the_revision_only_names_its_agent_too() -> None:
    from operator_iac.api.models import WriteResult

    written, _ = read(WriteResult, {"version_id": "ca_1@v2"})
    assert (written.id, written.version_id) == ("ca_1", "ca_1@v2")
    with pytest.raises(ValueError, match="names neither"):
        WriteResult.model_validate({"name": "A"})


@pytest.mark.parametrize(("shown", "testmode"), [({"livemode": False}, True), ({}, True),
                                                 ({"livemode": True}, False)],
                         ids=["false", "left out", "true"])
def test_a_livemode_flag_left_out_reads_as_false(shown: dict[str, Any], testmode: bool) -> None:
    # platforms that leave zero values out of what they show leave `livemode: false` out
    conversation = Conversation.model_validate({"id": "conv_1", "status": "queued", **shown})
    event = parse_event(json.dumps({"id": "ev_1", "payload": {"type": "x"}, **shown}))
    assert conversation.testmode is testmode and event.testmode is testmode
