"""``plan`` and ``apply`` on the example project against the emulator, through the real CLI:
create, update, release-only, convergence, selection, exit codes, output formats, the Python
API, and the installed entry point in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from operator_iac.plan.model import Plan

from .conftest import (
    COMMIT,
    KEYS,
    PROCEDURAL_KEYS,
    PROJECT_NAME,
    REPO,
    Platform,
    ProjectCopy,
)

Project = Callable[..., ProjectCopy]
NEW_PROMPT_LINE = "Always confirm the appointment by text message as well."
PROMPT_ANCHOR = "# Ending the call"


def add_prompt_line(copy: ProjectCopy) -> None:
    copy.replace_in("prompts/appointment-booking.md", PROMPT_ANCHOR,
                    f"{NEW_PROMPT_LINE}\n\n{PROMPT_ANCHOR}")


# ---- create ----------------------------------------------------------------------------------


def test_apply_creates_every_agent_with_markers_and_resolved_references(
        project: Project, platform: Platform) -> None:
    copy = project()
    result = copy.apply()
    assert result.exit_code == 0, result.stderr
    assert "Apply complete: 4 applied, 0 not applied." in result.stdout
    owners = platform.owners()
    assert sorted(owners) == sorted(KEYS)
    assert all(len(ids) == 1 for ids in owners.values())
    for key, (agent_id,) in owners.items():
        released = platform.released(agent_id)
        assert released.version_id == f"{agent_id}@v0"
        marker = platform.marker(agent_id)
        assert marker is not None and marker.key == key and marker.project == PROJECT_NAME
        assert marker.commit == COMMIT[:12]
        assert agent_id.startswith("pa_" if key in PROCEDURAL_KEYS else "ca_")
    booking = platform.released(platform.id_of("appointment-booking"))
    assert booking.postprocess_agents == [platform.id_of("call-summary")]
    triage = platform.released(platform.id_of("support-triage"))
    assert triage.postprocess_agents == [platform.id_of("lead-qualification")]
    assert booking.config["tool"]["transfers"] == [{"entity_id": "+15550100"}]


def test_procedural_agents_are_created_before_the_agents_that_name_them(
        project: Project, platform: Platform) -> None:
    copy = project()
    assert copy.apply().exit_code == 0
    creates = [path for method, path in platform.writes() if method == "POST"
               and path.endswith("_agents")]
    assert creates[:2] == ["/procedural_agents"] * 2
    assert creates[2:] == ["/conversational_agents"] * 2


# ---- convergence -----------------------------------------------------------------------------


def test_plan_after_apply_shows_no_changes(applied: ProjectCopy) -> None:
    result = applied.plan("--detailed-exitcode")
    assert result.exit_code == 0, result.stdout
    assert "0 to create, 0 to update, 0 to release, 0 to adopt, 0 to delete, 4 unchanged" \
        in result.stdout
    assert "No changes." in result.stdout


def test_second_apply_is_a_no_op(applied: ProjectCopy, platform: Platform) -> None:
    before = platform.version_count()
    writes = len(platform.writes())
    result = applied.apply()
    assert result.exit_code == 0, result.stderr
    assert "No changes" in result.stderr
    assert platform.version_count() == before == 4
    assert len(platform.writes()) == writes


# ---- update ----------------------------------------------------------------------------------


def test_prompt_change_is_planned_as_a_line_diff_and_released_as_a_new_revision(
        applied: ProjectCopy, platform: Platform) -> None:
    add_prompt_line(applied)
    plan = applied.plan()
    assert plan.exit_code == 0, plan.stderr
    assert "1 to update" in plan.stdout and "3 unchanged" in plan.stdout
    assert "~ appointment-booking" in plan.stdout
    assert "config.runtime.prompt.text: prompt text: +2 -0 lines" in plan.stdout
    assert f"+{NEW_PROMPT_LINE}" in plan.stdout

    result = applied.apply()
    assert result.exit_code == 0, result.stderr
    agent_id = platform.id_of("appointment-booking")
    released = platform.released(agent_id)
    assert released.version_id == f"{agent_id}@v1"
    assert NEW_PROMPT_LINE in released.config["runtime"]["prompt"]["text"]
    assert [v.status for v in platform.versions(agent_id)] == ["archived", "released"]
    assert applied.plan("--detailed-exitcode").exit_code == 0


def test_server_fields_the_declarations_do_not_mention_survive_an_update(
        applied: ProjectCopy, platform: Platform) -> None:
    agent_id = platform.id_of("appointment-booking")
    released = platform.released(agent_id)
    config: dict[str, Any] = json.loads(json.dumps(released.config))
    config["runtime"]["temperature"] = 0.4
    config["analytics"] = {"sentiment": True}
    config["tool"]["tools"][0]["timeout_ms"] = 2500
    applied.emulator.edit_revision(released.version_id, config=config)
    # Fields the platform adds are not changes: the plan stays empty.
    assert applied.plan("--detailed-exitcode").exit_code == 0

    add_prompt_line(applied)
    assert applied.apply().exit_code == 0
    updated = platform.released(agent_id).config
    assert updated["runtime"]["temperature"] == 0.4
    assert updated["analytics"] == {"sentiment": True}
    assert {"ns": "acme", "name": "check_availability", "timeout_ms": 2500} \
        in updated["tool"]["tools"]
    assert NEW_PROMPT_LINE in updated["runtime"]["prompt"]["text"]


def test_a_removed_tool_is_flagged_and_removed_remotely(
        applied: ProjectCopy, platform: Platform) -> None:
    applied.replace_in("appointment-booking.yaml", "      - {ns: syscall, name: end_call}\n", "")
    applied.replace_in("prompts/appointment-booking.md", "and use @end_call", "and hang up")
    plan = applied.plan()
    assert "- config.tool.tools[name=end_call]" in plan.stdout
    assert "risks: tool removed" in plan.stdout
    assert applied.apply().exit_code == 0
    tools = platform.released(platform.id_of("appointment-booking")).config["tool"]["tools"]
    assert "end_call" not in {tool["name"] for tool in tools}
    assert applied.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("compat", [(), ("transfer_id",)], ids=["entity_id", "transfer_id"])
def test_a_transfer_to_an_agent_key_is_written_as_its_id(
        project: Project, platform: Platform, compat: tuple[str, ...]) -> None:
    copy = project()
    copy.emulator.set_compat(*compat)
    copy.replace_in("appointment-booking.yaml", "      - entity_id: ${var:support_queue}\n",
                    "      - entity_id: ${var:support_queue}\n"
                    "      - entity_id: agent:support-triage\n")
    plan = copy.plan()
    assert "agent:support-triage (created by this plan)" in plan.stdout
    assert copy.apply().exit_code == 0
    transfers = platform.released(platform.id_of("appointment-booking")).config["tool"][
        "transfers"]
    targets = {t.get("entity_id", t.get("id")) for t in transfers}
    assert targets == {"+15550100", platform.id_of("support-triage")}
    assert copy.plan("--detailed-exitcode").exit_code == 0


def test_secrets_never_leave_the_process_but_reach_the_platform(
        project: Project, platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = project()
    secret = "s3cr3t-webhook-token"
    monkeypatch.setenv("LEADS_TOKEN", secret)
    copy.declare_secrets("LEADS_TOKEN")
    copy.replace_in("lead-qualification.yaml", "post_url: ${var:leads_webhook}",
                    "post_url: ${var:leads_webhook}?token=${env:LEADS_TOKEN}")
    out = copy.root / "plan.json"
    plan = copy.plan("--out", str(out))
    assert "config.output.post_url: \"(sensitive)\"" in plan.stdout
    result = copy.apply()
    assert result.exit_code == 0
    for text in (plan.stdout, plan.stderr, out.read_text(), result.stdout, result.stderr,
                 copy.plan("--format", "markdown").stdout):
        assert secret not in text
    output = platform.released(platform.id_of("lead-qualification")).config["output"]
    assert output["post_url"].endswith(f"?token={secret}")
    assert copy.plan("--detailed-exitcode").exit_code == 0

    monkeypatch.setenv("LEADS_TOKEN", "rotated-token")
    rotated = copy.plan("--detailed-exitcode", "--out", str(out))
    assert rotated.exit_code == 2 and "~ config.output.post_url" in rotated.stdout
    monkeypatch.setenv("LEADS_TOKEN", "rotated-again")
    assert copy.run("apply", str(out), "--no-smoke").exit_code == 5


# ---- release only ----------------------------------------------------------------------------


@pytest.mark.usefixtures("no_backoff")
def test_a_draft_equal_to_the_declaration_is_only_released(
        applied: ProjectCopy, platform: Platform) -> None:
    """An apply whose release failed leaves the declared draft behind: it is released as is."""
    add_prompt_line(applied)
    applied.emulator.fail_next(6, 500, "POST", r"/release$")  # outlasts the retries
    failed = applied.apply()
    assert failed.exit_code == 1
    assert "appointment-booking: FAILED (update)" in failed.stdout
    agent_id = platform.id_of("appointment-booking")
    assert [v.status for v in platform.versions(agent_id)] == ["released", "draft"]

    plan = applied.plan()
    assert "1 to release" in plan.stdout
    assert "> appointment-booking" in plan.stdout
    puts = len([w for w in platform.writes() if w[0] == "PUT"])
    result = applied.apply()
    assert result.exit_code == 0, result.stderr
    assert [v.status for v in platform.versions(agent_id)] == ["archived", "released"]
    assert len([w for w in platform.writes() if w[0] == "PUT"]) == puts
    assert applied.plan("--detailed-exitcode").exit_code == 0


# ---- selection -------------------------------------------------------------------------------


def test_target_includes_the_agents_it_needs_and_nothing_else(
        project: Project, platform: Platform) -> None:
    copy = project()
    result = copy.apply("--target", "support-triage")
    assert result.exit_code == 0, result.stderr
    assert sorted(platform.owners()) == ["lead-qualification", "support-triage"]
    plan = copy.plan("--exclude", "appointment-booking")
    assert "1 to create" in plan.stdout and "2 unchanged" in plan.stdout
    assert "+ call-summary" in plan.stdout


def test_exclude_leaves_an_agent_out(project: Project, platform: Platform) -> None:
    copy = project()
    result = copy.apply("--exclude", "appointment-booking")
    assert result.exit_code == 0, result.stderr
    assert sorted(platform.owners()) == ["call-summary", "lead-qualification", "support-triage"]


def test_excluding_a_needed_agent_that_does_not_exist_is_refused(
        project: Project, platform: Platform) -> None:
    copy = project()
    result = copy.apply("--target", "support-triage", "--exclude", "lead-qualification")
    assert result.exit_code == 3
    assert "--exclude lead-qualification" in result.stderr
    assert platform.agent_ids() == []


def test_apply_without_a_terminal_needs_yes(project: Project, platform: Platform) -> None:
    result = project().run("apply", "--no-smoke")
    assert result.exit_code == 3
    assert "needs --yes" in result.stderr
    assert platform.agent_ids() == []


def test_an_unknown_target_is_a_usage_error_with_a_hint(project: Project) -> None:
    result = project().plan("--target", "support-triag")
    assert result.exit_code == 3
    assert "did you mean 'support-triage'" in result.stderr


# ---- exit codes and formats ------------------------------------------------------------------


def test_detailed_exitcode_is_2_with_changes_then_0(project: Project) -> None:
    copy = project()
    assert copy.plan("--detailed-exitcode").exit_code == 2
    assert copy.plan().exit_code == 0
    assert copy.apply().exit_code == 0
    assert copy.plan("--detailed-exitcode").exit_code == 0


def test_json_plan_round_trips(project: Project) -> None:
    copy = project()
    result = copy.plan("--format", "json")
    assert result.exit_code == 0, result.stderr
    plan = Plan.from_json(result.stdout)
    assert plan.project == PROJECT_NAME and plan.environment == "staging"
    assert plan.summary().create == 4
    assert json.loads(result.stdout)["summary"]["create"] == 4
    assert Plan.from_json(plan.to_json()) == plan
    assert {r.key for r in plan.resources} == set(KEYS)
    schema = json.loads((REPO / "docs" / "plan.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(result.stdout), schema)


def test_markdown_plan_has_a_summary_table_and_collapsed_prompt_diffs(
        applied: ProjectCopy, platform: Platform) -> None:
    add_prompt_line(applied)
    result = applied.plan("--format", "markdown")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith("### operator-iac plan: `acme-support`")
    assert "| | Agent | Name | ID | Kind | Action | Changes | Notes |" in text
    agent_id = platform.id_of("appointment-booking")
    assert (f"| `appointment-booking` | Appointment booking | `{agent_id}` | conversational | "
            "update |") in text
    assert "<details><summary>Prompt diff (+2 -0 lines)</summary>" in text
    assert f"+{NEW_PROMPT_LINE}" in text
    assert len(text) < 60_000


def test_saved_plan_is_applied_exactly(project: Project, platform: Platform) -> None:
    copy = project()
    out = copy.root / "plan.json"
    assert copy.plan("--out", str(out), "--target", "call-summary").exit_code == 0
    result = copy.run("apply", str(out), "--no-smoke")
    assert result.exit_code == 0, result.stderr
    assert list(platform.owners()) == ["call-summary"]


def test_a_plan_file_that_cannot_be_written_is_a_usage_error(project: Project) -> None:
    copy = project()
    out = copy.root / "missing" / "plan.json"
    result = copy.plan("--out", str(out))
    assert result.exit_code == 3
    assert f"{out}: cannot write the plan file" in result.stderr
    assert "internal error" not in result.stderr


def test_selection_flags_do_not_go_with_a_saved_plan(project: Project,
                                                     platform: Platform) -> None:
    copy = project()
    out = copy.root / "plan.json"
    assert copy.plan("--out", str(out)).exit_code == 0
    result = copy.run("apply", str(out), "--target", "call-summary", "--no-smoke")
    assert result.exit_code == 3
    assert "applied exactly as it was made" in result.stderr
    assert list(platform.owners()) == []


# ---- the Python API and the installed entry point --------------------------------------------


def test_python_api_plans_renders_and_applies(project: Project, platform: Platform) -> None:
    import operator_iac as api
    from operator_iac.services.apply import apply

    copy = project()
    target = api.build_target(api.load_project(copy.project_file), "staging",
                              api_url=copy.emulator.url)
    with target.client() as client:
        planned = api.make_plan(target, client, smoke=False)
        assert planned.plan.summary().create == 4
        assert "Plan: 4 to create" in api.render_plan_text(planned.plan)
        assert "<details>" in api.render_plan_markdown(planned.plan)
        report = apply(planned, client, options=api.ApplyOptions(smoke=False))
        assert report.exit_code() == 0
        assert "4 applied" in api.render_apply_text(report)
        assert not api.make_plan(target, client, smoke=False).plan.has_changes
    assert sorted(platform.owners()) == sorted(KEYS)


def test_installed_entry_point_applies_the_example_with_its_emulator(project: Project) -> None:
    copy = project()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPERATOR_IAC_", "OPERATOR_API_KEY"))}
    done = subprocess.run(
        [sys.executable, "-m", "operator_iac", "--emulator", "apply", "--yes", "--no-smoke"],
        cwd=copy.root, env={**env, "NO_COLOR": "1"}, capture_output=True, text=True,
        timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "Apply complete: 4 applied, 0 not applied." in done.stdout
    assert "Started an in-process Operator emulator" in done.stderr
