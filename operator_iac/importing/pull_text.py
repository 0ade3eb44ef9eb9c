"""Text taken from the platform into a declaration, keeping what the declaration wrote.

A declared string may hold ``${var:NAME}`` and ``${env:NAME}`` references (and ``$${``
escapes); the platform holds the resolved text. ``retemplate`` rewrites the declared template
so that it resolves to the platform's text, keeping every line whose resolved value the
platform still has as it was written (references included), and writing the other lines as
the platform has them, with ``${`` escaped. A changed line that held ``${env:...}`` is
refused: its secret reference would be lost, and the platform's text may hold the secret.

Where the platform stores text in a form of its own (markup escaped, Unicode normalised,
whitespace trimmed: whatever it does, it is not assumed), the lines it still holds as it
stored the declared text are the declared lines: the platform's text is compared with its
stored form of the declaration (``stored``, from the revision this tool wrote of it) rather
than with the declaration itself, so that only the lines someone changed are taken, in the
platform's form, and the file keeps its own everywhere else.

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


def retemplate(template: str, resolved: str, platform: str,
               stored: str | None = None) -> str | Refused:
    """The declared ``template`` (which resolves to ``resolved``) changed to resolve to
    ``platform``; line by line, so unchanged lines keep their references. ``stored``: the
    platform's form of ``resolved`` (what it made of the write of this declaration), when
    known; lines the platform still holds in that form are unchanged lines."""
    if platform in (resolved, stored):
        return template
    lines, values = _lines(template), _lines(resolved)
    # The platform's form of each declared line, where its form keeps the lines apart.
    base = _lines(stored) if stored is not None else values
    if len(base) != len(values):
        base = values
    if base == values and "${" not in template and "$${" not in template:
        return escape_text(platform)
    if len(lines) != len(values):  # a value spans lines: no line-by-line correspondence
        return _whole(template, platform)
    target = _lines(platform)
    written: list[str] = []
    matcher = difflib.SequenceMatcher(a=base, b=target, autojunk=False)
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
