"""Text taken from the platform into a declaration, keeping what the declaration wrote.

A declared string may hold ``${var:NAME}`` and ``${env:NAME}`` references (and ``$${``
escapes); the platform holds the resolved text. ``retemplate`` rewrites the declared template
so that it resolves to the platform's text, keeping every line whose resolved value the
platform still has as it was written (references included), and writing the other lines as
the platform has them, with ``${`` escaped. A changed line that held ``${env:...}`` is
refused: its secret reference would be lost, and the platform's text may hold the secret.

Pure: strings in, strings (or a refusal) out.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from operator_iac.spec.templates import find_substitutions


@dataclass(frozen=True)
class Refused:
    """Why a value cannot be taken into the declaration."""

    reason: str


def escape_text(text: str) -> str:
    """A literal text as a declaration writes it: ``${`` becomes ``$${``."""
    return text.replace("${", "$${")


def holds_secret_reference(template: str) -> bool:
    return any(sub.kind == "env" for sub in find_substitutions(template))


def retemplate(template: str, resolved: str, platform: str) -> str | Refused:
    """The declared ``template`` (which resolves to ``resolved``) changed to resolve to
    ``platform``; line by line, so unchanged lines keep their references."""
    if resolved == platform:
        return template
    if "${" not in template and "$${" not in template:
        return escape_text(platform)
    lines, values = _lines(template), _lines(resolved)
    if len(lines) != len(values):  # a value spans lines: no line-by-line correspondence
        return _whole(template, platform)
    target = _lines(platform)
    written: list[str] = []
    matcher = difflib.SequenceMatcher(a=values, b=target, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            written.extend(lines[a0:a1])
            continue
        changed = "".join(lines[a0:a1])
        if holds_secret_reference(changed):
            return secret_refusal(changed)
        written.extend(escape_text(line) for line in target[b0:b1])
    return "".join(written)


def secret_refusal(template: str) -> Refused:
    names = ", ".join(dict.fromkeys(f"${{env:{s.name}}}" for s in find_substitutions(template)
                                    if s.kind == "env"))
    return Refused(f"the platform no longer holds the value of {names} here, and a secret is "
                   "never written into a file: set the variable to the new value, or edit "
                   "the file by hand")


def _whole(template: str, platform: str) -> str | Refused:
    if holds_secret_reference(template):
        return secret_refusal(template)
    return escape_text(platform)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)
