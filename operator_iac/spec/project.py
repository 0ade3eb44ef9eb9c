"""A project: the project file and every agent file of its agents directory, loaded and
checked together. ``load_project`` is what every command that works on declarations calls.

Agent files are the ``*.yaml`` and ``*.yml`` entries anywhere under the agents directory
(``operator_iac.spec.discovery`` says which); the file stem is the agent's key, so the same
stem in two folders is an error naming both files. Prompt files are read only when an agent
names them, and only from inside the project's directory. An entry named like an agent file
that cannot be read (a broken link, a directory, a FIFO) is an error, never a missing agent.
Loading collects every problem in every file before failing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from operator_iac.errors import (
    ConfigurationError,
    DeclarationError,
    Diagnostic,
    ProjectFileError,
)
from operator_iac.settings import PROJECT_FILE_NAME, Settings
from operator_iac.spec.agent_file import AgentFile, AgentModel, load_declarations
from operator_iac.spec.base import did_you_mean
from operator_iac.spec.checks import check_agent
from operator_iac.spec.compose import DocumentCache
from operator_iac.spec.diagnostics import validate_document
from operator_iac.spec.discovery import agent_files_in
from operator_iac.spec.environments import check_environments
from operator_iac.spec.gate import GateSettings
from operator_iac.spec.loader import YamlDocument, display_path, load_yaml
from operator_iac.spec.models import ConversationalAgentSpec
from operator_iac.spec.project_file import Environment, ProjectFile, project_adapter
from operator_iac.spec.references import check_references
from operator_iac.spec.secret_checks import check_secrets

SMOKE_STAGES_DEFAULT = ("draft", "released")


@dataclass(frozen=True)
class SmokePolicy:
    """When an agent's smoke tests run during apply, after project defaults and agent file."""

    on: tuple[str, ...] = SMOKE_STAGES_DEFAULT
    rollback: bool = True
    gate: GateSettings | None = None


@dataclass(frozen=True)
class Project:
    """The loaded project: its file, its settings, and its valid agents by key."""

    root: Path
    file: Path
    spec: ProjectFile
    document: YamlDocument
    agents: dict[str, AgentFile] = field(default_factory=dict)
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def name(self) -> str:
        return self.spec.project

    @property
    def agents_dir(self) -> Path:
        return self.root / self.spec.agents_dir

    def environment(self, name: str) -> Environment:
        """The named environment, or a ``ConfigurationError`` that lists the known ones."""
        env = self.spec.environments.get(name)
        if env is None:
            known = ", ".join(self.spec.environments) or "none"
            raise ConfigurationError(
                f"unknown environment {name!r}{did_you_mean(name, self.spec.environments)} "
                f"(environments in {display_path(self.file)}: {known})")
        return env

    def smoke_policy(self, key: str) -> SmokePolicy:
        return smoke_policy(self.spec, self.agents[key].spec)


def smoke_policy(project: ProjectFile, spec: AgentModel) -> SmokePolicy:
    """Project defaults, overridden field by field by the agent's ``smoke_settings``."""
    defaults = project.defaults.smoke
    own = spec.smoke_settings if isinstance(spec, ConversationalAgentSpec) else None
    on = own.on if own and own.on is not None else defaults.on
    rollback = own.rollback if own and own.rollback is not None else defaults.rollback
    gate = own.gate if own and own.gate is not None else defaults.gate
    return SmokePolicy(tuple(on) if on is not None else SMOKE_STAGES_DEFAULT,
                       True if rollback is None else rollback, gate)


def load_project(path: Path | None = None, start: Path | None = None) -> Project:
    """Load the project file (``path``, or the nearest one at or above ``start``) and all its
    agents. Raises ``ProjectFileError`` for a missing or invalid project file and
    ``DeclarationError`` with every diagnostic when any agent file has an error."""
    file = find_project_file(path, start)
    spec, doc, problems = read_project_file(file)
    errors = [d for d in problems if d.severity == "error"]
    if spec is None or doc is None or errors:
        raise ProjectFileError(_summary(errors))
    agents_dir = doc.path.parent / spec.agents_dir
    if not agents_dir.is_dir():
        raise ProjectFileError(str(missing_agents_dir(doc, spec)))
    loaded = load_agents(agent_files_in(agents_dir), doc.path.parent)
    agents, diagnostics = loaded.agents, loaded.diagnostics
    diagnostics += problems + check_project(agents, spec, doc, loaded.unchecked)
    if any(d.severity == "error" for d in diagnostics):
        raise DeclarationError(sort_diagnostics(diagnostics))
    return Project(doc.path.parent, doc.path, spec, doc, agents,
                   tuple(sort_diagnostics(diagnostics)))


def check_project(agents: dict[str, AgentFile], spec: ProjectFile, doc: YamlDocument,
                  unchecked: Collection[str] = ()) -> list[Diagnostic]:
    """The checks of agents against the project file: environments, and secrets;
    ``unchecked`` names declared agents whose files could not be built."""
    return check_environments(agents, spec, doc, unchecked) + check_secrets(agents, spec, doc)


def find_project_file(path: Path | None = None, start: Path | None = None) -> Path:
    found = Settings(project_file=path).find_project_file(start)
    if found is None:
        where = display_path((start or Path.cwd()).resolve())
        raise ProjectFileError(f"no {PROJECT_FILE_NAME} found in {where} or any parent "
                               "directory (create one, or pass --project-file)")
    if not found.is_file():
        raise ProjectFileError(f"{display_path(found)}: project file not found")
    return found.resolve()


def read_project_file(file: Path) -> tuple[ProjectFile | None, YamlDocument | None,
                                           list[Diagnostic]]:
    try:
        doc = load_yaml(file, "project file")
    except DeclarationError as exc:
        return None, None, exc.diagnostics
    spec, problems = validate_document(project_adapter(), doc)
    return spec, doc, problems


@dataclass(frozen=True)
class LoadedAgents:
    """Agent files loaded together: the agents by key (those with errors too, where a model
    could be built), every problem, per agent file (display path) the files its declarations
    were made from, and the keys of declared agents that could not be built at all."""

    agents: dict[str, AgentFile]
    diagnostics: list[Diagnostic]
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unchecked: frozenset[str] = frozenset()


def load_agents(paths: Iterable[Path], root: Path | None = None) -> LoadedAgents:
    """Load agent files and check them, alone and against each other. Prompt files, fragments
    and base files must lie inside ``root`` (the project's directory; by default each agent
    file's own)."""
    agents: dict[str, AgentFile] = {}
    diagnostics: list[Diagnostic] = []
    sources: dict[str, tuple[str, ...]] = {}
    unchecked: set[str] = set()
    bases = DocumentCache()
    for path in paths:
        declared = load_declarations(path, root, bases)
        diagnostics += declared.diagnostics
        unchecked.update(declared.failed)
        if declared.files:
            sources[declared.files[0]] = declared.files
        for agent in declared.agents:
            if agent.key in agents:
                other = display_path(agents[agent.key].path)
                diagnostics.append(agent.key_diagnostic(
                    f"duplicate agent key {agent.key!r}: {other} declares an agent with the "
                    "same key (keys are file stems or instance keys, whatever the folder)"))
                continue
            diagnostics += check_agent(agent)
            agents[agent.key] = agent
    unchecked -= agents.keys()
    return LoadedAgents(agents, diagnostics + check_references(agents, unchecked), sources,
                        frozenset(unchecked))


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    unique = dict.fromkeys(diagnostics)
    return sorted(unique, key=lambda d: (d.file, d.line, d.column, d.message))


def _summary(errors: list[Diagnostic]) -> str:
    if not errors:
        return "invalid project file"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{errors[0]}{more}"


def missing_agents_dir(doc: YamlDocument, spec: ProjectFile) -> Diagnostic:
    return doc.diagnostic(("agents_dir",), f"agents directory {spec.agents_dir!r} does not "
                                           f"exist (relative to {display_path(doc.path.parent)})")
