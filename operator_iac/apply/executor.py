"""The executor: carries out a plan against the platform. With ``apply.steps`` (what is done
for one resource) the only code that writes agents.

A plan is executed as waves of resources (``Plan.waves``: procedural agents before the
conversational agents that refer to them, deletions last and in reverse). Resources of a wave
run concurrently; one resource's failure never stops the others, but a resource whose
dependency failed is skipped. Per resource the steps are (``apply.steps``)::

    re-read the agent ─ moved since the plan? ──> conflict (exit 5), nothing written
    create, or PUT the draft ─ read it back ─ a declared field missing? ──> failed
    announce the release (smoke records, named in the draft's marker)
    smoke-test the draft (if asked) ─ failed? ──> draft left unreleased (exit 4)
    release
    smoke-test the released revision (if asked) ─ failed? ──> previous revision released again

A ``verify`` resource (a release announced and never proven, say by a run killed after its
release) runs the last step alone.

A create is never sent blindly twice. If its answer is lost, the agents list (or, where its
items carry no description, each agent's versions) is searched for this project's marker
before it is sent again, so no agent is ever created twice.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING

from operator_iac.api.pool import WorkPool
from operator_iac.apply.claims import ClaimsBoard, claims
from operator_iac.apply.report import ApplyOptions, ApplyReport, ResourceResult
from operator_iac.apply.steps import ResourceFailed, Steps
from operator_iac.apply.visibility import WriteLog, await_visible
from operator_iac.errors import ConflictError, NotFoundError, OperatorIacError
from operator_iac.plan.marker import Owner
from operator_iac.plan.model import Plan, ResourcePlan
from operator_iac.plan.stored import StoredForms
from operator_iac.plan.writes import noted_forms
from operator_iac.spec.desired import AgentKind
from operator_iac.state.fetch import agents_resource

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.smoke.announce import ReleaseRecorder
    from operator_iac.smoke.gate import SmokeGate
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.state.journal import WritesJournal

Progress = Callable[[str], None]


def execute_plan(plan: Plan, desired: Mapping[str, DesiredAgent], client: OperatorClient, *,
                 options: ApplyOptions | None = None, smoke_gate: SmokeGate | None = None,
                 progress: Progress | None = None,
                 release_records: ReleaseRecorder | None = None,
                 journal: WritesJournal | None = None) -> ApplyReport:
    """Execute ``plan``; ``desired`` holds the declarations resolved again (with secrets).

    ``release_records`` writes the smoke records of each release of an agent with smoke
    tests before it is made (``smoke.evidence``), with or without the smoke gate.
    The plan must have passed ``operator_iac.services.apply.preflight``: this writes what it
    says.
    """
    options = options or ApplyOptions()
    run = Run(plan, desired, client, options, smoke_gate if options.smoke else None,
              progress or (lambda _line: None))
    run.release_records = release_records
    run.writes.journal = journal
    run.description_limit = journal.description_limit() if journal is not None else None
    return run.execute()


class Run:
    """The state of one apply: ids learnt so far and results per key."""

    def __init__(self, plan: Plan, desired: Mapping[str, DesiredAgent], client: OperatorClient,
                 options: ApplyOptions, smoke_gate: SmokeGate | None, progress: Progress) -> None:
        self.plan, self.desired, self.client = plan, desired, client
        self.options, self.smoke_gate, self.progress = options, smoke_gate, progress
        self.ids: dict[str, str] = plan.remote_ids()
        # How the platform stores this project's declared values, as the plan saw it.
        self.forms = noted_forms(plan)
        self.results: dict[str, ResourceResult] = {}
        self.release_records: ReleaseRecorder | None = None
        # Whose agents this run writes: the plan's project in the plan's environment.
        self.owner = Owner(plan.project, plan.environment)
        self.claims_board = ClaimsBoard(client, self.owner)
        # Every write, so the run ends only once the platform's lists show them (noted on
        # this machine meanwhile, for the next run should this one die first).
        self.writes = WriteLog()
        self._owned: dict[str, dict[str, list[str]]] = {}
        self._owned_lock = threading.Lock()
        # The characters of a description the platform keeps, once a read-back taught it
        # (``Steps._ensure_marker_kept``); None while none was cut short.
        self.description_limit: int | None = None

    def learn_description_limit(self, limit: int) -> int:
        """Keep ``limit`` if it is lower than what was learnt; the limit now known."""
        with self._owned_lock:
            if self.description_limit is None or limit < self.description_limit:
                self.description_limit = limit
                if self.writes.journal is not None:  # the next run fits its first writes
                    self.writes.journal.remember_description_limit(limit)
            return self.description_limit

    def learn_forms(self, forms: StoredForms) -> None:
        """Forms a read-back of this run showed the platform storing values in: compared
        through from now on, as the plan's are. Another apply's first write of the same
        content, whose marker records none yet, then reads as this change wherever the run
        asks (the wait for that apply, the re-check before finishing its draft), not as
        another writer's."""
        with self._owned_lock:
            self.forms = StoredForms(self.forms.pairs | forms.pairs, self.forms.seal)

    def key_by_id(self) -> dict[str, str]:
        """Agent id -> key of every agent this run knows."""
        return {agent_id: key for key, agent_id in self.ids.items()}

    def owned_at_start(self, kind: AgentKind, pool: WorkPool | None = None
                       ) -> Mapping[str, list[str]]:
        """Key -> ids of this owner's agents of ``kind`` when the first create ran: one
        listing per kind and run, not one per create. It is the run's first listing of the
        kind, so where list items carry no description it reads every agent's versions list
        (once per run: ``apply.claims``), through ``pool``."""
        with self._owned_lock:
            if kind not in self._owned:
                self._owned[kind] = claims(agents_resource(self.client, kind), self.owner,
                                           self.claims_board.seen, pool)
            return self._owned[kind]

    def execute(self) -> ApplyReport:
        for wave in self.plan.waves():
            # With the client: a wave slows down when the platform rate-limits (429).
            with WorkPool(self.client, parallelism=self.options.parallelism) as pool:
                # The wave's first listing of each kind it creates, from this thread: the
                # reads it may need run in parallel here, and one at a time in a task.
                for kind in sorted({r.kind for r in wave if r.action == "create"}):
                    with contextlib.suppress(OperatorIacError):  # each create tries again
                        self.owned_at_start(kind, pool)
                steps = [Steps(self, r) for r in wave]
                # The wave's creates first, all of them sent before any is settled, so that
                # one listing of the agents (``apply.claims``), begun after the last create,
                # settles the whole wave; then every resource's other steps.
                done: dict[str, ResourceResult] = {}
                for phase in (Steps.send_create, Steps.settle_create):
                    creating = [s for s in steps if s.resource.action == "create"
                                and s.resource.key not in done and not self._blocked(s)]
                    ended = pool.map(partial(self._phase, phase), creating)
                    done.update((result.key, result) for result in ended if result is not None)
                results = pool.map(self._one, [s for s in steps if s.resource.key not in done])
            for result in [*done.values(), *results]:
                self.results[result.key] = result
                if result.agent_id:
                    self.ids[result.key] = result.agent_id
        ordered = [self.results.get(r.key) or _unchanged(r) for r in self.plan.resources]
        late = await_visible(self.client, self.writes.writes(),
                             superseded=self.writes.superseded())
        if not late:
            self.writes.shown()
        warnings = tuple(f"the platform's lists do not show this yet: {line}; a command "
                         "started right now may not see it" for line in late)
        return ApplyReport(self.plan, tuple(ordered), warnings)

    def _phase(self, phase: Callable[[Steps], None], steps: Steps) -> ResourceResult | None:
        """One phase of a resource's steps: None, or the outcome its failure maps to."""
        return self.guarded(steps, lambda: phase(steps))

    def _blocked(self, steps: Steps) -> list[str]:
        """The dependencies of the resource that did not apply."""
        return [k for k in steps.resource.depends_on
                if k in self.results and not self.results[k].ok]

    def _one(self, steps: Steps) -> ResourceResult:
        resource = steps.resource
        blocked_by = self._blocked(steps)
        if blocked_by:
            return ResourceResult(resource.key, resource.action, "skipped", resource.agent_id,
                                  message=f"skipped: {', '.join(blocked_by)} did not apply")
        result = self.guarded(steps, steps.run)
        assert result is not None
        return result

    @staticmethod
    def guarded(steps: Steps, step: Callable[[], ResourceResult | None]
                 ) -> ResourceResult | None:
        """``step``'s result, or the outcome its failure maps to."""
        try:
            return step()
        except ResourceFailed as exc:
            if exc.outcome == "conflict":
                return steps.conflict(str(exc))
            if exc.outcome == "converged":
                return steps.converged(str(exc))
            return steps.result(exc.outcome, str(exc))
        except ConflictError as exc:
            return steps.conflict(str(exc))
        except NotFoundError as exc:
            # The agent this run works on vanished: someone else deleted it meanwhile (a
            # concurrent apply removing its duplicate, a dashboard user). Not this run's failure.
            return steps.vanished(exc)
        except OperatorIacError as exc:
            return steps.result("failed", str(exc))


def _unchanged(resource: ResourcePlan) -> ResourceResult:
    return ResourceResult(resource.key, resource.action, "unchanged", resource.agent_id)
