"""A platform that stores values in a form of its own never wedges a project.

Staging stores model aliases as dated snapshots, lists of strings sorted, text NFC-normalised,
trimmed and with markup characters as HTML entities (a form that is no fixed point: written
again, it is encoded again), secrets included, and leaves every false, empty or null value
out of what it shows, and gives every persona, variable and tool an id of its own, made anew
by each write (so that the same write read back twice differs there). What apply reads back
is recorded as the platform's form of what was written: the plan after apply is empty and
says once what the platform does, a real edit still shows as exactly that edit, the tool's
own draft is never foreign, and a dashboard edit is still drift. Nothing here depends on
which forms the emulator picks: the same test holds for any normalisation, and for any
values a platform adds to what was written.
"""

from __future__ import annotations

import pytest

from .dashboard import Dashboard, append_to_prompt
from .two_platforms import Environments, environments

__all__ = ["environments"]

FORMS = ("dated_models", "sorted_lists", "nfc_text", "trim_text", "omit_empty", "escaped_html",
         "escaped_markdown", "item_ids")
DECOMPOSED = "Cafe\u0301 hours are posted online."  # "é" as e + combining accent


@pytest.fixture
def staging(environments: Environments, monkeypatch: pytest.MonkeyPatch) -> Environments:
    environments.platform("staging").emulator.set_compat(*FORMS)
    environments.replace_in("agents/support-triage.yaml", "Be friendly and brief.",
                            f"Be friendly and brief. {DECOMPOSED} Line: ${{env:TRIAGE_LINE}}")
    environments.replace_in("agents/support-triage.yaml", "answers order questions and",
                            "answers order questions & <b>then</b> [*only*]")
    environments.replace_in("operator-iac.yaml", "agents_dir: agents\n",
                            "agents_dir: agents\nsecrets: [TRIAGE_LINE]\n")
    monkeypatch.setenv("TRIAGE_LINE", "+1 555 0100   ")  # the platform trims it
    return environments


def test_stored_forms_are_learnt_once_and_never_a_change_a_conflict_or_drift(
        staging: Environments) -> None:
    applied = staging.ok("apply", "--env", "staging", "--yes")
    assert "the platform stores config.runtime.model" in applied
    platform = staging.platform("staging")
    held = platform.released(platform.id_of("support-triage")).description
    assert "questions &amp; &lt;b&gt;then" in held  # encoded once, never twice
    assert "CONFLICT" not in applied and "did not keep" not in applied

    plan = staging.ok("plan", "--env", "staging", "--detailed-exitcode")
    assert "No changes" in plan
    assert "Stored by the platform in its own form" in plan
    assert ('the platform stores config.runtime.model "openai/gpt-4o-mini" as '
            '"openai/gpt-4o-mini-2024-07-18"') in plan
    assert "+1 555 0100" not in plan  # the secret stays a secret in the statement
    staging.ok("status", "--env", "staging")

    # A real edit shows as that edit alone, applies, and converges again.
    staging.replace_in("agents/support-triage.yaml", "Be friendly and brief.",
                       "Be friendly and short.")
    changed = staging.run("plan", "--env", "staging", "--detailed-exitcode")
    assert changed.exit_code == 2, changed.stdout + changed.stderr
    assert "Plan: 0 to create, 1 to update" in changed.stdout
    changes = changed.stdout.split("Stored by the platform")[0]
    assert "config.runtime.model" not in changes and "boosted_keywords" not in changes
    assert "config.runtime.prompt.text" in changes
    staging.ok("apply", "--env", "staging", "--yes")
    staging.ok("plan", "--env", "staging", "--detailed-exitcode")


def test_the_tool_s_own_draft_is_never_foreign_and_a_dashboard_edit_is_still_drift(
        staging: Environments) -> None:
    staging.ok("apply", "--env", "staging", "--yes")
    # A draft written and read back, but not released (the draft's smoke tests fail).
    staging.change_prompt()
    staging.break_smoke_tests()
    failed = staging.run("apply", "--env", "staging", "--yes")
    assert failed.exit_code == 4, failed.stdout + failed.stderr
    plan = staging.ok("plan", "--env", "staging")
    assert "foreign" not in plan.lower() and "someone else" not in plan

    platform = staging.platform("staging")
    agent_id = platform.id_of("appointment-booking")
    Dashboard(platform.emulator).edit_and_release(agent_id, append_to_prompt("Say hi."))
    status = staging.run("status", "--env", "staging")
    assert status.exit_code == 2, status.stdout + status.stderr
    assert "appointment-booking" in status.stdout


@pytest.mark.parametrize("modes", [("dated_on_create",), ("dated_on_create", "create_releases"),
                                   ("dated_on_put",)])
def test_a_create_stored_otherwise_than_a_put_of_the_same_body_is_no_conflict(
        environments: Environments, modes: tuple[str, ...]) -> None:
    # The create dates model aliases, a PUT keeps them as sent: the first PUT after a create
    # (the write that names the records, or records the forms) reads back otherwise.
    environments.platform("staging").emulator.set_compat(*modes)
    applied = environments.ok("apply", "--env", "staging", "--yes")
    assert "CONFLICT" not in applied and "someone else" not in applied
    if "dated_on_create" in modes:
        assert "on create, and a PUT of the same body otherwise" in applied
    environments.ok("plan", "--env", "staging", "--detailed-exitcode")
    environments.change_prompt()
    environments.ok("apply", "--env", "staging", "--yes")
    environments.ok("plan", "--env", "staging", "--detailed-exitcode")
