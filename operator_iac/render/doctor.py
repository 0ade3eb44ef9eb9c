"""The ``doctor`` report as text (for a person) and JSON (for a bug report): pure functions of
``DoctorReport``."""

from __future__ import annotations

from operator_iac import __version__
from operator_iac.api.constants import API_VERSION
from operator_iac.render.envelope import CHECK_FAILED_CODE, JsonObject, JsonReport, error_entry
from operator_iac.state.platform_report import Behaviour, DoctorReport

MARKS = {"ok": "ok", "failed": "FAILED", "skipped": "skipped"}


def render_doctor_text(report: DoctorReport) -> str:
    lines = [f"Platform {report.api_url} (Operator-Version {API_VERSION})", "", "Relied on:"]
    lines += [f"  {MARKS[c.status]:8} {c.name}: {c.detail}" for c in report.checks]
    lines += ["", "Undocumented behaviours (and how operator-iac copes with either side):"]
    lines += [_behaviour_line(b) for b in report.behaviours]
    alternatives = report.alternatives()
    lines.append("")
    if alternatives:
        named = ", ".join(b.key for b in alternatives)
        lines.append(f"This platform differs from the bundled emulator on: {named}.")
    lines.append("Everything operator-iac relies on holds." if report.ok else
                 "Something operator-iac relies on does not hold: see FAILED above.")
    return "\n".join(lines) + "\n"


def _behaviour_line(behaviour: Behaviour) -> str:
    copes = behaviour.adapts if behaviour.stance == "adapts" else \
        f"{behaviour.stance}: {behaviour.adapts}"
    if behaviour.seen is None:
        return f"  -        {behaviour.point}: not observed ({copes})"
    mark = "other" if behaviour.usual is False else "usual" if behaviour.usual else "seen"
    return f"  {mark:8} {behaviour.point}: {behaviour.seen} ({copes})"


def doctor_json(report: DoctorReport) -> JsonReport:
    """The report for a bug report; each check that failed is an error."""
    failed = [c for c in report.checks if c.status == "failed"]
    summary = {"ok": report.ok, "checks": len(report.checks), "failed": len(failed),
               "alternatives": len(report.alternatives())}
    errors = tuple(error_entry(CHECK_FAILED_CODE, f"{c.name}: {c.detail}") for c in failed)
    return JsonReport(doctor_data(report), summary, errors)


def doctor_data(report: DoctorReport) -> JsonObject:
    return {
        "operator_iac": __version__,
        "api_version": API_VERSION,
        "api_url": report.api_url,
        "ok": report.ok,
        "checks": [{"name": c.name, "status": c.status, "detail": c.detail}
                   for c in report.checks],
        "behaviours": [{"key": b.key, "point": b.point, "seen": b.seen,
                        "alternative": b.usual is False if b.seen is not None else None,
                        "adapts": b.adapts} for b in report.behaviours],
    }


