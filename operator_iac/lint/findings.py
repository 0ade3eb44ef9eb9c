"""What lint reports: a place in a file, a rule's hit there, and the finding a hit becomes
once its rule's severity, agent and environments are known."""

from __future__ import annotations

from dataclasses import dataclass

from operator_iac.errors import Severity

SEVERITY_RANK: dict[str, int] = {"off": 0, "warning": 1, "error": 2}


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based position in a file, by the file's display path."""

    file: str
    line: int
    column: int


@dataclass(frozen=True)
class Hit:
    """What a rule found: where, and a message that says what is wrong there."""

    at: Location
    message: str


@dataclass(frozen=True)
class Finding:
    """A rule's hit as reported: its rule, severity, place, agent and the environments whose
    view of the declarations it was found in (empty: linted without an environment)."""

    rule: str
    """The rule's stable id (`OIC103`)."""
    severity: Severity
    """`error` or `warning`, after the project's configuration."""
    at: Location
    """Where the finding is: file (display path), line and column."""
    message: str
    """What is wrong there, in words."""
    agent: str | None = None
    """The key of the agent it is about; none for a finding about a suppression comment."""
    environments: tuple[str, ...] = ()
    """The environments it was found in."""
    suppressed: str | None = None
    """The reason given by an inline `# operator-iac: ignore[ID] reason`, when suppressed."""

    def merge_key(self) -> tuple[str, Location, str]:
        return self.rule, self.at, self.message

    def at_least(self, level: Severity) -> bool:
        return SEVERITY_RANK[self.severity] >= SEVERITY_RANK[level]
