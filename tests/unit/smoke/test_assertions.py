"""Assertions judged on event lists: verdicts, and messages that say expected, seen, where."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from operator_iac.smoke.assertions import Evidence, evaluate_test
from operator_iac.smoke.results import AssertionResult
from operator_iac.spec.models import SmokeTest

from .conftest import ConversationScript

MakeTest = Callable[..., SmokeTest]


def judge(make: MakeTest, events: ConversationScript, *, turns: list[dict[str, Any]] | None = None,
          expect: list[Any] | None = None, **evidence: Any) -> list[AssertionResult]:
    return evaluate_test(make(turns=turns, expect=expect),
                         Evidence(events=events.events, **evidence))


def only(results: list[AssertionResult]) -> AssertionResult:
    assert len(results) == 1
    return results[0]


def test_turn_expectations_are_judged_on_their_own_turn(smoke_test: MakeTest,
                                                        booking: ConversationScript) -> None:
    results = judge(smoke_test, booking, turns=[
        {"expect": [{"agent_says": {"contains": "Amanda"}}]},
        {"user": "Is Tuesday free?", "expect": [{"agent_says": {"contains": "Amanda"}}]},
    ])
    assert [(r.turn, r.passed) for r in results] == [(0, True), (1, False)]
    assert results[1].message() == (
        'turn 1: agent_says contains "Amanda": expected an agent message that contains '
        '"Amanda"; saw agent said "Tuesday at 10:00 is available."')


def test_a_first_turn_with_a_user_message_is_turn_one(smoke_test: MakeTest,
                                                      booking: ConversationScript) -> None:
    result = only(judge(smoke_test, booking, turns=[
        {"user": "Is Tuesday free?", "expect": [{"tool_called": {"name": "check_availability"}}]}]))
    assert result.passed and result.turn == 1


def test_a_turn_that_never_happened_fails_plainly(smoke_test: MakeTest,
                                                  script: Callable[..., ConversationScript]
                                                  ) -> None:
    events = script().started().agent("Hi")
    result = only(judge(smoke_test, events, turns=[
        {"user": "hello", "expect": [{"agent_says": {"contains": "Hi"}}]}]))
    assert not result.passed and result.seen == "no agent message" and result.turn == 1


@pytest.mark.parametrize(("match", "passed"), [
    ({"regex": "(?i)available"}, True),
    ({"equals": "Tuesday at 10:00 is available."}, True),
    ({"one_of": ["Yes", "No"]}, False),
    ({"not_contains": "sorry"}, True),
    ({"not_contains": "Amanda"}, False),
    ({"contains": "Tuesday", "not_contains": "Amanda"}, False),
])
def test_agent_says_over_the_whole_conversation(smoke_test: MakeTest, booking: ConversationScript,
                                                match: dict[str, Any], passed: bool) -> None:
    result = only(judge(smoke_test, booking, expect=[{"agent_says": match}]))
    assert result.passed is passed and result.turn is None


def test_not_contains_failure_shows_the_offending_message(smoke_test: MakeTest,
                                                          booking: ConversationScript) -> None:
    result = only(judge(smoke_test, booking, expect=[{"agent_says": {"not_contains": "Amanda"}}]))
    assert result.expected == 'no agent message containing "Amanda"'
    assert result.seen == 'agent said "Hi, this is Amanda. How can I help?"'


def test_tool_called_matches_arguments(smoke_test: MakeTest, booking: ConversationScript) -> None:
    good = {"tool_called": {"name": "check_availability", "arguments": {
        "day": {"regex": "(?i)tue"}, "slot": {"subset": {"time": "10:00"}},
        "slot.time": "10:00"}}}
    bad = {"tool_called": {"name": "check_availability", "arguments": {"day": "Friday"}}}
    results = judge(smoke_test, booking, expect=[good, bad])
    assert [r.passed for r in results] == [True, False]
    assert results[1].expected == 'a call to check_availability with day equals "Friday"'
    assert results[1].seen.startswith('check_availability({"day": "Tuesday"')
    assert results[1].seen.endswith(' in turn 1: day equals "Friday", but it is "Tuesday"')


def test_tool_called_when_another_tool_or_none_was_called(
        smoke_test: MakeTest, booking: ConversationScript,
        script: Callable[..., ConversationScript]) -> None:
    other = only(judge(smoke_test, booking, expect=[{"tool_called": {"name": "book"}}]))
    assert other.seen.startswith("calls to check_availability(")
    none = only(judge(smoke_test, script().started(), expect=[{"tool_called": {"name": "book"}}]))
    assert none.seen == "no tool calls"


def test_tool_not_called_and_sequence(smoke_test: MakeTest,
                                      script: Callable[..., ConversationScript]) -> None:
    events = script().started().user("go").tool("a").tool("b").tool("c")
    results = judge(smoke_test, events, expect=[
        {"tool_not_called": {"name": "b"}}, {"tool_not_called": {"name": "z"}},
        {"tool_sequence": ["a", "c"]}, {"tool_sequence": ["c", "a"]}])
    assert [r.passed for r in results] == [False, True, True, False]
    assert results[0].seen == "b({}) in turn 1"
    assert results[3].seen == "a -> b -> c"


def test_tool_errors(smoke_test: MakeTest, script: Callable[..., ConversationScript]) -> None:
    events = script().started().user("order?").tool("lookup_order", error="service down")
    results = judge(smoke_test, events, expect=[
        "no_tool_errors", "tool_returned_error", {"tool_returned_error": {"name": "other"}}])
    assert [r.passed for r in results] == [False, True, False]
    assert results[0].seen == 'lookup_order returned error "service down" in turn 1'
    assert results[2].seen == "no call to other returned"


def test_server_errors_are_reported_with_their_turn(smoke_test: MakeTest,
                                                    script: Callable[..., ConversationScript]
                                                    ) -> None:
    events = script().started().agent("Hi").user("x").server_error("upstream failure")
    result = only(judge(smoke_test, events, expect=["no_server_errors"]))
    assert not result.passed
    assert result.message() == ('whole conversation: no_server_errors: expected no server.error '
                                'event; saw server.error "upstream failure" in turn 1')


def test_turn_latency_from_event_timestamps(smoke_test: MakeTest,
                                            booking: ConversationScript) -> None:
    # booking: the user's message at +2.4s, the tool call at +2.7s, the reply at +3.2s.
    results = judge(smoke_test, booking, turns=[
        {"expect": [{"max_turn_latency_ms": 300}]},
        {"user": "Is Tuesday free?", "expect": [{"max_turn_latency_ms": 800}]},
    ], expect=[{"max_turn_latency_ms": 799}, {"max_turn_latency_ms": 800}])
    assert [r.passed for r in results] == [False, True, False, True]
    assert results[0].seen == "400 ms in turn 0"
    assert results[2].seen == "800 ms in turn 1"


def test_turn_latency_without_a_reply(smoke_test: MakeTest,
                                      script: Callable[..., ConversationScript]) -> None:
    events = script().started().agent("Hi").user("hello?").wait(100).ended()
    result = only(judge(smoke_test, events, expect=[{"max_turn_latency_ms": 1000}]))
    assert not result.passed and result.seen == "no agent reply in turn 1"


def test_total_time_and_final_status(smoke_test: MakeTest, booking: ConversationScript,
                                     script: Callable[..., ConversationScript]) -> None:
    results = judge(smoke_test, booking, expect=[
        {"max_total_ms": 4200}, {"max_total_ms": 4199},
        {"ended_with_status": "completed"}, {"ended_with_status": "failed"}])
    assert [r.passed for r in results] == [True, False, True, False]
    assert results[1].seen == "4200 ms"
    assert results[3].seen == 'status "completed"'
    unfinished = judge(smoke_test, script().started(), expect=[
        {"ended_with_status": "completed"}, {"max_total_ms": 10}])
    assert [r.seen for r in unfinished] == [
        "the conversation did not end (no conversation.ended event)",
        "the conversation did not end"]


# ---- procedure ---------------------------------------------------------------------------------

SCHEMA = {"type": "object", "required": ["is_qualified", "reason"], "additionalProperties": False,
          "properties": {"is_qualified": {"type": "boolean"}, "reason": {"type": "string"},
                         "team_size": {"type": ["integer", "null"]}}}
QUALIFIED = {"is_qualified": True, "reason": "ten people", "team_size": 12}


def judge_procedure(make: MakeTest, booking: ConversationScript, expect: dict[str, Any],
                    procedures: list[Any], **evidence: Any) -> AssertionResult:
    return only(judge(make, booking, expect=[{"procedure": expect}], procedures=procedures,
                      agent_ids={"lead-qualification": "pa_sum"},
                      output_schemas={"lead-qualification": SCHEMA}, **evidence))


@pytest.mark.parametrize("agent", ["lead-qualification", "pa_sum", "Call summary"])
def test_procedure_found_by_key_id_or_name(smoke_test: MakeTest, booking: ConversationScript,
                                           procedure: Callable[..., Any], agent: str) -> None:
    result = judge_procedure(smoke_test, booking, {
        "agent": agent, "output": {"is_qualified": True, "team_size": {"one_of": [12, 13]}}},
        [procedure("success", QUALIFIED)])
    assert result.passed, result.message()


def test_procedure_output_is_checked_against_the_schema(smoke_test: MakeTest,
                                                        booking: ConversationScript,
                                                        procedure: Callable[..., Any]) -> None:
    result = judge_procedure(smoke_test, booking, {"agent": "lead-qualification"},
                             [procedure("success", {"is_qualified": "yes", "reason": "r"})])
    assert not result.passed
    assert "does not match the output_schema: 'yes' is not of type 'boolean' " \
           "(at $.is_qualified)" in result.seen


def test_procedure_field_matchers(smoke_test: MakeTest, booking: ConversationScript,
                                  procedure: Callable[..., Any]) -> None:
    result = judge_procedure(smoke_test, booking, {
        "agent": "lead-qualification", "output": {"is_qualified": {"equals": False}}},
        [procedure("success", QUALIFIED)])
    assert result.seen == "output is_qualified equals false, but it is true"


def test_procedure_status_failed_not_run_and_unfinished(smoke_test: MakeTest,
                                                        booking: ConversationScript,
                                                        procedure: Callable[..., Any]) -> None:
    failed = judge_procedure(smoke_test, booking, {"agent": "lead-qualification"},
                             [procedure("failed", error="model refused")])
    assert failed.seen == 'status failed (error: "model refused")'
    missing = judge_procedure(smoke_test, booking, {"agent": "lead-qualification"},
                              [procedure(agent_id="pa_other", name="Other")],
                              procedure_wait_s=2.0)
    assert missing.seen == ("no procedure of lead-qualification for this conversation after "
                            "waiting 2s (procedures seen: Other)")
    running = judge_procedure(smoke_test, booking, {"agent": "lead-qualification"},
                              [procedure("running")], procedure_wait_s=3.0)
    assert running.seen == "status running after waiting 3s: the procedure did not finish"
    expected_failure = judge_procedure(smoke_test, booking, {
        "agent": "lead-qualification", "status": "failed"}, [procedure("failed")])
    assert expected_failure.passed


def test_the_newest_procedure_of_the_agent_counts(smoke_test: MakeTest,
                                                  booking: ConversationScript,
                                                  procedure: Callable[..., Any]) -> None:
    runs = [procedure("success", QUALIFIED, created_at="2025-06-19T10:00:09Z"),
            procedure("failed", created_at="2025-06-19T10:00:01Z")]
    assert judge_procedure(smoke_test, booking, {"agent": "lead-qualification"}, runs).passed
