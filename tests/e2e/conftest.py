"""Fixtures for the plan and apply end-to-end tests: a copy of the example project pointed at
an emulator, and a view of the emulator's agents as a third party (a dashboard user, another
CI job) sees them through the API client.

``project()`` copies the repository's ``operator-iac.yaml`` and ``agents/`` into ``tmp_path``,
sets the API key variable of every environment to the emulator's key, and runs the real CLI
on the copy (``--project-file``, ``--api-url``). ``platform`` reads and writes the emulator
the way someone outside operator-iac would.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest
import yaml

from operator_iac.api.client import OperatorClient
from operator_iac.api.models import Agent, AgentSummary, VersionEntry
from operator_iac.plan.marker import Marker, parse_marker
from operator_iac.services.provenance import COMMIT_VARIABLES

if TYPE_CHECKING:
    from operator_iac.emulator.server import EmulatorServer
    from operator_iac.plan.model import PlanOptions
    from operator_iac.services.plan import PlannedRun
    from operator_iac.services.target import Target

REPO = Path(__file__).resolve().parents[2]
PROJECT_NAME = "acme-support"
# A fixed commit, so markers do not depend on where the suite runs.
COMMIT = "0123456789abcdef0123"
KEYS = ("appointment-booking", "call-summary", "lead-qualification", "support-triage")
PROCEDURAL_KEYS = ("call-summary", "lead-qualification")

_KINDS = ("conversational_agents", "procedural_agents")
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


class Result(Protocol):
    """What the ``cli`` fixture returns."""

    exit_code: int
    stdout: str
    stderr: str


Cli = Callable[..., Result]


@dataclass
class ProjectCopy:
    """The example project in a temporary directory, driven through the real CLI."""

    root: Path
    emulator: EmulatorServer
    cli: Cli
    env: str = "staging"

    @property
    def project_file(self) -> Path:
        return self.root / "operator-iac.yaml"

    @property
    def agents_dir(self) -> Path:
        return self.root / "agents"

    def run(self, *args: str) -> Result:
        """``operator-iac`` on this project and the emulator (global options first)."""
        return self.cli("--project-file", str(self.project_file), "--api-url",
                        self.emulator.url, "--env", self.env, "--no-color", *args)

    def command(self, *args: str) -> list[str]:
        """The command line of ``run``'s command as its own process of the installed entry
        point (for kills, races and what a whole process does)."""
        installed = Path(sys.executable).with_name("operator-iac")
        entry = [str(installed)] if installed.exists() else [sys.executable, "-m",
                                                             "operator_iac"]
        return [*entry, "--project-file", str(self.project_file), "--api-url",
                self.emulator.url, "--env", self.env, "--no-color", *args]

    def plan(self, *args: str) -> Result:
        return self.run("plan", *args)

    def apply(self, *args: str) -> Result:
        """``apply --yes --no-smoke`` (smoke tests are exercised elsewhere)."""
        return self.run("apply", "--yes", "--no-smoke", *args)

    # ---- editing the declarations --------------------------------------------------------

    def agent_file(self, key: str) -> Path:
        return self.agents_dir / f"{key}.yaml"

    def replace_in(self, relative: str, old: str, new: str) -> None:
        """Replace text in a file of the agents directory (an agent or a prompt file)."""
        path = self.agents_dir / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in {relative}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def edit_project_file(self, old: str, new: str) -> None:
        """Replace text in the project file (it must be there)."""
        text = self.project_file.read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in {self.project_file.name}"
        self.project_file.write_text(text.replace(old, new, 1), encoding="utf-8")

    def remove_agent(self, key: str) -> None:
        self.agent_file(key).unlink()

    def declare_secrets(self, *names: str) -> None:
        """Add ``names`` to the project file's top-level ``secrets`` (placed before
        ``environments``, which text is appended to)."""
        text = self.project_file.read_text(encoding="utf-8")
        declared = yaml.safe_load(text).get("secrets") or []
        line = f"secrets: {json.dumps(list(dict.fromkeys([*declared, *names])))}\n"
        if declared:
            text = "".join(line if row.startswith("secrets:") else row
                           for row in text.splitlines(keepends=True))
        else:
            text = text.replace("\nenvironments:", f"\n{line}environments:", 1)
        self.project_file.write_text(text, encoding="utf-8")

    def append_to_project_file(self, text: str) -> None:
        with self.project_file.open("a", encoding="utf-8") as handle:
            handle.write(text)

    # ---- the Python API on the same project ----------------------------------------------

    def target(self) -> Target:
        from operator_iac.services.target import build_target
        from operator_iac.spec.project import load_project

        return build_target(load_project(self.project_file), self.env,
                            api_url=self.emulator.url)

    def make_plan(self, client: OperatorClient, options: PlanOptions | None = None,
                  ) -> PlannedRun:
        from operator_iac.services.plan import make_plan

        return make_plan(self.target(), client, options=options, smoke=False)


@dataclass
class Platform:
    """The emulator's agents as seen (and edited) through the API by a third party."""

    client: OperatorClient
    emulator: EmulatorServer

    def summaries(self) -> list[tuple[str, AgentSummary]]:
        return [(kind, s) for kind in _KINDS for s in self._kind(kind).list()]

    def agent_ids(self) -> list[str]:
        return sorted(s.id for _, s in self.summaries())

    def owners(self, environment: str | None = None) -> dict[str, list[str]]:
        """key -> ids of the agents whose versions carry this project's marker for it (and,
        when given, whose newest marker names ``environment``)."""
        return self.owners_of(PROJECT_NAME, environment)

    def owners_of(self, project: str,
                  environment: str | None = None) -> dict[str, list[str]]:
        """key -> ids of the agents whose versions carry ``project``'s marker for it."""
        owners: dict[str, list[str]] = {}
        for kind, summary in self.summaries():
            found = [m for m in self._markers(kind, summary.id) if m.project == project]
            if environment is not None and (not found or found[-1].environment != environment):
                continue
            for key in {m.key for m in found}:
                owners.setdefault(key, []).append(summary.id)
        return owners

    def id_of(self, key: str, environment: str | None = None) -> str:
        ids = self.owners(environment).get(key, [])
        assert len(ids) == 1, f"{key}: {ids}"
        return ids[0]

    def versions(self, agent_id: str) -> list[VersionEntry]:
        return self._for(agent_id).list_versions(agent_id)

    def version_count(self) -> int:
        """Revisions on the whole platform: a no-op apply must not add any."""
        return sum(len(self.versions(s.id)) for _, s in self.summaries())

    def released(self, agent_id: str) -> Agent:
        entry = next(v for v in self.versions(agent_id) if v.status == "released")
        return self._for(agent_id).get(entry.version_id)

    def revision(self, version_id: str) -> Agent:
        return self._for(version_id).get(version_id)

    def draft(self, agent_id: str) -> Agent | None:
        entry = next((v for v in self.versions(agent_id) if v.status == "draft"), None)
        return self._for(agent_id).get(entry.version_id) if entry else None

    def marker(self, agent_id: str) -> Marker | None:
        return parse_marker(self.released(agent_id).description)

    def create(self, kind: str, **body: Any) -> str:
        return self._kind(kind).create(**body).id

    def update(self, agent_id: str, **fields: Any) -> str:
        written = self._for(agent_id).update(agent_id, **fields)
        assert written.version_id is not None
        return written.version_id

    def release(self, version_id: str) -> None:
        self._for(version_id).release(version_id)

    def delete(self, agent_id: str) -> None:
        self._for(agent_id).delete(agent_id)

    def writes(self) -> list[tuple[str, str]]:
        """(method, path) of every write request the emulator received so far."""
        return [(r.method, r.path) for r in self.emulator.requests if r.method in WRITE_METHODS]

    def _markers(self, kind: str, agent_id: str) -> list[Marker]:
        found = (parse_marker(v.description) for v in self._kind(kind).list_versions(agent_id))
        return [m for m in found if m is not None]

    def _kind(self, kind: str) -> Any:
        return getattr(self.client, kind)

    def _for(self, agent_id: str) -> Any:
        return self.client.conversational_agents if agent_id.startswith("ca_") \
            else self.client.procedural_agents


@pytest.fixture
def project(tmp_path: Path, emulator: EmulatorServer, cli: Cli,
            monkeypatch: pytest.MonkeyPatch) -> Callable[..., ProjectCopy]:
    """Copy the example project into ``tmp_path/<name>`` and point it at ``emulator``.

    Every environment's API key variable holds the emulator's key, ``GIT_COMMIT`` names a
    fixed commit for the markers, and the working directory is the copy, so relative paths
    and the subprocess test behave as in a real checkout.
    """

    def make(name: str = "project", env: str = "staging") -> ProjectCopy:
        root = tmp_path / name
        root.mkdir()
        shutil.copy(REPO / "operator-iac.yaml", root / "operator-iac.yaml")
        shutil.copytree(REPO / "agents", root / "agents")
        copy = ProjectCopy(root, emulator, cli, env)
        for variable in COMMIT_VARIABLES:
            monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv("GIT_COMMIT", COMMIT)
        for settings in yaml.safe_load(copy.project_file.read_text())["environments"].values():
            monkeypatch.setenv(settings["api_key_env"], emulator.api_key)
        monkeypatch.chdir(root)
        return copy

    return make


@pytest.fixture
def example(tmp_path: Path, emulator: EmulatorServer, cli: Cli,
            monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ProjectCopy]:
    """Copy ``examples/<name>`` into ``tmp_path`` and point it at ``emulator``: every
    environment's API key variable holds the emulator's key, ``GIT_COMMIT`` names a fixed
    commit, the working directory is the copy, and runs use its first environment."""

    def make(name: str) -> ProjectCopy:
        root = tmp_path / name
        shutil.copytree(REPO / "examples" / name, root)
        environments = yaml.safe_load((root / "operator-iac.yaml").read_text())["environments"]
        for settings in environments.values():
            monkeypatch.setenv(settings.get("api_key_env", "OPERATOR_API_KEY"), emulator.api_key)
        for variable in COMMIT_VARIABLES:
            monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv("GIT_COMMIT", COMMIT)
        monkeypatch.chdir(root)
        return ProjectCopy(root, emulator, cli, env=next(iter(environments)))

    return make


@pytest.fixture
def platform(emulator: EmulatorServer) -> Iterator[Platform]:
    with OperatorClient(emulator.url, emulator.api_key) as client:
        yield Platform(client, emulator)


@pytest.fixture
def applied(project: Callable[..., ProjectCopy]) -> ProjectCopy:
    """The example project, applied once (every agent created and released)."""
    copy = project()
    result = copy.apply()
    assert result.exit_code == 0, result.stderr
    return copy


def add_environment(copy: ProjectCopy, name: str, monkeypatch: pytest.MonkeyPatch,
                    extra: str = "") -> None:
    """Add an environment with staging's vars (``extra``: more settings, YAML lines).

    Text is appended rather than the file re-dumped: YAML 1.1 loaders read the ``on`` key of
    ``defaults.smoke`` as a boolean, and ``environments`` is the file's last mapping.
    """
    variable = f"OPERATOR_API_KEY_{name.upper()}"
    vars_ = yaml.safe_load(copy.project_file.read_text())["environments"]["staging"]["vars"]
    lines = [f"  {name}:", f"    api_key_env: {variable}", f"    vars: {json.dumps(vars_)}",
             *(f"    {line}" for line in extra.splitlines())]
    copy.append_to_project_file("\n" + "\n".join(lines) + "\n")
    monkeypatch.setenv(variable, copy.emulator.api_key)
