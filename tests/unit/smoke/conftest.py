"""Factory fixtures for smoke tests: conversations written as short scripts of events, smoke
tests from their YAML shape, and procedures as the platform reports them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from operator_iac.api.events import Event
from operator_iac.api.models import Procedure
from operator_iac.spec.models import SmokeTest

START = datetime(2025, 6, 19, 10, 0, 0, tzinfo=UTC)


class ConversationScript:
    """Builds a conversation's event list step by step; time moves only with ``wait``."""

    def __init__(self, conversation_id: str = "conv_test", agent_id: str = "ca_test@v1") -> None:
        self.conversation_id = conversation_id
        self.agent_id = agent_id
        self.events: list[Event] = []
        self._now = START
        self._calls = 0

    def wait(self, ms: float) -> ConversationScript:
        self._now += timedelta(milliseconds=ms)
        return self

    def add(self, kind: str, **fields: Any) -> ConversationScript:
        stamp = self._now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self._now.microsecond // 1000:03d}Z"
        self.events.append(Event(
            id=f"ev_{len(self.events) + 1}", created_at=stamp, agent_id=self.agent_id,
            livemode=False, conversation_id=self.conversation_id,
            payload={"type": kind, **fields}))
        return self

    def setup(self) -> ConversationScript:
        return self.add("conversation.setup", channel={"type": "chat_realtime"},
                        direction="inbound")

    def started(self) -> ConversationScript:
        return self.setup().add("conversation.started")

    def agent(self, text: str, *, tool_calls: bool = False, deltas: bool = False
              ) -> ConversationScript:
        generation = f"gen_{len(self.events)}"
        if deltas:
            for word in text.split(" "):
                self.add("agent.message.delta", text_delta=word + " ", generation_id=generation)
        return self.add("agent.message.completed", text=text, generation_id=generation,
                        interrupted=False, has_tool_calls=tool_calls)

    def user(self, text: str) -> ConversationScript:
        return self.add("user.message.received", text=text)

    def tool(self, name: str, arguments: Any = None, *, result: Any = None,
             error: str | None = None, returned: bool = True) -> ConversationScript:
        self._calls += 1
        call_id = f"call_{self._calls}"
        encoded = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
        self.add("agent.tool_call.created", call_id=call_id, name=name, arguments=encoded)
        if not returned:
            return self
        outcome = {"error": error} if error is not None else {
            "result": json.dumps(result if result is not None else {"ok": True})}
        return self.add("agent.tool_call.returned", call_id=call_id, name=name,
                        arguments=encoded, **outcome)

    def server_error(self, message: str) -> ConversationScript:
        return self.add("server.error", error=message)

    def ended(self, status: str = "completed") -> ConversationScript:
        return self.add("conversation.ended", status=status)


@pytest.fixture
def script() -> Callable[..., ConversationScript]:
    """``script()`` starts a new conversation script."""
    return ConversationScript


@pytest.fixture
def booking(script: Callable[..., ConversationScript]) -> ConversationScript:
    """A complete, healthy conversation: greeting, one turn with a tool call, the end."""
    return (script().started().wait(400).agent("Hi, this is Amanda. How can I help?")
            .wait(2000).user("Is Tuesday free?").wait(300)
            .tool("check_availability", {"day": "Tuesday", "slot": {"time": "10:00"}},
                  result={"slots": ["10:00"]})
            .wait(500).agent("Tuesday at 10:00 is available.").wait(1000).ended())


@pytest.fixture
def smoke_test() -> Callable[..., SmokeTest]:
    """``smoke_test(turns=[...], expect=[...], **fields)`` as it would be written in YAML."""

    def make(turns: list[dict[str, Any]] | None = None, expect: list[Any] | None = None,
             **fields: Any) -> SmokeTest:
        return SmokeTest.model_validate({"name": fields.pop("name", "test"),
                                         "turns": turns or [], "expect": expect or [],
                                         **fields})

    return make


@pytest.fixture
def procedure() -> Callable[..., Procedure]:
    def make(status: str = "success", output: Any = None, *, agent_id: str = "pa_sum",
             name: str = "Call summary", error: str | None = None,
             created_at: str = "2025-06-19T10:00:05Z") -> Procedure:
        return Procedure(id=f"trun_{status}", status=status, output=output, error=error,
                         agent_id=agent_id, agent_version_id=f"{agent_id}@v0", name=name,
                         conversation_id="conv_test", created_at=created_at)

    return make


@pytest.fixture
def run_result() -> Callable[..., Any]:
    """``run_result("failed", attempt=2, ...)``: a RunResult with sensible defaults."""
    from operator_iac.smoke.results import AssertionResult, RunResult

    def make(outcome: str = "passed", attempt: int = 1, *, events: list[Event] | None = None,
             error: str = "", failures: int = 0, notes: tuple[str, ...] = ()) -> RunResult:
        assertions = tuple(
            AssertionResult("tool_called", f"tool_called t{n}", False, 1, f"a call to t{n}",
                            "no tool calls") for n in range(failures))
        return RunResult(attempt, outcome, f"conv_{attempt}", assertions,  # type: ignore[arg-type]
                         tuple(events or ()), error, 1500.0, notes)

    return make


@pytest.fixture
def test_result(run_result: Callable[..., Any]) -> Callable[..., Any]:
    """``test_result("passed", "failed", min_pass_rate=0.5)``: one run per outcome given
    (``rule="majority"`` for another pass rule, ``quarantined=True`` for a quarantined test)."""
    from operator_iac.smoke.results import TestResult
    from operator_iac.spec.smoke_rules import PassRule

    def make(*outcomes: str, key: str = "booking", name: str = "books",
             min_pass_rate: float | None = None, rule: str | None = None,
             quarantined: bool = False, **run_fields: Any) -> TestResult:
        runs = tuple(run_result(o, n, **({"failures": 1} if o == "failed" else {}),
                                **run_fields)
                     for n, o in enumerate(outcomes or ("passed",), start=1))
        return TestResult(key, name, f"ca_{key}@v1", runs, PassRule.parse(rule, min_pass_rate),
                          quarantined)

    return make
