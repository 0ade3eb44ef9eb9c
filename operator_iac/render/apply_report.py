"""The apply report: per agent what was done (created, drafted, smoke-tested, released,
rolled back) or why not, as text, JSON and Markdown. Pure functions of ``ApplyReport``."""

from __future__ import annotations

import json
from typing import Any

from operator_iac.apply.report import ApplyReport, ResourceResult

OUTCOME_TEXT = {
    "applied": "done",
    "unchanged": "unchanged",
    "converged": "done by a concurrent apply",
    "failed": "FAILED",
    "conflict": "CONFLICT",
    "smoke_failed": "SMOKE TEST FAILED",
    "rolled_back": "ROLLED BACK",
    "skipped": "skipped",
}


def summary_line(report: ApplyReport) -> str:
    worked = [r for r in report.results if r.outcome in ("applied", "converged")]
    bad = [r for r in report.results if not r.ok]
    if not worked and not bad:
        return "Apply complete: nothing to do."
    head = "Apply complete" if not bad else "Apply finished with problems"
    unrecorded = len(report.unrecorded())
    tail = f"; {unrecorded} smoke verdict(s) not recorded for promote" if unrecorded else ""
    return f"{head}: {len(worked)} applied, {len(bad)} not applied{tail}."


def render_apply_text(report: ApplyReport) -> str:
    lines = [summary_line(report)]
    for result in report.results:
        if result.outcome == "unchanged":
            continue
        lines.append(f"  {result.key}: {outcome_text(result)} ({result.action})"
                     + (f" - {result.message}" if result.message else ""))
        lines.extend(f"      {step}" for step in result.steps)
        lines.extend(f"      warning: {v.record_error}" for v in result.smoke if v.record_error)
        lines.extend(f"      {line}" for line in _smoke_failures(result).splitlines())
    lines.extend(f"warning: {warning}" for warning in report.warnings)
    return "\n".join(lines) + "\n"


def outcome_text(result: ResourceResult) -> str:
    """The outcome's words; a smoke gate that could not conclude says so, not "failed"."""
    failing = [v for v in result.smoke if not v.passed]
    if result.outcome == "smoke_failed" and failing and all(v.incomplete for v in failing):
        return "SMOKE TEST INCOMPLETE"
    return OUTCOME_TEXT[result.outcome]


def _smoke_failures(result: ResourceResult) -> str:
    """The failed smoke tests of a resource with their transcripts: the CI log's reader
    needs the conversation, not only the verdict."""
    from operator_iac.render.smoke_report import render_smoke_failures
    from operator_iac.smoke.results import SmokeReport

    return "\n".join(render_smoke_failures(v.report) for v in result.smoke
                     if not v.passed and isinstance(v.report, SmokeReport))


def render_apply_markdown(report: ApplyReport) -> str:
    lines = [f"### {summary_line(report)}", "", "| Agent | Action | Result | Revision | Note |",
             "|---|---|---|---|---|"]
    for r in report.results:
        if r.outcome == "unchanged":
            continue
        note = (r.message or "; ".join(r.steps)).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{r.key}` | {r.action} | {outcome_text(r)} | "
                     f"{r.released_version_id or r.version_id or ''} | {note} |")
    lines.extend(f"\n> warning: {warning}" for warning in report.warnings)
    return "\n".join(lines) + "\n"


def apply_report_data(report: ApplyReport) -> dict[str, Any]:
    return {
        "summary": summary_line(report),
        "exit_code": report.exit_code(),
        "results": [_result_data(r) for r in report.results],
        "warnings": list(report.warnings),
    }


def render_apply_json(report: ApplyReport) -> str:
    return json.dumps(apply_report_data(report), indent=2) + "\n"


def _result_data(result: ResourceResult) -> dict[str, Any]:
    return {
        "key": result.key,
        "action": result.action,
        "outcome": result.outcome,
        "agent_id": result.agent_id,
        "version_id": result.version_id,
        "released_version_id": result.released_version_id,
        "rolled_back_to": result.rolled_back_to,
        "message": result.message,
        "steps": list(result.steps),
        "smoke": [{"stage": v.stage, "passed": v.passed, "verdict": v.word,
                   "summary": v.summary, "record_error": v.record_error}
                  for v in result.smoke],
    }
