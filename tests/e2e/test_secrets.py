"""Secrets stay masked, also after they leave the declarations.

A canary secret is written to the platform through ``${env:...}`` (in a plain field and in
a transfer, whose value is also the key of its list item). Then the declaration stops using
it (the line changed, the value moved elsewhere) and the variable is gone: the platform still
holds the value, and no output may show it: plan as text, JSON and Markdown, the plan file,
the step summary, apply, rollback, smoke reports and JUnit. Introducing, removing or rotating
a secret is a normal change, never "changed outside operator-iac".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from operator_iac.emulator.rules import RuleSet

from .conftest import Platform, ProjectCopy

Project = Callable[..., ProjectCopy]
CANARY = "canary-8f3a1c5e-do-not-print"
QUEUE_CANARY = "+1555canary0427"
WEBHOOK = "https://hooks.staging.acme.example/leads"


def with_secrets(copy: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    copy.declare_secrets("LEADS_WEBHOOK", "BOOKING_QUEUE", "SLACK_HOOK")
    copy.replace_in("lead-qualification.yaml", "${var:leads_webhook}", "${env:LEADS_WEBHOOK}")
    copy.replace_in("appointment-booking.yaml", "${var:support_queue}", "${env:BOOKING_QUEUE}")
    monkeypatch.setenv("LEADS_WEBHOOK", f"{WEBHOOK}?token={CANARY}")
    monkeypatch.setenv("BOOKING_QUEUE", QUEUE_CANARY)


def without_secrets(copy: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    """The declarations stop using the secrets and their variables are unset."""
    copy.replace_in("lead-qualification.yaml", "${env:LEADS_WEBHOOK}", "${var:leads_webhook}")
    copy.replace_in("appointment-booking.yaml", "${env:BOOKING_QUEUE}", "${var:support_queue}")
    monkeypatch.delenv("LEADS_WEBHOOK")
    monkeypatch.delenv("BOOKING_QUEUE")


def assert_masked(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text and QUEUE_CANARY not in text, text
        assert "canary" not in text.lower(), text


@pytest.fixture
def secret_applied(project: Project, monkeypatch: pytest.MonkeyPatch) -> ProjectCopy:
    copy = project()
    with_secrets(copy, monkeypatch)
    result = copy.apply()
    assert result.exit_code == 0, result.stdout + result.stderr
    return copy


def test_the_platform_holds_the_secret_but_no_plan_view_shows_it_after_the_line_is_removed(
        secret_applied: ProjectCopy, platform: Platform, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    lead = platform.released(platform.id_of("lead-qualification"))
    assert CANARY in lead.config["output"]["post_url"]  # the platform holds it in clear
    without_secrets(secret_applied, monkeypatch)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out = tmp_path / "plan.json"

    text = secret_applied.plan("--out", str(out))
    assert text.exit_code == 0, text.stderr
    assert "2 to update" in text.stdout
    assert 'config.output.post_url: "(sensitive)" -> ' in text.stdout
    as_json = secret_applied.plan("--format", "json")
    markdown = secret_applied.plan("--format", "markdown")
    assert_masked(text.stdout, text.stderr, as_json.stdout, markdown.stdout,
                  out.read_text(encoding="utf-8"), summary.read_text(encoding="utf-8"))

    applied = secret_applied.run("apply", str(out), "--no-smoke")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert_masked(applied.stdout, applied.stderr, summary.read_text(encoding="utf-8"))
    assert secret_applied.plan("--detailed-exitcode").exit_code == 0


def test_a_rollback_to_the_revision_with_the_secret_masks_it(
        secret_applied: ProjectCopy, platform: Platform,
        monkeypatch: pytest.MonkeyPatch) -> None:
    without_secrets(secret_applied, monkeypatch)
    assert secret_applied.apply().exit_code == 0
    for key in ("lead-qualification", "appointment-booking"):
        history = secret_applied.run("history", key)
        rollback = secret_applied.run("rollback", key, "--yes", "--no-smoke")
        assert rollback.exit_code == 0, rollback.stdout + rollback.stderr
        assert "(sensitive)" in rollback.stdout
        assert_masked(history.stdout, history.stderr, rollback.stdout, rollback.stderr)
    status = secret_applied.run("status")
    assert_masked(status.stdout, status.stderr)


def test_a_secret_moved_to_another_field_is_masked_in_both(
        secret_applied: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_applied.replace_in("lead-qualification.yaml", "${env:LEADS_WEBHOOK}",
                              "${var:leads_webhook}")
    secret_applied.replace_in("lead-qualification.yaml", "slack_channel: null",
                              "slack_channel: ${env:SLACK_HOOK}") \
        if "slack_channel: null" in (secret_applied.agents_dir /
                                     "lead-qualification.yaml").read_text() else \
        secret_applied.replace_in("lead-qualification.yaml", "    post_url:",
                                  "    slack_channel: ${env:SLACK_HOOK}\n    post_url:")
    monkeypatch.setenv("SLACK_HOOK", f"{WEBHOOK}?token={CANARY}")
    monkeypatch.delenv("LEADS_WEBHOOK")
    plan = secret_applied.plan()
    assert plan.exit_code == 0, plan.stderr
    assert "config.output.slack_channel" in plan.stdout
    assert_masked(plan.stdout, plan.stderr, secret_applied.plan("--format", "json").stdout)


def test_introducing_or_rotating_a_secret_is_a_change_never_drift(
        applied: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same value as before, now from the environment: a change of what is declared.
    with_secrets(applied, monkeypatch)
    monkeypatch.setenv("LEADS_WEBHOOK", WEBHOOK)
    monkeypatch.setenv("BOOKING_QUEUE", "+15550100")
    plan = applied.plan()
    assert "2 to update" in plan.stdout and "changed outside operator-iac" not in plan.stdout
    assert "0 changed outside operator-iac" in applied.run("status").stdout
    status = applied.run("status", "--format", "json")
    assert '"drift": true' not in status.stdout
    assert applied.apply().exit_code == 0
    assert applied.plan("--detailed-exitcode").exit_code == 0

    monkeypatch.setenv("LEADS_WEBHOOK", f"{WEBHOOK}?token={CANARY}")  # rotated
    plan = applied.plan()
    assert "1 to update" in plan.stdout and "changed outside operator-iac" not in plan.stdout
    assert_masked(plan.stdout, plan.stderr)
    assert applied.apply().exit_code == 0

    without_secrets(applied, monkeypatch)  # removed again
    plan = applied.plan()
    assert "2 to update" in plan.stdout and "changed outside operator-iac" not in plan.stdout
    assert_masked(plan.stdout, plan.stderr)


def test_text_read_back_from_the_platform_is_masked_in_smoke_reports_and_junit(
        secret_applied: ProjectCopy, tmp_path: Path) -> None:
    """The agent repeats the secret and the API key instead of its greeting: the failing
    smoke report, its transcript and the JUnit file show neither."""
    key = secret_applied.emulator.api_key
    secret_applied.emulator.set_brain(rules=RuleSet(
        greeting=f"Hello. Your link is {WEBHOOK}?token={CANARY} ({key})."))
    junit = tmp_path / "smoke.xml"
    report = secret_applied.run("smoke", "--junit", str(junit))
    assert report.exit_code == 4, report.stdout + report.stderr
    assert "Your link is" in report.stdout
    assert_masked(report.stdout, report.stderr, junit.read_text(encoding="utf-8"))
    assert key not in report.stdout + report.stderr + junit.read_text(encoding="utf-8")
    assert "(sensitive)" in junit.read_text(encoding="utf-8")
