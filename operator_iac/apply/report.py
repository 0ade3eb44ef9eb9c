"""What an apply was asked to do (``ApplyOptions``) and what it did (``ApplyReport``, one
``ResourceResult`` per agent), with the exit code the outcome maps to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from operator_iac.defaults import PARALLELISM
from operator_iac.errors import (
    ConflictError,
    OperationError,
    SmokeIncompleteError,
    SmokeRecordError,
    SmokeTestFailedError,
)

if TYPE_CHECKING:
    from operator_iac.plan.model import Plan
    from operator_iac.smoke.gate import SmokeVerdict

NOTHING_WRITTEN = "nothing was written, make a new plan"

# ``converged``: another apply created the same content for the key at the same time; this
# run yielded to it (``apply.claims``), and the key is as declared once that run releases.
Outcome = Literal["applied", "unchanged", "converged", "failed", "conflict", "smoke_failed",
                  "rolled_back", "skipped"]


@dataclass(frozen=True)
class ApplyOptions:
    """How to carry a plan out: replace foreign drafts, run smoke tests, roll back a release
    whose smoke tests failed, and how many agents at once."""

    overwrite_draft: bool = False
    smoke: bool = True
    rollback: bool = True
    parallelism: int = PARALLELISM
    # False (``--no-release``): write and read back the drafts, and release nothing; a later
    # apply releases them (smoke tests of the drafts run in between, in other jobs).
    release: bool = True


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
        return self.outcome in ("applied", "unchanged", "converged")


@dataclass(frozen=True)
class ApplyReport:
    """Every agent's result, in plan order; ``exit_code`` maps them to the exit-code table."""

    plan: Plan
    results: tuple[ResourceResult, ...]
    # What the run noticed beyond the results: writes the platform's lists did not show yet.
    warnings: tuple[str, ...] = ()

    def exit_code(self) -> int:
        """5 for a conflict, else 4 for a failed smoke test (6 when the smoke tests that did
        not pass were only incomplete), else 1 for any other failure, else 7 when a smoke
        verdict promote will need could not be recorded."""
        outcomes = {r.outcome for r in self.results}
        if "conflict" in outcomes:
            return ConflictError.exit_code
        if outcomes & {"smoke_failed", "rolled_back"}:
            failing = [v for r in self.results for v in r.smoke if not v.passed]
            if any(v.platform_error for v in failing):
                return OperationError.exit_code
            if failing and all(v.incomplete for v in failing):
                return SmokeIncompleteError.exit_code
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

    @classmethod
    def refused(cls, plan: Plan, reasons: Mapping[str, str]) -> ApplyReport:
        """The report of an apply stopped before its first write: a conflict for each key
        in ``reasons`` ("" for the plan as a whole, shown on every resource with work), and
        nothing written anywhere."""
        general = reasons.get("")
        results = []
        for resource in plan.resources:
            reason = reasons.get(resource.key) or (general if resource.action != "no-op"
                                                   else None)
            if reason is not None:
                results.append(ResourceResult(resource.key, resource.action, "conflict",
                                              resource.agent_id, message=f"{reason}; "
                                              f"{NOTHING_WRITTEN}"))
            elif resource.action != "no-op":
                results.append(ResourceResult(resource.key, resource.action, "skipped",
                                              resource.agent_id, message=NOTHING_WRITTEN))
            else:
                results.append(ResourceResult(resource.key, resource.action, "unchanged",
                                              resource.agent_id))
        return cls(plan, tuple(results))
