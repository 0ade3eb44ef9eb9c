"""Drift without noise: "changed outside operator-iac" means the released revision no longer
holds what operator-iac wrote, judged on the fields it wrote then, not on what is declared
now. Dashboard edits are made over plain HTTP."""

from __future__ import annotations

import pytest

from .conftest import Platform, ProjectCopy
from .dashboard import Dashboard, set_at

DRIFT = "changed outside operator-iac"


@pytest.fixture
def dashboard(applied: ProjectCopy) -> Dashboard:
    return Dashboard(applied.emulator)


def test_declaring_a_field_the_dashboard_set_before_is_a_change_not_drift(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard) -> None:
    agent_id = platform.id_of("support-triage")
    # Someone sets a busy sound in the dashboard; operator-iac never declared one.
    dashboard.edit_and_release(agent_id, set_at("voice", "busy_sound", value="typing"))
    assert applied.run("status").exit_code == 0  # a field nobody declared: not drift

    applied.replace_in("support-triage.yaml", "  language:\n",
                       "  voice:\n    busy_sound: chime\n  language:\n")
    plan = applied.plan()

    assert '~ config.voice.busy_sound: "typing" -> "chime"' in plan.stdout
    assert DRIFT not in plan.stdout
    assert applied.apply().exit_code == 0
    assert applied.run("status").exit_code == 0


def test_no_longer_declaring_a_field_beside_another_change_is_not_drift(
        applied: ProjectCopy) -> None:
    applied.replace_in("support-triage.yaml", "  channel:\n    is_sms_enabled: false\n", "")
    applied.replace_in("support-triage.yaml", "model: anthropic/claude-3-5-sonnet",
                       "model: openai/gpt-4.1")

    plan = applied.plan()

    assert "~ support-triage" in plan.stdout and "config.runtime.model" in plan.stdout
    assert "config.channel" not in plan.stdout
    assert DRIFT not in plan.stdout
    assert applied.run("status").stdout.count(DRIFT.upper()) == 0


def test_an_edit_of_a_written_field_is_drift_whatever_is_declared_now(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard) -> None:
    agent_id = platform.id_of("support-triage")
    dashboard.edit_and_release(agent_id, set_at("runtime", "model", value="openai/gpt-4o"))
    # The declarations change shape at the same time (channel no longer declared).
    applied.replace_in("support-triage.yaml", "  channel:\n    is_sms_enabled: false\n", "")

    plan = applied.plan()
    status = applied.run("status")

    assert f"{DRIFT}: the released revision no longer matches" in plan.stdout
    assert "operator-iac pull support-triage" in plan.stdout
    assert status.exit_code == 2
    assert "operator-iac pull support-triage" in status.stdout


@pytest.mark.parametrize("secret_first", [False, True])
def test_moving_a_value_into_or_out_of_a_secret_is_never_drift(
        applied: ProjectCopy, monkeypatch: pytest.MonkeyPatch, secret_first: bool) -> None:
    monkeypatch.setenv("LEADS_HOOK", "https://hooks.staging.acme.example/leads")
    as_secret = ("post_url: ${var:leads_webhook}", "post_url: ${env:LEADS_HOOK}")
    applied.declare_secrets("LEADS_HOOK")
    if secret_first:  # start from the secret, then go back to the plain value
        applied.replace_in("lead-qualification.yaml", *as_secret)
        assert applied.apply().exit_code == 0
        applied.replace_in("lead-qualification.yaml", as_secret[1], as_secret[0])
    else:
        applied.replace_in("lead-qualification.yaml", *as_secret)
    # Another change in the same commit: the declarations no longer equal the platform.
    applied.replace_in("lead-qualification.yaml", "reasoning_effort: high",
                       "reasoning_effort: medium")

    plan = applied.plan()
    status = applied.run("status")

    assert "~ lead-qualification" in plan.stdout
    assert DRIFT not in plan.stdout
    assert DRIFT.upper() not in status.stdout
    if not secret_first:  # declared as a secret now: its value is not shown
        assert "hooks.staging" not in plan.stdout
    assert applied.apply().exit_code == 0
    assert applied.run("status").exit_code == 0


def test_rotating_a_secret_through_the_declarations_is_not_drift(
        applied: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    applied.declare_secrets("LEADS_HOOK")
    applied.replace_in("lead-qualification.yaml", "post_url: ${var:leads_webhook}",
                       "post_url: ${env:LEADS_HOOK}")
    monkeypatch.setenv("LEADS_HOOK", "https://hooks.example/one-SECRET-1")
    assert applied.apply().exit_code == 0
    monkeypatch.setenv("LEADS_HOOK", "https://hooks.example/two-SECRET-2")

    plan = applied.plan()

    assert "~ lead-qualification" in plan.stdout
    assert DRIFT not in plan.stdout
    assert "SECRET" not in plan.stdout
