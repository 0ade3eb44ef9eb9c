"""Running compared smoke tests: conversations on the candidate and on the baseline,
interleaved, until each test's verdict is settled.

Attempt n of a compared test is a *pair*: one conversation on each revision, submitted one
after the other so that they run side by side (whatever the platform does at that moment,
both meet it). Pairs of every compared test are started round-robin, as many at once as the
pool allows (``api.pool.WorkPool``: at most its parallelism, halved when the platform answers
429, and back up after successes). Each finished pair is read in order by the sequential
test (``smoke.stats``); once a test's verdict is settled no more of its pairs start, and the
ones already running finish and are reported past the verdict. A shard (``smoke --shard``)
runs exactly its share of the pairs, without stopping early: only the merge of every
shard's report can read them in order. Each conversation runs through the suite's
``Converse``, as the tests that are not compared do (the progress board shows both).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from operator_iac.smoke.comparison import Comparison
from operator_iac.smoke.results import RunResult, TestResult
from operator_iac.smoke.stats import Design
from operator_iac.spec.gate import GateSettings, estimated_conversation_s, format_span
from operator_iac.spec.models import SmokeTest

if TYPE_CHECKING:
    from operator_iac.api.pool import WorkPool

Progress = Callable[[str], None]
# One conversation: (its label on the progress board, the test, the revision, the attempt)
# -> its result.
Converse = Callable[[str, SmokeTest, str, int], RunResult]
Side = Literal["candidate", "baseline"]
# A progress line every this many pairs of a test (and one when its verdict is settled).
PROGRESS_EVERY = 10
# A test none of whose first pairs could be judged (the platform refuses the conversations,
# say) stops there: the rest of its budget would fail the same way.
UNJUDGED_LIMIT = 5


@dataclass(frozen=True)
class ComparedTest:
    """One compared test to run: which revisions, how it is judged, and which pairs."""

    key: str
    """The agent's key."""
    test: SmokeTest
    """The compared test."""
    candidate: str
    """The revision under test (``ca_x@vN``)."""
    baseline: str
    """The revision it is compared with."""
    gate: GateSettings
    """The declared gate (confidence and inconclusive policy for the verdict)."""
    design: Design
    """How this test is judged: its share of the false-alarm rate, its budget."""
    attempts: tuple[int, ...] | None = None
    """A shard's pair numbers (from 1); None: every pair of the budget, stopping early."""

    @property
    def planned(self) -> tuple[int, ...]:
        return self.attempts if self.attempts is not None else \
            tuple(range(1, self.design.max_pairs + 1))

    def judge(self, candidate: Sequence[RunResult], baseline: Sequence[RunResult], *,
              complete: bool) -> Comparison:
        return Comparison.judge(candidate, baseline, baseline_version_id=self.baseline,
                                design=self.design, confidence=self.gate.confidence,
                                inconclusive=self.gate.inconclusive, complete=complete,
                                partial=self.attempts is not None)

    def estimated_s(self) -> float:
        """The time one conversation of this test is expected to take."""
        return estimated_conversation_s(self.test.user_turns)

    def label(self, attempt: int, side: Side) -> str:
        """The conversation of ``side`` in pair ``attempt``, as the progress board shows it."""
        return f"{self.key}: {self.test.name} (pair {attempt}, {side})"


@dataclass
class _Running:
    """The state of one compared test while it runs."""

    job: ComparedTest
    pending: list[tuple[int, Side]]
    runs: dict[Side, dict[int, RunResult]] = field(
        default_factory=lambda: {"candidate": {}, "baseline": {}})
    stopped: bool = False

    def record(self, attempt: int, side: Side, run: RunResult) -> None:
        self.runs[side][attempt] = run

    def comparison(self, complete: bool) -> Comparison:
        return self.job.judge(list(self.runs["candidate"].values()),
                              list(self.runs["baseline"].values()), complete=complete)

    def pairs_done(self) -> int:
        return len(self.runs["candidate"].keys() & self.runs["baseline"].keys())


def budget_line(jobs: Sequence[ComparedTest], parallelism: int) -> str:
    """What a comparison may cost, said before it starts: conversations and time."""
    conversations = sum(2 * len(job.planned) for job in jobs)
    seconds = sum(2 * len(job.planned) * job.estimated_s() for job in jobs) / \
        max(parallelism, 1)
    early = "" if any(job.attempts is not None for job in jobs) else \
        "; each test stops as soon as its verdict is settled"
    return (f"comparing {len(jobs)} smoke test(s) with the released revision: at most "
            f"{conversations} conversations, about {format_span(seconds)} at "
            f"{parallelism} at once{early}")


def run_comparisons(jobs: Sequence[ComparedTest], *, pool: WorkPool, converse: Converse,
                    progress: Progress | None = None) -> list[TestResult]:
    """Run every job's pairs, interleaved, within ``pool``'s limit, each conversation by
    ``converse``; one ``TestResult`` per job, in the order of ``jobs``, its comparison judged
    over the pairs in order."""
    from operator_iac.api.pool import WorkPool

    say = progress or (lambda _line: None)
    states = [_Running(job, [(n, side) for n in job.planned
                              for side in ("candidate", "baseline")]) for job in jobs]
    if not states:
        return []
    # Threads of this run's own, within the limit of the caller's pool.
    with WorkPool(parallelism=pool.parallelism, limit=pool.limit) as workers:
        _interleave(states, workers, converse, say)
    return [_result(state) for state in states]


def _interleave(states: list[_Running], pool: WorkPool, converse: Converse,
                say: Progress) -> None:
    running: dict[Future[RunResult], tuple[_Running, int, Side]] = {}

    def run(conversation: tuple[str, SmokeTest, str, int]) -> RunResult:
        return converse(*conversation)

    turn = 0
    while True:
        while len(running) < max(pool.limit.limit, 1):
            ready = [s for s in states if s.pending and not s.stopped]
            if not ready:
                break
            state = ready[turn % len(ready)]
            turn += 1
            # Both conversations of a pair start together, so they meet the same platform.
            for _ in range(2):
                if state.pending:
                    attempt, side = state.pending.pop(0)
                    version = state.job.candidate if side == "candidate" else \
                        state.job.baseline
                    conversation = (state.job.label(attempt, side), state.job.test, version,
                                    attempt)
                    running[pool.submit(run, conversation)] = (state, attempt, side)
        if not running:
            break
        done, _ = wait(list(running), return_when=FIRST_COMPLETED)
        for future in done:
            state, attempt, side = running.pop(future)
            state.record(attempt, side, future.result())
            _check(state, attempt, say)


def _check(state: _Running, attempt: int, say: Progress) -> None:
    """After a run finished: stop the test once its verdict is settled, and say so."""
    if attempt not in state.runs["baseline"] or attempt not in state.runs["candidate"]:
        return  # the verdict reads whole pairs: half of one changes nothing
    job = state.job
    done = state.pairs_done()
    milestone = done % PROGRESS_EVERY == 0
    if job.attempts is not None or state.stopped:
        if milestone:
            say(f"{job.key}: {job.test.name}: {done} of {len(job.planned)} pair(s) run")
        return
    comparison = state.comparison(complete=done == len(job.planned))
    if comparison.result.judged == 0 and comparison.result.pairs >= UNJUDGED_LIMIT:
        state.stopped = True
        say(f"{job.key}: {job.test.name}: none of the first {comparison.result.pairs} "
            "pair(s) could be judged; stopping")
    elif comparison.result.settled:
        state.stopped = True
        say(f"{job.key}: {job.test.name}: {comparison.result.verdict} after "
            f"{comparison.result.pairs} pair(s)")
    elif milestone:
        say(f"{job.key}: {job.test.name}: {done} pair(s), not settled yet")


def _result(state: _Running) -> TestResult:
    job = state.job
    candidate = tuple(sorted(state.runs["candidate"].values(), key=lambda r: r.attempt))
    comparison = job.judge(candidate, list(state.runs["baseline"].values()), complete=True)
    return TestResult(job.key, job.test.name, job.candidate, candidate, job.test.rule,
                      job.test.quarantine, comparison=comparison)
