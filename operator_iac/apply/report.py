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
    """Write over an unreleased draft operator-iac did not write (``--overwrite-draft``, or
    a plan made with it); False: such a draft is not written over (apply refuses a plan that
    would, before its first write)."""
    smoke: bool = True
    """Run the smoke tests at the stages the plan names for each agent (``draft``,
    ``released``); False (``--no-smoke``, and ``--no-release`` on the command line): none
    runs, and a release is recorded as not tested."""
    rollback: bool = True
    """Release the previous revision again when the released revision's smoke tests fail,
    for agents whose smoke settings (or the project's defaults) do not turn that off; False
    (``--no-rollback``): the failed release stays."""
    parallelism: int = PARALLELISM
    """How many agents of a wave are worked on at once, at most (``--parallelism``; fewer
    while the platform answers 429). ``services.apply`` gives it to the checks before the
    first write and to the smoke gate too."""
    release: bool = True
    """False (``--no-release``): write and read back the drafts, and release nothing; a later
    apply releases them (smoke tests of the drafts run in between, in other jobs)."""


@dataclass(frozen=True)
class ResourceResult:
    """What apply did to one agent: its ``outcome``, the revisions it wrote and released
    (or rolled back to), the steps taken, and the smoke verdicts."""

    key: str
    """The agent's key."""
    action: str
    """The plan's action for it (``create``, ``update``, ``release``, ``adopt``, ``verify``,
    ``delete``, ``no-op``)."""
    outcome: Outcome
    """What came of it: ``applied``, ``unchanged``, ``converged``, ``failed``, ``conflict``,
    ``smoke_failed``, ``rolled_back`` or ``skipped``."""
    agent_id: str | None = None
    """The platform's id of the agent (``ca_x``): the plan's, or the one this run created or
    found (after a concurrent create, the agent kept); None when no agent is known (a create
    not sent, or that failed before the platform answered)."""
    version_id: str | None = None
    """The draft this run wrote or released (``ca_x@v3``), or for a ``verify`` the released
    revision it tested; None when it came to none (a delete, a refusal, a skip)."""
    released_version_id: str | None = None
    """The revision left released: the one this run released, or the previous one after a
    rollback (for a ``verify``, the revision tested); None when this run released nothing."""
    rolled_back_to: str | None = None
    """The previous revision, released again because the released revision's smoke tests
    failed; None when there was no rollback."""
    message: str = ""
    """Why the outcome, for people (a failure, a conflict, a skip, a convergence); empty for
    ``applied`` and ``unchanged``."""
    steps: tuple[str, ...] = ()
    """What was done, one line per step in order (``created ca_x@v1``,
    ``released ca_x@v2``); empty when nothing was."""
    smoke: tuple[SmokeVerdict, ...] = ()
    """The smoke verdicts, one per stage tested (``draft``, then ``released``); empty when no
    smoke test ran."""

    @property
    def ok(self) -> bool:
        """Whether the agent is now as the declarations want it."""
        return self.outcome in ("applied", "unchanged", "converged")


@dataclass(frozen=True)
class ApplyReport:
    """Every agent's result, in plan order; ``exit_code`` maps them to the exit-code table."""

    plan: Plan
    """The plan that was carried out (or refused)."""
    results: tuple[ResourceResult, ...]
    """One result per resource of the plan, in the plan's order."""
    warnings: tuple[str, ...] = ()
    """What the run noticed beyond the results: writes the platform's lists did not show yet,
    one line each."""

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
