"""``operator-iac pull``: a dashboard edit becomes a change of the YAML. Comments, key order
and references stay where their value still matches; a secret is never written. Dashboard
edits are made over plain HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from operator_iac.emulator.server import EmulatorServer

from .conftest import Platform, ProjectCopy
from .dashboard import Dashboard, append_to_prompt, set_at

COMMENT = "# Sam is the name customers know from the website.\n"


@pytest.fixture
def dashboard(applied: ProjectCopy) -> Dashboard:
    return Dashboard(applied.emulator)


def add_tool(name: str) -> object:
    def change(body: dict[str, object]) -> None:
        tools = body["config"]["tool"]["tools"]  # type: ignore[index]
        tools.append({"ns": "acme", "name": name})  # type: ignore[union-attr]
    return change


def edit_triage(dashboard: Dashboard, agent_id: str) -> None:
    dashboard.edit(agent_id, set_at("runtime", "model", value="openai/gpt-4.1"))
    for change in (append_to_prompt("Offer the spring sale when it fits."), add_tool("refund")):
        dashboard.edit(agent_id, change, start_from="draft")  # type: ignore[arg-type]


def test_pull_writes_a_dashboard_edit_into_the_file_keeping_comments_and_references(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard) -> None:
    agent_id = platform.id_of("support-triage")
    applied.replace_in("support-triage.yaml", "  personas:\n", f"  {COMMENT}  personas:\n")
    before = applied.agent_file("support-triage").read_text(encoding="utf-8")
    edit_triage(dashboard, agent_id)
    dashboard.release(dashboard.revision(agent_id, "draft")["version_id"])
    assert "operator-iac pull support-triage" in applied.plan().stdout

    dry = applied.run("pull", "support-triage", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "-    model: anthropic/claude-3-5-sonnet\n+    model: openai/gpt-4.1" in dry.stdout
    assert "+        Offer the spring sale when it fits." in dry.stdout
    assert "+      - {ns: acme, name: refund}" in dry.stdout
    assert "Dry run: nothing was written." in dry.stdout
    assert applied.agent_file("support-triage").read_text(encoding="utf-8") == before

    result = applied.run("pull", "support-triage")

    assert result.exit_code == 0, result.stderr
    after = applied.agent_file("support-triage").read_text(encoding="utf-8")
    assert COMMENT in after  # comments and the rest of the file stay as written
    assert "${var:help_center_url}" in after  # an unchanged line keeps its reference
    assert after.splitlines()[:3] == before.splitlines()[:3]
    # The files now hold what the platform holds: nothing to write, nothing to pull again.
    plan = applied.plan("--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert "changed outside operator-iac" not in plan.stdout and "pull" not in plan.stdout
    assert applied.run("status").exit_code == 0


def test_pull_takes_a_draft_into_the_prompt_file_and_says_what_replaced_a_reference(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard) -> None:
    agent_id = platform.id_of("appointment-booking")
    dashboard.edit(agent_id, append_to_prompt("Always confirm by text message."))
    dashboard.edit(agent_id, set_at("tool", "transfers", value=[{"entity_id": "+15550999"}]),
                   start_from="draft")
    prompt = applied.agents_dir / "prompts" / "appointment-booking.md"

    result = applied.run("pull", "appointment-booking", "--draft")

    assert result.exit_code == 0, result.stderr
    assert prompt.read_text(encoding="utf-8").endswith("Always confirm by text message.\n")
    agent_file = applied.agent_file("appointment-booking").read_text(encoding="utf-8")
    assert "entity_id: '+15550999'" in agent_file
    assert "${var:support_queue}" in result.stdout  # the note about the reference now gone
    draft = platform.draft(agent_id)
    assert draft is not None and "into 2 files" in result.stdout
    assert draft.version_id in result.stdout


def test_a_secret_is_never_written_into_a_file(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADS_HOOK", "https://hooks.example/leads?token=CANARY-ONE")
    applied.declare_secrets("LEADS_HOOK")
    applied.replace_in("lead-qualification.yaml", "post_url: ${var:leads_webhook}",
                       "post_url: ${env:LEADS_HOOK}")
    assert applied.apply().exit_code == 0
    agent_id = platform.id_of("lead-qualification")
    dashboard.edit_and_release(agent_id, set_at("output", "post_url",
                                                value="https://hooks.example/?token=CANARY-TWO"))
    dashboard.edit_and_release(agent_id, set_at("runtime", "reasoning_effort", value="low"))
    # The dashboard also pastes the secret's value into the prompt.
    dashboard.edit_and_release(agent_id, append_to_prompt(
        "Post to https://hooks.example/leads?token=CANARY-ONE"))

    result = applied.run("pull", "lead-qualification")

    assert result.exit_code == 0, result.stderr
    text = applied.agent_file("lead-qualification").read_text(encoding="utf-8")
    assert "post_url: ${env:LEADS_HOOK}" in text and "reasoning_effort: low" in text
    assert "CANARY" not in text
    assert "CANARY" not in result.stdout + result.stderr
    assert "config.output.post_url: not pulled: the platform no longer holds the value of " \
           "${env:LEADS_HOOK} here" in result.stdout
    assert "config.runtime.prompt.text: not pulled: the platform's text holds the value of " \
           "a secret" in result.stdout
    data = json.loads(applied.run("pull", "lead-qualification", "--format", "json").stdout)
    assert data["agents"][0]["still_differs"] == ["config.output.post_url",
                                                  "config.runtime.prompt.text"]


def test_values_set_by_the_environment_are_listed_not_written(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard) -> None:
    # Production's queue is staging's here, so that only the override differs.
    applied.replace_in("../operator-iac.yaml", 'support_queue: "+15550199"',
                       'support_queue: "+15550100"')
    # Production, in the same account, gets agents of its own by promotion.
    assert applied.run("smoke").exit_code == 0  # what promote asks for: a passed run
    promoted = applied.run("promote", "--to", "production", "--yes")
    assert promoted.exit_code == 0, promoted.stdout + promoted.stderr
    agent_id = platform.id_of("appointment-booking", "production")
    dashboard.edit_and_release(agent_id, set_at("runtime", "model", value="openai/gpt-4.1"))
    before = applied.agent_file("appointment-booking").read_text(encoding="utf-8")

    result = applied.run("pull", "appointment-booking", "--env", "production")

    assert result.exit_code == 0, result.stderr
    assert "config.runtime.model: set by environments.production.overrides." \
           "appointment-booking in the project file: not changed" in result.stdout
    assert applied.agent_file("appointment-booking").read_text(encoding="utf-8") == before


def test_pull_refuses_what_it_cannot_take_and_writes_nothing(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard) -> None:
    agent_id = platform.id_of("support-triage")
    edit_triage(dashboard, agent_id)
    before = applied.agent_file("support-triage").read_text(encoding="utf-8")

    undeclared = applied.run("pull", "support-triage", "front-desk")
    no_draft = applied.run("pull", "support-triage", "call-summary", "--draft")

    assert undeclared.exit_code == 3 and "not declared: front-desk" in undeclared.stderr
    assert no_draft.exit_code == 3 and "'call-summary'" in no_draft.stderr
    assert "has no draft" in no_draft.stderr
    assert applied.agent_file("support-triage").read_text(encoding="utf-8") == before


def test_a_value_written_as_a_secret_stays_out_of_the_files_after_the_reference_went(
        applied: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADS_HOOK", "https://hooks.example/leads?token=CANARY-THREE")
    applied.declare_secrets("LEADS_HOOK")
    applied.replace_in("lead-qualification.yaml", "post_url: ${var:leads_webhook}",
                       "post_url: ${env:LEADS_HOOK}")
    assert applied.apply().exit_code == 0
    # The declaration goes back to a plain value; the platform still holds the secret.
    applied.replace_in("lead-qualification.yaml", "post_url: ${env:LEADS_HOOK}",
                       "post_url: ${var:leads_webhook}")
    monkeypatch.delenv("LEADS_HOOK")

    result = applied.run("pull", "lead-qualification")

    assert result.exit_code == 0, result.stderr
    assert "CANARY" not in applied.agent_file("lead-qualification").read_text(encoding="utf-8")
    assert "CANARY" not in result.stdout + result.stderr
    assert "config.output.post_url: not pulled: the platform's value holds the value of a " \
           "secret" in result.stdout


# ---- faithful and all-or-nothing ------------------------------------------------------------

STYLED = {  # spellings a round trip through a YAML library tends to change
    "  personas:\n    - name: Sam\n": "  personas: [{name: Sam}]\n",
    "        default_value: there\n":
        "        default_value: 'there'  # shown when the name is unknown\n",
    "  tool:\n": "  # Tools Sam may call; anything else is off.\n  tool:\n",
}


def dashboard_grows_triage(body: dict[str, object]) -> None:
    """A new variable (the list before a comment that introduces the next key), a new
    tool and another model, as a dashboard user would add them."""
    config = body["config"]
    runtime = config["runtime"]  # type: ignore[index]
    runtime["model"] = "openai/gpt-4.1"  # type: ignore[index]
    runtime["variables"].append(  # type: ignore[index]
        {"name": "order_number", "description": "The order in question.",
         "default_value": None})
    config["tool"]["tools"].append({"ns": "acme", "name": "refund"})  # type: ignore[index]


def test_pull_changes_only_the_lines_of_changed_values(
        project: Callable[..., ProjectCopy], platform: Platform) -> None:
    """Unchanged values keep their spelling byte for byte (flow styles, quoting, end-of-line
    comments); a comment that introduces the next key stays before it, with the new list item
    above it; and the file then says exactly what the platform holds."""
    copy = project()
    for old, new in STYLED.items():
        copy.replace_in("support-triage.yaml", old, new)
    assert copy.apply().exit_code == 0
    before = copy.agent_file("support-triage").read_text(encoding="utf-8")
    Dashboard(copy.emulator).edit_and_release(platform.id_of("support-triage"),
                                              dashboard_grows_triage)

    result = copy.run("pull", "support-triage")

    assert result.exit_code == 0, result.stderr
    expected = before.replace(
        "    model: anthropic/claude-3-5-sonnet\n", "    model: openai/gpt-4.1\n").replace(
        "  # Tools Sam may call", "      - name: order_number\n        description: The order "
        "in question.\n        default_value:\n  # Tools Sam may call").replace(
        "      - {ns: acme, name: create_ticket}\n",
        "      - {ns: acme, name: create_ticket}\n      - {ns: acme, name: refund}\n")
    assert copy.agent_file("support-triage").read_text(encoding="utf-8") == expected
    again = json.loads(copy.run("pull", "support-triage", "--format", "json").stdout)
    assert again["agents"][0]["files"] == [] and again["agents"][0]["still_differs"] == []
    plan = json.loads(copy.plan("--format", "json").stdout)
    triage = next(r for r in plan["resources"] if r["key"] == "support-triage")
    assert triage["changes"] == [] and triage["drift"] is False


def test_a_reference_to_an_agent_no_longer_declared_is_reported_not_written(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard) -> None:
    """call-summary's file is being removed: the platform still runs it after
    appointment-booking, and pull says so instead of writing its id."""
    summary_id = platform.id_of("call-summary")
    applied.replace_in("appointment-booking.yaml", "postprocess_agents: [call-summary]",
                       "postprocess_agents: []")
    applied.remove_agent("call-summary")
    booking = platform.id_of("appointment-booking")
    dashboard.edit_and_release(booking, set_at("runtime", "model", value="openai/gpt-4.1"))

    result = applied.run("pull", "appointment-booking")

    assert result.exit_code == 0, result.stderr
    text = applied.agent_file("appointment-booking").read_text(encoding="utf-8")
    assert "model: openai/gpt-4.1" in text and "postprocess_agents: []" in text
    assert summary_id not in text
    assert f"postprocess_agents: not pulled: {summary_id} runs after this agent's " \
           "conversations" in result.stdout
    assert applied.run("validate").exit_code == 0


def test_pull_writes_nothing_when_any_file_would_be_invalid(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard) -> None:
    """lead-qualification's file is being removed along with the reference in the triage
    prompt; pulling triage would bring the platform's prompt back, which names the removed
    agent: exit 3, and no file (not even the other agent's) is written."""
    applied.replace_in("support-triage.yaml", "        @lead-qualification.\n",
                       "        the sales team.\n")
    applied.replace_in("support-triage.yaml", "postprocess_agents: [lead-qualification]",
                       "postprocess_agents: []")
    applied.remove_agent("lead-qualification")
    for key in ("support-triage", "appointment-booking"):
        dashboard.edit_and_release(platform.id_of(key),
                                   set_at("runtime", "model", value="openai/gpt-4.1"))
    files = sorted(applied.agents_dir.rglob("*"))
    before = {path: path.read_bytes() for path in files if path.is_file()}

    result = applied.run("pull", "appointment-booking", "support-triage")

    assert result.exit_code == 3, result.stdout + result.stderr
    assert "no file was written" in result.stderr
    assert "agents/support-triage.yaml" in result.stderr and "@lead-qualification" in \
        result.stderr
    assert sorted(applied.agents_dir.rglob("*")) == files
    assert {path: path.read_bytes() for path in files if path.is_file()} == before
    assert applied.run("validate").exit_code == 0


@pytest.mark.parametrize("modes", [["dated_models", "sorted_lists"], ["trim_text", "nfc_text"]])
def test_values_the_platform_stores_in_its_own_form_stay_as_the_file_says(
        project: Callable[..., ProjectCopy], emulator: EmulatorServer,
        modes: list[str]) -> None:
    """A platform that stores a model alias as its snapshot, sorts a list, trims or
    normalises text: the marker records those forms when operator-iac writes, the plan
    compares through them, and so does pull. Pulling an agent the platform holds as written
    changes no file, and the next plan is empty."""
    emulator.set_faults(compat=modes)
    copy = project()
    assert copy.apply().exit_code == 0
    files = {path: path.read_text(encoding="utf-8") for path in copy.agents_dir.rglob("*")
             if path.is_file()}

    pulled = copy.run("pull", "appointment-booking", "support-triage")

    assert pulled.exit_code == 0, pulled.stdout + pulled.stderr
    assert {path: path.read_text(encoding="utf-8") for path in files} == files
    plan = copy.plan("--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
