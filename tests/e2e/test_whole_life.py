"""The whole life of an agent, through the real CLI, against two emulators standing for staging
and production: built in the dashboard, imported, changed, planned (Markdown), applied to
staging with smoke tests, promoted to production, checked with status, edited in the
production dashboard (status exits 2), and rolled back. The README walks the same commands.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.plan.marker import parse_marker

KEY = "front-desk"
PROMPT = "\n".join([
    "You are Sam, the front desk of Acme's online shop.",
    "Greet the customer by saying who you are.",
    "When a customer asks about an order, use @lookup_order with the order number.",
    "Tell them plainly where the parcel is and when it should arrive.",
    "If the order cannot be found, ask them to check the number once more.",
    "Keep every answer short: two sentences at most.",
    "Never promise refunds; the support team decides those.",
    "End the conversation politely when the customer says goodbye.",
    "Do not ask for passwords or card numbers.",
]) + "\n"
NEW_PROMPT_LINE = "Mention the free returns within 30 days when a parcel arrived damaged."
SMOKE_TESTS = """
smoke:
  - name: greets and looks up an order
    turns:
      - expect:
          - agent_says: {contains: Sam}
      - user: Where is my parcel? Please lookup_order AC-104233.
        expect:
          - tool_called: {name: lookup_order}
    expect:
      - no_server_errors
      - ended_with_status: completed
"""


class Result:
    exit_code: int
    stdout: str
    stderr: str


@dataclass
class World:
    """Staging and production platforms, their dashboards, and a project pointed at both."""

    root: Path
    staging: OperatorClient
    production: OperatorClient
    cli: Callable[..., Result]

    def run(self, *args: str, expect: int = 0) -> Result:
        result = self.cli("--no-color", *args)
        assert result.exit_code == expect, (args, result.stdout, result.stderr)
        return result

    def released(self, client: OperatorClient, agent_id: str) -> str:
        versions = client.conversational_agents.list_versions(agent_id)
        return next(v.version_id for v in versions if v.status == "released")

    def owned_id(self, client: OperatorClient, key: str) -> str:
        for summary in client.conversational_agents.list():
            marker = parse_marker(summary.description)
            if marker is not None and marker.key == key:
                return summary.id
        raise AssertionError(f"no agent carries the marker of {key!r}")


@pytest.fixture
def world(emulator_factory: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result],
          monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    staging, production = emulator_factory(), emulator_factory()
    (tmp_path / "operator-iac.yaml").write_text(
        "project: acme-shop\n"
        "environments:\n"
        f"  staging:\n    api_url: {staging.url}\n    api_key_env: OPERATOR_API_KEY_STAGING\n"
        f"  production:\n    api_url: {production.url}\n    api_key_env: OPERATOR_API_KEY\n"
        "    protect: true\n    promote_from: staging\n", encoding="utf-8")
    monkeypatch.setenv("OPERATOR_API_KEY_STAGING", staging.api_key)
    monkeypatch.setenv("OPERATOR_API_KEY", production.api_key)
    monkeypatch.setenv("GIT_COMMIT", "0123456789abcdef")
    monkeypatch.chdir(tmp_path)
    with OperatorClient(staging.url, staging.api_key) as staging_client, \
            OperatorClient(production.url, production.api_key) as production_client:
        yield World(tmp_path, staging_client, production_client, cli)


def build_in_dashboard(client: OperatorClient) -> str:
    """A chat agent and the procedural agent it runs, made and released by hand."""
    summary = client.procedural_agents.create(
        name="Call summary", description="Summarises each chat for the support team.",
        config={"filter_statuses": ["completed"],
                "runtime": {"model": "openai/gpt-4o-mini", "reasoning_effort": "low",
                            "prompt": {"type": "fixed", "text": "Summarise the chat."}},
                "output": {"output_schema": {"type": "object",
                                             "properties": {"summary": {"type": "string"}}}}})
    client.procedural_agents.release(summary.version_id or f"{summary.id}@v0")
    desk = client.conversational_agents.create(
        name="Front desk", description="Answers order questions in the shop's chat.",
        config={"personas": [{"name": "Sam"}],
                "runtime": {"model": "openai/gpt-4o", "prompt": {"type": "fixed",
                                                                 "text": PROMPT}},
                "tool": {"tools": [{"ns": "acme", "name": "lookup_order"}]}},
        postprocess_agents=[summary.id])
    client.conversational_agents.release(desk.version_id or f"{desk.id}@v0")
    return desk.id


def change_declarations(root: Path) -> None:
    """The change under review: a new prompt line, and smoke tests for the agent."""
    prompt = root / "agents" / "prompts" / f"{KEY}.md"
    prompt.write_text(prompt.read_text(encoding="utf-8") + NEW_PROMPT_LINE + "\n",
                      encoding="utf-8")
    agent = root / "agents" / f"{KEY}.yaml"
    agent.write_text(agent.read_text(encoding="utf-8") + SMOKE_TESTS, encoding="utf-8")


def edit_in_dashboard(client: OperatorClient, agent_id: str) -> None:
    """Someone changes the model in production's dashboard and releases it."""
    current = client.conversational_agents.get(agent_id)
    config = {**current.config, "runtime": {**current.config["runtime"],
                                            "model": "openai/gpt-4o-mini"}}
    draft = client.conversational_agents.update(agent_id, config=config)
    client.conversational_agents.release(draft.version_id or agent_id)


def test_the_whole_life_of_an_agent(world: World) -> None:
    staging_id = build_in_dashboard(world.staging)

    # Adopt what the dashboard built.
    imported = world.run("import", "--env", "staging", "--all")
    assert "Imported 2 agents" in imported.stdout
    world.run("validate")
    plan = json.loads(world.run("plan", "--env", "staging", "--format", "json").stdout)
    assert [(r["key"], r["action"], r["changes"]) for r in plan["resources"]] == [
        ("call-summary", "adopt", []), (KEY, "adopt", [])]

    # Change it, review the plan, apply to staging with smoke tests.
    change_declarations(world.root)
    review = world.run("plan", "--env", "staging", "--adopt", "--format", "markdown")
    assert (f"| `front-desk` | Front desk | `{staging_id}` | conversational | adopt | 1 |"
            in review.stdout)
    assert f"+{NEW_PROMPT_LINE}" in review.stdout and "<details>" in review.stdout
    applied = world.run("apply", "--env", "staging", "--adopt", "--yes")
    assert "smoke tests passed on released" in applied.stderr
    assert parse_marker(world.staging.conversational_agents.get(
        world.released(world.staging, staging_id)).description) is not None

    # Promote exactly that to production, and find it in sync.
    promoted = world.run("promote", "--from", "staging", "--to", "production", "--yes")
    assert "smoke tests passed on released" in promoted.stderr
    production_id = world.owned_id(world.production, KEY)
    first_release = world.released(world.production, production_id)
    world.run("status", "--env", "production")

    # A dashboard edit in production is drift; rollback restores the previous revision.
    edit_in_dashboard(world.production, production_id)
    drift = world.run("status", "--env", "production", expect=2)
    assert "CHANGED OUTSIDE OPERATOR-IAC" in drift.stdout
    history = world.run("history", KEY, "--env", "production")
    assert re.search(r"^v1\s+released", history.stdout, re.MULTILINE), history.stdout
    assert re.search(r"^v0\s+archived", history.stdout, re.MULTILINE)
    rolled_back = world.run("rollback", KEY, "--env", "production", "--yes")
    assert f"{first_release} is released" in rolled_back.stdout
    assert "Smoke tests passed" in rolled_back.stdout
    assert world.released(world.production, production_id) == first_release
    world.run("status", "--env", "production")
