"""A smoke report as text (for people and CI logs) or JSON (for scripts).

Text: a summary line, one line per test, and for each test that did not pass its failed
assertions (what was expected, what was seen, in which turn) followed by the transcript of
the failing run, because the person reading a CI log needs the conversation, not a stack
trace. JSON carries the same, with the transcript as entries. Pure functions.
"""

from __future__ import annotations

import json
from typing import Any

from operator_iac.render.transcript import render_transcript, transcript_json
from operator_iac.smoke.results import RunResult, SmokeReport, TestResult, format_duration

LABELS = {"passed": "PASS", "failed": "FAIL", "timeout": "TIMEOUT", "error": "ERROR"}
INDENT = "    "


def _indent(text: str, prefix: str = INDENT) -> list[str]:
    return [prefix + line for line in text.splitlines()]


def render_smoke_text(report: SmokeReport, *, transcripts: bool = True) -> str:
    """The report for a terminal or a CI log."""
    lines = [f"Smoke tests: {report.summary()} ({format_duration(report.duration_ms)})"]
    for test in report.tests:
        lines.append(_test_line(test))
        if not test.passed:
            lines.extend(_failure_details(test, transcripts))
    for problem in report.problems:
        lines.append(f"{'NOT RUN':<8}{problem.agent_key}: {problem.message}")
    for skipped in report.skipped:
        lines.append(f"{'SKIP':<8}{skipped.agent_key}: {skipped.message}")
    return "\n".join(lines)


def render_smoke_failures(report: SmokeReport, *, transcripts: bool = True) -> str:
    """Only the tests that did not pass, with their details and transcripts ("" if none):
    for reports that embed a smoke report, such as apply's."""
    lines: list[str] = []
    for test in report.tests:
        if not test.passed:
            lines.append(_test_line(test))
            lines.extend(_failure_details(test, transcripts))
    lines += [f"{'NOT RUN':<8}{p.agent_key}: {p.message}" for p in report.problems]
    return "\n".join(lines)


def _test_line(test: TestResult) -> str:
    label = LABELS[test.outcome]
    runs = f", {test.passes}/{len(test.runs)} runs passed" if len(test.runs) > 1 else ""
    return (f"{label:<8}{test.agent_key}: {test.test_name} "
            f"({test.version_id}, {format_duration(test.duration_ms)}{runs})")


def _failure_details(test: TestResult, transcripts: bool) -> list[str]:
    run = test.failing_run()
    if run is None:
        return []
    lines: list[str] = []
    if len(test.runs) > 1:
        lines.append(f"{INDENT}{test.passes} of {len(test.runs)} runs passed; "
                     f"min_pass_rate {test.min_pass_rate:g} not reached. Attempt "
                     f"{run.attempt}:")
    lines.extend(_run_details(run))
    if transcripts:
        lines.append(f"{INDENT}Transcript:")
        text = render_transcript(run.events, conversation_id=run.conversation_id)
        lines.extend(_indent(text, INDENT * 2))
    return lines


def _run_details(run: RunResult) -> list[str]:
    lines = []
    if run.error:
        lines.append(f"{INDENT}{run.outcome}: {run.error}")
    for failure in run.failures:
        lines.append(f"{INDENT}{failure.message()}")
    conversation = run.conversation_id or "(not created)"
    lines.append(f"{INDENT}conversation: {conversation}")
    lines.extend(f"{INDENT}note: {note}" for note in run.notes)
    return lines


# ---- JSON ------------------------------------------------------------------------------------


def smoke_report_data(report: SmokeReport) -> dict[str, Any]:
    counts = report.counts()
    return {
        "passed": report.passed,
        "exit_code": report.exit_code(),
        "summary": {o: counts[o] for o in ("passed", "failed", "timeout", "error")} | {
            "not_run": len(report.problems), "duration_ms": round(report.duration_ms)},
        "tests": [_test_data(test) for test in report.tests],
        "problems": [{"agent": p.agent_key, "message": p.message} for p in report.problems],
        "skipped": [{"agent": p.agent_key, "message": p.message} for p in report.skipped],
    }


def _test_data(test: TestResult) -> dict[str, Any]:
    return {
        "agent": test.agent_key, "test": test.test_name, "version_id": test.version_id,
        "outcome": test.outcome, "reason": test.reason() or None,
        "pass_rate": round(test.pass_rate, 4), "min_pass_rate": test.min_pass_rate,
        "runs": [_run_data(run) for run in test.runs],
    }


def _run_data(run: RunResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "attempt": run.attempt, "outcome": run.outcome,
        "conversation_id": run.conversation_id, "error": run.error or None,
        "duration_ms": round(run.duration_ms), "notes": list(run.notes),
        "assertions": [{"kind": a.kind, "description": a.description, "passed": a.passed,
                        "turn": a.turn, "expected": a.expected or None,
                        "seen": a.seen or None} for a in run.assertions],
    }
    if run.outcome != "passed":
        data["transcript"] = transcript_json(run.events, run.conversation_id)
    return data


def render_smoke_json(report: SmokeReport) -> str:
    return json.dumps(smoke_report_data(report), indent=2, ensure_ascii=False)


# ---- Markdown (job summaries) ------------------------------------------------------------


def render_smoke_markdown(report: SmokeReport) -> str:
    """A table of tests, and each failure's details and transcript folded in ``<details>``."""
    lines = [f"### Smoke tests: {report.summary()}", "", "| Result | Agent | Test | Revision |",
             "|---|---|---|---|"]
    lines += [f"| {LABELS[t.outcome]} | `{t.agent_key}` | {_cell(t.test_name)} | "
              f"`{t.version_id}` |" for t in report.tests]
    lines += [f"| NOT RUN | `{p.agent_key}` | {_cell(p.message)} | |" for p in report.problems]
    for test in report.tests:
        if not test.passed:
            details = "\n".join(_failure_details(test, transcripts=True))
            lines += ["", f"<details><summary>{test.agent_key}: {_cell(test.test_name)}"
                      "</summary>", "", "```text", details, "```", "", "</details>"]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
