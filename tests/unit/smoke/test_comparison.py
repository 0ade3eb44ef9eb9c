"""Compared smoke tests as values: pairing runs, verdicts and their words in reports, shards
of a run and merging them back into the verdict of one job."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence

import pytest

from operator_iac.errors import InvalidInputError, UsageError
from operator_iac.render.junit import render_junit
from operator_iac.render.smoke_report import (
    render_smoke_markdown,
    render_smoke_text,
    smoke_report_data,
)
from operator_iac.smoke.comparison import Comparison, contiguous, design_for, pair_runs
from operator_iac.smoke.merge import merge_reports, shard_report
from operator_iac.smoke.results import Outcome, RunResult, SmokeReport, TestResult
from operator_iac.smoke.shard import Shard
from operator_iac.spec.gate import GateSettings

Runs = Callable[[Sequence[Outcome]], tuple[RunResult, ...]]
GATE = GateSettings()
DESIGN = design_for(GATE, 1)


@pytest.fixture
def runs() -> Runs:
    """Runs with the given outcomes, attempt 1, 2, ... in order."""

    def make(outcomes: Sequence[Outcome]) -> tuple[RunResult, ...]:
        return tuple(RunResult(n, outcome, f"conv_{n}", duration_ms=10.0,
                               error="refused" if outcome == "error" else "")
                     for n, outcome in enumerate(outcomes, start=1))

    return make


def compared(candidate: Sequence[RunResult], baseline: Sequence[RunResult], *,
             gate: GateSettings = GATE, partial: bool = False) -> TestResult:
    comparison = Comparison.judge(candidate, baseline, baseline_version_id="ca_desk@v1",
                                  design=design_for(gate, 1), confidence=gate.confidence,
                                  inconclusive=gate.inconclusive, partial=partial)
    return TestResult("desk", "looks up an order", "ca_desk@v2", tuple(candidate),
                      comparison=comparison)


def test_runs_pair_by_attempt_and_unjudged_runs_void_their_pair(runs: Runs) -> None:
    candidate = runs(["passed", "failed", "timeout", "passed"])
    baseline = runs(["passed", "passed", "passed"])
    assert pair_runs(candidate, baseline) == [(1, (True, True)), (2, (False, True)),
                                              (3, None)]
    assert contiguous([(1, (True, True)), (3, (True, False))]) == [(True, True)]


def test_the_gate_splits_its_false_alarm_rate_between_its_tests() -> None:
    design = design_for(GateSettings(confidence=0.9, max_conversations=100), 4,
                        max_conversations=60)
    assert design.alpha == pytest.approx(0.025) and design.max_pairs == 30


def test_a_regression_fails_the_test_and_says_both_rates(runs: Runs) -> None:
    test = compared(runs(["failed", "failed", "passed"] * 10), runs(["passed"] * 30))
    assert test.comparison is not None and test.comparison.verdict == "regressed"
    assert (test.verdict, test.counted_as, test.passed) == ("failed", "regressed", False)
    assert test.reason().startswith("regressed after ")
    assert "candidate " in test.reason() and ", ca_desk@v1 " in test.reason()
    report = SmokeReport((test,))
    assert report.exit_code() == 4 and report.summary() == "1 regressed"
    text = render_smoke_text(report, transcripts=False)
    assert "REGRESSED desk: looks up an order (ca_desk@v2 compared with ca_desk@v1" in text
    assert "A failed attempt on the candidate (1):" in text


def test_inconclusive_blocks_or_warns_as_the_gate_says(runs: Runs) -> None:
    small = GateSettings(max_conversations=8)
    alternating = runs(["passed", "failed"] * 4)
    blocked = compared(alternating, runs(["failed", "passed"] * 4), gate=small)
    assert blocked.counted_as == "inconclusive" and blocked.verdict == "incomplete"
    assert SmokeReport((blocked,)).exit_code() == 6
    assert "conversations would detect 0.1" in blocked.reason()
    warned = compared(alternating, runs(["failed", "passed"] * 4),
                      gate=small.model_copy(update={"inconclusive": "warn"}))
    report = SmokeReport((warned,))
    assert warned.verdict == "passed" and report.exit_code() == 0
    assert report.warnings()[0].startswith("desk: 'looks up an order' is inconclusive, passed "
                                           "by the policy inconclusive: warn: inconclusive")


def test_no_regression_states_the_smallest_drop_it_could_detect(runs: Runs) -> None:
    test = compared(runs(["passed"] * 40), runs(["passed"] * 40))
    assert test.counted_as == "no regression" and test.verdict == "passed"
    assert test.reason() == ""  # a passing test has nothing to explain
    data = smoke_report_data(SmokeReport((test,)))
    comparison = data["tests"][0]["comparison"]
    assert comparison["verdict"] == "no regression" and comparison["pairs"] == 28
    assert comparison["candidate"]["interval"][0] > 0.85
    # What 28 pairs could have shown to be a regression (a sign test with 80 % power);
    # the "no regression" itself rests on no pair going against the candidate.
    assert 0.1 < comparison["detectable_drop"] < 0.3
    text = render_smoke_text(SmokeReport((test,)))
    assert "no regression after 28 pair(s): candidate 28/28 (100%, 88%-100%)" in text
    assert "would have been detected as a regression (80% power)" in text


def test_pairs_that_could_not_be_judged_leave_the_gravest_class(runs: Runs) -> None:
    test = compared(runs(["error"] * 3), runs(["passed"] * 3))
    assert test.verdict == "error" and SmokeReport((test,)).exit_code() == 1


def test_the_junit_and_markdown_of_a_comparison_carry_rates_and_intervals(runs: Runs) -> None:
    test = compared(runs(["failed", "failed", "passed"] * 10), runs(["passed"] * 30))
    junit = render_junit(SmokeReport((test,)))
    assert '<failure' in junit and 'type="regressed"' in junit
    assert "regressed: regressed after" in junit
    markdown = render_smoke_markdown(SmokeReport((test,)))
    assert "| REGRESSED | `desk` | looks up an order | " in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| REGRESSED"))
    assert " (100%, " in row.split(" vs ")[1] and "`ca_desk@v1`" in row


# ---- shards and merging ---------------------------------------------------------------------


def test_a_shard_is_k_of_n_and_every_attempt_has_exactly_one() -> None:
    shards = [Shard.parse(f"{k}/4") for k in range(1, 5)]
    owners = [[s for s in shards if s.owns("desk", "looks up an order", n)] for n in
              range(1, 101)]
    assert all(len(found) == 1 for found in owners)
    assert [len(s.attempts("desk", "looks up an order", 100)) for s in shards] == [25] * 4
    # Tests with one attempt spread over the shards instead of all landing in the first.
    firsts = {next(s for s in shards if s.owns("desk", f"test {n}", 1)).index
              for n in range(20)}
    assert len(firsts) > 1
    for text in ("0/4", "5/4", "2-4", "two of four"):
        with pytest.raises(UsageError, match="--shard must be K/N"):
            Shard.parse(text)


def shard_reports(test: TestResult, count: int) -> list[dict[str, object]]:
    """The JSON reports ``count`` shards would write for the runs of ``test``."""
    assert test.comparison is not None
    reports = []
    for shard in (Shard(k, count) for k in range(1, count + 1)):
        mine = [r for r in test.runs if shard.owns(test.agent_key, test.test_name, r.attempt)]
        theirs = [r for r in test.comparison.baseline_runs
                  if shard.owns(test.agent_key, test.test_name, r.attempt)]
        part = compared(mine, theirs, partial=True)
        data = smoke_report_data(SmokeReport((part,), shard=str(shard)))
        reports.append(json.loads(json.dumps(data)))
    return reports


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_four_shards_merged_judge_exactly_as_one_job(runs: Runs, seed: int) -> None:
    rng = random.Random(seed)
    candidate = runs(["passed" if rng.random() < 0.7 else "failed" for _ in range(150)])
    baseline = runs(["passed" if rng.random() < 0.9 else "failed" for _ in range(150)])
    one = compared(candidate, baseline)
    parts = shard_reports(one, 4)
    assert all(part["exit_code"] == 0 and part["tests"][0]["verdict"] == "passed"
               for part in parts)  # a shard's share concludes nothing by itself
    merged = merge_reports([shard_report(part, f"shard-{n}.json")
                            for n, part in enumerate(parts, start=1)])
    [test] = merged.tests
    assert test.comparison is not None and one.comparison is not None
    assert test.comparison.result == one.comparison.result
    assert (test.counted_as, merged.exit_code()) == (one.counted_as, 4)


def test_merging_refuses_incomplete_or_mixed_sets_of_shards(runs: Runs) -> None:
    parts = shard_reports(compared(runs(["passed"] * 20), runs(["passed"] * 20)), 3)
    reports = [shard_report(part, f"s{n}.json") for n, part in enumerate(parts, start=1)]
    with pytest.raises(InvalidInputError, match="the report of shard 2/3 is missing"):
        merge_reports([reports[0], reports[2]])
    with pytest.raises(InvalidInputError, match="shard 1/3 is given twice"):
        merge_reports([reports[0], *reports])
    other = json.loads(json.dumps(parts[1]))
    other["tests"][0]["version_id"] = "ca_desk@v9"
    with pytest.raises(InvalidInputError, match="tested on different revisions"):
        merge_reports([reports[0], shard_report(other, "s2.json"), reports[2]])
    whole = smoke_report_data(SmokeReport())
    with pytest.raises(InvalidInputError, match="not the report of a shard"):
        shard_report(whole, "whole.json")
    with pytest.raises(InvalidInputError, match="not a smoke report"):
        shard_report([1, 2], "list.json")
