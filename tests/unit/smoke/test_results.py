"""Outcomes of tests with repeats, and what a report adds up to (summary, exit code)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from operator_iac.smoke.results import Problem, SmokeReport

MakeTest = Callable[..., Any]


@pytest.mark.parametrize(("outcomes", "rate", "expected"), [
    (("passed",), 1.0, "passed"),
    (("passed", "passed", "failed"), 0.67, "failed"),
    (("passed", "passed", "failed"), 0.66, "flaky"),
    (("passed", "failed", "timeout"), 1.0, "incomplete"),  # a timeout: never a pass
    (("passed", "failed", "incomplete"), 1.0, "incomplete"),
    (("failed", "error", "timeout"), 1.0, "error"),  # a platform error makes it inconclusive
    (("failed", "failed"), 0.0, "flaky"),
    (("failed", "failed"), 1.0, "failed"),
])
def test_outcome_of_repeated_runs(test_result: MakeTest, outcomes: tuple[str, ...], rate: float,
                                  expected: str) -> None:
    assert test_result(*outcomes, min_pass_rate=rate).outcome == expected


@pytest.mark.parametrize(("outcomes", "rule", "expected"), [
    (("passed",) * 4 + ("failed",), "rate:0.8", "flaky"),
    (("failed",) * 5, "rate:0.8", "failed"),
    (("passed",) * 3 + ("failed",) * 2, "rate:0.8", "failed"),
    (("passed",) * 5, "rate:0.8", "passed"),
    (("passed", "passed", "failed"), "majority", "flaky"),
    (("passed", "failed"), "majority", "failed"),  # a half is no majority
    (("passed", "passed", "failed"), "all", "failed"),
    (("passed", "passed"), "all", "passed"),
])
def test_pass_rules(test_result: MakeTest, outcomes: tuple[str, ...], rule: str,
                    expected: str) -> None:
    test = test_result(*outcomes, rule=rule)
    assert test.verdict == expected
    assert test.passed == (expected in ("passed", "flaky"))


def test_pass_hat_is_shown_beside_the_rate(test_result: MakeTest) -> None:
    from operator_iac.spec.smoke_rules import pass_hat

    flaky = test_result("passed", "passed", "passed", "passed", "failed", rule="rate:0.8")
    assert flaky.attempts_line() == ("4/5 attempts passed (80%, 95% interval 38%-96%, pass^5 0%; "
                                     "rule rate:0.8)")
    assert [round(pass_hat(4, 5, k), 2) for k in range(1, 6)] == [0.8, 0.6, 0.4, 0.2, 0.0]
    assert test_result("passed", "passed").pass_hat == 1.0


def test_a_flaky_test_shows_its_failing_attempt(test_result: MakeTest) -> None:
    test = test_result("passed", "failed", "passed", rule="majority")
    assert test.verdict == "flaky" and test.failing_run() is test.runs[1]
    assert test.reason().startswith("2/3 attempts passed (67%, 95% interval 21%-94%, pass^3 0%; "
                                    "rule majority); "
                                    "attempt 2: turn 1: tool_called t0")


def test_reason_of_a_repeated_test_names_the_pass_rate(test_result: MakeTest) -> None:
    test = test_result("passed", "failed", "failed", min_pass_rate=0.5)
    assert test.reason() == ("1/3 attempts passed (33%, 95% interval 6%-79%, pass^3 0%; "
                             "rule rate:0.5); attempt 2: "
                             "turn 1: tool_called t0: expected a call to t0; saw no tool calls")
    assert test.failing_run() is test.runs[1]


def test_report_exit_codes(test_result: MakeTest) -> None:
    assert SmokeReport((test_result("passed"),)).exit_code() == 0
    assert SmokeReport((test_result("passed"), test_result("failed"))).exit_code() == 4
    assert SmokeReport((test_result("timeout"),)).exit_code() == 6
    assert SmokeReport((test_result("incomplete"),)).exit_code() == 6
    assert SmokeReport((test_result("timeout"), test_result("failed"))).exit_code() == 4
    assert SmokeReport((test_result("passed", "failed", rule="majority"),)).exit_code() == 4
    assert SmokeReport((test_result("passed", "passed", "failed", rule="majority"),)
                       ).exit_code() == 0
    assert SmokeReport((test_result("failed"), test_result("error"))).exit_code() == 1
    assert SmokeReport((test_result("passed"),), (Problem("x", "not deployed"),)).exit_code() == 1
    assert SmokeReport().exit_code() == 0


def test_the_exit_codes_are_the_error_classes() -> None:
    from operator_iac import errors
    from operator_iac.smoke import results

    assert results.EXIT_SMOKE_FAILED == errors.SmokeTestFailedError.exit_code == 4
    assert results.EXIT_SMOKE_INCOMPLETE == errors.SmokeIncompleteError.exit_code == 6


def test_quarantined_tests_report_without_gating(test_result: MakeTest) -> None:
    report = SmokeReport((test_result("passed", name="greets"),
                          test_result("failed", name="refunds", quarantined=True),
                          test_result("error", name="hangs up", quarantined=True)))
    assert report.passed and report.exit_code() == 0 and not report.platform_error
    assert report.summary() == "1 passed, 2 quarantined"
    assert report.warnings()[0].startswith("booking: 'refunds' is quarantined and failed: ")
    assert report.tests[1].holds and not report.tests[1].passed


def test_flaky_tests_pass_with_a_warning(test_result: MakeTest) -> None:
    report = SmokeReport((test_result("passed", "failed", "passed", rule="majority"),))
    assert report.passed and report.exit_code() == 0
    assert report.summary() == "1 flaky"
    assert report.warnings() == ["booking: 'books' is flaky: 2/3 attempts passed (67%, "
                                 "95% interval 21%-94%, pass^3 "
                                 "0%; rule majority)"]


def test_report_summary_and_headline(test_result: MakeTest) -> None:
    report = SmokeReport((test_result("passed"), test_result("failed", name="greets")),
                         (Problem("triage", "triage is not deployed"),))
    assert report.summary() == "1 passed, 1 failed, 1 not run"
    assert report.headline() == ("1 passed, 1 failed, 1 not run: 'greets': turn 1: tool_called "
                                 "t0: expected a call to t0; saw no tool calls")
    assert SmokeReport().summary() == "no smoke tests"


@pytest.mark.parametrize(("ms", "text"), [(42.4, "42 ms"), (999, "999 ms"), (1500, "1.5s")])
def test_durations_read_naturally(ms: float, text: str) -> None:
    from operator_iac.smoke.results import format_duration

    assert format_duration(ms) == text
