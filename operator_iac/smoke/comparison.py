"""A compared smoke test as a value: the runs of the baseline beside the candidate's, paired
by attempt number, and what the sequential test (``smoke.stats``) concludes from them.

Pair n is the n-th conversation on each revision, started at the same time. A run that
passed or failed is judged; one that could not be (a platform error, a timeout, an
assertion nothing could judge) voids its pair, which then counts against the budget but
not as evidence. The verdict of the comparison (``regressed``, ``no regression``,
``improved``, ``inconclusive``) maps onto the test verdicts every report and gate already
knows: ``regressed`` fails, ``inconclusive`` is ``incomplete`` under the ``block`` policy
and passes with a warning under ``warn``. A shard's share of the pairs is ``partial``:
only ``--merge`` of every shard's report can judge it. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from operator_iac.smoke.results import RunResult, TestResult, Verdict, gravest
from operator_iac.smoke.stats import (
    ComparisonVerdict,
    Design,
    Pair,
    SequentialResult,
    pairs_needed,
    sequential_test,
    wilson_interval,
)
from operator_iac.spec.gate import DEFAULT_POWER, GateSettings, InconclusivePolicy

# Outcomes a pair can be judged on; the others void it.
JUDGED = {"passed": True, "failed": False}


def design_for(gate: GateSettings, compared_tests: int, *,
               max_conversations: int | None = None) -> Design:
    """The design of each of ``compared_tests`` tests under ``gate``: the false-alarm rate
    1 - confidence is split evenly between them (Bonferroni), so that the whole gate blocks
    an agent as good as its released revision at most that often. ``max_conversations``
    (``--max-conversations``) caps the gate's own budget."""
    budget = gate.max_conversations if max_conversations is None else \
        min(gate.max_conversations, max_conversations)
    alpha = (1 - gate.confidence) / max(compared_tests, 1)
    return Design(alpha=alpha, max_drop=gate.max_drop, power=DEFAULT_POWER,
                  max_pairs=max(budget // 2, 1))


def pair_runs(candidate: Sequence[RunResult],
              baseline: Sequence[RunResult]) -> list[tuple[int, Pair]]:
    """(attempt, pair) for every attempt both revisions ran, in attempt order."""
    theirs = {run.attempt: run for run in baseline}
    pairs = []
    for run in sorted(candidate, key=lambda r: r.attempt):
        other = theirs.get(run.attempt)
        if other is None:
            continue
        mine, base = JUDGED.get(run.outcome), JUDGED.get(other.outcome)
        pairs.append((run.attempt, None if mine is None or base is None else (mine, base)))
    return pairs


def contiguous(pairs: Sequence[tuple[int, Pair]]) -> list[Pair]:
    """The pairs from attempt 1 on, up to the first attempt missing (the sequential test
    reads them in order, so a gap ends what it can read)."""
    found = dict(pairs)
    prefix: list[Pair] = []
    while len(prefix) + 1 in found:
        prefix.append(found[len(prefix) + 1])
    return prefix


@dataclass(frozen=True)
class Comparison:
    """The baseline side of a compared test and the verdict of the comparison."""

    baseline_version_id: str
    """The revision compared with (``ca_x@vN``)."""
    baseline_runs: tuple[RunResult, ...]
    """The baseline's runs; attempt n pairs with the candidate's attempt n."""
    design: Design
    """How the comparison is judged (false-alarm rate, drop, power, budget)."""
    confidence: float
    """The gate's declared confidence (for intervals in reports)."""
    inconclusive: InconclusivePolicy
    """What an inconclusive verdict does to the test."""
    result: SequentialResult
    """Where the sequential test stands over the pairs from attempt 1 on."""
    partial: bool = False
    """A shard's share of the pairs: judged only once every shard's report is merged."""

    @classmethod
    def judge(cls, candidate: Sequence[RunResult], baseline: Sequence[RunResult], *,
              baseline_version_id: str, design: Design, confidence: float,
              inconclusive: InconclusivePolicy, complete: bool = True,
              partial: bool = False) -> Comparison:
        """Pair the runs and run the sequential test over them."""
        prefix = contiguous(pair_runs(candidate, baseline))
        result = sequential_test(prefix, design, complete=complete)
        return cls(baseline_version_id, tuple(sorted(baseline, key=lambda r: r.attempt)),
                   design, confidence, inconclusive, result, partial)

    @property
    def verdict(self) -> ComparisonVerdict | None:
        """The comparison's verdict (None for a shard's share)."""
        return None if self.partial else self.result.verdict

    def test_verdict(self, candidate: Sequence[RunResult]) -> Verdict:
        """The verdict as every report and gate knows it."""
        if not self.partial and self.result.judged == 0:
            return gravest([*candidate, *self.baseline_runs])
        verdict = self.verdict
        if verdict == "regressed":
            return "failed"
        if verdict == "inconclusive" and self.inconclusive == "block":
            return "incomplete"
        return "passed"

    def rates(self, candidate: Sequence[RunResult]) -> tuple[Rate, Rate]:
        """The pass rates of candidate and baseline, with intervals: over the pairs the
        verdict read (a shard's: over all its judged runs)."""
        if self.partial:
            return (Rate.of(candidate, self.confidence),
                    Rate.of(self.baseline_runs, self.confidence))
        result = self.result
        return (Rate.make(result.candidate_passes, result.judged, self.confidence),
                Rate.make(result.baseline_passes, result.judged, self.confidence))

    @property
    def conversations(self) -> int:
        """Both revisions' conversations started (including any past the verdict)."""
        return 2 * len(self.baseline_runs)


@dataclass(frozen=True)
class Rate:
    """A pass rate over judged runs, with its Wilson interval."""

    passes: int
    runs: int
    low: float
    high: float

    @classmethod
    def make(cls, passes: int, runs: int, confidence: float) -> Rate:
        low, high = wilson_interval(passes, runs, confidence)
        return cls(passes, runs, low, high)

    @classmethod
    def of(cls, runs: Sequence[RunResult], confidence: float) -> Rate:
        judged = [run for run in runs if run.outcome in JUDGED]
        passes = sum(1 for run in judged if run.outcome == "passed")
        return cls.make(passes, len(judged), confidence)

    @property
    def value(self) -> float:
        return self.passes / self.runs if self.runs else 0.0

    def text(self) -> str:
        """``54/60 (90%, 80-95%)``."""
        if not self.runs:
            return "0/0"
        return (f"{self.passes}/{self.runs} ({self.value:.0%}, "
                f"{self.low:.0%}-{self.high:.0%})")


def comparison_line(test: TestResult) -> str:
    """One line saying what the comparison of ``test`` found, with both pass rates and
    their intervals, and for ``no regression`` and ``inconclusive`` the smallest drop a run
    of this size detects."""
    comparison = test.comparison
    assert comparison is not None
    candidate, baseline = comparison.rates(test.runs)
    result = comparison.result
    rates = (f"candidate {candidate.text()}, {comparison.baseline_version_id} "
             f"{baseline.text()}")
    if comparison.partial:
        return (f"this shard's {len(comparison.baseline_runs)} pair(s): {rates}; merge "
                "every shard's report for the verdict")
    void = result.pairs - result.judged
    unjudged = f", {void} could not be judged" if void else ""
    head = f"{result.verdict} after {result.pairs} pair(s){unjudged}: {rates}"
    if result.verdict in ("regressed", "improved"):
        return head
    return f"{head}; {_power_note(comparison, baseline.value)}"


def _power_note(comparison: Comparison, baseline_rate: float) -> str:
    """What a run of this size could detect, and for an inconclusive one what would do."""
    design, found = comparison.design, comparison.result.detectable_drop
    power = f"{design.power:.0%} power"
    could = "no drop could have been shown to be a regression at this size" \
        if found is None else \
        f"a drop of {found:.2f} or more would have been detected as a regression ({power})"
    if comparison.result.verdict != "inconclusive":
        return could
    needed = pairs_needed(baseline_rate, design.max_drop, design.alpha, design.power)
    more = f"; about {2 * needed} conversations would detect {design.max_drop:g}" \
        if needed is not None else ""
    return f"{could}{more}"
