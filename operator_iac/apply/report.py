"""What an apply was asked to do (``ApplyOptions``) and what it did (``ApplyReport``, one
``ResourceResult`` per agent), with the exit code the outcome maps to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from operator_iac.errors import (
    ConflictError,
    OperationError,
    SmokeRecordError,
    SmokeTestFailedError,
)

if TYPE_CHECKING:
    from operator_iac.plan.model import Plan
    from operator_iac.smoke.gate import SmokeVerdict

Outcome = Literal["applied", "unchanged", "failed", "conflict", "smoke_failed", "rolled_back",
                  "skipped"]


@dataclass(frozen=True)
class ApplyOptions:
    """How to carry a plan out: replace foreign drafts, run smoke tests, roll back a release
    whose smoke tests failed, and how many agents at once."""

    overwrite_draft: bool = False
    smoke: bool = True
    rollback: bool = True
    parallelism: int = 8


@dataclass(frozen=True)
class ResourceResult:
    """What apply did to one agent: its ``outcome``, the revisions it wrote and released
    (or rolled back to), the steps taken, and the smoke verdicts."""

    key: str
    action: str
    outcome: Outcome
    agent_id: str | None = None
    version_id: str | None = None
    released_version_id: str | None = None
    rolled_back_to: str | None = None
    message: str = ""
    steps: tuple[str, ...] = ()
    smoke: tuple[SmokeVerdict, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the agent is now as the declarations want it."""
        return self.outcome in ("applied", "unchanged")


@dataclass(frozen=True)
class ApplyReport:
    """Every agent's result, in plan order; ``exit_code`` maps them to the exit-code table."""

    plan: Plan
    results: tuple[ResourceResult, ...]

    def exit_code(self) -> int:
        """5 for a conflict, else 4 for a failed smoke test, else 1 for any other failure,
        else 6 when a smoke verdict promote will need could not be recorded."""
        outcomes = {r.outcome for r in self.results}
        if "conflict" in outcomes:
            return ConflictError.exit_code
        if outcomes & {"smoke_failed", "rolled_back"}:
            if any(v.platform_error for r in self.results for v in r.smoke if not v.passed):
                return OperationError.exit_code
            return SmokeTestFailedError.exit_code
        if outcomes & {"failed", "skipped"}:
            return OperationError.exit_code
        if self.unrecorded():
            return SmokeRecordError.exit_code
        return 0

    def unrecorded(self) -> list[str]:
        """Why smoke verdicts that promote will need could not be kept, one line each."""
        return [f"{r.key}: {v.record_error}" for r in self.results for v in r.smoke
                if v.record_error]

    def result(self, key: str) -> ResourceResult | None:
        return next((r for r in self.results if r.key == key), None)
