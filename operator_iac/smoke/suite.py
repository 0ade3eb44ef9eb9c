"""Running many smoke tests at once: every run of every test of every agent, concurrently.

Each run (one conversation) is a unit of work; ``repeat: N`` makes N units. Units run on a
bounded pool of ``parallelism`` threads (each run adds a short-lived thread that reads its
SSE stream), and their results are gathered per test, in declaration order, into a
``SmokeReport``; a caller may also hear of each agent's results the moment its last run ends
(``on_target``), to act on them while the others still run. Tests compared with a baseline
revision (a target's ``baseline``) run as interleaved pairs until their verdict is settled
(``smoke.interleave``); a ``shard`` runs only its share of the attempts (``smoke.shard``).
The pool backs off when the platform answers 429 (``api.pool.WorkPool``).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from operator_iac.api.pool import AdaptiveLimit, WorkPool
from operator_iac.defaults import PARALLELISM
from operator_iac.smoke.comparison import design_for
from operator_iac.smoke.interleave import ComparedTest, Converse, budget_line, run_comparisons
from operator_iac.smoke.postprocessing import Habits
from operator_iac.smoke.progress import UNWATCHED, ConversationBoard
from operator_iac.smoke.results import RunResult, SmokeReport, TestResult, format_duration
from operator_iac.smoke.runner import RunSettings, run_once
from operator_iac.smoke.shard import Shard
from operator_iac.spec.desired import DesiredAgent
from operator_iac.spec.gate import GateSettings
from operator_iac.spec.models import SmokeTest

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient

Progress = Callable[[str], None]
# Told a target's results (its tests that ran) once all its conversations are done.
TargetDone = Callable[[tuple[TestResult, ...]], None]


@dataclass(frozen=True)
class Baseline:
    """What a target's compared tests are compared with (``ca_x@vN``), and how."""

    version_id: str
    """The revision compared with."""
    gate: GateSettings
    """How the comparisons are judged and what they may cost."""
    tests: frozenset[str]
    """The names of the compared tests; the target's others run on their own."""


@dataclass(frozen=True)
class SmokeTarget:
    """The smoke tests of one agent, to run against one revision (``ca_x@vN``)."""

    key: str
    version_id: str
    tests: tuple[SmokeTest, ...]
    baseline: Baseline | None = None

    def compared(self, test: SmokeTest) -> bool:
        return self.baseline is not None and test.name in self.baseline.tests


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
                    parallelism: int = PARALLELISM, keep_conversations: bool = False,
                    procedural_schemas: Mapping[str, Any] | None = None,
                    key_to_id: Mapping[str, str] | None = None,
                    progress: Progress | None = None,
                    habits: Habits | None = None, shard: Shard | None = None,
                    max_conversations: int | None = None,
                    limit: AdaptiveLimit | None = None,
                    board: ConversationBoard | None = None,
                    on_target: TargetDone | None = None) -> SmokeReport:
    """Run every test of every agent (each ``repeat`` times), at most ``parallelism`` at once
    (or within ``limit``, shared with other suites); compared tests run as pairs within
    their gate's budget, capped by ``max_conversations`` per test.

    ``key_to_id`` maps declared keys to platform ids (how ``procedure: {agent: <key>}`` finds
    its runs); ``procedural_schemas`` maps keys to ``output_schema``s to validate against;
    ``habits`` carries what earlier suites learnt about the platform; ``board`` shows where
    each running conversation is; ``on_target`` is told each target's results as soon as its
    last conversation ends (from the thread that ran it; a target with compared tests, once
    the comparisons end).
    """
    started = time.monotonic()
    shared = RunSettings(keep_conversations=keep_conversations, agent_ids=dict(key_to_id or {}),
                         output_schemas=dict(procedural_schemas or {}),
                         habits=habits or Habits())
    units = [_Unit(t, test, n) for t in targets for test in t.tests if not t.compared(test)
             for n in range(1, test.repeat + 1)
             if shard is None or shard.owns(t.key, test.name, n)]
    jobs = comparison_jobs(targets, shard, max_conversations)
    say = progress or (lambda _line: None)
    ended = _Ended(units, on_target)
    converse = _converser(client, shared, board)

    def work(unit: _Unit) -> RunResult:
        result = converse(_label(unit), unit.test, unit.target.version_id, unit.attempt)
        say(_progress_line(unit, result))
        ended.ran(unit, result)
        return result

    with WorkPool(client, parallelism=parallelism, limit=limit) as used:
        _run_all(work, units, used)
        if jobs:
            say(budget_line(jobs, parallelism))
        compared = {(r.agent_key, r.test_name): r
                    for r in run_comparisons(jobs, pool=used, converse=converse,
                                             progress=say)}
    swept = shared.orphans.sweep(client)
    if swept:
        say(f"deleted {len(swept)} test conversation(s) left behind by retried creates")
    tests = [t for target in targets for t in ended.results(target, compared)]
    for target in targets:
        ended.finish(target, compared)
    return SmokeReport(tests=tuple(tests), duration_ms=(time.monotonic() - started) * 1000,
                       shard=str(shard) if shard is not None else None)


class _Ended:
    """The runs that ended, per target, from many threads; ``on_target`` is told a target's
    results once its last plain run ends, or at ``finish`` (compared tests, or no runs)."""

    def __init__(self, units: Sequence[_Unit], on_target: TargetDone | None) -> None:
        self._on_target = on_target
        self._lock = threading.Lock()
        self._left = Counter(id(unit.target) for unit in units)
        self._runs: dict[int, list[tuple[_Unit, RunResult]]] = defaultdict(list)
        self._told: set[int] = set()

    def ran(self, unit: _Unit, result: RunResult) -> None:
        target = unit.target
        with self._lock:
            self._runs[id(target)].append((unit, result))
            self._left[id(target)] -= 1
            last = self._left[id(target)] == 0 and target.baseline is None
        if last:
            self.finish(target, {})

    def results(self, target: SmokeTarget,
                compared: Mapping[tuple[str, str], TestResult]) -> tuple[TestResult, ...]:
        """The target's tests that ran, in declaration order, each attempt in order."""
        with self._lock:
            runs = sorted(self._runs[id(target)], key=lambda pair: pair[0].attempt)
        tests = [compared[(target.key, test.name)] if target.compared(test) else
                 TestResult(target.key, test.name, target.version_id,
                            tuple(result for unit, result in runs if unit.test is test),
                            test.rule, test.quarantine) for test in target.tests]
        return tuple(test for test in tests if test.runs)

    def finish(self, target: SmokeTarget,
               compared: Mapping[tuple[str, str], TestResult]) -> None:
        """Tell ``on_target`` about ``target`` (once) when some of its tests ran."""
        with self._lock:
            if self._on_target is None or id(target) in self._told:
                return
            self._told.add(id(target))
        tests = self.results(target, compared)
        if tests:
            self._on_target(tests)


def comparison_jobs(targets: Sequence[SmokeTarget], shard: Shard | None = None,
                    max_conversations: int | None = None) -> list[ComparedTest]:
    """The compared tests of ``targets`` as jobs: each test's design splits its gate's
    false-alarm rate between the agent's compared tests that gate."""
    jobs: list[ComparedTest] = []
    for target in targets:
        baseline = target.baseline
        if baseline is None:
            continue
        compared = [test for test in target.tests if target.compared(test)]
        gating = sum(1 for test in compared if not test.quarantine)
        design = design_for(baseline.gate, gating, max_conversations=max_conversations)
        for test in compared:
            attempts = shard.attempts(target.key, test.name, design.max_pairs) \
                if shard is not None else None
            jobs.append(ComparedTest(target.key, test, target.version_id,
                                     baseline.version_id, baseline.gate, design, attempts))
    return jobs


def _converser(client: OperatorClient, settings: RunSettings,
               board: ConversationBoard | None) -> Converse:
    """How every conversation of a suite runs, compared or not: on the board, if any."""

    def converse(label: str, test: SmokeTest, version_id: str, attempt: int) -> RunResult:
        tracker = board.start(label, test.user_turns) if board is not None else UNWATCHED
        try:
            return run_once(client, test, version_id, attempt=attempt, settings=settings,
                            tracker=tracker)
        finally:
            tracker.done()

    return converse


def _run_all(work: Callable[[_Unit], RunResult], units: Sequence[_Unit],
             pool: WorkPool) -> list[RunResult]:
    if not units:
        return []
    return pool.map(work, units)


def _label(unit: _Unit) -> str:
    attempt = f" (attempt {unit.attempt}/{unit.test.repeat})" if unit.test.repeat > 1 else ""
    return f"{unit.target.key}: {unit.test.name}{attempt}"


def _progress_line(unit: _Unit, result: RunResult) -> str:
    reason = f": {result.reason()}" if result.outcome != "passed" else ""
    return f"{_label(unit)}: {result.outcome} in {format_duration(result.duration_ms)}{reason}"
