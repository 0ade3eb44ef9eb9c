"""Living beside the dashboard on platforms that made the other plausible choice where the
contract is silent (one emulator compatibility mode at a time): drift and its pull, foreign
drafts in the plan, declaring a field the platform holds, and a rollback to a commit."""

from __future__ import annotations

import pytest

from .conftest import Platform, ProjectCopy
from .dashboard import Dashboard, append_to_prompt, set_at

MODES = ("is_released", "transfer_id", "extra_fields", "trim_text", "list_without_description",
         "release_conflict")
FIRST, SECOND, THIRD = "aaaa1111aaaa", "bbbb2222bbbb", "cccc3333cccc"


@pytest.mark.parametrize("mode", MODES)
def test_dashboard_edits_are_seen_kept_and_undone_on_every_platform(
        project: object, platform: Platform, monkeypatch: pytest.MonkeyPatch,
        mode: str) -> None:
    copy: ProjectCopy = project()  # type: ignore[operator]
    copy.emulator.set_compat(mode)
    dashboard = Dashboard(copy.emulator)
    monkeypatch.setenv("GIT_COMMIT", FIRST)
    assert copy.apply().exit_code == 0
    copy.emulator.advance_clock(5)
    triage, booking = platform.id_of("support-triage"), platform.id_of("appointment-booking")

    # A released dashboard edit: drift, taken into the files by pull.
    dashboard.edit_and_release(triage, set_at("runtime", "model", value="openai/gpt-4.1"))
    assert "operator-iac pull support-triage" in copy.plan().stdout
    pulled = copy.run("pull", "support-triage")
    assert pulled.exit_code == 0, pulled.stdout + pulled.stderr
    assert "model: openai/gpt-4.1" in copy.agent_file("support-triage").read_text("utf-8")
    # The files hold what the platform holds: nothing to write, no drift left.
    after_pull = copy.plan("--detailed-exitcode")
    assert after_pull.exit_code == 0 and "pull" not in after_pull.stdout, after_pull.stdout
    monkeypatch.setenv("GIT_COMMIT", SECOND)  # the pull is committed
    assert copy.apply().exit_code == 0

    # A foreign draft on an agent without a change of its own is listed.
    draft = dashboard.edit(booking, append_to_prompt("Mention the new opening hours."))
    listed = copy.plan()
    assert f"appointment-booking {draft} (left alone)" in listed.stdout, listed.stdout

    # Declaring a field the platform holds with another value is a change, not drift.
    dashboard.edit_and_release(triage, set_at("voice", "busy_sound", value="typing"))
    copy.replace_in("support-triage.yaml", "  language:\n",
                    "  voice:\n    busy_sound: chime\n  language:\n")
    monkeypatch.setenv("GIT_COMMIT", THIRD)
    plan = copy.plan()
    assert '~ config.voice.busy_sound: "typing" -> "chime"' in plan.stdout
    assert copy.apply().exit_code == 0
    assert copy.run("status").stdout.count("CHANGED OUTSIDE") == 0

    # Everything back to the first commit.
    back = copy.run("rollback", "--all", "--to-commit", FIRST, "--yes", "--no-smoke")
    assert back.exit_code == 0, back.stdout + back.stderr
    released = platform.released(triage).config
    assert released["runtime"]["model"] == "anthropic/claude-3-5-sonnet"
