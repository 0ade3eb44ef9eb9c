"""Every unreleased draft operator-iac did not write is shown by ``plan`` in every format, with
what ``--overwrite-draft`` would discard; ``apply --overwrite-draft`` discards only a draft the
plan showed. Dashboard edits are made over plain HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Platform, ProjectCopy
from .dashboard import Dashboard, append_to_prompt, set_at

WIP = "Mention the spring sale in every answer."


@pytest.fixture
def dashboard(applied: ProjectCopy) -> Dashboard:
    return Dashboard(applied.emulator)


def test_a_draft_on_an_agent_without_local_change_is_shown_in_every_format(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    agent_id = platform.id_of("support-triage")
    draft = dashboard.edit(agent_id, append_to_prompt(WIP))
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    text = applied.plan("--detailed-exitcode")
    markdown = applied.plan("--format", "markdown").stdout
    data = json.loads(applied.plan("--format", "json").stdout)

    assert text.exit_code == 0  # a draft left alone is not a change
    assert f"Unreleased drafts operator-iac did not write: support-triage {draft} " \
           "(left alone)." in text.stdout
    assert f"= support-triage (conversational_agent, {agent_id}) is up to date" in text.stdout
    assert f"draft {draft}" in text.stdout and "left alone" in text.stdout
    assert f"+{WIP}" in text.stdout  # the prompt diff of the draft
    assert f"+{WIP}" in markdown and f"support-triage {draft} (left alone)" in markdown
    resource = next(r for r in data["resources"] if r["key"] == "support-triage")
    review = resource["foreign_draft_review"]
    assert (resource["action"], review["fate"], review["version_id"]) == ("no-op", "kept",
                                                                          draft)
    assert [c["path"] for c in review["changes"]] == ["config.runtime.prompt.text"]
    assert f"+{WIP}" in summary.read_text(encoding="utf-8")


def test_overwrite_draft_shows_what_it_discards_and_discards_only_that(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard, tmp_path: Path) -> None:
    agent_id = platform.id_of("support-triage")
    # The colleague renames the persona and changes the model; the declarations change the
    # model the same way, so only the persona is lost by overwriting.
    dashboard.edit(agent_id, set_at("personas", value=[{"name": "Alex"}]))
    dashboard.edit(agent_id, set_at("runtime", "model", value="openai/gpt-4.1"),
                   start_from="draft")
    applied.replace_in("support-triage.yaml", "model: anthropic/claude-3-5-sonnet",
                       "model: openai/gpt-4.1")

    blocked = applied.plan()
    assert "blocked: the agent has an unreleased draft" in blocked.stdout
    assert "--overwrite-draft would discard 2 field changes:" in blocked.stdout
    assert applied.apply().exit_code == 5

    plan_file = tmp_path / "plan.json"
    shown = applied.plan("--overwrite-draft", "--out", str(plan_file))
    discarded = shown.stdout.split("--overwrite-draft discards 2 field changes:\n")[1]
    assert discarded.splitlines()[:2] == [
        '        + config.personas[name=Alex]: {"name": "Alex"}',
        '        - config.personas[name=Sam]: {"name": "Sam"}']
    # The model the draft set is what the write sets too: not discarded, only the plan's own
    # change (indented as one) follows.
    assert discarded.splitlines()[2] == \
        '    ~ config.runtime.model: "anthropic/claude-3-5-sonnet" -> "openai/gpt-4.1"'

    result = applied.run("apply", str(plan_file), "--no-smoke")
    assert result.exit_code == 0, result.stderr
    released = platform.released(agent_id)
    assert released.config["personas"] == [{"name": "Sam"}]
    assert released.config["runtime"]["model"] == "openai/gpt-4.1"
    assert platform.draft(agent_id) is None


def test_a_draft_whose_overwrite_would_discard_nothing_blocks_no_apply(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard) -> None:
    """A colleague's draft that makes only a change the declarations make too: writing over
    it loses nothing, so apply goes through without ``--overwrite-draft``; the plan still
    shows the draft, and what becomes of it."""
    agent_id = platform.id_of("support-triage")
    draft = dashboard.edit(agent_id, set_at("runtime", "model", value="openai/gpt-4.1"))
    applied.replace_in("support-triage.yaml", "model: anthropic/claude-3-5-sonnet",
                       "model: openai/gpt-4.1")
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly.")

    shown = applied.plan("--format", "json")
    resource = next(r for r in json.loads(shown.stdout)["resources"]
                    if r["key"] == "support-triage")
    review = resource["foreign_draft_review"]
    assert (resource["action"], resource["blocked"]) == ("update", None)
    assert (review["version_id"], review["fate"], review["changes"]) == (draft, "overwritten",
                                                                         [])
    text = applied.plan().stdout
    assert "so it is overwritten without --overwrite-draft" in text
    assert f"draft {draft}" in text and "nothing it changed is lost" in text
    result = applied.apply()

    assert result.exit_code == 0, result.stdout + result.stderr
    released = platform.released(agent_id)
    assert released.config["runtime"]["model"] == "openai/gpt-4.1"
    assert "Be friendly." in released.config["runtime"]["prompt"]["text"]
    assert applied.plan("--detailed-exitcode").exit_code == 0


def test_a_draft_changed_after_the_plan_is_a_conflict(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard, tmp_path: Path) -> None:
    agent_id = platform.id_of("support-triage")
    dashboard.edit(agent_id, append_to_prompt(WIP))
    applied.replace_in("support-triage.yaml", "model: anthropic/claude-3-5-sonnet",
                       "model: openai/gpt-4.1")
    plan_file = tmp_path / "plan.json"
    assert applied.plan("--overwrite-draft", "--out", str(plan_file)).exit_code == 0
    # The colleague keeps working on the draft after the plan was reviewed.
    later = dashboard.edit(agent_id, append_to_prompt("And the summer sale."),
                           start_from="draft")
    writes = len(platform.writes())

    result = applied.run("apply", str(plan_file), "--no-smoke")

    assert result.exit_code == 5
    assert "its draft changed since the plan was made" in result.stdout + result.stderr
    assert len(platform.writes()) == writes  # nothing written
    draft = platform.draft(agent_id)
    assert draft is not None and draft.version_id == later
    assert "summer sale" in draft.config["runtime"]["prompt"]["text"]


def test_a_draft_that_appeared_after_the_plan_is_a_conflict(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard, tmp_path: Path) -> None:
    agent_id = platform.id_of("support-triage")
    applied.replace_in("support-triage.yaml", "model: anthropic/claude-3-5-sonnet",
                       "model: openai/gpt-4.1")
    plan_file = tmp_path / "plan.json"
    assert "Unreleased drafts" not in applied.plan("--overwrite-draft", "--out",
                                                   str(plan_file)).stdout
    appeared = dashboard.edit(agent_id, append_to_prompt(WIP))

    result = applied.run("apply", str(plan_file), "--no-smoke")

    assert result.exit_code == 5
    draft = platform.draft(agent_id)
    assert draft is not None and draft.version_id == appeared


def test_a_pruned_agents_draft_is_shown_as_deleted_with_it(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard) -> None:
    agent_id = platform.id_of("support-triage")
    draft = dashboard.edit(agent_id, append_to_prompt(WIP))
    applied.remove_agent("support-triage")

    plan = applied.plan("--prune")

    assert f"- support-triage (conversational_agent, {agent_id}) will be deleted" in plan.stdout
    assert f"support-triage {draft} (deleted)" in plan.stdout
    assert f"+{WIP}" in plan.stdout
