"""Agent declarations, loaded from one file: the key, the validated model of the effective
declaration, the document with positions, and the effective prompt text.

One file declares no agent (a base file, ``abstract: true``), one agent (keyed by the file
stem), or one agent per instance (a template with ``instances:``, keyed by each instance's
key). Bases (``extends``, ``operator_iac.spec.compose``) are merged in first, then instances
are made (``operator_iac.spec.instances``); the prompt is read with its fragments
(``operator_iac.spec.prompts``). Every check after this sees the effective declaration.

Loading never stops at the first problem of a file: it returns what it could build together
with every diagnostic, so that ``validate`` reports all of them at once. A declaration whose
only schema problems are unknown keys is still built without them (its errors stay
reported), so that its references and prompt are checked in the same pass; the keys of
declarations that could not be built at all are returned, so that references to them are not
reported as references to undeclared agents.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from operator_iac.errors import DeclarationError, Diagnostic, Severity
from operator_iac.spec.compose import INSTANCES, DocumentCache, compose, is_base
from operator_iac.spec.diagnostics import validate_document, without_unknown_keys
from operator_iac.spec.instances import template_instances
from operator_iac.spec.loader import DataPath, YamlDocument, load_yaml
from operator_iac.spec.models import (
    KEY_PATTERN,
    AgentSpec,
    ConversationalAgentSpec,
    ProceduralAgentSpec,
)
from operator_iac.spec.prompt_text import PromptText
from operator_iac.spec.prompts import PROMPT_TEXT, read_prompt

AgentModel = ConversationalAgentSpec | ProceduralAgentSpec


@dataclass(frozen=True)
class AgentFile:
    """An agent declaration as loaded from ``path``: ``key`` is the file stem, or the
    instance's key for an agent made from a template (``instance`` is then its index)."""

    key: str
    path: Path
    spec: AgentModel
    document: YamlDocument
    prompt: PromptText | None = None
    # The directory prompt files must stay inside (the project's); None: the agent file's.
    root: Path | None = None
    # A template instance's vars (substituted already; kept for environment overrides).
    vars: Mapping[str, Any] = field(default_factory=dict)
    instance: int | None = None

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def sources(self) -> tuple[str, ...]:
        """Display paths of every file this declaration was made from: the agent file, its
        bases, its prompt file and fragments."""
        files = [self.document.display, *self.document.layers]
        files += self.prompt.files if self.prompt else []
        return tuple(dict.fromkeys(files))

    def diagnostic_at(self, path: DataPath, offset: int, message: str,
                      severity: Severity = "error") -> Diagnostic:
        """A diagnostic about ``offset`` within the string at ``path`` (the prompt text is
        located precisely, whether inline or in its own file)."""
        if path == PROMPT_TEXT and self.prompt is not None:
            return self.prompt.diagnostic(offset, message, severity)
        return self.document.diagnostic(path, message, severity=severity)

    def key_diagnostic(self, message: str) -> Diagnostic:
        """A diagnostic about the key: at the instance's ``key``, or the file's start."""
        if self.instance is not None:
            return self.document.diagnostic((INSTANCES, self.instance, "key"), message)
        return Diagnostic(self.document.display, 1, 1, message)


@functools.cache
def agent_adapter() -> TypeAdapter[AgentModel]:
    adapter: TypeAdapter[AgentModel] = TypeAdapter(AgentSpec)
    return adapter


def agent_key(path: Path) -> str:
    return path.stem


@dataclass(frozen=True)
class Declarations:
    """What one file declares: its agents, every problem found, and the display paths of every
    file they were made from (the file, its bases, prompt files, fragments), known even for
    declarations that failed, so that a problem in a base is shown with the file using it."""

    agents: list[AgentFile]
    diagnostics: list[Diagnostic]
    files: tuple[str, ...] = ()
    # Keys of the agents the file declares that could not be built (their errors are among
    # the diagnostics): they exist, but nothing about them can be checked.
    failed: tuple[str, ...] = ()


def load_declarations(path: Path, root: Path | None = None,
                      bases: DocumentCache | None = None) -> Declarations:
    """Every agent one file declares. Prompt files, fragments and base files must lie inside
    ``root`` (by default the agent file's directory)."""
    stem = (agent_key(path),)
    try:
        doc = load_yaml(path, "agent file")
    except DeclarationError as exc:
        return Declarations([], exc.diagnostics, failed=stem)
    if is_base(doc):
        return Declarations([], [], (doc.display,))
    composed, problems = compose(doc, root, (bases or DocumentCache()).load)
    if composed is None:
        return Declarations([], problems, (doc.display,), stem)
    made = template_instances(composed)
    failed: list[str] = []
    if made is None:
        agent, problems = agent_from_document(composed, root)
        agents = [agent] if agent else []
        failed += [] if agent else stem
    else:
        instances, problems = made
        agents = []
        for instance in instances:
            agent, found = agent_from_document(instance.document, root, key=instance.key,
                                               values=instance.vars, instance=instance.index)
            problems += found
            agents += [agent] if agent else []
            failed += [] if agent else [instance.key]
    files = [doc.display, *composed.layers, *(f for a in agents for f in a.sources)]
    return Declarations(agents, problems, tuple(dict.fromkeys(files)), tuple(failed))


def load_agent_file(path: Path, root: Path | None = None
                    ) -> tuple[AgentFile | None, list[Diagnostic]]:
    """Load and validate a file that declares one agent; None when it could not be built
    (or declares none, or several). An agent built without its unknown keys comes with its
    errors: only a result without error diagnostics is a valid agent."""
    found = load_declarations(path, root)
    return (found.agents[0] if len(found.agents) == 1 else None), found.diagnostics


def agent_from_document(doc: YamlDocument, root: Path | None = None, *, key: str | None = None,
                        values: Mapping[str, Any] | None = None, instance: int | None = None
                        ) -> tuple[AgentFile | None, list[Diagnostic]]:
    """The agent a (composed) document declares; ``key`` given for a template instance."""
    diagnostics = _check_key(doc) if key is None else []
    spec, problems = validate_document(agent_adapter(), doc)
    diagnostics += sorted(problems, key=lambda d: (d.line, d.column))
    if spec is None:
        recovered = without_unknown_keys(agent_adapter(), doc.data)
        if recovered is None:
            return None, diagnostics
        spec, data = recovered
        doc = dataclasses.replace(doc, data=data)
    prompt, problems = read_prompt(spec.config.runtime.prompt, doc, root, values)
    diagnostics += problems
    return AgentFile(key or agent_key(doc.path), doc.path, spec, doc, prompt, root,
                     dict(values or {}), instance), diagnostics


def _check_key(doc: YamlDocument) -> list[Diagnostic]:
    key = agent_key(doc.path)
    if re.match(KEY_PATTERN, key):
        return []
    return [Diagnostic(doc.display, 1, 1, f"file name {doc.path.name!r} does not make a valid "
                       "agent key: use letters, digits, '-' and '_' (the key is the file stem)")]
