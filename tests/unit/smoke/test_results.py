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
    (("passed", "passed", "failed"), 0.66, "passed"),
    (("passed", "failed", "timeout"), 1.0, "timeout"),
    (("failed", "error", "timeout"), 1.0, "error"),  # a platform error makes it inconclusive
    (("failed", "failed"), 0.0, "passed"),
])
def test_outcome_of_repeated_runs(test_result: MakeTest, outcomes: tuple[str, ...], rate: float,
                                  expected: str) -> None:
    assert test_result(*outcomes, min_pass_rate=rate).outcome == expected


def test_reason_of_a_repeated_test_names_the_pass_rate(test_result: MakeTest) -> None:
    test = test_result("passed", "failed", "failed", min_pass_rate=0.5)
    assert test.reason() == ("1/3 runs passed, 50% required; attempt 2: turn 1: tool_called t0: "
                             "expected a call to t0; saw no tool calls")
    assert test.failing_run() is test.runs[1]


def test_report_exit_codes(test_result: MakeTest) -> None:
    assert SmokeReport((test_result("passed"),)).exit_code() == 0
    assert SmokeReport((test_result("passed"), test_result("failed"))).exit_code() == 4
    assert SmokeReport((test_result("timeout"),)).exit_code() == 4
    assert SmokeReport((test_result("failed"), test_result("error"))).exit_code() == 1
    assert SmokeReport((test_result("passed"),), (Problem("x", "not deployed"),)).exit_code() == 1
    assert SmokeReport().exit_code() == 0


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
