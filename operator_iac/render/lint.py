"""The ``lint`` report as text (one line per finding, then a summary) or as its part of the
JSON envelope (every finding, suppressed ones with their reason). Pure functions of a
``LintReport``."""

from __future__ import annotations

from typing import Any

from operator_iac.errors import DeclarationError, Diagnostic
from operator_iac.lint.catalog import RULES
from operator_iac.lint.findings import Finding
from operator_iac.lint.report import LintReport
from operator_iac.render.envelope import LINT_FINDING_CODE, JsonReport, diagnostic_entries


def render_lint_text(report: LintReport) -> str:
    """Problems, then one line per finding not suppressed, then a summary line."""
    lines = [str(d) for d in report.problems]
    lines += [finding_line(f, report) for f in report.active]
    lines.append(lint_summary(report))
    return "\n".join(lines)


def finding_line(finding: Finding, report: LintReport) -> str:
    """``file:line:col: severity ID message [environments]``; the environments are named
    when the finding is not in every environment linted."""
    at = finding.at
    return f"{at.file}:{at.line}:{at.column}: {finding.severity} {finding.rule} " \
           f"{finding.message}{environments_note(finding, report)}"


def environments_note(finding: Finding, report: LintReport) -> str:
    """`` [production]`` when the finding is not in every environment linted, else ``""``."""
    if finding.environments and set(finding.environments) != set(report.environments):
        return f" [{', '.join(finding.environments)}]"
    return ""


def lint_summary(report: LintReport) -> str:
    """``2 errors, 1 warning in 2 files (1 suppressed); 4 agents linted in staging,
    production``."""
    errors, warnings = report.count("error"), report.count("warning")
    if errors or warnings:
        files = len({f.at.file for f in report.active})
        parts = [_count(n, noun) for n, noun in ((errors, "error"), (warnings, "warning")) if n]
        head = f"{', '.join(parts)} in {_count(files, 'file')}"
    else:
        head = "no findings"
    if report.suppressed:
        head += f" ({len(report.suppressed)} suppressed)"
    where = f" in {', '.join(report.environments)}" if report.environments else ""
    tail = f"; {_count(report.agents, 'agent')} linted{where}"
    if report.problems:
        tail += f"; {_count(len(report.problems), 'error')} kept files from being linted"
    return head + tail


def lint_json(report: LintReport) -> JsonReport:
    """``lint --format json`` in the envelope every report shares: the outcome, every finding
    (suppressed ones with their reason) and every problem; the counts as the summary; an error
    per problem and per finding that fails the run, with its place."""
    summary = {"files": report.files, "agents": report.agents,
               "environments": list(report.environments),
               "errors": report.count("error"), "warnings": report.count("warning"),
               "suppressed": len(report.suppressed), "problems": len(report.problems)}
    data = {"ok": not report.failed, "fail_on": report.fail_on,
            "findings": [_finding(f) for f in report.findings],
            "problems": [d.to_dict() for d in report.problems]}
    failing = [Diagnostic(f.at.file, f.at.line, f.at.column, f"{f.rule} {f.message}")
               for f in report.failing]
    errors = [*diagnostic_entries(report.problems, DeclarationError.code),
              *diagnostic_entries(failing, LINT_FINDING_CODE)]
    return JsonReport(data, summary, tuple(errors))


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "name": RULES[finding.rule].name,
        "severity": finding.severity,
        "file": finding.at.file,
        "line": finding.at.line,
        "column": finding.at.column,
        "message": finding.message,
        "agent": finding.agent,
        "environments": list(finding.environments),
        "suppressed": None if finding.suppressed is None else {"reason": finding.suppressed},
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def finding_diagnostics(report: LintReport) -> list[Diagnostic]:
    """Problems and findings (not suppressed) as diagnostics, for CI annotations."""
    found = [Diagnostic(f.at.file, f.at.line, f.at.column,
                        f"{f.rule} {f.message}{environments_note(f, report)}", f.severity)
             for f in report.active]
    return [*report.problems, *found]
