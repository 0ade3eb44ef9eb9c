"""Smoke test results as values: one assertion, one run (attempt), one test, one report.

A run (one attempt, one conversation) ends ``passed``; ``failed`` (an assertion did not
hold); ``timeout`` (the agent, or a procedure, did not finish in time); ``incomplete`` (an
assertion found nothing it could be judged on); or ``error`` (the platform failed: a refused
conversation, a broken stream).

A test's **verdict** comes from its pass rule over its attempts: ``passed`` (every attempt
passed), ``flaky`` (the rule held, but not every attempt passed), or, when the rule did not
hold, the gravest class among its attempts: ``error`` first (nothing can be concluded about
the agent), then ``incomplete`` (a timeout or an unjudgeable assertion: never a pass), then
``failed``. A quarantined test is run and reported but never gates. Renderers
(``operator_iac.render.smoke_report``, ``junit``) turn these into text, JSON and JUnit XML.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from operator_iac.api.events import Event
from operator_iac.errors import SmokeIncompleteError, SmokeRecordError, SmokeTestFailedError
from operator_iac.smoke.stats import wilson_interval
from operator_iac.spec.gate import DEFAULT_CONFIDENCE
from operator_iac.spec.smoke_rules import ALL, PassRule, pass_hat

if TYPE_CHECKING:
    from operator_iac.smoke.comparison import Comparison

Outcome = Literal["passed", "failed", "timeout", "incomplete", "error"]
Verdict = Literal["passed", "flaky", "failed", "incomplete", "error"]
VERDICTS: tuple[Verdict, ...] = ("passed", "flaky", "failed", "incomplete", "error")
# What compared tests are counted as in summaries: their comparison's verdict, or
# ``partial`` for a shard's share.
COMPARED = ("regressed", "no regression", "improved", "inconclusive", "partial")
# The class of each run outcome in a test's verdict.
CLASS_OF: dict[Outcome, Verdict] = {"passed": "passed", "failed": "failed",
                                    "timeout": "incomplete", "incomplete": "incomplete",
                                    "error": "error"}
# The verdict of a test whose rule did not hold: the first of these found among its runs.
GRAVITY: tuple[Verdict, ...] = ("error", "incomplete", "failed")
# The confidence of the Wilson interval shown beside a repeated test's pass rate.
INTERVAL_CONFIDENCE = DEFAULT_CONFIDENCE
EXIT_PASSED = 0
EXIT_PLATFORM_ERROR = 1
EXIT_SMOKE_FAILED = SmokeTestFailedError.exit_code
EXIT_SMOKE_INCOMPLETE = SmokeIncompleteError.exit_code
# Passed, but the verdict promote needs could not be recorded.
EXIT_NOT_RECORDED = SmokeRecordError.exit_code


def format_duration(ms: float) -> str:
    """``850 ms`` below a second, ``12.3s`` above."""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f}s"


def gravest(runs: Iterable[RunResult]) -> Verdict:
    """The gravest class among ``runs`` (``GRAVITY``): a test's verdict when its rule did not
    hold; ``error`` when there are no runs."""
    seen = {CLASS_OF[run.outcome] for run in runs}
    return next((v for v in GRAVITY if v in seen), "error")


@dataclass(frozen=True)
class AssertionResult:
    """One assertion evaluated: what it asked for, what the stream showed, and where."""

    kind: str
    description: str
    passed: bool
    turn: int | None = None  # None: an assertion over the whole conversation
    expected: str = ""
    seen: str = ""
    # False: nothing in the stream could decide it either way (the run is incomplete).
    evaluable: bool = True

    @property
    def where(self) -> str:
        return "whole conversation" if self.turn is None else f"turn {self.turn}"

    def message(self) -> str:
        """``turn 1: tool_called check_availability: expected ...; saw ...``."""
        head = f"{self.where}: {self.description}"
        if self.passed:
            return head
        if not self.evaluable:
            return f"{head}: could not be judged: {self.seen}"
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
    # The conversation was deleted afterwards: its id no longer answers (--keep-conversations
    # keeps it, for ``transcript``).
    conversation_deleted: bool = False

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
    """Every attempt of one smoke test of one agent revision, and the verdict they make."""

    agent_key: str
    test_name: str
    version_id: str
    runs: tuple[RunResult, ...]
    rule: PassRule = ALL
    quarantined: bool = False
    # Set when the test was compared with another revision (``runs`` are the candidate's).
    comparison: Comparison | None = field(default=None, compare=False)

    __test__ = False  # not a pytest test class, despite the name

    @property
    def passes(self) -> int:
        return sum(1 for run in self.runs if run.outcome == "passed")

    @property
    def pass_rate(self) -> float:
        return self.passes / len(self.runs) if self.runs else 0.0

    @property
    def pass_hat(self) -> float:
        """pass^N over the N attempts: 1.0 only when every attempt passed."""
        return pass_hat(self.passes, len(self.runs), len(self.runs))

    @property
    def verdict(self) -> Verdict:
        if self.comparison is not None:
            return self.comparison.test_verdict(self.runs)
        if self.runs and self.rule.holds(self.passes, len(self.runs)):
            return "passed" if self.passes == len(self.runs) else "flaky"
        return gravest(self.runs)

    @property
    def counted_as(self) -> str:
        """What summaries count the test as: its verdict, or its comparison's."""
        if self.quarantined:
            return "quarantined"
        if self.comparison is None:
            return self.verdict
        return self.comparison.verdict or "partial"

    @property
    def outcome(self) -> Verdict:
        """The verdict (the name renderers and records have always used)."""
        return self.verdict

    @property
    def passed(self) -> bool:
        """Whether the pass rule held (a flaky test passed)."""
        return self.verdict in ("passed", "flaky")

    @property
    def gating(self) -> bool:
        """Whether this test can fail a command or block a release (not quarantined)."""
        return not self.quarantined

    @property
    def holds(self) -> bool:
        """Whether this test lets a gate pass: it passed, or it does not gate."""
        return self.passed or self.quarantined

    @property
    def duration_ms(self) -> float:
        return sum(run.duration_ms for run in self.runs)

    def failing_run(self) -> RunResult | None:
        """The attempt to show: for a test that did not pass the first one of its verdict's
        class; for a flaky test its first attempt that did not pass; None when all passed."""
        verdict = self.verdict
        if verdict == "passed":
            return None
        if verdict == "flaky":
            return next((r for r in self.runs if r.outcome != "passed"), None)
        return next((r for r in self.runs if CLASS_OF[r.outcome] == verdict), None)

    def attempts_line(self) -> str:
        """``4/5 attempts passed (80%, 95% interval 38-96%, pass^5 0%; rule rate:0.8)``."""
        n = len(self.runs)
        low, high = wilson_interval(self.passes, n, INTERVAL_CONFIDENCE)
        return (f"{self.passes}/{n} attempts passed ({self.pass_rate:.0%}, "
                f"{INTERVAL_CONFIDENCE:.0%} interval {low:.0%}-{high:.0%}, pass^{n} "
                f"{self.pass_hat:.0%}; rule {self.rule})")

    def reason(self) -> str:
        if self.comparison is not None:
            from operator_iac.smoke.comparison import comparison_line

            return "" if self.verdict == "passed" and self.comparison.verdict != \
                "inconclusive" else comparison_line(self)
        run = self.failing_run()
        if run is None:
            return ""
        if len(self.runs) > 1:
            return f"{self.attempts_line()}; attempt {run.attempt}: {run.reason()}"
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
    # The conversations' share of ``duration_ms`` (None: the whole of it); the rest is
    # reading the platform and recording the verdicts.
    conversations_ms: float | None = None
    # Why verdicts of released revisions could not be recorded for promote, one line each.
    unrecorded: tuple[str, ...] = ()
    # ``K/N`` for one shard's share of the conversations (``smoke --shard``): its verdicts
    # come from merging every shard's report.
    shard: str | None = None

    def counts(self) -> Counter[str]:
        """Verdicts of the gating tests (their comparison's for compared tests), plus
        ``quarantined`` for the others."""
        return Counter(test.counted_as for test in self.tests)

    @property
    def gating_tests(self) -> tuple[TestResult, ...]:
        return tuple(test for test in self.tests if test.gating)

    @property
    def passed(self) -> bool:
        return not self.problems and all(test.passed for test in self.gating_tests)

    @property
    def platform_error(self) -> bool:
        return bool(self.problems) or any(t.verdict == "error" for t in self.gating_tests)

    @property
    def incomplete(self) -> bool:
        """A gating test could not conclude (and none failed outright)."""
        verdicts = {t.verdict for t in self.gating_tests}
        return "incomplete" in verdicts and "failed" not in verdicts

    def exit_code(self) -> int:
        """0 all passed (flaky too); 1 a platform error (nothing can be concluded); 4 a test
        failed; 6 a test could not conclude; 7 all passed but a verdict promote needs could
        not be recorded. Quarantined tests never count. A shard's share concludes nothing
        (``--merge`` does): 1 when an agent could not be tested, else 0."""
        if self.shard is not None:
            return EXIT_PLATFORM_ERROR if self.problems else EXIT_PASSED
        if self.platform_error:
            return EXIT_PLATFORM_ERROR
        if self.passed:
            return EXIT_NOT_RECORDED if self.unrecorded else EXIT_PASSED
        return EXIT_SMOKE_INCOMPLETE if self.incomplete else EXIT_SMOKE_FAILED

    def warnings(self) -> list[str]:
        """One line per flaky test and per quarantined test that did not pass."""
        lines = [f"{t.agent_key}: {t.test_name!r} is flaky: {t.attempts_line()}"
                 for t in self.gating_tests if t.verdict == "flaky"]
        lines += [f"{t.agent_key}: {t.test_name!r} is quarantined and {t.verdict}: "
                  f"{t.reason()}" for t in self.tests if t.quarantined and t.verdict != "passed"]
        lines += [f"{t.agent_key}: {t.test_name!r} is inconclusive, passed by the policy "
                  f"inconclusive: warn: {t.reason()}" for t in self.gating_tests
                  if t.counted_as == "inconclusive" and t.verdict == "passed"]
        return lines

    def summary(self) -> str:
        """``3 passed, 1 flaky, 1 failed`` (``no smoke tests`` when there were none)."""
        counts = self.counts()
        parts = [f"{counts[o]} {o}" for o in (*VERDICTS, *COMPARED, "quarantined")
                 if counts[o]]
        if self.problems:
            parts.append(f"{len(self.problems)} not run")
        return ", ".join(parts) or "no smoke tests"

    def headline(self) -> str:
        """The summary, plus the first reason a gating test did not pass."""
        failing = next((t for t in self.gating_tests if not t.passed), None)
        if failing is not None:
            return f"{self.summary()}: {failing.test_name!r}: {failing.reason()}"
        if self.problems:
            return f"{self.summary()}: {self.problems[0].message}"
        return self.summary()
