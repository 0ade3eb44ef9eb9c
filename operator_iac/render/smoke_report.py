"""A smoke report as text (for people and CI logs) or JSON (for scripts).

Text: a summary line, one line per test with its verdict (and its attempts when it had
several), and for each test that did not pass cleanly (flaky ones too) the failing attempt's
assertions (what was expected, what was seen, in which turn) followed by its transcript,
because the person reading a CI log needs the conversation, not a stack trace. JSON carries
the same, with the transcript as entries. Pure functions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from operator_iac.render.transcript import render_transcript, transcript_json
from operator_iac.smoke.results import (
    VERDICTS,
    RunResult,
    SmokeReport,
    TestResult,
    format_duration,
)
from operator_iac.spec.smoke_rules import pass_hat

LABELS = {"passed": "PASS", "flaky": "FLAKY", "failed": "FAIL", "incomplete": "INCOMPLETE",
          "error": "ERROR"}
WIDTH = 8  # labels are padded to this width (a longer one is followed by one space)
INDENT = "    "
KEEP_FLAG = "--keep-conversations"  # the flag that keeps test conversations for inspection


def _label(text: str) -> str:
    return f"{text:<{WIDTH}}" if len(text) < WIDTH else text + " "


def _shown(test: TestResult) -> bool:
    """Whether a test's details belong in the report: it did not pass cleanly."""
    return test.verdict != "passed"


def _indent(text: str, prefix: str = INDENT) -> list[str]:
    return [prefix + line for line in text.splitlines()]


def render_smoke_text(report: SmokeReport, *, transcripts: bool = True) -> str:
    """The report for a terminal or a CI log."""
    lines = [f"Smoke tests: {report.summary()} ({format_duration(report.duration_ms)})"]
    for test in report.tests:
        lines.append(_test_line(test))
        if _shown(test):
            lines.extend(_failure_details(test, transcripts))
    for problem in report.problems:
        lines.append(f"{_label('NOT RUN')}{problem.agent_key}: {problem.message}")
    for skipped in report.skipped:
        lines.append(f"{_label('SKIP')}{skipped.agent_key}: {skipped.message}")
    return "\n".join(lines)


def render_smoke_failures(report: SmokeReport, *, transcripts: bool = True) -> str:
    """Only the tests that did not pass, with their details and transcripts ("" if none):
    for reports that embed a smoke report, such as apply's."""
    lines: list[str] = []
    for test in report.tests:
        if _shown(test):
            lines.append(_test_line(test))
            lines.extend(_failure_details(test, transcripts))
    lines += [f"{_label('NOT RUN')}{p.agent_key}: {p.message}" for p in report.problems]
    return "\n".join(lines)


def _test_line(test: TestResult) -> str:
    label = _label(LABELS[test.verdict])
    runs = f", {test.attempts_line()}" if len(test.runs) > 1 else ""
    quarantined = " [quarantined: does not gate]" if test.quarantined else ""
    return (f"{label}{test.agent_key}: {test.test_name} "
            f"({test.version_id}, {format_duration(test.duration_ms)}{runs}){quarantined}")


def _failure_details(test: TestResult, transcripts: bool) -> list[str]:
    run = test.failing_run()
    if run is None:
        return []
    lines: list[str] = []
    if len(test.runs) > 1:
        held = "held" if test.passed else "not met"
        lines.append(f"{INDENT}{test.passes} of {len(test.runs)} attempts passed; pass rule "
                     f"{test.rule} {held}. Attempt {run.attempt} ({run.outcome}):")
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
    if run.conversation_deleted:
        conversation += f" (deleted; {KEEP_FLAG} keeps it)"
    lines.append(f"{INDENT}conversation: {conversation}")
    lines.extend(f"{INDENT}note: {note}" for note in run.notes)
    return lines


# ---- JSON ------------------------------------------------------------------------------------


def smoke_report_data(report: SmokeReport) -> dict[str, Any]:
    counts = report.counts()
    return {
        "passed": report.passed,
        "exit_code": report.exit_code(),
        "summary": {o: counts[o] for o in (*VERDICTS, "quarantined")} | {
            "not_run": len(report.problems), "duration_ms": round(report.duration_ms)},
        "warnings": report.warnings(),
        "tests": [_test_data(test) for test in report.tests],
        "problems": [{"agent": p.agent_key, "message": p.message} for p in report.problems],
        "skipped": [{"agent": p.agent_key, "message": p.message} for p in report.skipped],
    }


def _test_data(test: TestResult) -> dict[str, Any]:
    return {
        "agent": test.agent_key, "test": test.test_name, "version_id": test.version_id,
        "verdict": test.verdict, "outcome": test.verdict, "quarantined": test.quarantined,
        "reason": test.reason() or None, "pass_rule": str(test.rule),
        "attempts": len(test.runs), "passes": test.passes,
        "pass_rate": round(test.pass_rate, 4), "min_pass_rate": test.rule.required_share,
        "pass_hat": {str(k): round(pass_hat(test.passes, len(test.runs), k), 4)
                     for k in range(1, len(test.runs) + 1)},
        "runs": [_run_data(run) for run in test.runs],
    }


def _run_data(run: RunResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "attempt": run.attempt, "outcome": run.outcome,
        "conversation_id": run.conversation_id, "error": run.error or None,
        "conversation_deleted": run.conversation_deleted,
        "duration_ms": round(run.duration_ms), "notes": list(run.notes),
        "assertions": [{"kind": a.kind, "description": a.description, "passed": a.passed,
                        "turn": a.turn, "evaluable": a.evaluable,
                        "expected": a.expected or None,
                        "seen": a.seen or None} for a in run.assertions],
    }
    if run.outcome != "passed":
        data["transcript"] = transcript_json(run.events, run.conversation_id)
    return data


def render_smoke_json(report: SmokeReport,
                      replay: tuple[str, Sequence[str]] | None = None) -> str:
    """The report as JSON; a replay adds ``replay: {conversation_id, differences}``."""
    data = smoke_report_data(report)
    if replay is not None:
        data["replay"] = {"conversation_id": replay[0], "differences": list(replay[1])}
    return json.dumps(data, indent=2, ensure_ascii=False)


def render_replay_text(conversation_id: str, differences: Sequence[str]) -> str:
    """How a replay differs from the conversation it replayed."""
    if not differences:
        return (f"Replay of {conversation_id}: the same tool calls, replies and end status as "
                "the original.")
    lines = [f"Replay of {conversation_id}: {len(differences)} difference(s) from the original:"]
    return "\n".join(lines + [f"{INDENT}{line}" for line in differences])


# ---- Markdown (job summaries) ------------------------------------------------------------


def render_smoke_markdown(report: SmokeReport) -> str:
    """A table of tests, and each failure's details and transcript folded in ``<details>``."""
    lines = [f"### Smoke tests: {report.summary()}", "",
             "| Result | Agent | Test | Attempts | Revision |", "|---|---|---|---|---|"]
    lines += [f"| {_markdown_label(t)} | `{t.agent_key}` | {_cell(t.test_name)} | "
              f"{t.passes}/{len(t.runs)} (pass^{len(t.runs)} {t.pass_hat:.0%}) | "
              f"`{t.version_id}` |" for t in report.tests]
    lines += [f"| NOT RUN | `{p.agent_key}` | {_cell(p.message)} | | |"
              for p in report.problems]
    lines += [f"> warning: {_cell(line)}" for line in report.warnings()]
    for test in report.tests:
        if _shown(test):
            details = "\n".join(_failure_details(test, transcripts=True))
            lines += ["", f"<details><summary>{test.agent_key}: {_cell(test.test_name)}"
                      "</summary>", "", "```text", details, "```", "", "</details>"]
    return "\n".join(lines) + "\n"


def _markdown_label(test: TestResult) -> str:
    label = LABELS[test.verdict]
    return f"{label} (quarantined)" if test.quarantined else label


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
