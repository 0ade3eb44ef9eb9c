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
    assert "FAIL    booking: books (ca_booking@v1, 4.5s, 1/3 runs passed)" in text
    assert "    1 of 3 runs passed; min_pass_rate 0.6 not reached. Attempt 2:" in text


def test_json_report(test_result: MakeTest, booking: ConversationScript) -> None:
    report = SmokeReport((test_result("passed"),
                          test_result("timeout", name="slow", error="turn 0: no greeting",
                                      events=booking.events)),
                         (Problem("triage", "not deployed"),))
    data = json.loads(render_smoke_json(report))
    assert data["passed"] is False and data["exit_code"] == 1
    assert data["summary"] == {"passed": 1, "failed": 0, "timeout": 1, "error": 0,
                               "not_run": 1, "duration_ms": 0}
    passed, slow = data["tests"]
    assert "transcript" not in passed["runs"][0]
    assert slow["outcome"] == "timeout" and slow["reason"] == "turn 0: no greeting"
    run = slow["runs"][0]
    assert run["conversation_id"] == "conv_1" and run["error"] == "turn 0: no greeting"
    assert run["transcript"]["entries"][3]["text"] == "Is Tuesday free?"
    assert data["problems"] == [{"agent": "triage", "message": "not deployed"}]
