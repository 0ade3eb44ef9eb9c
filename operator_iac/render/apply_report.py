"""The apply report: per agent what was done (created, drafted, smoke-tested, released,
rolled back) or why not, as text, JSON and Markdown. Pure functions of ``ApplyReport``."""

from __future__ import annotations

from collections import Counter

from operator_iac.apply.report import ApplyReport, ResourceResult
from operator_iac.errors import (
    ConflictError,
    OperationError,
    SmokeIncompleteError,
    SmokeRecordError,
    SmokeTestFailedError,
)
from operator_iac.render.envelope import JsonObject, JsonReport, error_entry

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


# The code of each outcome that makes apply fail, in the ``errors`` of its JSON report.
OUTCOME_CODES = {
    "failed": OperationError.code,
    "skipped": OperationError.code,
    "conflict": ConflictError.code,
    "smoke_failed": SmokeTestFailedError.code,
    "rolled_back": SmokeTestFailedError.code,
}


def apply_json(report: ApplyReport) -> JsonReport:
    """The report for ``--format json``: per agent what was done, and an error per agent that
    was not applied (or whose smoke verdict was not recorded)."""
    outcomes = Counter(r.outcome for r in report.results)
    summary = {"applied": outcomes["applied"], "unchanged": outcomes["unchanged"],
               "not_applied": sum(1 for r in report.results if not r.ok),
               "smoke_not_recorded": len(report.unrecorded())}
    return JsonReport({"headline": summary_line(report),
                       "results": [_result_data(r) for r in report.results],
                       "warnings": list(report.warnings)},
                      summary, tuple(_errors(report)))


def _errors(report: ApplyReport) -> list[JsonObject]:
    errors = []
    for result in report.results:
        if result.ok:
            continue
        code = OUTCOME_CODES[result.outcome]
        if code == SmokeTestFailedError.code and outcome_text(result) == "SMOKE TEST INCOMPLETE":
            code = SmokeIncompleteError.code
        errors.append(error_entry(code, f"{result.key}: {outcome_text(result)}"
                                  + (f": {result.message}" if result.message else "")))
    errors += [error_entry(SmokeRecordError.code, line) for line in report.unrecorded()]
    return errors


def _result_data(result: ResourceResult) -> JsonObject:
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
