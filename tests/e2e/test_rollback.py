"""``operator-iac rollback`` and ``operator-iac history`` against the emulator: the earlier
revision is released again after a preview, smoke-tested, and nothing is released when the
input is wrong.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from .two_platforms import PROJECT, Environments, Result, environments

if TYPE_CHECKING:
    from operator_iac.plan.rollback import RollbackPlan

__all__ = ["environments"]

KEY = "appointment-booking"
NEW_LINE = "Always confirm by text message as well."


def two_releases(environments: Environments) -> str:
    """Apply the project to staging, change the prompt, apply again; the agent's id."""
    assert environments.apply_staging("--no-smoke").exit_code == 0
    environments.change_prompt(NEW_LINE)
    assert environments.apply_staging("--no-smoke").exit_code == 0
    return environments.platform("staging").id_of(KEY)


def rollback(environments: Environments, *args: str) -> Result:
    return environments.run("rollback", KEY, "--env", "staging", *args)


def test_rollback_releases_the_previous_revision_and_smoke_tests_it(
        environments: Environments) -> None:
    agent_id = two_releases(environments)
    result = rollback(environments, "--yes")
    assert result.exit_code == 0, result.stderr
    assert f"released {agent_id}@v1 -> {agent_id}@v0" in result.stdout
    assert f"-{NEW_LINE}" in result.stdout  # the prompt diff, before anything happened
    assert "Smoke tests passed" in result.stdout
    staging = environments.platform("staging")
    assert staging.released(agent_id).version_id == f"{agent_id}@v0"
    assert NEW_LINE not in staging.released(agent_id).config["runtime"]["prompt"]["text"]


def test_rollback_then_status_shows_the_declarations_differ(
        environments: Environments) -> None:
    two_releases(environments)
    assert rollback(environments, "--yes", "--no-smoke").exit_code == 0
    status = environments.run("status", "--env", "staging")
    assert status.exit_code == 2
    assert "differs from the declarations" in status.stdout


def test_rollback_to_a_named_revision_and_forward_again(environments: Environments) -> None:
    agent_id = two_releases(environments)
    assert rollback(environments, "--yes", "--no-smoke").exit_code == 0
    forward = rollback(environments, "--to", "v1", "--yes", "--no-smoke", "--format", "json")
    assert forward.exit_code == 0, forward.stderr
    data = json.loads(forward.stdout)
    assert data["from"] == f"{agent_id}@v0" and data["released"] == f"{agent_id}@v1"
    assert environments.run("status", "--env", "staging").exit_code == 0


def test_rollback_to_the_released_revision_does_nothing(environments: Environments) -> None:
    agent_id = two_releases(environments)
    staging = environments.platform("staging")
    staging.emulator.clear_requests()
    result = rollback(environments, "--to", f"{agent_id}@v1")
    assert result.exit_code == 0
    assert "already the released revision" in result.stdout
    assert staging.writes() == []


def test_rollback_of_an_agent_with_a_single_revision_is_refused(
        environments: Environments) -> None:
    assert environments.apply_staging("--no-smoke").exit_code == 0
    staging = environments.platform("staging")
    staging.emulator.clear_requests()
    result = rollback(environments, "--yes")
    assert result.exit_code == 3
    assert "there is nothing to roll back to" in result.stderr
    assert staging.writes() == []


def test_rollback_without_a_terminal_needs_yes(environments: Environments) -> None:
    agent_id = two_releases(environments)
    result = rollback(environments)
    assert result.exit_code == 3
    assert "rollback needs --yes" in result.stderr
    assert f"{agent_id}@v1 -> {agent_id}@v0" in result.stdout  # the preview was shown
    assert environments.platform("staging").released(agent_id).version_id == f"{agent_id}@v1"


def test_rollback_refuses_bad_revisions(environments: Environments) -> None:
    two_releases(environments)
    missing = rollback(environments, "--to", "v7", "--yes")
    assert missing.exit_code == 3 and "has no revision v7 (it has v0, v1)" in missing.stderr
    both = rollback(environments, "--to", "v0", "--steps", "1", "--yes")
    assert both.exit_code == 3 and "exclude each other" in both.stderr
    far = rollback(environments, "--steps", "2", "--yes")
    assert far.exit_code == 3 and "goes too far" in far.stderr
    unknown = environments.run("rollback", "no-such-agent", "--env", "staging", "--yes")
    assert unknown.exit_code == 3 and "key 'no-such-agent'" in unknown.stderr


def test_rollback_refuses_to_release_a_draft(environments: Environments) -> None:
    agent_id = two_releases(environments)
    staging = environments.platform("staging")
    staging.client.conversational_agents.update(agent_id, name="Edited in the dashboard")
    result = rollback(environments, "--to", "v2", "--yes")
    assert result.exit_code == 3
    assert "is the unreleased draft" in result.stderr


def test_failing_smoke_tests_after_rollback_exit_4_and_keep_it(
        environments: Environments) -> None:
    agent_id = two_releases(environments)
    environments.break_smoke_tests()
    result = rollback(environments, "--yes")
    assert result.exit_code == 4
    assert "SMOKE TESTS FAILED" in result.stdout
    assert f"operator-iac rollback {KEY} --to {agent_id}@v1" in result.stdout
    assert "Nobody-like-this" in result.stderr  # the failing assertion, shown
    staging = environments.platform("staging")
    assert staging.released(agent_id).version_id == f"{agent_id}@v0"


def test_history_lists_revisions_with_markers(environments: Environments) -> None:
    agent_id = two_releases(environments)
    staging = environments.platform("staging")
    staging.client.conversational_agents.update(agent_id, description="Edited by hand.")
    result = environments.run("history", KEY, "--env", "staging")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{KEY}: conversational_agent {agent_id}, 3 revisions"
    v2, v1, v0 = (next(line for line in lines if line.startswith(f"v{n} ")) for n in (2, 1, 0))
    assert "draft" in v2 and "no marker: edited outside operator-iac" in v2
    assert "released" in v1 and "0123456789ab" in v1
    assert "archived" in v0
    data = json.loads(environments.run("history", KEY, "--env", "staging",
                                       "--format", "json").stdout)
    assert [r["status"] for r in data["revisions"]] == ["draft", "released", "archived"]
    marker = staging.marker(agent_id)
    assert marker is not None and marker.project == PROJECT
    assert data["revisions"][1]["content_hash"] == marker.content_hash
    assert data["revisions"][0]["note"] == "no marker: edited outside operator-iac"



def test_a_rollback_where_only_is_released_is_reported_leaves_no_draft_to_refuse(
        environments: Environments) -> None:
    """A platform that reports only ``is_released`` shows the revision a rollback put aside
    (newer than the one released) as not released, like a draft operator-iac wrote and never
    released. The rollback starts a draft holding what it released, so the plan warns of no
    change never released and a promotion of the rolled-back content goes through."""
    staging = environments.platform("staging")
    staging.emulator.set_faults(compat=["is_released"])
    assert environments.apply_staging().exit_code == 0
    environments.change_prompt(NEW_LINE)
    assert environments.apply_staging().exit_code == 0
    agent_id = staging.id_of(KEY)
    rolled = rollback(environments, "--yes")
    assert rolled.exit_code == 0, rolled.stdout + rolled.stderr
    assert f"started draft {agent_id}@v2 holding {agent_id}@v0" in rolled.stdout + rolled.stderr
    assert staging.released(agent_id).version_id == f"{agent_id}@v0"
    environments.replace_in("agents/prompts/appointment-booking.md", f"{NEW_LINE}\n\n", "")

    plan = environments.run("plan", "--env", "staging", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert "never released" not in plan.stdout + plan.stderr
    promoted = environments.run("promote", "--from", "staging", "--to", "production",
                                "--yes")
    assert promoted.exit_code == 0, promoted.stdout + promoted.stderr
    environments.change_prompt("Spell the patient's name back.")
    changed = environments.apply_staging()  # the next change is written into that draft
    assert changed.exit_code == 0, changed.stdout + changed.stderr
    assert staging.released(agent_id).version_id == f"{agent_id}@v2"


@pytest.mark.parametrize("compat", [("escaped_html",), ("escaped_html", "create_releases"),
                                    ("escaped_markdown", "bare_id_writes")],
                         ids=["forms-in-its-marker", "forms-in-another-marker",
                              "its-marker-escaped"])
def test_that_rollback_writes_nothing_back_where_the_platform_rewrites_what_it_stores(
        environments: Environments, compat: tuple[str, ...]) -> None:
    """The same platform storing markup and quotes as entities (a form it would encode once
    more if written back): no draft is started, since one holding another form of the
    released content would read as a person's draft and block apply. The revision put aside
    still reads as a draft there (the plan says so); apply is not blocked. Also where the
    revision rolled back to records no form itself (a platform that releases what it
    creates: its first revision was released before the run learnt the forms), as long as
    another revision of the agent does; and where no declared value took a form of the
    platform's but the marker did (a platform escaping Markdown in descriptions, whose
    description has none: its marker's brackets are escaped, and would be escaped again)."""
    staging = environments.platform("staging")
    staging.emulator.set_faults(compat=["is_released", *compat])
    agent_id = two_releases(environments)
    before = [v.version_id for v in staging.versions(agent_id)]
    rolled = rollback(environments, "--to", "v0", "--yes", "--no-smoke")
    assert rolled.exit_code == 0, rolled.stdout + rolled.stderr
    assert "started draft" not in rolled.stdout + rolled.stderr
    assert [v.version_id for v in staging.versions(agent_id)] == before
    plan = environments.run("plan", "--env", "staging")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert "did not write" not in plan.stdout and "blocked" not in plan.stdout


@pytest.mark.parametrize("read_lag", [0.0, 0.5], ids=["reads-current", "reads-trailing"])
def test_a_revision_put_aside_where_writes_go_to_the_bare_id_only_blocks_no_apply(
        environments: Environments, read_lag: float) -> None:
    """The same platform, taking writes at the bare agent id only (one addressed to a
    revision is answered 404): the revision a rollback put aside still reads as a draft, and
    the write of its own content that tells an archived revision from a draft cannot be
    addressed to it. At the bare id, that write starts a new draft (so the revision put aside
    was archived), and the next apply writes its change into that draft instead of refusing
    a draft nobody has; also where reads trail the writes (the draft it started is waited
    for, never taken for a move since the plan)."""
    staging = environments.platform("staging")
    staging.emulator.set_faults(compat=["is_released", "escaped_html", "bare_id_writes"],
                                read_lag=read_lag)
    assert environments.apply_staging("--no-smoke").exit_code == 0
    agent_id = staging.id_of(KEY)
    agents = staging.client.conversational_agents
    config = agents.get(f"{agent_id}@v0").config
    config["runtime"]["model"] = "openai/gpt-4.1"  # edited in the dashboard, and released
    agents.release(agents.update(agent_id, config=config).version_id or f"{agent_id}@v1")
    rolled = rollback(environments, "--yes", "--no-smoke")
    assert rolled.exit_code == 0, rolled.stdout + rolled.stderr
    assert "started draft" not in rolled.stdout + rolled.stderr  # nothing hides v1
    assert staging.released(agent_id).version_id == f"{agent_id}@v0"

    environments.change_prompt("Spell the patient's name back.")
    changed = environments.apply_staging("--no-smoke")

    assert changed.exit_code == 0, changed.stdout + changed.stderr
    said = changed.stdout + changed.stderr
    assert f"{agent_id}@v1 is an archived revision" in said
    assert f"started the draft {agent_id}@v2" in said
    assert staging.released(agent_id).version_id == f"{agent_id}@v2"
    after = environments.run("plan", "--env", "staging", "--detailed-exitcode")
    assert after.exit_code == 0, after.stdout + after.stderr


def test_a_draft_started_while_the_rollback_waited_is_never_written_over(
        environments: Environments) -> None:
    """Between the rollback's plan and its release (a person confirming, say), someone
    starts a draft: it is the newest revision, which says all there is to say, and the
    rollback writes nothing into it."""
    from operator_iac.services.feedback import QUIET
    from operator_iac.services.rollback import start_draft_after_rollback

    staging = environments.platform("staging")
    staging.emulator.set_faults(compat=["is_released"])
    agent_id = two_releases(environments)
    plan = load_rollback_plan(environments)
    staging.client.conversational_agents.release(f"{agent_id}@v0")
    person = staging.client.conversational_agents.update(agent_id, description="Mine.")
    assert person.version_id == f"{agent_id}@v2"

    assert plan.newest == f"{agent_id}@v1" and plan.target == f"{agent_id}@v0"
    assert start_draft_after_rollback(staging.client, plan, QUIET) is None
    assert staging.client.conversational_agents.get(f"{agent_id}@v2").description == "Mine."
    assert [v.version_id for v in staging.versions(agent_id)] == [
        f"{agent_id}@v0", f"{agent_id}@v1", f"{agent_id}@v2"]


def load_rollback_plan(environments: Environments) -> RollbackPlan:
    """The plan ``rollback KEY`` makes on staging now (one release back)."""
    from operator_iac.plan.marker import Owner
    from operator_iac.plan.rollback import choose_revision, plan_rollback
    from operator_iac.services.history import load_agent
    from operator_iac.state.fetch import read_revision

    staging = environments.platform("staging")
    loaded = load_agent(staging.client, Owner(PROJECT, "staging"), KEY)
    version = choose_revision(loaded.agent, KEY)
    revision = read_revision(staging.client, loaded.agent.kind, version.version_id,
                             version.status)
    return plan_rollback(loaded, revision, None, project=PROJECT)


def test_no_draft_copies_a_revision_edited_in_the_dashboard(
        environments: Environments) -> None:
    """The revision rolled back to was edited in the dashboard (its marker kept, its content
    changed): a copy of it would read as a person's draft and block apply, so the rollback
    writes nothing, and the next apply goes through."""
    staging = environments.platform("staging")
    staging.emulator.set_faults(compat=["is_released"])
    agent_id = two_releases(environments)
    agents = staging.client.conversational_agents
    config = agents.get(f"{agent_id}@v1").config
    config["runtime"]["prompt"]["text"] += "\nEdited in the dashboard."
    edited = agents.update(agent_id, config=config)
    agents.release(edited.version_id or f"{agent_id}@v2")
    assert environments.apply_staging("--no-smoke").exit_code == 0  # overwrites the edit: v3

    rolled = rollback(environments, "--yes", "--no-smoke")

    assert rolled.exit_code == 0, rolled.stdout + rolled.stderr
    assert f"released {agent_id}@v2 again" in rolled.stdout + rolled.stderr
    assert "started draft" not in rolled.stdout + rolled.stderr
    again = environments.apply_staging("--no-smoke")
    assert again.exit_code == 0, again.stdout + again.stderr
