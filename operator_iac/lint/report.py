"""The result of ``operator-iac lint``: the findings, the problems that kept declarations from
being linted (validation errors, an unknown rule id in the configuration), and what was
linted. ``failed`` applies the ``--fail-on`` level."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from operator_iac.errors import Diagnostic, Severity
from operator_iac.lint.findings import Finding


@dataclass(frozen=True)
class LintReport:
    """Everything ``lint`` found, in file order."""

    findings: tuple[Finding, ...]
    """Every finding, suppressed ones included (their `suppressed` holds the reason)."""
    problems: tuple[Diagnostic, ...] = ()
    """Errors that kept files from being linted: invalid declarations or configuration."""
    files: int = 0
    """Agent files linted."""
    agents: int = 0
    """Agents linted (a template declares several)."""
    environments: tuple[str, ...] = ()
    """The environments whose view was linted; empty when linted without one."""
    fail_on: Severity = "error"
    """The lowest severity that fails the run (`--fail-on`)."""
    uris: Mapping[str, str] = field(default_factory=dict)
    """Per file (display path), its path relative to the repository root, for SARIF."""

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if f.suppressed is None]

    @property
    def suppressed(self) -> list[Finding]:
        return [f for f in self.findings if f.suppressed is not None]

    @property
    def failing(self) -> list[Finding]:
        """Findings at or above the fail level, not suppressed."""
        return [f for f in self.active if f.at_least(self.fail_on)]

    @property
    def failed(self) -> bool:
        return bool(self.problems) or bool(self.failing)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.active if f.severity == severity)
