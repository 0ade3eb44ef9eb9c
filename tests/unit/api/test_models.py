"""Response models: tolerant of older shapes, and keeping every unknown field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from operator_iac.api.events import AGENT_MESSAGE_COMPLETED, Event, parse_event
from operator_iac.api.models import (
    Agent,
    AgentSummary,
    ConversationCreated,
    TokenRefresh,
    VersionEntry,
    normalise_version_statuses,
    transfer_target,
    version_number,
)

Factory = Callable[..., dict[str, Any]]


@pytest.fixture
def version_entry() -> Factory:
    def make(n: int, **fields: Any) -> dict[str, Any]:
        return {"version_id": f"ca_1@v{n}", "name": "A", "description": "d",
                "created_at": "2025-06-19T00:00:00Z", **fields}
    return make


def statuses(entries: list[dict[str, Any]]) -> list[str | None]:
    parsed = [VersionEntry.model_validate(e) for e in entries]
    return [e.version_status for e in normalise_version_statuses(parsed)]


def test_version_status_is_kept_as_given(version_entry: Factory) -> None:
    entries = [version_entry(0, version_status="archived"),
               version_entry(1, version_status="Released"),
               version_entry(2, version_status="draft")]
    assert statuses(entries) == ["archived", "released", "draft"]


def test_is_released_is_normalised_over_the_list(version_entry: Factory) -> None:
    entries = [version_entry(2, is_released=False), version_entry(0, is_released=False),
               version_entry(1, is_released=True)]
    assert statuses(entries) == ["archived", "released", "draft"]


def test_is_released_without_a_newer_revision_means_no_draft(version_entry: Factory) -> None:
    entries = [version_entry(0, is_released=False), version_entry(1, is_released=True)]
    assert statuses(entries) == ["archived", "released"]


def test_is_released_for_a_new_agent_means_its_v0_is_a_draft(version_entry: Factory) -> None:
    assert statuses([version_entry(0, is_released=False)]) == ["draft"]


def test_rollback_leaves_the_newer_revisions_unreleased(version_entry: Factory) -> None:
    entries = [version_entry(0, is_released=True), version_entry(1, is_released=False),
               version_entry(2, is_released=False)]
    assert statuses(entries) == ["released", "archived", "draft"]


def test_single_agent_status_from_is_released() -> None:
    base = {"id": "ca_1", "version_id": "ca_1@v3", "config": {}}
    assert Agent.model_validate({**base, "is_released": True}).status == "released"
    assert Agent.model_validate({**base, "is_released": False}).status == "draft"
    assert Agent.model_validate(base).status is None
    assert Agent.model_validate(base).number == 3


def test_unknown_fields_survive_a_read_modify_write() -> None:
    raw = {"id": "ca_1", "version_id": "ca_1@v2", "name": "A", "description": "d",
           "version_status": "released", "postprocess_agents": ["pa_1"], "labels": ["x"],
           "config": {"runtime": {"model": "openai/gpt-4o", "temperature": 0.3},
                      "brand_new_section": {"enabled": True}}}
    agent = Agent.model_validate(raw)
    agent.config["runtime"]["model"] = "openai/gpt-4.1"
    body = agent.update_body(include_extra=True)
    assert body["config"]["runtime"] == {"model": "openai/gpt-4.1", "temperature": 0.3}
    assert body["config"]["brand_new_section"] == {"enabled": True}
    assert body["labels"] == ["x"]
    assert body["postprocess_agents"] == ["pa_1"]
    assert "version_status" not in body and "id" not in body
    assert agent.model_extra == {"labels": ["x"]}
    assert "labels" not in agent.update_body()


def test_agent_id_is_derived_from_the_version_id_when_missing() -> None:
    assert Agent.model_validate({"version_id": "pa_9@v1"}).id == "pa_9"
    assert AgentSummary.model_validate({"id": "ca_2"}).id == "ca_2"


@pytest.mark.parametrize(("transfer", "target"), [
    ({"entity_id": "ca_2"}, "ca_2"), ({"id": "ca_3"}, "ca_3"), ({}, None),
    ({"entity_id": 5}, None)])
def test_transfers_are_read_in_both_shapes(transfer: dict[str, Any], target: str | None) -> None:
    agent = Agent.model_validate({"version_id": "ca_1@v0",
                                  "config": {"tool": {"transfers": [transfer]}}})
    (canonical,) = agent.config["tool"]["transfers"]
    assert transfer_target(canonical) == target
    assert "id" not in canonical


@pytest.mark.parametrize(("version_id", "number"), [
    ("ca_1@v0", 0), ("ca_1@v12", 12), ("ca_1", None), ("ca_1@vfoo", None)])
def test_version_number(version_id: str, number: int | None) -> None:
    assert version_number(version_id) == number


def test_tokens_are_hidden_from_repr() -> None:
    created = ConversationCreated.model_validate(
        {"id": "conv_1", "channel": {"type": "chat_realtime", "token": "tok_secret",
                                     "session_url": "ws://h/s?token=tok_secret"}})
    refreshed = TokenRefresh.model_validate({"token": "tok_secret", "expires_at": "x"})
    assert "tok_secret" not in repr(created)
    assert "tok_secret" not in repr(refreshed)
    assert created.channel.token == "tok_secret"


def test_create_response_without_session_url() -> None:
    created = ConversationCreated.model_validate(
        {"id": "conv_1", "channel": {"type": "chat_realtime", "token": "t",
                                     "events_url": "/conversations/conv_1/events"}})
    assert created.channel.session_url is None


ENVELOPE = {"id": "ev_1", "created_at": "2025-06-19T00:00:00Z", "agent_id": "ca_1@v0",
            "livemode": False, "conversation_id": "conv_1", "experimental": False}


def test_known_event_payloads_keep_every_field() -> None:
    completed = Event.model_validate({**ENVELOPE, "payload": {
        "type": "agent.message.completed", "text": "Hi", "generation_id": "g1",
        "interrupted": False, "has_tool_calls": False, "future_field": 1}})
    assert completed.type == AGENT_MESSAGE_COMPLETED
    assert (completed.payload["text"], completed.payload["generation_id"]) == ("Hi", "g1")
    assert completed.payload["future_field"] == 1


def test_unknown_event_types_are_kept() -> None:
    event = parse_event('{"id": "ev_9", "payload": {"type": "agent.mood.changed", "mood": 1},'
                        ' "shiny": true}')
    assert event is not None
    assert event.type == "agent.mood.changed"
    assert event.payload == {"type": "agent.mood.changed", "mood": 1}
    assert event.model_extra == {"shiny": True}


@pytest.mark.parametrize("data", ["not json", "[1, 2]", '"x"', '{"payload": 3}'])
def test_data_that_is_not_an_envelope_is_rejected(data: str) -> None:
    assert parse_event(data) is None
