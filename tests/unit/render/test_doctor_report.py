"""The doctor report as text and JSON."""

from __future__ import annotations

import json

from operator_iac.render.doctor import doctor_json, render_doctor_text
from operator_iac.state.platform_report import Behaviour, Check, DoctorReport


def report(*checks: Check) -> DoctorReport:
    behaviours = (Behaviour("greeting", "whether the agent speaks first", "no greeting", False,
                            "awaited only when a test expects one", "your call"),
                  Behaviour("sse_ids", "id: lines", "3 of 3 messages", True, "de-duplicated"),
                  Behaviour("stored_text", "stored text (needs a write)", None, None, "equal"))
    return DoctorReport("https://api.operator.xyz", checks, behaviours)


def test_text_marks_failures_and_names_the_alternatives() -> None:
    text = render_doctor_text(report(Check("auth", "ok", "accepted"),
                                     Check("chat session", "failed", "no reply")))
    assert "  FAILED   chat session: no reply" in text
    assert "  other    whether the agent speaks first: no greeting" in text
    assert "no greeting (your call: awaited only when a test expects one)" in text
    assert "id: lines: 3 of 3 messages (de-duplicated)" in text
    assert "  -        stored text (needs a write): not observed" in text
    assert "differs from the bundled emulator on: greeting." in text
    assert text.rstrip().endswith("see FAILED above.")


def test_json_is_a_bug_report() -> None:
    made = doctor_json(report(Check("auth", "ok", "accepted")))
    data = json.loads(json.dumps(made.data))
    assert data["ok"] is True and made.errors == ()
    assert made.summary == {"ok": True, "checks": 1, "failed": 0, "alternatives": 1}
    assert data["api_version"] == "2025-06-19" and data["operator_iac"]
    by_key = {b["key"]: b["alternative"] for b in data["behaviours"]}
    assert by_key == {"greeting": True, "sse_ids": False, "stored_text": None}


def test_a_failed_check_is_an_error_of_the_json_report() -> None:
    made = doctor_json(report(Check("auth", "ok", "accepted"),
                              Check("chat session", "failed", "no reply")))
    assert made.summary["failed"] == 1 and made.summary["ok"] is False
    assert made.errors == ({"code": "check_failed", "message": "chat session: no reply"},)
