"""Reading a prompt: inline text or its own file, the fragments it includes, and the values a
template instance gives its ``${var:...}``, assembled into the effective text the platform
receives (``PromptText``, which remembers where each part was written).

Fragments: a line or a part of a line written ``{{> path}}`` is replaced by the text of the
file at ``path``, relative to the file holding the directive (the prompt file, the fragment,
or the agent file for inline text), with one trailing newline of the fragment dropped so a
directive on its own line adds no blank line. ``{{>`` cannot be mistaken for the platform's
``$variable`` or ``@tool`` references, nor for ``${var:...}``. Fragments may include
fragments; a cycle, a path outside the project, or a file that cannot be read is an error at
the directive. ``$variable``/``@tool`` checks run on the effective text.

Prompt files and fragments must stay inside ``root`` (the project's directory; by default the
agent file's), after ``..`` and symbolic links are followed: the plan prints prompt text, so
a declaration must not be able to make it print any file on the machine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from operator_iac.errors import DeclarationError, Diagnostic
from operator_iac.spec.loader import (
    MAX_FILE_BYTES,
    DataPath,
    YamlDocument,
    display_path,
    read_text,
    real_path,
)
from operator_iac.spec.models import Prompt
from operator_iac.spec.prompt_text import PromptText, Replacement, splice
from operator_iac.spec.templates import INCLUDE, find_substitutions

PROMPT_PATH: DataPath = ("config", "runtime", "prompt")
PROMPT_TEXT: DataPath = (*PROMPT_PATH, "text")
MAX_INCLUDE_DEPTH = 16

Problems = list[Diagnostic]


def read_prompt(prompt: Prompt, doc: YamlDocument, root: Path | None = None,
                values: Mapping[str, Any] | None = None) -> tuple[PromptText | None, Problems]:
    """The prompt's effective text: inline or from its file (relative to the file that
    declares it), fragments included, and ``values`` (a template instance's vars) substituted.
    A prompt file that cannot be read is reported on the ``file:`` line of the declaration,
    so that ``validate`` of the agent file shows it."""
    origin = doc.origin(PROMPT_PATH)
    boundary = real_path(root or doc.path.parent)
    if prompt.file is None:
        text = _inline(prompt.text or "", doc, origin)
    else:
        found, problems = _prompt_file(prompt.file, doc, origin.path.parent, boundary)
        if found is None:
            return None, problems
        text = found
    folder = text.file.parent if text.file is not None else origin.path.parent
    chain = (real_path(text.file),) if text.file is not None else ()
    expanded, problems = include_fragments(text, folder, boundary, chain)
    return (substitute_values(expanded, values) if values else expanded), problems


def _inline(text: str, doc: YamlDocument, origin: YamlDocument) -> PromptText:
    pos = doc.locate(PROMPT_TEXT)
    # A block's content starts on the line after the `|` or `>`, at the block's indent;
    # only a literal block keeps the file's line breaks (a folded one joins lines).
    line = pos.line + 1 if pos.block else pos.line
    column = _block_indent(origin, line) if pos.block else pos.column
    return PromptText(text, pos.file or doc.display, line, column, pos.block == "|")


def _prompt_file(name: str, doc: YamlDocument, folder: Path,
                 boundary: Path) -> tuple[PromptText | None, Problems]:
    where = (*PROMPT_PATH, "file")
    target, problem = _target(name, folder, boundary, "prompt file")
    if target is None:
        return None, [doc.diagnostic(where, problem)]
    try:
        text = read_text(target, "prompt file")
    except DeclarationError as exc:
        return None, [doc.diagnostic(where, f"prompt file {name!r}: {d.message} "
                                            f"({d.file}:{d.line}:{d.column})")
                      for d in exc.diagnostics]
    shown = display_path(target)
    return PromptText(text, shown, 1, 1, True, target, files=(shown,)), []


def _target(name: str, folder: Path, boundary: Path, what: str) -> tuple[Path | None, str]:
    """The file ``name`` stands for, or None and why it cannot be read."""
    if Path(name).is_absolute():
        return None, f"{what} {name!r} must be a path relative to the file that names it"
    target = folder / name
    if not real_path(target).is_relative_to(boundary):
        return None, (f"{what} {name!r} is outside the project directory "
                      f"{display_path(boundary)}; keep {what}s inside the project")
    if not target.exists() and not target.is_symlink():
        return None, f"{what} {name!r} not found (looked for {display_path(target)})"
    return target, ""


def include_fragments(prompt: PromptText, folder: Path, boundary: Path,
                      chain: tuple[Path, ...] = ()) -> tuple[PromptText, Problems]:
    """``prompt`` with every ``{{> path}}`` replaced by its fragment's text, recursively;
    ``chain`` holds the files being included (a cycle is an error)."""
    replacements: list[Replacement] = []
    problems: Problems = []
    for match in INCLUDE.finditer(prompt.text):
        piece, found = _fragment(prompt, match, folder, boundary, chain)
        problems += found
        if piece is not None:
            replacements.append((match.start(), match.end(), piece))
    result = splice(prompt, replacements)
    if len(result.text) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        return prompt, [prompt.diagnostic(0, f"the prompt with its fragments is larger than "
                                             f"{limit} MiB; refusing to assemble it")]
    return result, problems


def _fragment(prompt: PromptText, match: re.Match[str], folder: Path, boundary: Path,
              chain: tuple[Path, ...]) -> tuple[PromptText | None, Problems]:
    def problem(message: str) -> tuple[None, Problems]:
        return None, [prompt.diagnostic(match.start(), message)]

    name = match.group(1)
    if not name:
        return problem("{{> }} names no fragment; write {{> path/to/fragment.md}}")
    target, why = _target(name, folder, boundary, "prompt fragment")
    if target is None:
        return problem(why)
    real = real_path(target)
    if real in chain:
        names = " -> ".join(display_path(p) for p in (*chain[chain.index(real):], real))
        return problem(f"prompt fragments include each other in a cycle ({names})")
    if len(chain) >= MAX_INCLUDE_DEPTH:
        return problem(f"prompt fragments nest deeper than {MAX_INCLUDE_DEPTH} levels")
    try:
        text = read_text(target, "prompt fragment")
    except DeclarationError as exc:
        reasons = "; ".join(d.message for d in exc.diagnostics)
        return problem(f"prompt fragment {name!r}: {reasons}")
    shown = display_path(target)
    piece = PromptText(text.removesuffix("\n"), shown, 1, 1, True, target, files=(shown,))
    return include_fragments(piece, target.parent, boundary, (*chain, real))


def substitute_values(prompt: PromptText, values: Mapping[str, Any]) -> PromptText:
    """``prompt`` with each ``${var:NAME}`` whose NAME is in ``values`` replaced; other
    substitutions stay for the environment."""
    replacements: list[Replacement] = []
    for sub in find_substitutions(prompt.text):
        if sub.kind == "var" and sub.name in values:
            display, line, column = prompt.locate(sub.start)
            piece = PromptText(str(values[sub.name]), display, line, column, False)
            replacements.append((sub.start, sub.end, piece))
    return splice(prompt, replacements)


def _block_indent(doc: YamlDocument, line: int) -> int:
    lines = doc.source.split("\n")
    if not 0 < line <= len(lines):
        return 1
    text = lines[line - 1]
    return len(text) - len(text.lstrip(" ")) + 1
