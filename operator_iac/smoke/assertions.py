"""Assertions evaluated on a conversation's SSE events, with turn attribution.

``evaluate_test`` applies a smoke test's declarations to the events one run collected: each
turn's ``expect`` to that turn's events, the test's own ``expect`` to the whole stream. Every
assertion yields an ``AssertionResult`` (never an exception) saying what was expected, what
was seen, and in which turn. Pure functions: the runner gathers the evidence, this module
judges it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from operator_iac.api.events import (
    AGENT_MESSAGE_COMPLETED,
    CONVERSATION_ENDED,
    CONVERSATION_STARTED,
    SERVER_ERROR,
    USER_MESSAGE_RECEIVED,
    Event,
)
from operator_iac.api.models import Procedure
from operator_iac.smoke.event_assertions import agent_interrupted, context_updated, notice_sent
from operator_iac.smoke.matchers import (
    check_fields,
    decode_json,
    describe,
    has_positive_condition,
    show,
    text_conditions,
    text_satisfies,
    text_violates,
)
from operator_iac.smoke.procedure_check import check_procedure
from operator_iac.smoke.results import AssertionResult
from operator_iac.smoke.turns import (
    ToolCallView,
    agent_messages,
    has_subsecond,
    split_turns,
    timestamp_ms,
    tool_calls,
    turn_of_each,
)
from operator_iac.spec.assertions import (
    AgentInterrupted,
    AgentSays,
    ContextUpdated,
    EndedWithStatus,
    MaxTotalTime,
    MaxTurnLatency,
    NoServerErrors,
    NoticeSent,
    NoToolErrors,
    ProcedureRan,
    ToolCalled,
    ToolNotCalled,
    ToolReturnedError,
    ToolSequence,
)
from operator_iac.spec.base import StrictModel
from operator_iac.spec.models import SmokeTest

MAX_SEEN_ITEMS = 4


@dataclass(frozen=True)
class Evidence:
    """What one run observed: the SSE events, and the procedures of the conversation."""

    events: Sequence[Event]
    # Event id -> when the client received it (monotonic ms), to time replies when the
    # platform's timestamps have whole seconds only.
    arrivals: Mapping[str, float] = field(default_factory=dict)
    procedures: Sequence[Procedure] = ()
    # Procedural agent key -> platform id, and key -> output_schema, for ``procedure``.
    agent_ids: Mapping[str, str] = field(default_factory=dict)
    output_schemas: Mapping[str, Any] = field(default_factory=dict)
    # Set when waiting for procedures to finish ran out of time.
    procedure_wait_s: float | None = None
    procedures_timed_out: bool = False


@dataclass(frozen=True)
class Scope:
    """The events one assertion looks at: one turn's, or (turn None) the whole stream's."""

    events: Sequence[Event]
    turn: int | None
    evidence: Evidence


def evaluate_test(test: SmokeTest, evidence: Evidence) -> list[AssertionResult]:
    """Every assertion of ``test`` judged on ``evidence``: turns first, then the whole."""
    turns = split_turns(evidence.events)
    offset = 0 if test.turns and test.turns[0].user is None else 1
    results: list[AssertionResult] = []
    for position, declared in enumerate(test.turns):
        index = position + offset
        happened = index < len(turns)
        scope = Scope(turns[index].events if happened else (), index, evidence)
        judged = (evaluate(assertion, scope) for assertion in declared.expect)
        # No event of a turn that never happened could satisfy (or refute) its assertions.
        results.extend(judged if happened else
                       (replace(r, passed=False, evaluable=False) for r in judged))
    whole = Scope(evidence.events, None, evidence)
    results.extend(evaluate(assertion, whole) for assertion in test.expect)
    return results


def evaluate(assertion: StrictModel, scope: Scope) -> AssertionResult:
    """One assertion on one scope."""
    judge = _JUDGES[type(assertion)]
    return judge(assertion, scope)


def _result(kind: str, description: str, scope: Scope, passed: bool, expected: str = "",
            seen: str = "", evaluable: bool = True) -> AssertionResult:
    return AssertionResult(kind, description, passed, scope.turn, expected, seen, evaluable)



def _listing(items: Sequence[str]) -> str:
    shown = list(items[-MAX_SEEN_ITEMS:])
    skipped = len(items) - len(shown)
    prefix = f"({skipped} earlier not shown) " if skipped else ""
    return prefix + "; ".join(shown)


def _in_turn(scope: Scope, turn: int) -> str:
    """`` in turn N`` when the scope spans several turns (a turn scope says it already)."""
    return f" in turn {turn}" if scope.turn is None else ""


# ---- what the agent said ---------------------------------------------------------------------


def _agent_says(assertion: AgentSays, scope: Scope) -> AssertionResult:
    match = assertion.agent_says
    conditions = text_conditions(match)
    description = "agent_says " + " and ".join(conditions)
    texts = agent_messages(scope.events)
    found = not has_positive_condition(match) or any(text_satisfies(match, t) for t in texts)
    violating = [t for t in texts if text_violates(match, t)]
    passed = found and not violating
    expected = "an agent message that " + " and ".join(conditions)
    if not has_positive_condition(match):
        expected = f"no agent message containing {show(match.not_contains)}"
    if violating:
        seen = "agent said " + show(violating[0])
    elif texts:
        seen = "agent said " + _listing([show(t) for t in texts])
    else:
        seen = "no agent message"
    return _result("agent_says", description, scope, passed, expected, seen)


# ---- tools -----------------------------------------------------------------------------------


def _show_call(call: ToolCallView, scope: Scope) -> str:
    return f"{call.name}({show(decode_json(call.arguments), 80)}){_in_turn(scope, call.turn)}"


def _tool_called(assertion: ToolCalled, scope: Scope) -> AssertionResult:
    wanted = assertion.tool_called
    conditions = [f"{path} {describe(m)}" for path, m in wanted.arguments.items()]
    suffix = f" with {' and '.join(conditions)}" if conditions else ""
    window = ""
    events = scope.events
    if wanted.within_turns is not None:
        events = _window(scope, wanted.within_turns)
        window = f" within {wanted.within_turns} turn(s)"
    description = f"tool_called {wanted.name}{suffix}{window}"
    calls = tool_calls(events)
    named = [c for c in calls if c.name == wanted.name]
    mismatches = [(c, check_fields(wanted.arguments, decode_json(c.arguments))) for c in named]
    passed = any(not failures for _, failures in mismatches)
    expected = f"a call to {wanted.name}{suffix}{window}"
    if named:
        seen = _listing([f"{_show_call(c, scope)}: {failures[0]}"
                         for c, failures in mismatches if failures])
    elif calls:
        seen = "calls to " + _listing([_show_call(c, scope) for c in calls])
    else:
        seen = "no tool calls"
    return _result("tool_called", description, scope, passed, expected, seen)


def _window(scope: Scope, turns: int) -> list[Event]:
    """The events of ``turns`` turns from the scope's turn (whole scope: turns 0 to N)."""
    first = scope.turn if scope.turn is not None else 0
    last = first + turns - 1 if scope.turn is not None else turns
    numbered = split_turns(scope.evidence.events)
    return [e for turn in numbered[first:last + 1] for e in turn.events]


def _tool_not_called(assertion: ToolNotCalled, scope: Scope) -> AssertionResult:
    name = assertion.tool_not_called.name
    named = [c for c in tool_calls(scope.events) if c.name == name]
    seen = _listing([_show_call(c, scope) for c in named]) if named else f"no call to {name}"
    return _result("tool_not_called", f"tool_not_called {name}", scope, not named,
                   f"no call to {name}", seen)


def _tool_sequence(assertion: ToolSequence, scope: Scope) -> AssertionResult:
    wanted = assertion.tool_sequence
    names = [c.name for c in tool_calls(scope.events)]
    remaining = iter(names)
    # A subsequence test: each wanted name must appear after the previous one.
    passed = all(any(name == got for got in remaining) for name in wanted)
    order = " -> ".join(wanted)
    seen = " -> ".join(names) if names else "no tool calls"
    return _result("tool_sequence", f"tool_sequence {order}", scope, passed,
                   f"tool calls in the order {order}", seen)


def _show_return(call: ToolCallView, scope: Scope) -> str:
    outcome = f"error {show(call.error, 80)}" if call.failed else \
        f"result {show(decode_json(call.result), 80)}"
    return f"{call.name} returned {outcome}{_in_turn(scope, call.turn)}"


def _tool_returned_error(assertion: ToolReturnedError, scope: Scope) -> AssertionResult:
    name = assertion.tool_returned_error.name
    returned = [c for c in tool_calls(scope.events)
                if c.returned and (name is None or c.name == name)]
    passed = any(c.failed for c in returned)
    subject = name or "a tool call"
    seen = _listing([_show_return(c, scope) for c in returned]) if returned else \
        f"no {'call to ' + name if name else 'tool call'} returned"
    return _result("tool_returned_error", f"tool_returned_error {name or '(any tool)'}",
                   scope, passed, f"{subject} to return an error", seen)


def _no_tool_errors(assertion: NoToolErrors, scope: Scope) -> AssertionResult:
    failed = [c for c in tool_calls(scope.events) if c.failed]
    seen = _listing([_show_return(c, scope) for c in failed]) if failed else "none"
    return _result("no_tool_errors", "no_tool_errors", scope, not failed,
                   "no tool call returning an error", seen)


def _no_server_errors(assertion: NoServerErrors, scope: Scope) -> AssertionResult:
    errors = [(turn, e) for turn, e in turn_of_each(scope.events) if e.type == SERVER_ERROR]
    seen = _listing([f"{SERVER_ERROR} {show(e.payload.get('error'), 100)}{_in_turn(scope, t)}"
                     for t, e in errors]) if errors else "none"
    return _result("no_server_errors", "no_server_errors", scope, not errors,
                   f"no {SERVER_ERROR} event", seen)


# ---- timing and ending -----------------------------------------------------------------------


def _reply_latency(events: Sequence[Event], opener: str,
                   arrivals: Mapping[str, float]) -> float | str:
    """Milliseconds from the turn's opening event to the agent's first completed message,
    or why it cannot be measured. Timestamps in whole seconds cannot time a reply (1.5 s
    would read as 1 or 2 s): then the times the client received both events are used."""
    start = next((e for e in events if e.type == opener), None)
    if start is None:
        return f"no {opener} event"
    reply = next((e for e in events if e.type == AGENT_MESSAGE_COMPLETED), None)
    if reply is None:
        return "no agent reply"
    coarse = not (has_subsecond(start) and has_subsecond(reply))
    began, ended = arrivals.get(start.id or ""), arrivals.get(reply.id or "")
    if coarse and began is not None and ended is not None:
        return max(0.0, ended - began)
    begin, end = timestamp_ms(start), timestamp_ms(reply)
    if begin is None or end is None:
        return "the events carry no readable created_at"
    return max(0.0, end - begin)


def _max_turn_latency(assertion: MaxTurnLatency, scope: Scope) -> AssertionResult:
    limit = assertion.max_turn_latency_ms
    arrivals = scope.evidence.arrivals
    if scope.turn is not None:
        opener = CONVERSATION_STARTED if scope.turn == 0 else USER_MESSAGE_RECEIVED
        measured = [(scope.turn, _reply_latency(scope.events, opener, arrivals))]
    else:
        measured = [(t.index, _reply_latency(t.events, USER_MESSAGE_RECEIVED, arrivals))
                    for t in split_turns(scope.events)[1:]]
    problems = [f"{why} in turn {t}" for t, why in measured if isinstance(why, str)]
    slow = [(t, ms) for t, ms in measured if isinstance(ms, float) and ms > limit]
    worst = max((ms for _, ms in measured if isinstance(ms, float)), default=None)
    if problems:
        seen = _listing(problems)
    elif slow:
        seen = _listing([f"{ms:.0f} ms in turn {t}" for t, ms in slow])
    else:
        seen = f"at most {worst:.0f} ms" if worst is not None else "no user turn"
    # A reply that cannot be timed is not evidence either way, unless another was too slow.
    return _result("max_turn_latency_ms", f"max_turn_latency_ms {limit}", scope,
                   not problems and not slow, f"every reply within {limit} ms", seen,
                   evaluable=bool(slow) or not problems)


def _max_total(assertion: MaxTotalTime, scope: Scope) -> AssertionResult:
    limit = assertion.max_total_ms
    events = scope.events
    start = next((e for e in events if e.type == CONVERSATION_STARTED),
                 events[0] if events else None)
    end = next((e for e in events if e.type == CONVERSATION_ENDED), None)
    description = f"max_total_ms {limit}"
    expected = f"the conversation to end within {limit} ms of its start"
    if start is None or end is None:
        return _result("max_total_ms", description, scope, False, expected,
                       "the conversation did not end")
    begin, finish = timestamp_ms(start), timestamp_ms(end)
    if begin is None or finish is None:
        return _result("max_total_ms", description, scope, False, expected,
                       "the events carry no readable created_at")
    took = max(0.0, finish - begin)
    return _result("max_total_ms", description, scope, took <= limit, expected,
                   f"{took:.0f} ms")


def _ended_with_status(assertion: EndedWithStatus, scope: Scope) -> AssertionResult:
    wanted = assertion.ended_with_status
    ended = next((e for e in scope.events if e.type == CONVERSATION_ENDED), None)
    status = ended.payload.get("status") if ended is not None else None
    seen = f"the conversation did not end (no {CONVERSATION_ENDED} event)" if ended is None \
        else f"status {show(status)}"
    return _result("ended_with_status", f"ended_with_status {wanted}", scope,
                   status == wanted, f"status {show(wanted)}", seen)


def _procedure(assertion: ProcedureRan, scope: Scope) -> AssertionResult:
    expect = assertion.procedure
    evidence = scope.evidence
    verdict = check_procedure(expect, evidence.procedures, evidence.agent_ids.get(expect.agent),
                              evidence.output_schemas.get(expect.agent),
                              evidence.procedure_wait_s)
    return AssertionResult("procedure", verdict.description, verdict.passed, scope.turn,
                           verdict.expected, verdict.seen)


Judge = Callable[[Any, Scope], AssertionResult]
_JUDGES: dict[type[StrictModel], Judge] = {
    AgentSays: _agent_says,
    ToolCalled: _tool_called,
    ToolNotCalled: _tool_not_called,
    ToolSequence: _tool_sequence,
    ToolReturnedError: _tool_returned_error,
    NoToolErrors: _no_tool_errors,
    NoServerErrors: _no_server_errors,
    MaxTurnLatency: _max_turn_latency,
    MaxTotalTime: _max_total,
    EndedWithStatus: _ended_with_status,
    ProcedureRan: _procedure,
    NoticeSent: notice_sent,
    ContextUpdated: context_updated,
    AgentInterrupted: agent_interrupted,
}


def procedure_agents(test: SmokeTest) -> list[str]:
    """The procedural agents (as written: key, id or name) a test's assertions wait for."""
    return [a.procedure.agent for a in test.expect if isinstance(a, ProcedureRan)]
