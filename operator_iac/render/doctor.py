"""The ``doctor`` report as text (for a person) and JSON (for a bug report): pure functions of
``DoctorReport``."""

from __future__ import annotations

import json
from typing import Any

from operator_iac import __version__
from operator_iac.api.constants import API_VERSION
from operator_iac.state.platform_report import Behaviour, DoctorReport

MARKS = {"ok": "ok", "failed": "FAILED", "skipped": "skipped"}


def render_doctor_text(report: DoctorReport) -> str:
    lines = [f"Platform {report.api_url} (Operator-Version {API_VERSION})", "", "Relied on:"]
    lines += [f"  {MARKS[c.status]:8} {c.name}: {c.detail}" for c in report.checks]
    lines += ["", "Undocumented behaviours (operator-iac adapts to either side):"]
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
    if behaviour.seen is None:
        return f"  -        {behaviour.point}: not observed ({behaviour.adapts})"
    mark = "other" if behaviour.usual is False else "usual" if behaviour.usual else "seen"
    return f"  {mark:8} {behaviour.point}: {behaviour.seen} ({behaviour.adapts})"


def doctor_data(report: DoctorReport) -> dict[str, Any]:
    return {
        "operator_iac": __version__,
        "api_version": API_VERSION,
        "api_url": report.api_url,
        "ok": report.ok,
        "exit_code": report.exit_code(),
        "checks": [{"name": c.name, "status": c.status, "detail": c.detail}
                   for c in report.checks],
        "behaviours": [{"key": b.key, "point": b.point, "seen": b.seen,
                        "alternative": b.usual is False if b.seen is not None else None,
                        "adapts": b.adapts} for b in report.behaviours],
    }


def render_doctor_json(report: DoctorReport) -> str:
    return json.dumps(doctor_data(report), indent=2) + "\n"
