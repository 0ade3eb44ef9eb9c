"""Smoke test results as values: one assertion, one run (attempt), one test, one report.

A run ends in one of four outcomes: ``passed``; ``failed`` (assertions did not hold);
``timeout`` (the agent, or a procedure, did not finish in time); ``error`` (the platform
failed: a refused conversation, a broken stream). A test with ``repeat: N`` passes when its
pass rate reaches ``min_pass_rate``; otherwise it takes the gravest outcome among its runs,
a platform error first, because then nothing can be concluded about the agent. Renderers
(``operator_iac.render.smoke_report``, ``junit``) turn these into text, JSON and JUnit XML.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from operator_iac.api.events import Event

Outcome = Literal["passed", "failed", "timeout", "error"]
# The outcome of a test whose runs disagree: the first of these found among its runs.
GRAVITY: tuple[Outcome, ...] = ("error", "timeout", "failed")
EXIT_PASSED = 0
EXIT_PLATFORM_ERROR = 1
EXIT_SMOKE_FAILED = 4
EXIT_NOT_RECORDED = 6  # passed, but the verdict promote needs could not be recorded


def format_duration(ms: float) -> str:
    """``850 ms`` below a second, ``12.3s`` above."""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f}s"


@dataclass(frozen=True)
class AssertionResult:
    """One assertion evaluated: what it asked for, what the stream showed, and where."""

    kind: str
    description: str
    passed: bool
    turn: int | None = None  # None: an assertion over the whole conversation
    expected: str = ""
    seen: str = ""

    @property
    def where(self) -> str:
        return "whole conversation" if self.turn is None else f"turn {self.turn}"

    def message(self) -> str:
        """``turn 1: tool_called check_availability: expected ...; saw ...``."""
        head = f"{self.where}: {self.description}"
        if self.passed:
            return head
        return f"{head}: expected {self.expected}; saw {self.seen}"


@dataclass(frozen=True)
class RunResult:
    """One attempt at a test: one conversation, its events and its verdict."""

    attempt: int
    outcome: Outcome
    conversation_id: str | None = None
    assertions: tuple[AssertionResult, ...] = ()
    # The conversation's events as the SSE stream delivered them (without text deltas).
    events: tuple[Event, ...] = field(default=(), repr=False, compare=False)
    error: str = ""
    duration_ms: float = 0.0
    notes: tuple[str, ...] = ()
    # The HTTP status with which the platform refused to create the conversation, if it did.
    refused_status: int | None = None

    @property
    def failures(self) -> tuple[AssertionResult, ...]:
        return tuple(a for a in self.assertions if not a.passed)

    def reason(self) -> str:
        """One line saying why the run did not pass ("" when it passed)."""
        if self.outcome == "passed":
            return ""
        if self.error:
            return self.error
        failures = self.failures
        if not failures:
            return self.outcome
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return failures[0].message() + more


@dataclass(frozen=True)
class TestResult:
    """Every run of one smoke test of one agent revision."""

    agent_key: str
    test_name: str
    version_id: str
    runs: tuple[RunResult, ...]
    min_pass_rate: float = 1.0

    __test__ = False  # not a pytest test class, despite the name

    @property
    def passes(self) -> int:
        return sum(1 for run in self.runs if run.outcome == "passed")

    @property
    def pass_rate(self) -> float:
        return self.passes / len(self.runs) if self.runs else 0.0

    @property
    def outcome(self) -> Outcome:
        if self.runs and self.pass_rate + 1e-9 >= self.min_pass_rate:
            return "passed"
        seen = {run.outcome for run in self.runs}
        return next((o for o in GRAVITY if o in seen), "error")

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def duration_ms(self) -> float:
        return sum(run.duration_ms for run in self.runs)

    def failing_run(self) -> RunResult | None:
        """The run to show when the test did not pass: the first one with its outcome."""
        if self.passed:
            return None
        return next((r for r in self.runs if r.outcome == self.outcome), None)

    def reason(self) -> str:
        run = self.failing_run()
        if run is None:
            return ""
        if len(self.runs) > 1:
            return (f"{self.passes}/{len(self.runs)} runs passed, {self.min_pass_rate:.0%} "
                    f"required; attempt {run.attempt}: {run.reason()}")
        return run.reason()


@dataclass(frozen=True)
class Problem:
    """An agent whose tests could not be run (not deployed, no such revision), or that has
    none to run."""

    agent_key: str
    message: str


@dataclass(frozen=True)
class SmokeReport:
    """Every smoke test of one run of the ``smoke`` command (or of apply's smoke gate), the
    agents that could not be tested (``problems``) or have nothing to test (``skipped``);
    ``exit_code`` says what the run concluded."""

    tests: tuple[TestResult, ...] = ()
    # Agents whose tests could not run (count as platform errors), and agents asked for
    # that have no smoke tests (informational).
    problems: tuple[Problem, ...] = ()
    skipped: tuple[Problem, ...] = ()
    duration_ms: float = 0.0
    # Why verdicts of released revisions could not be recorded for promote, one line each.
    unrecorded: tuple[str, ...] = ()

    def counts(self) -> Counter[str]:
        return Counter(test.outcome for test in self.tests)

    @property
    def passed(self) -> bool:
        return not self.problems and all(test.passed for test in self.tests)

    @property
    def platform_error(self) -> bool:
        return bool(self.problems) or any(t.outcome == "error" for t in self.tests)

    def exit_code(self) -> int:
        """0 all passed; 1 a platform error (nothing can be concluded); 4 a test failed;
        6 all passed but a verdict promote needs could not be recorded."""
        if self.platform_error:
            return EXIT_PLATFORM_ERROR
        if not self.passed:
            return EXIT_SMOKE_FAILED
        return EXIT_NOT_RECORDED if self.unrecorded else EXIT_PASSED

    def summary(self) -> str:
        """``3 passed, 1 failed`` (``no smoke tests`` when there were none)."""
        counts = self.counts()
        parts = [f"{counts[o]} {o}" for o in ("passed", "failed", "timeout", "error")
                 if counts[o]]
        if self.problems:
            parts.append(f"{len(self.problems)} not run")
        return ", ".join(parts) or "no smoke tests"

    def headline(self) -> str:
        """The summary, plus the first reason a test did not pass."""
        failing = next((t for t in self.tests if not t.passed), None)
        if failing is not None:
            return f"{self.summary()}: {failing.test_name!r}: {failing.reason()}"
        if self.problems:
            return f"{self.summary()}: {self.problems[0].message}"
        return self.summary()
