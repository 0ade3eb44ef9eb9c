"""Inline suppressions: ``# operator-iac: ignore[OIC103] reason`` on a line silences the named
rules' findings on that line, in any file (agent file, base file, prompt file, fragment,
project file). A finding inside a prompt file may also be silenced on the agent file's
``file:`` line that names the prompt, which keeps the comment out of the prompt text the
model receives.

A suppression must say why: one without a reason silences nothing and is itself reported, as
is one naming an unknown rule or (when every environment, and every agent the file serves,
was linted) one that silenced nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from operator_iac.lint.findings import Location

_COMMENT = re.compile(r"#\s*operator-iac:\s*ignore\[(?P<ids>[^\]\n]*)\](?P<reason>[^\n]*)")
_REASON_LEAD = " \t:-\u2013\u2014"  # a reason may start with a colon or a dash


@dataclass(frozen=True)
class Suppression:
    """One suppression comment: where it is, the rule ids it names, and its reason."""

    at: Location
    rules: tuple[str, ...]
    reason: str


def find_suppressions(sources: Mapping[str, str]) -> dict[tuple[str, int], Suppression]:
    """Every suppression comment of the files given (display path -> text), by file and
    line."""
    found: dict[tuple[str, int], Suppression] = {}
    for file, text in sources.items():
        for number, line in enumerate(text.splitlines(), start=1):
            match = _COMMENT.search(line)
            if match is None:
                continue
            rules = tuple(r.strip() for r in match.group("ids").split(",") if r.strip())
            reason = match.group("reason").strip().lstrip(_REASON_LEAD).strip()
            found[(file, number)] = Suppression(Location(file, number, match.start() + 1),
                                                rules, reason)
    return found


def suppressing(rule: str, lines: Iterable[Location],
                table: Mapping[tuple[str, int], Suppression]) -> Suppression | None:
    """The suppression (with a reason) that silences ``rule`` on one of ``lines``."""
    for at in lines:
        candidate = table.get((at.file, at.line))
        if candidate is not None and candidate.reason and rule in candidate.rules:
            return candidate
    return None
