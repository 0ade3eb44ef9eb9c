"""The executor: carries out a plan against the platform. The only module that writes agents.

A plan is executed as waves of resources (``Plan.waves``: procedural agents before the
conversational agents that refer to them, deletions last and in reverse). Resources of a wave
run concurrently; one resource's failure never stops the others, but a resource whose
dependency failed is skipped. Per resource the steps are::

    re-read the agent ─ moved since the plan? ──> conflict (exit 5), nothing written
    create, or PUT the draft ─ read it back ─ a declared field missing? ──> failed
    smoke-test the draft (if asked) ─ failed? ──> draft left unreleased (exit 4)
    release ─ smoke-test the released revision (if asked) ─ failed? ──> previous revision
                                                                        released again

A create is never sent blindly twice. If its answer is lost, the agents list (or, where its
items carry no description, each agent's versions) is searched for this project's marker
before it is sent again, so no agent is ever created twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from operator_iac.api.pool import WorkPool
from operator_iac.apply.claims import claims, owned_agents
from operator_iac.apply.report import ApplyOptions, ApplyReport, Outcome, ResourceResult
from operator_iac.errors import (
    ApiConflictError,
    ConflictError,
    ForeignDraftError,
    NotFoundError,
    OperationError,
    OperatorIacError,
)
from operator_iac.plan.hashing import revision_fingerprint
from operator_iac.plan.identity import duplicates
from operator_iac.plan.model import FieldChange, Plan, ResourcePlan
from operator_iac.plan.writes import (
    carries_marker,
    persisted_mismatches,
    remote_moved,
    write_body,
)
from operator_iac.spec.desired import AgentKind
from operator_iac.state.fetch import agents_resource, fetch_agent, read_revision
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.models import WriteResult
    from operator_iac.api.resources import AgentsResource
    from operator_iac.smoke.gate import SmokeGate, SmokeVerdict
    from operator_iac.spec.assertions import SmokeStage
    from operator_iac.spec.desired import DesiredAgent

Progress = Callable[[str], None]
# A create whose answer was lost is sent again (after looking for its marker) this often.
CREATE_ATTEMPTS = 3


class _ResourceFailed(Exception):
    """Internal: ends one resource's steps with an outcome; never leaves this module."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


def execute_plan(plan: Plan, desired: Mapping[str, DesiredAgent], client: OperatorClient, *,
                 options: ApplyOptions | None = None, smoke_gate: SmokeGate | None = None,
                 progress: Progress | None = None) -> ApplyReport:
    """Execute ``plan``; ``desired`` holds the declarations resolved again (with secrets).

    The plan must have passed ``operator_iac.services.apply.preflight``: this writes what it
    says.
    """
    options = options or ApplyOptions()
    run = _Run(plan, desired, client, options, smoke_gate if options.smoke else None,
               progress or (lambda _line: None))
    return run.execute()


class _Run:
    """The state of one apply: ids learnt so far and results per key."""

    def __init__(self, plan: Plan, desired: Mapping[str, DesiredAgent], client: OperatorClient,
                 options: ApplyOptions, smoke_gate: SmokeGate | None, progress: Progress) -> None:
        self.plan, self.desired, self.client = plan, desired, client
        self.options, self.smoke_gate, self.progress = options, smoke_gate, progress
        self.ids: dict[str, str] = dict(plan.known_ids)
        self.ids.update({r.key: r.agent_id for r in plan.resources if r.agent_id})
        self.results: dict[str, ResourceResult] = {}
        self._owned: dict[str, dict[str, str]] = {}
        self._owned_lock = threading.Lock()

    def owned_at_start(self, kind: AgentKind) -> Mapping[str, str]:
        """Key -> id of this project's agents of ``kind`` when the first create ran: one
        listing per kind and run, not one per create."""
        with self._owned_lock:
            if kind not in self._owned:
                self._owned[kind] = owned_agents(agents_resource(self.client, kind),
                                                 self.plan.project)
            return self._owned[kind]

    def execute(self) -> ApplyReport:
        for wave in self.plan.waves():
            for result in WorkPool(parallelism=self.options.parallelism).map(self._one, wave):
                self.results[result.key] = result
                if result.agent_id:
                    self.ids[result.key] = result.agent_id
        ordered = [self.results.get(r.key) or _unchanged(r) for r in self.plan.resources]
        return ApplyReport(self.plan, tuple(ordered))

    def _one(self, resource: ResourcePlan) -> ResourceResult:
        blocked_by = [k for k in resource.depends_on
                      if k in self.results and not self.results[k].ok]
        if blocked_by:
            return ResourceResult(resource.key, resource.action, "skipped", resource.agent_id,
                                  message=f"skipped: {', '.join(blocked_by)} did not apply")
        steps = _Steps(self, resource)
        try:
            return steps.run()
        except _ResourceFailed as exc:
            return steps.result(exc.outcome, str(exc))
        except ConflictError as exc:
            return steps.result("conflict", str(exc))
        except NotFoundError as exc:
            # The agent this run works on vanished: someone else deleted it meanwhile (a
            # concurrent apply removing its duplicate, a dashboard user). Not this run's failure.
            return steps.result("conflict", f"{exc}: deleted by someone else while this run "
                                "worked on it; make a new plan")
        except OperatorIacError as exc:
            return steps.result("failed", str(exc))


class _Steps:
    """The steps for one resource, recording what was done for the report."""

    def __init__(self, run: _Run, resource: ResourcePlan) -> None:
        self.run_, self.resource = run, resource
        self.client = run.client
        self.agent_id = resource.agent_id
        # True once this run's own create answered: only then may it delete the agent.
        self.created_here = False
        # The draft as read back after writing it: what the release must still release.
        self.written_fingerprint: str | None = None
        # The revision a draft was written over (None for a create).
        self.base: RemoteRevision | None = None
        self.version_id: str | None = None
        self.released: str | None = None
        self.rolled_back_to: str | None = None
        self.done: list[str] = []
        self.smoke: list[SmokeVerdict] = []

    def result(self, outcome: Outcome, message: str = "") -> ResourceResult:
        return ResourceResult(self.resource.key, self.resource.action, outcome, self.agent_id,
                              self.version_id, self.released, self.rolled_back_to, message,
                              tuple(self.done), tuple(self.smoke))

    def note(self, step: str) -> None:
        self.done.append(step)
        self.run_.progress(f"{self.resource.key}: {step}")

    @property
    def agents(self) -> AgentsResource:
        return agents_resource(self.client, self.resource.kind)

    def run(self) -> ResourceResult:
        action = self.resource.action
        if action == "delete":
            return self._delete()
        if action == "create":
            self._create()
        elif action in ("update", "adopt"):
            self._write_draft(self._recheck())
        else:  # release: the draft already holds the desired content
            current = self._recheck()
            assert current.draft is not None, "a release plan always records a draft"
            self.version_id = current.draft.version_id
        # The plan recorded the released revision and the re-check proved it still is.
        previous = self.resource.remote.released_version_id if self.resource.remote else None
        self._gate("draft")
        self._release(previous)
        return self.result("applied")

    # ---- steps ---------------------------------------------------------------------------

    def _delete(self) -> ResourceResult:
        """Delete the agent; one that is gone already is what was wanted."""
        try:
            self._recheck()
            self.agents.delete(self._agent_id())
        except NotFoundError:
            self.note(f"{self.agent_id} was deleted already")
            return self.result("applied")
        self.note(f"deleted {self.agent_id}")
        return self.result("applied")

    def _agent_id(self) -> str:
        if self.agent_id is None:
            raise OperationError(f"agent {self.resource.key!r}: no remote id known")
        return self.agent_id

    def _recheck(self) -> RemoteAgent:
        """Optimistic concurrency: the agent must still be exactly as the plan saw it."""
        current = fetch_agent(self.client, self.resource.kind, self._agent_id())
        moved = remote_moved(self.resource.remote, current)
        if moved:
            raise _ResourceFailed("conflict", f"{moved}; nothing was written for "
                                  f"{self.resource.key!r}, make a new plan")
        return current

    def _desired(self) -> DesiredAgent:
        return self.run_.desired[self.resource.key]

    def _create(self) -> None:
        # An agent with our marker that the plan did not see: a concurrent apply created it.
        existing = self.run_.owned_at_start(self.resource.kind).get(self.resource.key)
        if existing is not None:
            raise _ResourceFailed("conflict", f"agent {existing} with this project's marker "
                                  f"for {self.resource.key!r} appeared since the plan was "
                                  "made; make a new plan")
        body = write_body(self.resource, self._desired(), self.run_.ids, None)
        found = self._send_create(body)
        if found is not None:
            self.agent_id = found
            self.note(f"found {found}, created by the request whose answer was lost")
            self.version_id = self._draft_of(found)
        self._yield_to_concurrent_create()
        self._verify_persisted(body)

    def _send_create(self, body: dict[str, Any]) -> str | None:
        """Create the agent; after an answer that may have been lost, look for this
        project's marker before sending it again. Returns the id of an agent found that way
        (None when this create made it: ``agent_id`` and ``version_id`` are then set)."""
        from operator_iac.errors import AmbiguousWriteError

        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                created = self.agents.create(**body)
            except AmbiguousWriteError:
                found = owned_agents(self.agents, self.run_.plan.project).get(self.resource.key)
                if found is not None:
                    return found
                if attempt == CREATE_ATTEMPTS:
                    raise
                continue
            self.agent_id = created.id
            self.created_here = True
            self.version_id = created.version_id or f"{created.id}@v0"
            self.note(f"created {self.version_id}")
            return None
        raise AssertionError("unreachable")

    def _yield_to_concurrent_create(self) -> None:
        """Another apply may have created an agent for this key at the same time: when the
        claim rule (``apply.claims``) keeps the other one, this run's agent is deleted before
        it is ever released, and the key is a conflict for this run."""
        key = self.resource.key
        claimants = set(claims(self.agents, self.run_.plan.project).get(key, []))
        claimants.add(self._agent_id())  # a listing may lag behind the create
        if len(claimants) < 2:
            return
        keep = self._agent_to_keep(claimants)
        if keep == self.agent_id:
            return
        mine = self._agent_id()
        if not self.created_here:
            raise _ResourceFailed("conflict", f"another apply created {keep} for {key!r} at "
                                  f"the same time; this run works on neither")
        try:
            self.agents.delete(mine)
        except OperatorIacError as exc:
            raise _ResourceFailed("conflict", f"another apply created {keep} for {key!r} at "
                                  f"the same time, and deleting this run's {mine} failed "
                                  f"({exc}); the next apply removes it") from exc
        self.note(f"deleted {mine}: another apply created {keep} for this key at the same time")
        self.agent_id = keep
        raise _ResourceFailed("conflict", f"another apply created {keep} for {key!r} at the "
                              f"same time; this run's {mine} yielded and was deleted unreleased")

    def _write_draft(self, current: RemoteAgent) -> None:
        if current.draft is not None and self.resource.foreign_draft and \
                not self.run_.options.overwrite_draft:
            raise ForeignDraftError(f"agent {self.resource.key!r} has a foreign draft")
        # Fields the declarations do not mention keep the released revision's values.
        base = self.base = current.released or current.draft
        body = write_body(self.resource, self._desired(), self.run_.ids, base)
        address, written = self._put_draft(current, body)
        self.version_id = written.version_id or address
        self.note(f"wrote draft {self.version_id}")
        self._verify_persisted()

    def _put_draft(self, current: RemoteAgent,
                   body: dict[str, Any]) -> tuple[str, WriteResult]:
        """PUT the draft, addressed explicitly when there is one (a bare id makes a new one).

        A 409 says the revision is not the draft. If the agent did not move since the
        re-check, its status was inferred wrongly (platforms that report only
        ``is_released`` make an archived revision newer than the released one, as after a
        rollback, look like a draft), so the bare id starts a new draft. If it moved, someone
        else wrote it: a conflict, and nothing is written.
        """
        if current.draft is None:
            return self._agent_id(), self.agents.update(self._agent_id(), **body)
        try:
            return current.draft.version_id, self.agents.update(current.draft.version_id, **body)
        except ApiConflictError:
            self._recheck()
            return self._agent_id(), self.agents.update(self._agent_id(), **body)

    def _verify_persisted(self, created_with: dict[str, Any] | None = None) -> None:
        """Read the draft back; every declared field must be there. A create may drop
        fields a platform accepts only on PUT (``postprocess_agents``, on some): those are
        written once more with a PUT into the new draft before the draft is given up."""
        assert self.version_id is not None
        revision, missing = self._read_back()
        if missing and created_with is not None and carries_marker(revision, self.resource):
            paths = ", ".join(change.path for change in missing[:5])
            written = self.agents.update(self.version_id, **created_with)
            self.version_id = written.version_id or self.version_id
            self.note(f"the create did not keep {paths}; wrote them into {self.version_id} "
                      "with PUT")
            revision, missing = self._read_back()
        if missing:
            if self._written_by_someone_else(revision, missing):
                raise _ResourceFailed("conflict", f"draft {self.version_id} was written by "
                                      "someone else at the same time; this run's change is "
                                      f"not in it and was not released, make a new plan")
            paths = ", ".join(change.path for change in missing[:5])
            raise _ResourceFailed("failed", f"the platform did not keep {paths} in draft "
                                  f"{self.version_id}; the draft was left unreleased")
        self.written_fingerprint = revision_fingerprint(revision)

    def _read_back(self) -> tuple[RemoteRevision, tuple[FieldChange, ...]]:
        assert self.version_id is not None
        revision = read_revision(self.client, self.resource.kind, self.version_id, "draft")
        return revision, persisted_mismatches(self._desired(), self.run_.ids, revision)

    def _written_by_someone_else(self, revision: RemoteRevision,
                                 missing: tuple[FieldChange, ...]) -> bool:
        """Whether a read-back that lacks declared values holds another writer's content
        rather than a field the platform did not keep: another marker, or a value that is
        neither this run's nor the one the revision was written over."""
        if not carries_marker(revision, self.resource):
            return True
        base: dict[str, Any] = {}
        if self.base is not None:
            base = {c.path: c.before for c in
                    persisted_mismatches(self._desired(), self.run_.ids, self.base)}
        return any(c.before is not None and c.before != base.get(c.path) for c in missing)

    def _agent_to_keep(self, claimants: set[str]) -> str:
        """The claimant every concurrent run agrees to keep (``plan.identity.duplicates``);
        one deleted meanwhile has yielded already."""
        seen = []
        for agent_id in sorted(claimants):
            try:
                seen.append(fetch_agent(self.client, self.resource.kind, agent_id))
            except NotFoundError:
                continue
        return duplicates(seen)[0].id if seen else self._agent_id()

    def _check_draft_unchanged(self) -> None:
        """Right before releasing: the draft still holds what this run wrote and read back, so
        a concurrent writer's content is never released in this run's name."""
        if self.written_fingerprint is None or self.version_id is None:
            return
        revision = read_revision(self.client, self.resource.kind, self.version_id, "draft")
        if revision_fingerprint(revision) != self.written_fingerprint:
            raise _ResourceFailed("conflict", f"draft {self.version_id} changed after this run "
                                  "wrote it (another apply or a dashboard edit); it was not "
                                  "released, make a new plan")

    def _gate(self, stage: SmokeStage) -> None:
        gate = self.run_.smoke_gate
        if gate is None or stage not in self.resource.smoke or self.version_id is None:
            return
        self.run_.progress(f"{self.resource.key}: smoke testing {stage} {self.version_id}")
        verdict = gate(self.resource, self._desired(), self.version_id, stage,
                       dict(self.run_.ids))
        self.smoke.append(verdict)
        if not verdict.passed:
            raise _ResourceFailed("smoke_failed", f"smoke tests {verdict.word} on the {stage} "
                                  f"revision {self.version_id}: {verdict.summary}")
        self.note(f"smoke tests passed on {stage} ({verdict.summary})")

    def _release(self, previous: str | None) -> None:
        assert self.version_id is not None
        if self.resource.action == "create":
            self._yield_to_concurrent_create()
        self._check_draft_unchanged()
        self.agents.release(self.version_id)
        self.released = self.version_id
        self.note(f"released {self.version_id}")
        try:
            self._gate("released")
        except _ResourceFailed as failure:
            rollback = self.run_.options.rollback and self._desired().smoke_rollback
            if failure.outcome != "smoke_failed" or not rollback or previous is None or \
                    previous == self.version_id:
                raise
            try:
                self.agents.release(previous)
            except OperatorIacError as refused:
                # The revision that failed stays released: the report must say both.
                raise _ResourceFailed("failed", f"{failure}; rolling back to {previous} failed: "
                                      f"{refused}") from refused
            self.rolled_back_to = previous
            self.released = previous
            self.note(f"rolled back: released {previous} again")
            raise _ResourceFailed("rolled_back", f"{failure}; rolled back to {previous}") \
                from failure

    def _draft_of(self, agent_id: str) -> str:
        versions = self.agents.list_versions(agent_id)
        drafts = [v for v in versions if v.status == "draft"]
        if not drafts:
            raise _ResourceFailed("conflict", f"agent {agent_id} has no draft to release")
        return drafts[-1].version_id


def _unchanged(resource: ResourcePlan) -> ResourceResult:
    return ResourceResult(resource.key, resource.action, "unchanged", resource.agent_id)
