"""Running many smoke tests at once: every run of every test of every agent, concurrently.

Each run (one conversation) is a unit of work; ``repeat: N`` makes N units. Units run on a
bounded pool of ``parallelism`` threads (each run adds a short-lived thread that reads its
SSE stream), and their results are gathered per test, in declaration order, into a
``SmokeReport``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from operator_iac.api.pool import WorkPool
from operator_iac.smoke.progress import UNWATCHED, ConversationBoard
from operator_iac.smoke.results import RunResult, SmokeReport, TestResult, format_duration
from operator_iac.smoke.runner import Habits, RunSettings, run_once
from operator_iac.spec.desired import DesiredAgent
from operator_iac.spec.models import SmokeTest

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient

Progress = Callable[[str], None]
DEFAULT_PARALLELISM = 4


@dataclass(frozen=True)
class SmokeTarget:
    """The smoke tests of one agent, to run against one revision (``ca_x@vN``)."""

    key: str
    version_id: str
    tests: tuple[SmokeTest, ...]


@dataclass(frozen=True)
class _Unit:
    target: SmokeTarget
    test: SmokeTest
    attempt: int


def output_schemas(desired: Mapping[str, DesiredAgent]) -> dict[str, Any]:
    """Procedural agent key -> its declared ``output_schema`` (for ``procedure`` checks)."""
    schemas: dict[str, Any] = {}
    for key, agent in desired.items():
        schema = (agent.config.get("output") or {}).get("output_schema")
        if agent.kind == "procedural_agent" and isinstance(schema, dict):
            schemas[key] = schema
    return schemas


def run_smoke_tests(client: OperatorClient, targets: Sequence[SmokeTarget], *,
                    parallelism: int = DEFAULT_PARALLELISM, keep_conversations: bool = False,
                    procedural_schemas: Mapping[str, Any] | None = None,
                    key_to_id: Mapping[str, str] | None = None,
                    progress: Progress | None = None,
                    habits: Habits | None = None,
                    board: ConversationBoard | None = None) -> SmokeReport:
    """Run every test of every agent (each ``repeat`` times), at most ``parallelism`` at once.

    ``key_to_id`` maps declared keys to platform ids (how ``procedure: {agent: <key>}`` finds
    its runs); ``procedural_schemas`` maps keys to ``output_schema``s to validate against;
    ``habits`` carries what earlier suites learnt about the platform; ``board`` shows where
    each running conversation is.
    """
    started = time.monotonic()
    shared = RunSettings(keep_conversations=keep_conversations, agent_ids=dict(key_to_id or {}),
                         output_schemas=dict(procedural_schemas or {}),
                         habits=habits or Habits())
    units = [_Unit(t, test, n) for t in targets for test in t.tests
             for n in range(1, test.repeat + 1)]
    say = progress or (lambda _line: None)

    def work(unit: _Unit) -> RunResult:
        turns = sum(1 for turn in unit.test.turns if turn.user is not None)
        tracker = board.start(_label(unit), turns) if board is not None else UNWATCHED
        try:
            result = run_once(client, unit.test, unit.target.version_id, attempt=unit.attempt,
                              settings=shared, tracker=tracker)
        finally:
            tracker.done()
        say(_progress_line(unit, result))
        return result

    results = iter(_run_all(work, units, parallelism))
    swept = shared.orphans.sweep(client)
    if swept:
        say(f"deleted {len(swept)} test conversation(s) left behind by retried creates")
    # Results come back in the order of the units: test by test, attempt by attempt.
    tests = [TestResult(target.key, test.name, target.version_id,
                        tuple(islice(results, test.repeat)), test.rule, test.quarantine)
             for target in targets for test in target.tests]
    return SmokeReport(tests=tuple(tests), duration_ms=(time.monotonic() - started) * 1000)


def _run_all(work: Callable[[_Unit], RunResult], units: Sequence[_Unit],
             parallelism: int) -> list[RunResult]:
    if not units:
        return []
    return WorkPool(parallelism=parallelism).map(work, units)


def _label(unit: _Unit) -> str:
    attempt = f" (attempt {unit.attempt}/{unit.test.repeat})" if unit.test.repeat > 1 else ""
    return f"{unit.target.key}: {unit.test.name}{attempt}"


def _progress_line(unit: _Unit, result: RunResult) -> str:
    reason = f": {result.reason()}" if result.outcome != "passed" else ""
    return f"{_label(unit)}: {result.outcome} in {format_duration(result.duration_ms)}{reason}"
