"""Two emulators standing for staging and production, and a copy of the example project whose
environments point at them (``api_url`` in the project file, one API key variable each).

Tests drive the real CLI on the copy (``Environments.run``) and look at either platform the
way a third party does (``Environments.platform(name)``: the API client, plus the emulator's
test controls for dashboard edits and faults).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.api.models import Agent, VersionEntry
from operator_iac.emulator.server import EmulatorServer
from operator_iac.plan.marker import Marker, parse_marker
from operator_iac.services.provenance import COMMIT_VARIABLES

from .conftest import WRITE_METHODS, Cli, Result

REPO = Path(__file__).resolve().parents[2]
PROJECT = "acme-support"
COMMIT = "0123456789abcdef"
KEY_VARIABLES = {"staging": "OPERATOR_API_KEY_STAGING", "production": "OPERATOR_API_KEY"}


@dataclass
class Platform:
    """One emulator as a third party sees it."""

    emulator: EmulatorServer
    client: OperatorClient

    def _agents(self, agent_id: str) -> Any:
        return self.client.conversational_agents if agent_id.startswith("ca_") \
            else self.client.procedural_agents

    def owned(self, environment: str | None = None) -> dict[str, str]:
        """key -> agent id for every agent carrying this project's marker (whose newest
        marker names ``environment``, when given)."""
        return {key: ids[-1] for key, ids in self.claims(environment).items()}

    def claims(self, environment: str | None = None) -> dict[str, list[str]]:
        """key -> ids of every agent whose newest marker of this project names the key (and
        ``environment``, when given)."""
        found: dict[str, list[str]] = {}
        for resource in (self.client.conversational_agents, self.client.procedural_agents):
            for summary in resource.list():
                markers = [parse_marker(v.description)
                           for v in resource.list_versions(summary.id)]
                ours = [m for m in markers if m is not None and m.project == PROJECT]
                if ours and (environment is None or ours[-1].environment == environment):
                    found.setdefault(ours[-1].key, []).append(summary.id)
        return found

    def id_of(self, key: str, environment: str | None = None) -> str:
        return self.owned(environment)[key]

    def versions(self, agent_id: str) -> list[VersionEntry]:
        result: list[VersionEntry] = self._agents(agent_id).list_versions(agent_id)
        return result

    def released(self, agent_id: str) -> Agent:
        entry = next(v for v in self.versions(agent_id) if v.status == "released")
        agent: Agent = self._agents(agent_id).get(entry.version_id)
        return agent

    def marker(self, agent_id: str) -> Marker | None:
        return parse_marker(self.released(agent_id).description)

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.emulator.requests
                if r.method in WRITE_METHODS]


@dataclass
class Environments:
    """The example project with staging and production on two emulators."""

    root: Path
    cli: Cli
    platforms: dict[str, Platform] = field(default_factory=dict)

    @property
    def project_file(self) -> Path:
        return self.root / "operator-iac.yaml"

    def platform(self, name: str) -> Platform:
        return self.platforms[name]

    def run(self, *args: str) -> Result:
        return self.cli("--project-file", str(self.project_file), "--no-color", *args)

    def ok(self, *args: str) -> str:
        """``run``, which must succeed: what it said (stdout, then stderr)."""
        result = self.run(*args)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result.stdout + result.stderr

    def apply_staging(self, *args: str) -> Result:
        return self.run("apply", "--env", "staging", "--yes", *args)

    def promote(self, *args: str) -> Result:
        return self.run("promote", "--from", "staging", "--to", "production", *args)

    def replace_in(self, relative: str, old: str, new: str) -> None:
        """Replace text once in a file of the project (``agents/...`` or the project file)."""
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in {relative}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def change_prompt(self, line: str = "Always confirm by text message as well.") -> None:
        self.replace_in("agents/prompts/appointment-booking.md", "# Ending the call",
                        f"{line}\n\n# Ending the call")

    def break_smoke_tests(self, key: str = "appointment-booking") -> None:
        """Make the agent's first smoke test expect a greeting it never gets. Smoke tests are
        not part of the content, so the declared content stays the same."""
        self.replace_in(f"agents/{key}.yaml", "agent_says: {contains: Amanda}",
                        "agent_says: {contains: Nobody-like-this}")


def make_environments(tmp_path: Path, emulator_factory: Callable[..., EmulatorServer],
                      cli: Cli, monkeypatch: pytest.MonkeyPatch,
                      stack: ExitStack, *, shared: bool = False) -> Environments:
    """Copy the example project into ``tmp_path`` and point staging and production at two
    fresh emulators, or (``shared``) both at one emulator with one API key, as teams that keep
    both environments in one account do (the project file is edited as text: PyYAML would
    turn ``on:`` into a boolean)."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "operator-iac.yaml", root / "operator-iac.yaml")
    shutil.copytree(REPO / "agents", root / "agents")
    envs = Environments(root, cli)
    one = emulator_factory() if shared else None
    servers = {name: one or emulator_factory() for name in KEY_VARIABLES}
    envs.replace_in("operator-iac.yaml", "api_url: https://api.operator.xyz",
                    f"api_url: {servers['staging'].url}")
    envs.replace_in("operator-iac.yaml", "  production:\n",
                    f"  production:\n    api_url: {servers['production'].url}\n")
    for name, server in servers.items():
        monkeypatch.setenv(KEY_VARIABLES[name], server.api_key)
        client = stack.enter_context(OperatorClient(server.url, server.api_key))
        envs.platforms[name] = Platform(server, client)
    for variable in COMMIT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("GIT_COMMIT", COMMIT)
    monkeypatch.chdir(root)
    return envs


@pytest.fixture
def environments(tmp_path: Path, emulator_factory: Callable[..., EmulatorServer], cli: Cli,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Environments]:
    """Import this fixture into a test module to use it."""
    with ExitStack() as stack:
        yield make_environments(tmp_path, emulator_factory, cli, monkeypatch, stack)


@pytest.fixture
def shared_account(tmp_path: Path, emulator_factory: Callable[..., EmulatorServer], cli: Cli,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[Environments]:
    """Staging and production in one account: one emulator, one API key for both."""
    with ExitStack() as stack:
        yield make_environments(tmp_path, emulator_factory, cli, monkeypatch, stack,
                                shared=True)
