"""``import`` against the emulator through the real CLI: agents built "in the dashboard" (through
the API client) become agent files that validate, that the next plan shows as adoptions without
field changes, and that converge after ``apply --adopt``. Bad requests exit 3 and write nothing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.plan.marker import Marker, parse_marker, with_marker

from .conftest import KEYS, Platform, ProjectCopy

LONG_PROMPT = "\n".join(f"Rule {n}: help the customer; use @lookup_order for order questions."
                        for n in range(10)) + "\n"
# A hand-written agent file that happens to use the key an import derives.
MINE = ("kind: conversational_agent\nname: Mine\n"
        "config:\n  runtime:\n    model: openai/gpt-4o\n    prompt: {text: Hi.}\n")


class Result:
    exit_code: int
    stdout: str
    stderr: str


@dataclass
class Dashboard:
    """The emulator's agents as a dashboard user makes them: created and released by hand."""

    client: OperatorClient

    def procedural(self, name: str, *, release: bool = True, description: str = "",
                   post_url: str | None = None) -> str:
        config = {"filter_statuses": ["completed"], "filter_condition": None,
                  "runtime": {"model": "openai/gpt-4o-mini", "reasoning_effort": "medium",
                              "prompt": {"type": "fixed", "text": "Summarise the call."}},
                  "output": {"output_schema": {"type": "object",
                                               "properties": {"summary": {"type": "string"}}},
                             "slack_channel": None, "post_url": post_url}}
        return self._make(self.client.procedural_agents, release, name=name,
                          description=description or f"{name}, made in the dashboard.",
                          config=config)

    def conversational(self, name: str, *, release: bool = True, prompt: str = "Hello.",
                       postprocess: list[str] | None = None, transfers: tuple[str, ...] = (),
                       description: str = "") -> str:
        config = {"personas": [{"name": "Sam", "voice": {"provider": "operator",
                                                         "id": "Male 1"}}],
                  "voice": {"ambient_sound": None, "boosted_keywords": []},
                  "runtime": {"model": "openai/gpt-4o", "temperature": 0.4,
                              "prompt": {"type": "fixed", "text": prompt}},
                  "tool": {"tools": [{"ns": "acme", "name": "lookup_order"}],
                           "transfers": [{"entity_id": t} for t in transfers]},
                  "channel": {"is_voicemail_enabled": False, "is_sms_enabled": True}}
        return self._make(self.client.conversational_agents, release, name=name,
                          description=description or f"{name}, made in the dashboard.",
                          config=config, postprocess_agents=postprocess or [])

    def _make(self, resource: Any, release: bool, **body: Any) -> str:
        created = resource.create(**body)
        if release:
            resource.release(created.version_id)
        return str(created.id)


@dataclass
class NewProject:
    """A project with no agent files yet, whose staging environment is the emulator."""

    root: Path
    cli: Callable[..., Result]

    @property
    def agents_dir(self) -> Path:
        return self.root / "agents"

    def run(self, *args: str) -> Result:
        return self.cli("--project-file", str(self.root / "operator-iac.yaml"), "--env",
                        "staging", "--no-color", *args)

    def files(self) -> list[str]:
        if not self.agents_dir.exists():
            return []
        return sorted(str(p.relative_to(self.agents_dir)) for p in self.agents_dir.rglob("*")
                      if p.is_file())

    def plan_json(self, *args: str) -> dict[str, Any]:
        result = self.run("plan", "--format", "json", *args)
        assert result.exit_code == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data


@pytest.fixture
def dashboard(emulator: Any) -> Iterator[Dashboard]:
    with OperatorClient(emulator.url, emulator.api_key) as client:
        yield Dashboard(client)


@pytest.fixture
def new_project(tmp_path: Path, emulator: Any, cli: Callable[..., Result],
                monkeypatch: pytest.MonkeyPatch) -> NewProject:
    (tmp_path / "operator-iac.yaml").write_text(
        "project: acme-support\nenvironments:\n  staging:\n"
        f"    api_url: {emulator.url}\n    api_key_env: OPERATOR_API_KEY_STAGING\n",
        encoding="utf-8")
    monkeypatch.setenv("OPERATOR_API_KEY_STAGING", emulator.api_key)
    monkeypatch.setenv("GIT_COMMIT", "0123456789abcdef")
    monkeypatch.chdir(tmp_path)
    return NewProject(tmp_path, cli)


def test_imported_agents_validate_plan_as_adoptions_and_converge(
        dashboard: Dashboard, new_project: NewProject) -> None:
    summary = dashboard.procedural("Call summary")
    billing = dashboard.conversational("Billing desk")
    dashboard.conversational("Support triage", prompt=LONG_PROMPT, postprocess=[summary],
                             transfers=(billing, "+15550100"))

    result = new_project.run("import", "--all")
    assert result.exit_code == 0, result.stderr
    assert "Imported 3 agents" in result.stdout
    assert "Next: operator-iac plan --env staging --adopt" in result.stdout
    assert new_project.files() == ["billing-desk.yaml", "call-summary.yaml",
                                   "prompts/support-triage.md", "support-triage.yaml"]
    triage = (new_project.agents_dir / "support-triage.yaml").read_text(encoding="utf-8")
    assert "file: prompts/support-triage.md" in triage
    assert "postprocess_agents: [call-summary]" in triage
    assert "agent:billing-desk" in triage and "+15550100" in triage
    assert "temperature: 0.4" in triage  # kept under config.extra
    assert (new_project.agents_dir / "prompts" / "support-triage.md").read_text(
        encoding="utf-8") == LONG_PROMPT

    assert new_project.run("validate").exit_code == 0
    plan = new_project.plan_json()
    assert {r["key"]: r["action"] for r in plan["resources"]} == {
        "billing-desk": "adopt", "call-summary": "adopt", "support-triage": "adopt"}
    assert all(r["changes"] == [] for r in plan["resources"])
    assert new_project.run("apply", "--adopt", "--yes", "--no-smoke").exit_code == 0
    assert new_project.run("plan", "--detailed-exitcode").exit_code == 0


def test_an_agent_named_by_id_brings_what_it_runs_and_an_unreleased_one_its_draft(
        dashboard: Dashboard, new_project: NewProject) -> None:
    summary = dashboard.procedural("Call summary")
    triage = dashboard.conversational("Support triage", postprocess=[summary], release=False)
    dashboard.procedural("Unrelated")

    result = new_project.run("import", triage)
    assert result.exit_code == 0, result.stderr
    assert f"{triage}@v0" in result.stdout and f"run by {triage}" in result.stdout
    assert new_project.files() == ["call-summary.yaml", "support-triage.yaml"]
    assert new_project.run("validate").exit_code == 0


@pytest.mark.parametrize("spread", ["uneven_list_lag", "replica_lists"])
def test_agents_named_by_id_are_imported_before_the_agents_list_shows_them(
        dashboard: Dashboard, new_project: NewProject, emulator: Any, spread: str) -> None:
    # Lists that show new agents a minute late (each at a pace of its own, or from a
    # replica): made a moment ago in the dashboard, the agents are read by their ids.
    emulator.set_faults(list_lag=60.0)
    emulator.set_compat(spread)
    summary = dashboard.procedural("Call summary")
    triage = dashboard.conversational("Support triage", postprocess=[summary])

    result = new_project.run("import", triage)  # what it runs comes with it
    assert result.exit_code == 0, result.stderr
    assert f"run by {triage}" in result.stdout
    assert new_project.files() == ["call-summary.yaml", "support-triage.yaml"]
    assert new_project.run("validate").exit_code == 0
    missing = new_project.run("import", "ca_doesnotexist", "--force")
    assert missing.exit_code == 3 and "no agent with id ca_doesnotexist" in missing.stderr


def test_a_named_revision_is_imported_instead_of_the_released_one(
        dashboard: Dashboard, new_project: NewProject) -> None:
    agent_id = dashboard.conversational("Support triage", description="First words.")
    resource = dashboard.client.conversational_agents
    resource.release(resource.update(agent_id, description="Second words.").version_id or "")
    result = new_project.run("import", f"{agent_id}@v0")
    assert result.exit_code == 0, result.stderr
    text = (new_project.agents_dir / "support-triage.yaml").read_text(encoding="utf-8")
    assert "description: First words." in text
    missing = new_project.run("import", f"{agent_id}@v9", "--force")
    assert missing.exit_code == 3 and f"agent {agent_id} has no revision v9" in missing.stderr


def test_colliding_names_are_refused_and_nothing_is_written(
        dashboard: Dashboard, new_project: NewProject) -> None:
    first = dashboard.conversational("Support bot")
    second = dashboard.conversational("support-bot!")
    result = new_project.run("import", "--all")
    assert result.exit_code == 3
    assert "'support-bot'" in result.stderr
    assert first in result.stderr and second in result.stderr
    assert "'Support bot'" in result.stderr and "'support-bot!'" in result.stderr
    assert new_project.files() == []


def test_existing_files_are_kept_unless_forced_and_a_dry_run_writes_nothing(
        dashboard: Dashboard, new_project: NewProject) -> None:
    agent_id = dashboard.conversational("Support triage")
    dry = new_project.run("import", "--all", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "# ---- agents/support-triage.yaml ----" in dry.stdout
    assert "Would import 1 agent" in dry.stdout
    assert new_project.files() == []

    path = new_project.agents_dir / "support-triage.yaml"
    path.write_text(MINE, encoding="utf-8")
    refused = new_project.run("import", agent_id)
    assert refused.exit_code == 3
    assert "agents/support-triage.yaml already exists" in refused.stderr
    assert path.read_text(encoding="utf-8") == MINE
    forced = new_project.run("import", agent_id, "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "name: Support triage" in path.read_text(encoding="utf-8")


def test_agents_of_other_projects_are_never_taken(
        dashboard: Dashboard, new_project: NewProject) -> None:
    marker = Marker("another-project", "bot", "0123456789abcdef", None)
    theirs = dashboard.conversational("Their bot", description=with_marker("Theirs.", marker))
    dashboard.conversational("Our bot")
    result = new_project.run("import", "--all")
    assert result.exit_code == 0, result.stderr
    assert f"{theirs} 'Their bot': managed by project another-project" in result.stdout
    assert new_project.files() == ["our-bot.yaml"]
    refused = new_project.run("import", theirs)
    assert refused.exit_code == 3 and "another-project" in refused.stderr


def test_import_after_adoption_finds_nothing_new_and_restores_a_lost_file(
        dashboard: Dashboard, new_project: NewProject, emulator: Any) -> None:
    agent_id = dashboard.conversational("Support triage")
    assert new_project.run("import", "--all").exit_code == 0
    assert new_project.run("apply", "--adopt", "--yes", "--no-smoke").exit_code == 0
    again = new_project.run("import", "--all")
    assert again.exit_code == 0
    assert "already managed by this project as 'support-triage'" in again.stdout

    (new_project.agents_dir / "support-triage.yaml").unlink()
    restored = new_project.run("import", agent_id)
    assert restored.exit_code == 0, restored.stderr
    assert "Next: operator-iac plan --env staging\n" in restored.stdout  # nothing to adopt
    text = (new_project.agents_dir / "support-triage.yaml").read_text(encoding="utf-8")
    assert parse_marker(text) is None  # the marker never reaches the file
    assert new_project.run("plan", "--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (("--all", "ca_x"), "not both"),
    ((), "name the agents to import by id, or pass --all"),
    (("ca_doesnotexist",), "no agent with id ca_doesnotexist"),
])
def test_bad_requests_exit_3(new_project: NewProject, args: tuple[str, ...],
                             message: str) -> None:
    result = new_project.run("import", *args)
    assert result.exit_code == 3
    assert message in result.stderr


def test_lost_files_of_the_example_project_are_restored_without_changes(
        applied: ProjectCopy, platform: Platform) -> None:
    """Every agent file (and prompt file) of the example project deleted after an apply:
    importing the agents by id writes declarations the plan finds unchanged."""
    shutil.rmtree(applied.agents_dir)
    applied.agents_dir.mkdir()
    text = applied.project_file.read_text(encoding="utf-8")
    # Overrides may name only declared agents; the overrides are not part of staging anyway.
    applied.project_file.write_text(text[:text.index("    overrides:")], encoding="utf-8")
    everything = applied.run("import", "--all")
    assert everything.exit_code == 0 and "Skipped 4 agents" in everything.stdout
    restored = applied.run("import", *platform.agent_ids())
    assert restored.exit_code == 0, restored.stderr
    assert sorted(p.name for p in applied.agents_dir.glob("*.yaml")) == [
        f"{key}.yaml" for key in sorted(KEYS)]
    plan = applied.plan("--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout
    assert "4 unchanged" in plan.stdout


def test_values_that_look_like_credentials_are_named_and_the_json_report_lists_them(
        dashboard: Dashboard, new_project: NewProject) -> None:
    """The token stays in the file (the plan must show no change), but every output names the
    place and suggests ${env:...}, and none repeats the value."""
    token = "tok_9f8e7d6c5b4a"
    dashboard.procedural("Call summary", post_url=f"https://hooks.example/calls?token={token}")
    dashboard.conversational("Front desk")

    result = new_project.run("import", "--all", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["written"] is True and report["valid"] is True
    agents = {agent["key"]: agent for agent in report["imported"]}
    assert set(agents) == {"call-summary", "front-desk"}
    assert agents["call-summary"]["credentials"] == [
        {"path": "config.output.post_url", "reason": "a token in the URL"}]
    assert agents["front-desk"]["credentials"] == []
    assert ("warning: agents/call-summary.yaml: config.output.post_url looks like a "
            "credential (a token in the URL); replace it with ${env:NAME}") in result.stderr
    assert token not in result.stderr and token not in json.dumps(agents["call-summary"])
    text = (new_project.agents_dir / "call-summary.yaml").read_text(encoding="utf-8")
    assert "#   config.output.post_url (a token in the URL)" in text
    assert all(r["changes"] == [] for r in new_project.plan_json("--adopt")["resources"])


def test_a_dry_run_in_json_carries_each_file_text_and_writes_nothing(
        dashboard: Dashboard, new_project: NewProject) -> None:
    dashboard.procedural("Call summary")
    result = new_project.run("import", "--all", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["written"] is False and new_project.files() == []
    [agent] = report["imported"]
    [file] = agent["files"]
    assert file["path"] == "agents/call-summary.yaml"
    assert "kind: procedural_agent" in file["text"]
