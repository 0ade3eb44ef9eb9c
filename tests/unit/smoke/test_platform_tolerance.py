"""The pure parts of tolerating other platforms in smoke tests: when a turn is over whatever
``has_tool_calls`` means (read canonically at the boundary), and OpenAPI 3 output schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from operator_iac.api.events import EventReader
from operator_iac.smoke.procedure_check import schema_problem
from operator_iac.smoke.runner import asserts_greeting
from operator_iac.smoke.turn_watch import TurnWatch
from operator_iac.spec.schema_dialect import as_json_schema

from .conftest import ConversationScript


def ends_at(watch: TurnWatch, script: ConversationScript) -> int | None:
    """The index of the event that ended the turn, or None (the events read as the client
    reads them, in their canonical form)."""
    reader = EventReader()
    return next((i for i, event in enumerate(script.events) if watch.see(reader.read(event))),
                None)


# ---- when a turn is over -----------------------------------------------------------------------


def test_a_message_flagged_before_its_tool_calls_does_not_end_the_turn(
        script: Callable[..., ConversationScript]) -> None:
    events = (script().user("Is Tuesday free?").agent("Let me check.", tool_calls=True)
              .tool("check_availability").agent("Tuesday is free."))
    assert ends_at(TurnWatch(1), events) == len(events.events) - 1


def test_a_reply_flagged_because_it_used_tools_ends_the_turn(
        script: Callable[..., ConversationScript]) -> None:
    events = script().user("Is Tuesday free?").tool("check_availability").agent(
        "Tuesday is free.", tool_calls=True)
    assert ends_at(TurnWatch(1), events) == len(events.events) - 1


def test_a_flagged_message_with_no_tool_call_after_it_is_tentative(
        script: Callable[..., ConversationScript]) -> None:
    watch = TurnWatch(1)
    assert ends_at(watch, script().user("Hi").agent("Let me check.", tool_calls=True)) is None
    assert watch.tentative


def test_a_user_turn_begins_when_the_platform_acknowledges_the_message(
        script: Callable[..., ConversationScript]) -> None:
    # The greeting was not waited for and arrives after the message was sent.
    events = script().started().agent("Hi, this is Sam.").user("Where is my parcel?").agent(
        "On its way.")
    assert ends_at(TurnWatch(1), events) == len(events.events) - 1
    assert ends_at(TurnWatch(0), events) == 2  # the greeting ends turn 0


def test_the_greeting_is_awaited_only_when_turn_0_asserts_on_it(
        smoke_test: Callable[..., Any]) -> None:
    greeting = {"expect": [{"agent_says": {"contains": "Sam"}}]}
    question = {"user": "Hi", "expect": [{"agent_says": {"contains": "Hello"}}]}
    assert asserts_greeting(smoke_test(turns=[greeting, question]))
    assert not asserts_greeting(smoke_test(turns=[question]))
    assert not asserts_greeting(smoke_test(turns=[{"expect": []}, question]))


# ---- output schemas in the OpenAPI 3 dialect -----------------------------------------------------

OPENAPI = {"type": "object", "required": ["company"], "properties": {
    "company": {"type": "string", "nullable": True},
    "size": {"type": "integer", "minimum": 1, "exclusiveMinimum": True},
    "tier": {"enum": ["gold", "silver"], "nullable": True},
    "tags": {"type": "array", "items": {"type": "string", "nullable": True}},
    "owner": {"allOf": [{"type": "object"}], "nullable": True}}}


def test_nullable_fields_accept_null() -> None:
    output = {"company": None, "tier": None, "tags": ["a", None], "owner": None}
    assert schema_problem(output, OPENAPI) is None


def test_nullable_fields_still_check_their_type() -> None:
    problem = schema_problem({"company": 3}, OPENAPI)
    assert problem is not None and "company" in problem


def test_boolean_exclusive_bounds_become_numbers() -> None:
    converted = as_json_schema(OPENAPI)["properties"]["size"]
    assert converted == {"type": "integer", "exclusiveMinimum": 1}
    assert schema_problem({"company": "Acme", "size": 1}, OPENAPI) is not None
    assert schema_problem({"company": "Acme", "size": 2}, OPENAPI) is None


@pytest.mark.parametrize("schema", [
    {"type": ["string", "null"]},
    {"$schema": "https://json-schema.org/draft/2020-12/schema", "nullable": True},
    {"type": "object", "properties": {"a": {"type": "string"}}}])
def test_json_schemas_are_left_as_they_are(schema: dict[str, Any]) -> None:
    assert as_json_schema(schema) == schema
