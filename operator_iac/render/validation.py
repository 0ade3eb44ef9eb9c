"""The ``validate`` report: one line per diagnostic and a summary line, or JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

from operator_iac.errors import DeclarationError
from operator_iac.render.envelope import JsonReport, diagnostic_entries

if TYPE_CHECKING:
    from operator_iac.spec.validation import ValidationReport


def render_validation_text(report: ValidationReport) -> str:
    """One line per diagnostic, then a summary line."""
    lines = [str(d) for d in report.diagnostics]
    lines.append(summary(report))
    return "\n".join(lines)


def validation_json(report: ValidationReport) -> JsonReport:
    """Every diagnostic (warnings too) in ``diagnostics``; the errors again in ``errors``."""
    return JsonReport(
        {"valid": report.ok, "diagnostics": [d.to_dict() for d in report.diagnostics]},
        summary={"files": report.files, "valid_agents": report.valid_agents,
                 "errors": len(report.errors), "warnings": len(report.warnings)},
        errors=tuple(diagnostic_entries(report.diagnostics, DeclarationError.code)))


def summary(report: ValidationReport) -> str:
    """``4 agents valid`` or ``2 errors, 1 warning in 3 files``."""
    warnings = _count(len(report.warnings), "warning")
    if report.ok:
        head = _count(report.valid_agents, "agent") + " valid"
        if report.files == 0:
            head = "no agent files found"
        return f"{head}, {warnings}" if report.warnings else head
    files = len({d.file for d in report.diagnostics})
    parts = [_count(len(report.errors), "error")] + ([warnings] if report.warnings else [])
    return f"{', '.join(parts)} in {_count(files, 'file')}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"

