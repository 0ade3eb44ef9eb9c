"""Text references inside declarations: ``${var:NAME}`` and ``${env:NAME}`` substitutions
(resolved by this tool per environment), and the platform's own prompt references, ``$name``
for variables and ``@name`` for tools (left in place; only checked).

``$${`` escapes a literal ``${``. Scanning is pure; substitution takes a lookup function so
the caller decides where values come from and what a missing one means.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from operator_iac.spec.loader import DataPath

INCLUDE = re.compile(r"\{\{>\s*([^{}\n]*?)\s*\}\}")
"""A prompt's ``{{> path}}`` directive, which includes a fragment (``spec.prompts``); here
beside the substitutions, for what reads files without the models (``spec.prescan``)."""

_SUBSTITUTION = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_NAME = re.compile(r"^(var|env):([A-Za-z_][A-Za-z0-9_]*)$")
# `$name` not preceded by a word character or `$`, and not the start of `${`.
_PROMPT_VARIABLE = re.compile(r"(?<![\w$])\$([A-Za-z_][A-Za-z0-9_]*)")
# `@name` not preceded by a word character (so e-mail addresses do not count); agent keys
# may contain inner hyphens.
_PROMPT_TOOL = re.compile(r"(?<![\w@.])@([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)")

SubstitutionKind = Literal["var", "env", "invalid"]


@dataclass(frozen=True)
class Substitution:
    """One ``${...}`` in a string: its kind, the name, and where it sits in the string."""

    kind: SubstitutionKind
    name: str
    start: int
    end: int

    @property
    def text(self) -> str:
        return f"${{{self.kind}:{self.name}}}" if self.kind != "invalid" else f"${{{self.name}}}"


@dataclass(frozen=True)
class PromptReference:
    kind: Literal["variable", "tool"]
    name: str
    start: int


def find_substitutions(text: str) -> list[Substitution]:
    return [sub for match in _SUBSTITUTION.finditer(text)
            if (sub := _substitution(match)) is not None]


def _substitution(match: re.Match[str]) -> Substitution | None:
    """The substitution a match of ``_SUBSTITUTION`` stands for; None for the ``$${`` escape."""
    if match.group(0) == "$${":
        return None
    body = match.group(1)
    named = _NAME.match(body)
    if named is None:
        return Substitution("invalid", body, match.start(), match.end())
    kind: SubstitutionKind = "var" if named.group(1) == "var" else "env"
    return Substitution(kind, named.group(2), match.start(), match.end())


def find_prompt_references(text: str) -> list[PromptReference]:
    """``$variable`` and ``@tool`` references in a prompt, in order of appearance."""
    variables = [PromptReference("variable", m.group(1), m.start())
                 for m in _PROMPT_VARIABLE.finditer(text)]
    tools = [PromptReference("tool", m.group(1), m.start()) for m in _PROMPT_TOOL.finditer(text)]
    return sorted(variables + tools, key=lambda r: r.start)


def walk_strings(value: Any, path: DataPath = ()) -> Iterator[tuple[DataPath, str]]:
    """Every string in nested data (mapping keys excluded), with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk_strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_strings(item, (*path, index))


Lookup = Callable[[Substitution], Any]


def substitute_string(text: str, lookup: Lookup) -> Any:
    """Replace every substitution; a string that is exactly one ``${var:...}`` takes the
    variable's own type (so a number stays a number)."""
    found = find_substitutions(text)
    if len(found) == 1 and found[0].start == 0 and found[0].end == len(text):
        return lookup(found[0])

    def replace(match: re.Match[str]) -> str:
        sub = _substitution(match)
        return "${" if sub is None else str(lookup(sub))

    return _SUBSTITUTION.sub(replace, text)


def substitute(value: Any, lookup: Callable[[Substitution, DataPath], Any],
               path: DataPath = ()) -> Any:
    """A copy of nested data with every string substituted; ``lookup`` sees each path."""
    if isinstance(value, str):
        if "${" not in value:
            return value
        return substitute_string(value, lambda sub: lookup(sub, path))
    if isinstance(value, dict):
        return {k: substitute(v, lookup, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, lookup, (*path, i)) for i, v in enumerate(value)]
    return value
