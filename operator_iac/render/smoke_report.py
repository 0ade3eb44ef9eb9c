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
from operator_iac.smoke.comparison import Comparison, Rate, comparison_line
from operator_iac.smoke.results import (
    COMPARED,
    INTERVAL_CONFIDENCE,
    VERDICTS,
    RunResult,
    SmokeReport,
    TestResult,
    format_duration,
)
from operator_iac.spec.smoke_rules import pass_hat

LABELS = {"passed": "PASS", "flaky": "FLAKY", "failed": "FAIL", "incomplete": "INCOMPLETE",
          "error": "ERROR", "regressed": "REGRESSED", "no regression": "NO REGRESSION",
          "improved": "IMPROVED", "inconclusive": "INCONCLUSIVE", "partial": "SHARD",
          "quarantined": "QUARANTINED"}
WIDTH = 8  # labels are padded to this width (a longer one is followed by one space)
INDENT = "    "
KEEP_FLAG = "--keep-conversations"  # the flag that keeps test conversations for inspection


def _label(text: str) -> str:
    return f"{text:<{WIDTH}}" if len(text) < WIDTH else text + " "


def _shown(test: TestResult) -> bool:
    """Whether a test's details belong in the report: it did not pass cleanly, or it was
    compared (its comparison is the detail)."""
    return test.verdict != "passed" or test.comparison is not None


def _label_of(test: TestResult) -> str:
    """The verdict's label; a compared test's comparison verdict when it has one."""
    if test.comparison is not None and test.comparison.verdict is not None:
        return LABELS[test.counted_as if not test.quarantined else test.comparison.verdict]
    return LABELS["partial" if test.comparison is not None else test.verdict]


def _indent(text: str, prefix: str = INDENT) -> list[str]:
    return [prefix + line for line in text.splitlines()]


def render_smoke_text(report: SmokeReport, *, transcripts: bool = True) -> str:
    """The report for a terminal or a CI log."""
    shard = f" (shard {report.shard}: merge every shard's report for the verdicts)" \
        if report.shard else ""
    lines = [f"Smoke tests: {report.summary()} ({_durations(report)}){shard}"]
    for test in report.tests:
        lines.append(_test_line(test))
        if _shown(test):
            lines.extend(_failure_details(test, transcripts))
    for problem in report.problems:
        lines.append(f"{_label('NOT RUN')}{problem.agent_key}: {problem.message}")
    for skipped in report.skipped:
        lines.append(f"{_label('SKIP')}{skipped.agent_key}: {skipped.message}")
    return "\n".join(lines)


def _durations(report: SmokeReport) -> str:
    whole = format_duration(report.duration_ms)
    if report.conversations_ms is None:
        return whole
    return f"{whole}, of which the conversations {format_duration(report.conversations_ms)}"


def render_smoke_failures(report: SmokeReport, *, transcripts: bool = True) -> str:
    """Only the tests that did not pass, with their details and transcripts ("" if none):
    for reports that embed a smoke report, such as apply's."""
    lines: list[str] = []
    for test in report.tests:
        if test.verdict != "passed":
            lines.append(_test_line(test))
            lines.extend(_failure_details(test, transcripts))
    lines += [f"{_label('NOT RUN')}{p.agent_key}: {p.message}" for p in report.problems]
    return "\n".join(lines)


def _test_line(test: TestResult) -> str:
    label = _label(_label_of(test))
    quarantined = " [quarantined: does not gate]" if test.quarantined else ""
    if test.comparison is not None:
        conversations = len(test.runs) + len(test.comparison.baseline_runs)
        return (f"{label}{test.agent_key}: {test.test_name} ({test.version_id} compared with "
                f"{test.comparison.baseline_version_id}, {conversations} conversations, "
                f"{format_duration(test.duration_ms)}){quarantined}")
    runs = f", {test.attempts_line()}" if len(test.runs) > 1 else ""
    return (f"{label}{test.agent_key}: {test.test_name} "
            f"({test.version_id}, {format_duration(test.duration_ms)}{runs}){quarantined}")


def _failure_details(test: TestResult, transcripts: bool) -> list[str]:
    run = test.failing_run()
    lines: list[str] = []
    if test.comparison is not None:
        lines.append(f"{INDENT}{comparison_line(test)}")
        if run is None or test.verdict != "failed":
            return lines
        lines.append(f"{INDENT}A failed attempt on the candidate ({run.attempt}):")
    if run is None:
        return []
    if test.comparison is None and len(test.runs) > 1:
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


def smoke_report_data(report: SmokeReport,
                      replay: tuple[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """The report as JSON data; a replay adds ``replay: {conversation_id, differences}``."""
    counts = report.counts()
    compared = COMPARED if any(t.comparison for t in report.tests) else ()
    events = report.shard is not None  # a shard's report is merged: it keeps the evidence
    data = {
        "passed": report.passed,
        "exit_code": report.exit_code(),
        "summary": {o: counts[o] for o in (*VERDICTS, *compared, "quarantined")} | {
            "not_run": len(report.problems), "duration_ms": round(report.duration_ms),
            "conversations_ms": round(report.duration_ms if report.conversations_ms is None
                                      else report.conversations_ms)},
        "warnings": report.warnings(),
        "tests": [_test_data(test, events) for test in report.tests],
        "problems": [{"agent": p.agent_key, "message": p.message} for p in report.problems],
        "skipped": [{"agent": p.agent_key, "message": p.message} for p in report.skipped],
    }
    if report.shard is not None:
        data["shard"] = report.shard
    if replay is not None:
        data["replay"] = {"conversation_id": replay[0], "differences": list(replay[1])}
    return data


def _test_data(test: TestResult, events: bool = False) -> dict[str, Any]:
    interval = Rate.make(test.passes, len(test.runs), INTERVAL_CONFIDENCE)
    data = {
        "agent": test.agent_key, "test": test.test_name, "version_id": test.version_id,
        "verdict": test.verdict, "outcome": test.verdict, "quarantined": test.quarantined,
        "reason": test.reason() or None, "pass_rule": str(test.rule),
        "attempts": len(test.runs), "passes": test.passes,
        "pass_rate": round(test.pass_rate, 4),
        "pass_rate_interval": [round(interval.low, 4), round(interval.high, 4)],
        "min_pass_rate": test.rule.required_share,
        "pass_hat": {str(k): round(pass_hat(test.passes, len(test.runs), k), 4)
                     for k in range(1, len(test.runs) + 1)},
        "runs": [_run_data(run, events) for run in test.runs],
    }
    if test.comparison is not None:
        data["comparison"] = _comparison_data(test, test.comparison, events)
    return data


def _comparison_data(test: TestResult, comparison: Comparison,
                     events: bool) -> dict[str, Any]:
    candidate, baseline = comparison.rates(test.runs)
    result, design = comparison.result, comparison.design
    drop = result.detectable_drop
    return {
        "verdict": comparison.verdict, "baseline_version_id": comparison.baseline_version_id,
        "pairs": result.pairs, "judged_pairs": result.judged,
        "conversations": len(test.runs) + len(comparison.baseline_runs),
        "candidate": _rate_data(candidate), "baseline": _rate_data(baseline),
        "discordant": {"candidate_worse": result.candidate_worse,
                       "candidate_better": result.candidate_better},
        "evidence": {"worse": round(result.evidence_worse, 4),
                     "better": round(result.evidence_better, 4)},
        "detectable_drop": round(drop, 4) if drop is not None else None,
        "design": {"test": "sequential probability ratio test on discordant pairs",
                   "alpha": design.alpha, "max_drop": design.max_drop,
                   "power": design.power, "max_pairs": design.max_pairs,
                   "confidence": comparison.confidence,
                   "inconclusive": comparison.inconclusive},
        "partial": comparison.partial,
        "baseline_runs": [_run_data(run, events) for run in comparison.baseline_runs],
    }


def _rate_data(rate: Rate) -> dict[str, Any]:
    return {"passes": rate.passes, "runs": rate.runs, "pass_rate": round(rate.value, 4),
            "interval": [round(rate.low, 4), round(rate.high, 4)]}


def _run_data(run: RunResult, events: bool = False) -> dict[str, Any]:
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
    if run.refused_status is not None:
        data["refused_status"] = run.refused_status
    if run.outcome != "passed":
        data["transcript"] = transcript_json(run.events, run.conversation_id)
        if events:
            data["events"] = [event.model_dump(mode="json") for event in run.events]
    return data


def render_smoke_json(report: SmokeReport,
                      replay: tuple[str, Sequence[str]] | None = None) -> str:
    """The report as JSON (``smoke_report_data``)."""
    return json.dumps(smoke_report_data(report, replay), indent=2, ensure_ascii=False)


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
              f"{_attempts_cell(t)} | `{t.version_id}` |" for t in report.tests]
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
    label = _label_of(test)
    return f"{label} (quarantined)" if test.quarantined else label


def _attempts_cell(test: TestResult) -> str:
    """``4/5 (80%, 38-96%; pass^5 0%)``; for a compared test both revisions' rates."""
    if test.comparison is not None:
        candidate, baseline = test.comparison.rates(test.runs)
        return (f"{candidate.text()} vs {baseline.text()} on "
                f"`{test.comparison.baseline_version_id}`")
    rate = Rate.make(test.passes, len(test.runs), INTERVAL_CONFIDENCE)
    return f"{rate.text()}; pass^{len(test.runs)} {test.pass_hat:.0%}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
