"""An agent as one environment sees it, for the rules: the effective declaration (the
environment's override merged in and validated again), its effective prompt, the values its
``${var:...}`` take there, and a way to point at any of its fields in the file that wrote
the field (the agent file, a base file, a prompt file or fragment, or the override in the
project file).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from operator_iac.errors import DeclarationError, Diagnostic
from operator_iac.lint.findings import Location
from operator_iac.spec.agent_file import AgentFile, AgentModel
from operator_iac.spec.environments import override_path
from operator_iac.spec.loader import DataPath, YamlDocument
from operator_iac.spec.merge import deep_merge, origin_in
from operator_iac.spec.models import ConversationalAgentSpec, Tool, Variable, VarValue
from operator_iac.spec.project_file import ProjectFile
from operator_iac.spec.prompt_text import PromptText
from operator_iac.spec.prompts import PROMPT_PATH, PROMPT_TEXT
from operator_iac.spec.resolve import effective_declaration
from operator_iac.spec.templates import find_prompt_references

TOOLS: DataPath = ("config", "tool", "tools")
TRANSFERS: DataPath = ("config", "tool", "transfers")
VARIABLES: DataPath = ("config", "runtime", "variables")


@dataclass(frozen=True)
class AgentView:
    """One agent's effective declaration in one environment (``None``: no environment)."""

    agent: AgentFile
    spec: AgentModel
    prompt: PromptText | None
    environment: str | None = None
    override: Mapping[str, Any] = field(default_factory=dict)
    project_document: YamlDocument | None = None
    # Values of ${var:NAME} here: the template instance's, then the environment's.
    vars: Mapping[str, VarValue] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.agent.key

    @property
    def data(self) -> Any:
        """The declaration as data (the override merged in), for rules that walk it."""
        return deep_merge(self.agent.document.data, dict(self.override)) if self.override \
            else self.agent.document.data

    @property
    def talks(self) -> ConversationalAgentSpec | None:
        return self.spec if isinstance(self.spec, ConversationalAgentSpec) else None

    @property
    def prompt_text(self) -> str:
        """The effective prompt, fragments included (empty when there is none)."""
        return self.prompt.text if self.prompt is not None else ""

    def prompt_names(self, kind: Literal["variable", "tool"]) -> set[str]:
        """The names the effective prompt uses as ``$name`` (variables) or ``@name`` (tools)."""
        return {r.name for r in find_prompt_references(self.prompt_text) if r.kind == kind}

    def tools(self) -> Iterator[tuple[DataPath, Tool]]:
        """Each enabled tool, with the path it is declared at."""
        tool = self.spec.config.tool
        for index, entry in enumerate((tool.tools or []) if tool else []):
            yield (*TOOLS, index), entry

    def transfers(self) -> Iterator[tuple[DataPath, str]]:
        """The target (``entity_id``) of each transfer of a conversational agent, with its
        path."""
        tool = self.talks.config.tool if self.talks is not None else None
        for index, transfer in enumerate((tool.transfers or []) if tool else []):
            yield (*TRANSFERS, index, "entity_id"), transfer.entity_id

    def variables(self) -> Iterator[tuple[DataPath, Variable]]:
        """Each variable a conversational agent declares, with the path of its name."""
        declared = self.talks.config.runtime.variables if self.talks is not None else None
        for index, variable in enumerate(declared or []):
            yield (*VARIABLES, index, "name"), variable

    def at(self, path: DataPath, *, at_key: bool = False) -> Location:
        """Where the value at ``path`` was written (the nearest enclosing value if absent)."""
        if self._from_override(path) and self.project_document is not None:
            where = (*override_path(self.environment or "", self.key), *path)
            return _location(self.project_document.diagnostic(where, "", at_key=at_key))
        return _location(self.agent.document.diagnostic(path, "", at_key=at_key))

    def in_prompt(self, offset: int) -> Location:
        """Where character ``offset`` of the effective prompt was written."""
        if self.prompt is None or self._from_override(PROMPT_TEXT):
            return self.at(PROMPT_TEXT)
        return Location(*self.prompt.locate(offset))

    @property
    def prompt_files(self) -> tuple[str, ...]:
        """The prompt file and its fragments (display paths)."""
        return self.prompt.files if self.prompt is not None else ()

    def prompt_declared_at(self) -> Location | None:
        """The ``file:`` line naming the prompt file, when the prompt comes from one."""
        if self.spec.config.runtime.prompt.file is None:
            return None
        return self.at((*PROMPT_PATH, "file"))

    def _from_override(self, path: DataPath) -> bool:
        return bool(self.override) and origin_in(self.override, path)


def _location(diagnostic: Diagnostic) -> Location:
    return Location(diagnostic.file, diagnostic.line, diagnostic.column)


def agent_view(agent: AgentFile, project: ProjectFile | None,
               project_document: YamlDocument | None, environment: str | None
               ) -> AgentView | None:
    """The agent as ``environment`` sees it; None when the override makes it invalid
    (``validate`` reports why, on the project file)."""
    env = project.environments.get(environment) if project and environment else None
    override = dict(env.overrides.get(agent.key, {})) if env is not None else {}
    try:
        spec, prompt = effective_declaration(agent, override)
    except DeclarationError:
        return None
    values: dict[str, VarValue] = dict(env.vars) if env is not None else {}
    values.update(agent.vars)
    return AgentView(agent, spec, prompt, environment, override, project_document, values)
