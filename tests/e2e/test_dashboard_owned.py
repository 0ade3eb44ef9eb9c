"""Fields the dashboard owns: kept as the platform has them on every write, never drift, and
listed by the plan; validate checks the paths. Dashboard edits are made over plain HTTP."""

from __future__ import annotations

import json

import pytest

from .conftest import Platform, ProjectCopy
from .dashboard import Dashboard, append_to_prompt

EDIT = "Greet returning customers by name."
OWN_PROMPT = "dashboard_owned: [config.runtime.prompt.text]\n"


@pytest.fixture
def dashboard(applied: ProjectCopy) -> Dashboard:
    return Dashboard(applied.emulator)


def own(copy: ProjectCopy, text: str = OWN_PROMPT, key: str = "support-triage") -> None:
    copy.replace_in(f"{key}.yaml", "postprocess_agents:", f"{text}postprocess_agents:")


def test_an_owned_prompt_edited_in_the_dashboard_is_kept_and_never_drift(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard) -> None:
    agent_id = platform.id_of("support-triage")
    own(applied)
    assert applied.apply().exit_code == 0  # records that the prompt is not written any more
    dashboard.edit_and_release(agent_id, append_to_prompt(EDIT))

    plan = applied.plan("--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout
    assert "changed outside operator-iac" not in plan.stdout
    assert "Owned by the dashboard (written as the platform holds them, never drift): " \
           "support-triage (config.runtime.prompt.text)." in plan.stdout
    assert applied.run("status").exit_code == 0

    # A change from git is applied, and the dashboard's prompt stays.
    applied.replace_in("support-triage.yaml", "model: anthropic/claude-3-5-sonnet",
                       "model: openai/gpt-4.1")
    changed = applied.plan()
    assert "config.runtime.model" in changed.stdout
    assert "prompt" not in changed.stdout.split("~ support-triage")[1].split("\n\n")[0]
    assert applied.apply().exit_code == 0
    released = platform.released(agent_id)
    assert released.config["runtime"]["model"] == "openai/gpt-4.1"
    assert EDIT in released.config["runtime"]["prompt"]["text"]
    assert applied.plan("--detailed-exitcode").exit_code == 0


def test_an_environment_hands_a_field_to_its_dashboard(
        applied: ProjectCopy, platform: Platform, dashboard: Dashboard) -> None:
    applied.replace_in("../operator-iac.yaml", "    api_key_env: OPERATOR_API_KEY_STAGING\n",
                       "    api_key_env: OPERATOR_API_KEY_STAGING\n"
                       "    dashboard_owned: {support-triage: [description]}\n")
    agent_id = platform.id_of("support-triage")
    assert applied.apply().exit_code == 0
    dashboard.edit_and_release(agent_id, lambda body: body.update(
        description=body["description"].replace("First line", "The first line")))
    applied.replace_in("support-triage.yaml", "model: anthropic/claude-3-5-sonnet",
                       "model: openai/gpt-4.1")

    data = json.loads(applied.plan("--format", "json").stdout)
    resource = next(r for r in data["resources"] if r["key"] == "support-triage")

    assert resource["dashboard_owned"] == ["description"]
    assert [c["path"] for c in resource["changes"]] == ["config.runtime.model"]
    assert resource["drift"] is False
    assert applied.apply().exit_code == 0
    released = platform.released(agent_id)
    assert released.description.startswith("The first line of Acme's website chat")
    assert platform.marker(agent_id) is not None  # the marker is still written


def test_a_new_agent_gets_the_declared_value_of_an_owned_field(
        project: object, platform: Platform) -> None:
    copy = project()  # type: ignore[operator]
    own(copy)
    plan = copy.plan()
    assert "config.runtime.prompt.text" in plan.stdout  # shown: it is written on create
    assert copy.apply().exit_code == 0
    released = platform.released(platform.id_of("support-triage"))
    assert released.config["runtime"]["prompt"]["text"].startswith("You are Sam")
    assert copy.plan("--detailed-exitcode").exit_code == 0


def test_validate_checks_owned_paths_against_the_shape_of_agent_files(
        project: object) -> None:
    copy = project()  # type: ignore[operator]
    own(copy, "dashboard_owned:\n  - config.runtime.promt.text\n  - config.tool.tools[nam=x]\n")
    copy.replace_in("../operator-iac.yaml", "    protect: true\n",
                    "    protect: true\n    dashboard_owned: {support-triag: [name]}\n")

    result = copy.run("validate")

    assert result.exit_code == 3
    out = result.stdout + result.stderr
    assert "support-triage.yaml:" in out
    assert "no field 'promt'; did you mean 'prompt'?" in out
    assert "the items of tools have no field 'nam'; did you mean 'name'?" in out
    assert "dashboard_owned names 'support-triag', which is not a declared agent; did you " \
           "mean 'support-triage'?" in out
