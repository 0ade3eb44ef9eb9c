"""The result of validating declarations: every diagnostic found, and how many agent files
were checked and found valid (``operator_iac.services.validate`` gathers it)."""

from __future__ import annotations

from dataclasses import dataclass

from operator_iac.errors import Diagnostic


@dataclass(frozen=True)
class ValidationReport:
    """Every diagnostic found in the files checked, and how many agent files were checked and
    found valid; ``ok`` when there is no error."""

    diagnostics: tuple[Diagnostic, ...]
    files: int  # agent files checked
    valid_agents: int

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors
