"""The smoke report as text and JSON: failures come with the failing run's transcript."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from operator_iac.render.smoke_report import (
    render_smoke_failures,
    render_smoke_json,
    render_smoke_text,
)
from operator_iac.smoke.results import Problem, SmokeReport

from .conftest import ConversationScript

MakeTest = Callable[..., Any]


def test_text_report_shows_the_failure_and_its_transcript(test_result: MakeTest,
                                                          booking: ConversationScript) -> None:
    report = SmokeReport((test_result("passed", name="greets"),
                          test_result("failed", name="books", events=booking.events,
                                      notes=("the event stream reconnected 1 time(s)",))),
                         (Problem("triage", "triage is not deployed"),),
                         (Problem("quiet", "quiet has no smoke tests"),), 4200)
    text = render_smoke_text(report)
    lines = text.splitlines()
    assert lines[:3] == [
        "Smoke tests: 1 passed, 1 failed, 1 not run (4.2s)",
        "PASS    booking: greets (ca_booking@v1, 1.5s)",
        "FAIL    booking: books (ca_booking@v1, 1.5s)",
    ]
    assert "    turn 1: tool_called t0: expected a call to t0; saw no tool calls" in lines
    assert "    note: the event stream reconnected 1 time(s)" in lines
    assert "        [10:00:02.400] User: Is Tuesday free?" in lines
    assert lines[-2:] == ["NOT RUN triage: triage is not deployed",
                          "SKIP    quiet: quiet has no smoke tests"]
    assert "Transcript" not in render_smoke_text(report, transcripts=False)


def test_failures_only(test_result: MakeTest) -> None:
    report = SmokeReport((test_result("passed", name="greets"),
                          test_result("error", name="books", error="HTTP 409")))
    text = render_smoke_failures(report)
    assert text.startswith("ERROR   booking: books") and "greets" not in text
    assert "    error: HTTP 409" in text.splitlines()
    assert render_smoke_failures(SmokeReport((test_result("passed"),))) == ""


def test_repeated_runs_say_the_pass_rate(test_result: MakeTest) -> None:
    report = SmokeReport((test_result("passed", "failed", "failed", min_pass_rate=0.6),))
    text = render_smoke_text(report)
    assert ("FAIL    booking: books (ca_booking@v1, 4.5s, 1/3 attempts passed (33%, "
            "95% interval 6%-79%, pass^3 0%; "
            "rule rate:0.6))") in text
    assert "    1 of 3 attempts passed; pass rule rate:0.6 not met. Attempt 2 (failed):" in text


def test_flaky_and_quarantined_tests_show_their_failing_attempt(
        test_result: MakeTest, booking: ConversationScript) -> None:
    report = SmokeReport((
        test_result("passed", "failed", "passed", rule="majority", events=booking.events),
        test_result("timeout", name="slow", quarantined=True, error="turn 0: no greeting")))
    lines = render_smoke_text(report).splitlines()
    assert lines[0].startswith("Smoke tests: 1 flaky, 1 quarantined")
    assert lines[1].startswith("FLAKY   booking: books (ca_booking@v1, 4.5s, 2/3 attempts")
    assert "    2 of 3 attempts passed; pass rule majority held. Attempt 2 (failed):" in lines
    assert "        [10:00:02.400] User: Is Tuesday free?" in lines
    assert ("INCOMPLETE booking: slow (ca_booking@v1, 1.5s) [quarantined: does not gate]"
            in lines)
    assert "    timeout: turn 0: no greeting" in lines
    assert "books" in render_smoke_failures(report)


def test_json_report(test_result: MakeTest, booking: ConversationScript) -> None:
    report = SmokeReport((test_result("passed"),
                          test_result("timeout", name="slow", error="turn 0: no greeting",
                                      events=booking.events)),
                         (Problem("triage", "not deployed"),))
    data = json.loads(render_smoke_json(report))
    assert data["passed"] is False and data["exit_code"] == 1
    assert data["summary"] == {"passed": 1, "flaky": 0, "failed": 0, "incomplete": 1,
                               "error": 0, "quarantined": 0, "not_run": 1, "duration_ms": 0}
    passed, slow = data["tests"]
    assert "transcript" not in passed["runs"][0]
    assert slow["outcome"] == slow["verdict"] == "incomplete"
    assert slow["reason"] == "turn 0: no greeting"
    assert slow["runs"][0]["outcome"] == "timeout"
    run = slow["runs"][0]
    assert run["conversation_id"] == "conv_1" and run["error"] == "turn 0: no greeting"
    assert run["transcript"]["entries"][3]["text"] == "Is Tuesday free?"
    assert data["problems"] == [{"agent": "triage", "message": "not deployed"}]


def test_json_carries_the_pass_rule_and_the_attempts(test_result: MakeTest) -> None:
    report = SmokeReport((test_result("passed", "passed", "passed", "passed", "failed",
                                      rule="rate:0.8"),))
    data = json.loads(render_smoke_json(report))
    test = data["tests"][0]
    assert (test["verdict"], test["pass_rule"], test["attempts"], test["passes"]) == (
        "flaky", "rate:0.8", 5, 4)
    assert test["pass_hat"] == {"1": 0.8, "2": 0.6, "3": 0.4, "4": 0.2, "5": 0.0}
    assert data["exit_code"] == 0 and data["warnings"][0].startswith("booking: 'books' is flaky")
    assert [run["outcome"] for run in test["runs"]] == ["passed"] * 4 + ["failed"]
    assert "transcript" in test["runs"][4]


def test_markdown_summary_carries_class_and_attempts(test_result: MakeTest) -> None:
    from operator_iac.render.smoke_report import render_smoke_markdown

    report = SmokeReport((test_result("passed", "failed", "passed", rule="majority"),
                          test_result("failed", name="refunds", quarantined=True)))
    text = render_smoke_markdown(report)
    assert "| FLAKY | `booking` | books | 2/3 (67%, 21%-94%); pass^3 0% | `ca_booking@v1` |" \
        in text
    assert "| FAIL (quarantined) | `booking` | refunds | 0/1 (0%, 0%-79%); pass^1 0% |" in text
    assert "> warning: booking: 'books' is flaky" in text
    assert text.count("<details>") == 2
