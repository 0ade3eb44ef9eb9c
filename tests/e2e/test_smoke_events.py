"""Assertions on every event type, and reply timing, against the real emulator: notices,
context updates, the interrupted flag, tool calls within N turns, assertions nothing could
judge (incomplete, never passed), and latencies from millisecond timestamps or, when a
platform stamps whole seconds, from arrival times."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.emulator.rules import parse_rules
from operator_iac.emulator.server import EmulatorServer
from operator_iac.smoke.results import RunResult
from operator_iac.smoke.runner import run_once
from operator_iac.smoke.turns import has_subsecond
from operator_iac.spec.models import SmokeTest

GREETING = {"expect": [{"agent_says": {"contains": "Robin"}}]}
RULES = {
    "start_notice": "This chat is recorded and answered by an AI agent.",
    "rules": [
        {"match": "(?i)my name is (?P<name>\\w+)", "reply": "Nice to meet you, {name}.",
         "context": {"customer_name": "Dana"}},
        {"match": "(?i)cut me off", "reply": "Sorry, go on", "interrupted": True},
        {"match": "(?i)order", "reply": "Which order?"},
        {"match": "(?i)AC-\\d+", "tool": {"name": "lookup_order",
                                          "arguments": {"order": "AC-1"}}},
    ],
}


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[OperatorClient]:
    with OperatorClient(emulator.url, emulator.api_key) as api:
        yield api


@pytest.fixture
def agent(client: OperatorClient, emulator: EmulatorServer) -> str:
    emulator.set_brain(rules=parse_rules(RULES))
    runtime = {"model": "openai/gpt-4o-mini", "prompt": {"type": "fixed", "text": "Help."}}
    created = client.conversational_agents.create("Shop", "", {
        "personas": [{"name": "Robin"}], "runtime": runtime,
        "tool": {"tools": [{"ns": "acme", "name": "lookup_order"}]}})
    return f"{created.id}@v0"


@pytest.fixture
def run(client: OperatorClient, agent: str) -> Callable[..., RunResult]:
    def run_test(turns: list[dict[str, Any]], expect: list[Any] | None = None) -> RunResult:
        test = SmokeTest.model_validate({"name": "t", "turns": turns, "expect": expect or []})
        return run_once(client, test, agent)

    return run_test


def test_a_recording_disclosure_is_asserted(run: Callable[..., RunResult]) -> None:
    passed = run([{"expect": [{"notice_sent": {"regex": "(?i)recorded.*AI"}}]}])
    assert passed.outcome == "passed", passed.reason()
    failed = run([GREETING], [{"notice_sent": {"contains": "consent"}}])
    assert failed.outcome == "failed"
    assert failed.assertions[-1].seen == ('notices "This chat is recorded and answered by an '
                                          'AI agent."')


def test_context_updates_are_asserted(run: Callable[..., RunResult]) -> None:
    result = run([GREETING, {"user": "Hi, my name is Dana", "expect": [
        {"context_updated": {"customer_name": "Dana"}}]}],
        [{"context_updated": {"customer_name": {"regex": "^Lu"}}}])
    assert [a.passed for a in result.assertions] == [True, True, False]
    assert result.assertions[-1].seen.startswith('context {"customer_name": "Dana"}: ')


def test_the_interrupted_flag_is_asserted(run: Callable[..., RunResult]) -> None:
    result = run([GREETING, {"user": "You cut me off", "expect": [{"agent_interrupted": True}]},
                  {"user": "as I said", "expect": [{"agent_interrupted": False}]}])
    assert result.outcome == "passed", result.reason()
    whole = run([GREETING, {"user": "you cut me off"}], [{"agent_interrupted": False}])
    assert whole.outcome == "failed"
    assert whole.assertions[-1].seen == "1 of 2 agent messages interrupted"


def test_a_tool_call_within_turns(run: Callable[..., RunResult]) -> None:
    wanted = {"tool_called": {"name": "lookup_order", "within_turns": 2}}
    late = {"tool_called": {"name": "lookup_order"}}
    result = run([GREETING, {"user": "Where is my order?", "expect": [wanted, late]},
                  {"user": "It is AC-1"}], [{"tool_called": {"name": "lookup_order",
                                                             "within_turns": 1}}])
    assert [(a.description, a.passed) for a in result.assertions[1:]] == [
        ("tool_called lookup_order within 2 turn(s)", True), ("tool_called lookup_order", False),
        ("tool_called lookup_order within 1 turn(s)", False)]


def test_an_assertion_no_event_could_satisfy_is_incomplete(run: Callable[..., RunResult]
                                                           ) -> None:
    # A platform that sends no interrupted flag: nothing can say whether a reply was cut off.
    result = run([GREETING, {"user": "hello"}], [{"agent_interrupted": False}])
    assert result.outcome == "passed"  # the emulator sends the flag
    stripped = _without_interrupted_flags(result)
    assert stripped.outcome == "incomplete"
    assert "could not be judged: no agent message carries the interrupted flag" in \
        stripped.reason()


def _without_interrupted_flags(result: RunResult) -> RunResult:
    """The same run judged on a stream whose replies carry no ``interrupted`` flag."""
    from operator_iac.smoke.assertions import Evidence, evaluate_test
    from operator_iac.smoke.runner import _judged

    events = [e.model_copy(update={"payload": {k: v for k, v in e.payload.items()
                                               if k != "interrupted"}}) for e in result.events]
    test = SmokeTest.model_validate({"name": "t", "expect": [{"agent_interrupted": False}]})
    evidence = Evidence(events)
    assertions = tuple(evaluate_test(test, evidence))
    return RunResult(1, _judged(assertions, evidence), result.conversation_id, assertions)


# ---- timing --------------------------------------------------------------------------------


def _latency(result: RunResult) -> float:
    seen = result.assertions[-1].seen
    return float(seen.split()[-2] if seen.startswith("at most") else seen.split()[0])


@pytest.mark.parametrize("compat", [[], ["whole_seconds"]])
def test_latency_is_accurate_to_milliseconds(emulator: EmulatorServer,
                                             run: Callable[..., RunResult],
                                             compat: list[str]) -> None:
    emulator.set_compat(*compat)
    emulator.set_faults(reply_delay_ms=300)
    result = run([GREETING, {"user": "hello", "expect": [{"max_turn_latency_ms": 5000}]}])
    assert result.outcome == "passed", result.reason()
    assert all(has_subsecond(e) for e in result.events) == (not compat)
    # Never less than the delay, never more than the run took, and finer than whole seconds
    # (whole second stamps alone would read 0 or 1000 ms). Bounds on wall time would make the
    # test depend on how loaded the machine is; the benchmarks measure accuracy.
    latency = _latency(result)
    assert 290 <= latency <= result.duration_ms
    assert latency % 1000 != 0
    slow = run([GREETING, {"user": "hello", "expect": [{"max_turn_latency_ms": 200}]}])
    assert slow.outcome == "failed" and 250 <= _latency(slow) <= 400
