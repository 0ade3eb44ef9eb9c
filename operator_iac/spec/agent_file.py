"""One agent file, loaded: its key (the file stem), the validated model, the raw document
with positions, and the prompt text (read from its own file when the agent names one).

Loading never stops at the first problem of a file: it returns what it could build together
with every diagnostic, so that ``validate`` reports all of them at once.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter

from operator_iac.errors import DeclarationError, Diagnostic, Severity
from operator_iac.spec.diagnostics import validate_document
from operator_iac.spec.loader import (
    DataPath,
    YamlDocument,
    display_path,
    load_yaml,
    read_text,
    real_path,
)
from operator_iac.spec.models import (
    KEY_PATTERN,
    AgentSpec,
    ConversationalAgentSpec,
    ProceduralAgentSpec,
    Prompt,
)

AgentModel = ConversationalAgentSpec | ProceduralAgentSpec
PROMPT_PATH: DataPath = ("config", "runtime", "prompt")
PROMPT_TEXT: DataPath = (*PROMPT_PATH, "text")


@dataclass(frozen=True)
class PromptText:
    """A prompt's text and where it was written, to point at references inside it."""

    text: str
    display: str  # the file the positions refer to (prompt file or agent file)
    line: int
    column: int
    # True when the text's lines map one to one onto file lines (a prompt file, or a literal
    # block scalar); otherwise every position inside collapses onto the text's start.
    exact: bool
    file: Path | None = None

    def position(self, offset: int) -> tuple[int, int]:
        if not self.exact:
            return self.line, self.column
        before = self.text[:offset]
        line_start = before.rfind("\n") + 1
        return self.line + before.count("\n"), self.column + offset - line_start

    def diagnostic(self, offset: int, message: str, severity: Severity = "error") -> Diagnostic:
        line, column = self.position(offset)
        return Diagnostic(self.display, line, column, message, severity)


@dataclass(frozen=True)
class AgentFile:
    """An agent declaration as loaded from ``path``; ``key`` is the file stem."""

    key: str
    path: Path
    spec: AgentModel
    document: YamlDocument
    prompt: PromptText | None = None
    # The directory prompt files must stay inside (the project's); None: the agent file's.
    root: Path | None = None

    @property
    def kind(self) -> str:
        return self.spec.kind

    def diagnostic_at(self, path: DataPath, offset: int, message: str,
                      severity: Severity = "error") -> Diagnostic:
        """A diagnostic about ``offset`` within the string at ``path`` (the prompt text is
        located precisely, whether inline or in its own file)."""
        if path == PROMPT_TEXT and self.prompt is not None:
            return self.prompt.diagnostic(offset, message, severity)
        return self.document.diagnostic(path, message, severity=severity)


@functools.cache
def agent_adapter() -> TypeAdapter[AgentModel]:
    adapter: TypeAdapter[AgentModel] = TypeAdapter(AgentSpec)
    return adapter


def agent_key(path: Path) -> str:
    return path.stem


def load_agent_file(path: Path, root: Path | None = None
                    ) -> tuple[AgentFile | None, list[Diagnostic]]:
    """Load and validate one agent file; the agent is None when it could not be built.
    Its prompt file must lie inside ``root`` (by default the agent file's directory)."""
    try:
        doc = load_yaml(path, "agent file")
    except DeclarationError as exc:
        return None, exc.diagnostics
    return agent_from_document(doc, root)


def agent_from_document(doc: YamlDocument, root: Path | None = None
                        ) -> tuple[AgentFile | None, list[Diagnostic]]:
    diagnostics = _check_key(doc)
    spec, problems = validate_document(agent_adapter(), doc)
    diagnostics += sorted(problems, key=lambda d: (d.line, d.column))
    if spec is None:
        return None, diagnostics
    prompt, problems = read_prompt(spec.config.runtime.prompt, doc, root)
    diagnostics += problems
    return AgentFile(agent_key(doc.path), doc.path, spec, doc, prompt, root), diagnostics


def read_prompt(prompt: Prompt, doc: YamlDocument, root: Path | None = None
                ) -> tuple[PromptText | None, list[Diagnostic]]:
    """The prompt's text: inline, or read from its file relative to the agent file.

    A prompt file must stay inside ``root`` (the project's directory; by default the agent
    file's), after ``..`` and symbolic links are followed: the plan prints prompt text, so a
    declaration must not be able to make it print any file on the machine. A prompt file that
    cannot be read is reported on the agent file's ``file:`` line too, so that ``validate``
    of the agent file shows it.
    """
    if prompt.file is None:
        pos = doc.locate(PROMPT_TEXT)
        # A block's content starts on the line after the `|` or `>`, at the block's indent;
        # only a literal block keeps the file's line breaks (a folded one joins lines).
        line = pos.line + 1 if pos.block else pos.line
        column = _block_indent(doc, line) if pos.block else pos.column
        exact = pos.block == "|"
        return PromptText(prompt.text or "", doc.display, line, column, exact), []
    where = (*PROMPT_PATH, "file")
    relative = Path(prompt.file)
    if relative.is_absolute():
        return None, [doc.diagnostic(where, f"prompt file {prompt.file!r} must be a path "
                                            "relative to the agent file")]
    target = doc.path.parent / relative
    boundary = real_path(root or doc.path.parent)
    if not real_path(target).is_relative_to(boundary):
        return None, [doc.diagnostic(where, f"prompt file {prompt.file!r} is outside the "
                                            f"project directory {display_path(boundary)}; "
                                            "keep prompt files inside the project")]
    if not target.exists() and not target.is_symlink():
        return None, [doc.diagnostic(where, f"prompt file {prompt.file!r} not found "
                                            f"(looked for {display_path(target)})")]
    try:
        text = read_text(target, "prompt file")
    except DeclarationError as exc:
        return None, [doc.diagnostic(where, f"prompt file {prompt.file!r}: {d.message} "
                                            f"({d.file}:{d.line}:{d.column})")
                      for d in exc.diagnostics]
    return PromptText(text, display_path(target), 1, 1, True, target), []


def _block_indent(doc: YamlDocument, line: int) -> int:
    lines = doc.source.split("\n")
    if not 0 < line <= len(lines):
        return 1
    text = lines[line - 1]
    return len(text) - len(text.lstrip(" ")) + 1


def _check_key(doc: YamlDocument) -> list[Diagnostic]:
    key = agent_key(doc.path)
    if re.match(KEY_PATTERN, key):
        return []
    return [Diagnostic(doc.display, 1, 1, f"file name {doc.path.name!r} does not make a valid "
                       "agent key: use letters, digits, '-' and '_' (the key is the file stem)")]
