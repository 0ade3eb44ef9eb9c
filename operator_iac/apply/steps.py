"""The steps apply takes for one resource of a plan, recording what was done for the report.

``Steps.run`` follows the resource's action: delete it; verify its release; or create it (or
write its draft), read it back, smoke-test the draft, announce and make the release, and
smoke-test the released revision, releasing the previous revision again when that fails.
Before the draft is tested, a release to be made is announced on the platform: its smoke
records are written and the draft's marker is written once more to name them
(``smoke.evidence``), so the revision released carries where its evidence is.
Each step that finds the platform moved ends the resource as a conflict; the executor
(``apply.executor``) runs resources wave by wave and maps each ``ResourceFailed`` to an
outcome.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from operator_iac.api.models import version_number
from operator_iac.api.polling import pauses_until
from operator_iac.api.resources import ADDRESSED_WRITE_REFUSALS, REVISION_REFUSALS
from operator_iac.apply.claims import agent_exists, agent_to_keep, owned_agents, settle
from operator_iac.apply.claims import claims as owned_claims
from operator_iac.apply.journaled import JournaledAgents
from operator_iac.apply.other_apply import await_other_apply
from operator_iac.apply.release_records import WRITTEN_BY_ANOTHER, ReleaseRecords, next_draft
from operator_iac.apply.report import Outcome, ResourceResult
from operator_iac.apply.same_change import (
    draft_to_write_over,
    holding_this_change,
    over_planned_release,
)
from operator_iac.apply.visibility import WriteKind
from operator_iac.errors import (
    ApiConflictError,
    BadRequestError,
    ForeignDraftError,
    NotFoundError,
    OperationError,
    OperatorIacError,
)
from operator_iac.plan.compare import own_marker
from operator_iac.plan.hashing import hash_matches, revision_fingerprint
from operator_iac.plan.marker import (
    cut_from,
    fitted,
    parse_cut_marker,
    parse_marker,
    room_needed,
    smaller_descriptions,
)
from operator_iac.plan.model import RemoteState, ResourcePlan
from operator_iac.plan.normalise import same_written
from operator_iac.plan.stored import Difference, StoredForms
from operator_iac.plan.writes import (
    CHANGE_ACTIONS,
    carries_cut_marker,
    carries_marker,
    describe_forms,
    holds_this_change,
    raw_differences,
    remade_body,
    remote_moved,
    seen_by_plan,
    stored_differences,
    with_stored_forms,
    with_write_time,
    write_body,
)
from operator_iac.smoke.evidence import Revision, unproven_releases
from operator_iac.state.fetch import (
    agents_resource,
    fetch_agent,
    fetch_versions,
    read_revision,
    read_written,
    revision_of,
)
from operator_iac.state.snapshot import (
    RemoteAgent,
    RemoteRevision,
    changes,
    copy_state,
    read_state,
)
from operator_iac.state.write_order import WriteOrder

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from datetime import datetime

    from operator_iac.api.models import WriteResult
    from operator_iac.api.resources import AgentsResource
    from operator_iac.apply.executor import Run
    from operator_iac.smoke.gate import SmokeVerdict
    from operator_iac.spec.assertions import SmokeStage
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.state.floor import Floor

# A create whose answer was lost is sent again (after looking for its marker) this often.
CREATE_ATTEMPTS = 3
# What a run says when another apply of the same commit wrote this very content into its
# draft (``converged``): that apply releases and proves it, which the run waits for
# (``apply.other_apply``), or finishes itself should that apply stop first.
SAME_CONTENT = ("another apply wrote the same content into draft {} at the same time; it "
                "releases and proves it, this run released nothing")


class ResourceFailed(Exception):
    """Internal: ends one resource's steps with an outcome; never leaves the executor."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class Steps:
    """The steps for one resource, recording what was done for the report."""

    def __init__(self, run: Run, resource: ResourcePlan) -> None:
        self.run_, self.resource = run, resource
        self.client = run.client
        self.agent_id = resource.agent_id
        # True once this run's own create answered: only then may it delete the agent.
        self.created_here = False
        # A create of this run lost its answer and its agent was not found before the create
        # was sent again: an agent of this key with this content may be that one.
        self.lost_create = False
        # The draft this run goes on with is another create's, found by the claim rule, not
        # written by this run yet: its read-back is no read-back of a write of this run's.
        self.adopted = False
        # The draft as read back after writing it: what the release must still release.
        self.written_fingerprint: str | None = None
        # The revision a draft was written over (None for a create).
        self.base: RemoteRevision | None = None
        # The revision under test as last read: the draft read back after writing it (what
        # the release's records are named in), or the released revision a verify proves.
        self.read_back: RemoteRevision | None = None
        # The release's smoke records (``apply.release_records``).
        self.records = ReleaseRecords(self)
        # The body of the last create or PUT: written again to record stored forms.
        self.body: dict[str, Any] | None = None
        # ``read_back`` is the create's: no PUT of this run's body was read back yet, and a
        # platform may store a PUT of one body otherwise than its create (``stored_by_put``).
        self.stored_by_create = False
        # The states (``read_state``) this run's revisions had before writes that changed them:
        # a read by id that still shows one of them trails the write (``read_written``).
        self.superseded: set[str] = set()
        # When the platform answered this run's last write of the draft (``WriteResult``):
        # what places another writer's state a read-back shows (``state.write_order``).
        self.answered_at: datetime | None = None
        # When this run's create answered, and when its first settlement ended (monotonic):
        # claims are settled on listings begun after them.
        self.created_at = 0.0
        self.settled_at = 0.0
        self.version_id: str | None = None
        # The revision released before this run's release, as the run last knew it ("" for
        # none): the plan's, or this run's own write once found released by the platform (a
        # create released at once). The wait for the lists tells it, still shown released,
        # from a release by someone else.
        remote = resource.remote
        self.released_before = (remote.released_version_id or "") if remote else ""
        self.released: str | None = None
        self.rolled_back_to: str | None = None
        self.done: list[str] = []
        self.smoke: list[SmokeVerdict] = []
        # This run finished a draft another apply of this change wrote and did not release
        # (``apply.other_apply.take_over``): done once.
        self.took_over = False

    def result(self, outcome: Outcome, message: str = "") -> ResourceResult:
        return ResourceResult(self.resource.key, self.resource.action, outcome, self.agent_id,
                              self.version_id, self.released, self.rolled_back_to, message,
                              tuple(self.done), tuple(self.smoke))

    def conflict(self, message: str) -> ResourceResult:
        """The result of a conflict this run met: ``converged`` when the agent's released
        revision now holds exactly this change (another apply of the same commit released
        it first, and proves it), whatever step of this run met the other's writes (a draft
        released or replaced under its write, a write refused for a revision archived
        since); else the conflict. One read of the agent, on this path only."""
        found = self._released_with_this_change()
        if found is not None:
            released = found[1]
            return self._converged_on(*found, f"another apply released this very change as "
                                      f"{released.version_id}; this run met its writes: "
                                      f"{message}")
        return self.result("conflict", message)

    def converged(self, message: str) -> ResourceResult:
        """The result of meeting another apply of this very change (``converged``): where
        that apply released it already, the release is proven here if it is not yet
        (``_converged_on``); where it holds the change in a draft it has not released, this
        run waits for it, and finishes the draft itself should it not
        (``apply.other_apply``)."""
        found = self._released_with_this_change()
        if found is not None:
            return self._converged_on(*found, message)
        waited = await_other_apply(self, message)
        result = waited if waited is not None else self.result("converged", message)
        if result.outcome == "converged" and self.resource.action == "create" and \
                self.agent_id is not None:
            self.saw_created(self.agent_id)
        return result

    def vanished(self, error: NotFoundError) -> ResourceResult:
        """The result where the agent this run worked on is gone: someone deleted it
        meanwhile. An agent this run created is most likely deleted by another apply of the
        key keeping its own (the claim rule deletes the agents that yield to it, and that
        run's decision may come after this run's, on a listing that shows this run's agent
        where this run's did not show the other's yet): where the key's agent is now another
        written for this content, the run converges on it, as where it yields itself
        (``converged``: it waits for that apply's release, and finishes it should that
        apply stop). Anything else is a conflict."""
        gone = f"{error}: deleted by someone else while this run worked on it"
        mine = self.agent_id
        if self.resource.action != "create" or not self.created_here or mine is None:
            return self.result("conflict", f"{gone}; make a new plan")
        try:
            if agent_exists(self.client, self.resource.kind, mine):
                return self.result("conflict", f"{gone}; make a new plan")
            self.wrote("deleted", agent_id=mine)  # what the next run must see of it
            # A listing begun now, not one this run shares: it must show the other's agent.
            keep, same = self._kept_for_key(mine, [mine], read_before=True)
        except OperatorIacError as exc:
            return self.result("conflict", f"{gone}; the key's agent could not be read "
                               f"({exc}); make a new plan")
        if keep == mine:
            return self.result("conflict", f"{gone}; no other agent holds the key: make a "
                               "new plan")
        self.agent_id, self.version_id, self.created_here = keep, None, False
        if not same:
            return self.result("conflict", f"{gone}; the key's agent is now {keep}, written "
                               "for other content; make a new plan")
        return self.converged(f"{error}: {mine} was deleted while this run worked on it, by "
                              f"another apply, which created {keep} for "
                              f"{self.resource.key!r} with the same "
                              "content and keeps it; it releases and proves it")

    def _finish_created(self, created: RemoteRevision) -> None:
        """Go on with the key's new agent from ``created``, another apply's create of this
        change (its draft, or a release the platform made of it at once) that it did not
        finish: the steps this run's own create takes after its create. ``settle_create``'s
        read-back, which writes again what that write still lacks (a field the create did
        not keep, with a PUT; the record of how the platform stored it, in a new draft above
        a release), then ``ReleaseRecords.name_after_create``, which names this run's
        records in the draft."""
        self.version_id, self.adopted = created.version_id, True
        self.saw_created(self._agent_id())
        self._verify_persisted(self._create_body())
        conflict = self.records.name_after_create(self._previous())
        if conflict is not None:
            raise ResourceFailed("conflict", conflict)

    def _create_body(self) -> dict[str, Any]:
        """The body of this key's create as this run sends it, fitted to the platform's
        limits; made here too where the run never sent it (it found another apply's create
        of the key first), for the writes that finish that create in this run's name."""
        if self.body is None:
            self.body = self._fitted(write_body(self.resource, self._desired(), self.run_.ids,
                                                None))
        return self.body

    def _released_with_this_change(self) -> tuple[RemoteAgent, RemoteRevision] | None:
        """The agent and its released revision, when that holds exactly this change; one
        read of the agent, on the paths that met another writer only."""
        if self.resource.action not in CHANGE_ACTIONS or self.agent_id is None:
            return None
        try:
            agent = fetch_agent(self.client, self.resource.kind, self.agent_id)
        except OperatorIacError:
            return None
        released = agent.released
        if released is None or not holds_this_change(
                self.resource, self._desired(), self.run_.ids, released, self.run_.forms):
            return None
        return agent, released

    def _converged_on(self, agent: RemoteAgent, released: RemoteRevision,
                      said: str) -> ResourceResult:
        """Another apply released this very change: it proves the release, unless it died
        first (killed, its runner lost), which nothing here can tell from a run still
        testing. So where this run proves releases and that one is not proven yet, this run
        proves it too, as ``verify`` would (two runs proving one release each pass or fail
        on it, and both clear its proof records: ``smoke.evidence.prove``); else the next
        plan would find it still to verify.

        The proof is this run's addition to a change the other apply carries: where its
        verdict cannot be kept on the platform (the other apply's records not listed yet,
        say), that is said, and the run still converges, as it did before it proved
        anything; a failing verdict is a failure, with its rollback, as after any release."""
        self.saw_released(released)
        if self.run_.smoke_gate is None or "released" not in self.resource.smoke or \
                not self._unproven(agent, released):
            return self.result("converged", said)
        self.note(f"{released.version_id} was released by another apply and is not proven "
                  "yet: proving it here too")
        self.version_id = self.released = released.version_id
        self.read_back = released
        tested = len(self.smoke)
        try:
            self._prove_release(self._previous())
        except ResourceFailed as failure:
            return self.result(failure.outcome, f"{failure} ({said})")
        for index in range(tested, len(self.smoke)):
            verdict = self.smoke[index]
            if verdict.record_error:
                self.note(f"not kept: {verdict.record_error}")
                self.smoke[index] = replace(verdict, record_error=None)
        return self.result("converged", said)

    def _previous(self) -> str | None:
        """The revision a failing release goes back to: the plan's (``rollback_to``), or the
        one released when the plan was made (the re-check proves it still is)."""
        remote = self.resource.remote
        return self.resource.rollback_to or (remote.released_version_id if remote else None)

    def _unproven(self, agent: RemoteAgent, released: RemoteRevision) -> bool:
        """Whether the smoke records of ``released`` say a run meant to prove its release
        and none did yet."""
        created = next((v.created_at for v in agent.versions
                        if v.version_id == released.version_id), None)
        revision = Revision(released.version_id, released.description, created)
        try:
            return bool(unproven_releases(self.client, self.run_.plan.project,
                                          {self.resource.key: revision}, parallelism=1))
        except OperatorIacError:
            return False  # not readable now: left to that apply, as before

    def wrote(self, what: WriteKind, version_id: str | None = None,
              agent_id: str | None = None, replaced: str | None = None,
              records: tuple[str, str] | None = None, *, by_other: bool = False) -> None:
        """Note a write the run must see in the platform's lists before it ends
        (``replaced``: for a release, the revision released before it, "" for none;
        ``records``: the smoke records written after a release, release and proof;
        ``by_other``: another apply's, which this run reports as its outcome)."""
        self.run_.writes.note(what, self.resource.kind, agent_id or self._agent_id(),
                              version_id, replaced, records, by_other=by_other)

    def saw_created(self, agent_id: str) -> None:
        """The key's agent is ``agent_id``, another apply's create, which this run converges
        on or finishes: the next run must find it listed, as this run's own creates."""
        self.wrote("created", agent_id=agent_id, by_other=True)

    def saw_released(self, released: RemoteRevision) -> None:
        """Another apply of this change released it as ``released``, and this run reports
        that as its outcome (``converged``): the next run must find it released, as it must
        find this run's own releases (``apply.visibility``). What it replaced is taken to be
        the release the plan saw, the one that apply's plan saw too."""
        remote = self.resource.remote
        self.wrote("released", released.version_id,
                   replaced=remote.released_version_id or "" if remote is not None else "",
                   by_other=True)

    def note(self, step: str) -> None:
        self.done.append(step)
        self.run_.progress(f"{self.resource.key}: {step}")

    @property
    def agents(self) -> AgentsResource:
        """This kind's agents resource; its writes noted in the run's journal first."""
        agents = agents_resource(self.client, self.resource.kind)
        if self.run_.writes.journal is None:
            return agents
        return cast("AgentsResource", JournaledAgents(agents, self.resource.kind,
                                                      self.run_.writes))

    def run(self) -> ResourceResult:
        action = self.resource.action
        if action == "delete":
            return self._delete()
        if action == "verify":
            return self._verify()
        if action == "discard":
            return self._discard()
        previous = self._previous()
        if action == "create":
            # The executor has sent and settled the wave's creates (``send_create``,
            # ``settle_create``) before any resource's other steps.
            assert self.agent_id is not None, "a create is sent and settled first"
            conflict = self.records.name_after_create(previous)
            if conflict is not None:
                raise ResourceFailed("conflict", conflict)
        elif action in ("update", "adopt"):
            self.records.prepare(previous)
            self._write_draft(self._recheck())
        else:  # release: the draft already holds the desired content
            current = self._recheck()
            assert current.draft is not None, "a release plan always records a draft"
            self.version_id = current.draft.version_id
            self.read_back, self.base = current.draft, current.released
            if not self.records.hold(current.draft, previous) or \
                    stored_differences(self._desired(), self.run_.ids, current.draft):
                # Written again: to name new records, or because the draft equals the
                # declaration only through stored forms other revisions' markers record
                # (the plan compares through the whole project's), which its own marker
                # must record before it is released: a release is judged on its own
                # marker once those revisions are gone (pruned, rewritten).
                self.records.prepare(previous)
                self._write_draft(self._recheck())
        if not self.run_.options.release:
            self.note(f"left {self.version_id} unreleased (--no-release)")
            return self.result("applied")
        self._gate("draft")
        self._release(previous)
        return self.result("applied")

    def _verify(self) -> ResourceResult:
        """A released revision whose release was never proven: its smoke tests run now, and
        a failure releases the revision recorded before it again (as after any release)."""
        current = self._recheck()
        assert current.released is not None, "a verify plan always records a release"
        self.version_id = self.released = current.released.version_id
        self.read_back = current.released
        if self.run_.smoke_gate is None:
            return self.result("skipped", f"{self.version_id} is released but not proven: "
                                          "smoke tests are off in this run")
        self._prove_release(self.resource.rollback_to)
        return self.result("applied")

    def _discard(self) -> ResourceResult:
        """Discard a stale draft of this tool's (``--discard-drafts``): write the released
        revision, which holds the declaration, into it (the body that made it,
        ``remade_body``). Only while the agent is exactly as the plan saw it (a draft
        written or released since is a conflict, nothing written).
        A "draft" that refuses the write is an archived revision (platforms that report only
        ``is_released``): a new draft then holds the released revision, so that the newest
        revision no longer looks like an unreleased change (``_put_draft``). The draft read
        back must hold the released revision's content, marker included."""
        current = self._recheck()
        draft, released = current.draft, current.released
        assert draft is not None and released is not None, \
            "a discard plan always records a draft and a release"
        body = remade_body(self.resource, self._desired(), self.run_.ids, released)
        address, written = self._put_draft(current, body)
        self.version_id = written.version_id or address
        self.wrote("drafted", self.version_id)
        kept = read_written(self.client, self.resource.kind, self.version_id, "draft",
                            self.superseded)
        if kept.description != released.description or \
                not same_written(kept, released, body.get("config")):
            raise ResourceFailed("failed", f"{self.version_id} does not hold the released "
                                 f"revision {released.version_id} after it was written into it; "
                                 f"check it with: operator-iac history {self.resource.key}")
        self.note(f"discarded the draft {draft.version_id}: {self.version_id} now holds the "
                  f"released revision {released.version_id}")
        return self.result("applied")

    # ---- steps ---------------------------------------------------------------------------

    def _delete(self) -> ResourceResult:
        """Delete the agent; one that is gone already is what was wanted."""
        try:
            self._recheck()
            self.agents.delete(self._agent_id())
            self.wrote("deleted")
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
        """Optimistic concurrency: the agent must still be exactly as the plan saw it. Moved
        to exactly this change released (another apply of the same commit released it
        first), there is nothing left to do: ``converged``. Moved to a draft holding exactly
        this change over the release the plan saw, the run finishes that draft
        (``_finishing``)."""
        current = self.read_agent()
        moved = remote_moved(self.resource.remote, current)
        if moved:
            held = holding_this_change(self.client, self.resource, self._desired(),
                                       self.run_.ids, self.run_.forms, current)
            if held is not None and self._finishing(held):
                return held
            if held is not None:
                raise ResourceFailed("converged", f"{moved}: {self._held_by_another(held)}; "
                                      "this run wrote nothing")
            if self._writes_over(current):
                return current
            raise ResourceFailed("conflict", f"{moved}; nothing was written for "
                                  f"{self.resource.key!r}, make a new plan")
        return current

    def read_agent(self) -> RemoteAgent:
        """The agent read again, never behind what the plan read of it, raised by what this
        machine saw (``seen_by_plan``): a versions list that trails is read again, bounded.
        ``NotFoundError`` when it is gone."""
        return fetch_agent(self.client, self.resource.kind, self._agent_id(),
                           floor=seen_by_plan(self.resource.remote, self._seen_here()))

    def _seen_here(self) -> Floor | None:
        """What this machine saw of the agent and released of it (``state.floor``, kept by
        the journal: ``WritesJournal.seen_of``); None without a journal."""
        journal = self.run_.writes.journal
        return journal.seen_of(self.resource.kind, self._agent_id()) \
            if journal is not None else None

    def _writes_over(self, current: RemoteAgent | None) -> bool:
        """Whether the agent moved since the plan only to a draft the run writes over, as its
        plan would have had it read it (``same_change.draft_to_write_over``), or to another
        apply's write of exactly what this run wrote and read back (``_holds_this_content``:
        its marker maybe cut at the platform's limit, which a plan cannot vouch for), noted."""
        why = draft_to_write_over(self.resource, self._desired(), self.run_.ids,
                                  self.run_.forms, self.run_.owner, current)
        if why is None and current is not None and current.draft is not None and \
                self.resource.action in ("update", "adopt") and \
                over_planned_release(self.resource, current) and \
                self._holds_this_content(current.draft):
            why = f"{current.draft.version_id} holds another apply's write of exactly what " \
                  "this run wrote; this run writes it again"
        if why is not None:
            self.note(why)
        return why is not None

    def _finishing(self, held: RemoteAgent) -> bool:
        """Whether the run goes on with ``held``, moved since the plan to a draft holding
        exactly this change over the very release the plan saw: it writes and releases that
        draft as it would have, had the plan read it (a plan that finds a draft equal to the
        declaration releases it). Nothing shows whether the writer of that draft is alive:
        another apply of the same commit finishing it (its read-back or its check before the
        release then finds this run's write of the same content and converges), or a run
        killed before releasing it, or one whose plan read the draft as it was before its
        last write, which the reads had not caught up with yet. Taking it for another apply
        that finishes it reported the change done while nothing released it."""
        if held.draft is None or self.resource.action not in ("update", "adopt", "release") \
                or not over_planned_release(self.resource, held):
            return False
        self.note(f"{held.draft.version_id} holds this very change, written since the plan "
                  "(by another apply of it, or by a run that stopped before releasing it); "
                  "this run finishes it")
        return True

    def _held_by_another(self, held: RemoteAgent) -> str:
        """What another apply did with this very change: released it (named by its
        release, also where the platform opens a draft copy beside every release), or wrote
        it into a draft it finishes."""
        if holds_this_change(self.resource, self._desired(), self.run_.ids, held.released,
                             self.run_.forms):
            assert held.released is not None
            return f"another apply released this very change as {held.released.version_id} " \
                   "first (it proves the release, or this run does where it is not proven yet)"
        newest = held.draft or held.released
        return f"another apply wrote this very change into " \
               f"{newest.version_id if newest else 'it'} first, and finishes it (its release " \
               "and proof)"

    def _desired(self) -> DesiredAgent:
        return self.run_.desired[self.resource.key]

    def send_create(self) -> None:
        """Create the agent (or find the one a create whose answer was lost made). The
        executor sends every create of a wave first, then settles them all (``settle_create``)
        on the listings that follow the last of them: one listing serves the wave."""
        # An agent with our marker that the plan did not see: a concurrent apply created it.
        existing = self.run_.owned_at_start(self.resource.kind).get(self.resource.key)
        if existing:
            self._converge_on(existing, finish=False)
        found = self._send_create(self._create_body())
        self.created_at = time.monotonic()
        if found is not None:
            self.agent_id = found
            self.note(f"found {found}, created by the request whose answer was lost")
            self.version_id = self._draft_of(found)

    def settle_create(self) -> None:
        """Settle a concurrent create of the key (``apply.claims``), then read the new draft
        back; after this, ``run`` goes on with the rest."""
        assert self.body is not None, "send_create runs first"
        self._yield_to_concurrent_create(self.created_at)
        self._verify_persisted(self.body)
        self.adopted = False

    def _converge_on(self, existing: list[str], *, finish: bool = True) -> None:
        """Agents with this key's marker that the plan did not see: concurrent applies
        created them. The one the claim rule keeps (``apply.claims``), judged on a listing
        that shows them all, is the key's agent: written for the same content, it is what
        this run wanted; with ``finish`` (the agent took the name this run's create asked
        for: a run killed after its create leaves it so) the run finishes it
        (``_finish_kept``: returns) unless its release holds the change, else it converges on
        it (the apply that created it since this run's plan is at work on it); otherwise the
        runs want different things (conflict)."""
        key = self.resource.key
        keep, same = self._kept_for_key(existing[0], existing)
        self.agent_id = keep
        if same and not finish:
            raise ResourceFailed("converged", f"another apply created {keep} for {key!r} "
                                  "with the same content since the plan was made; it "
                                  "releases and proves it")
        if same:
            self._finish_kept(keep, f"another apply created {keep} for {key!r} with the same "
                                    "content since the plan was made; it releases and proves "
                                    "it", f"found {keep}, created for this key with the same "
                                    "content since the plan was made (by another apply, or by "
                                    "a run that stopped before releasing it)")
            return
        raise ResourceFailed("conflict", f"agent {keep} with this project's marker for {key!r} "
                             "appeared since the plan was made; make a new plan")

    def _send_create(self, body: dict[str, Any]) -> str | None:
        """Create the agent; after an answer that may have been lost, look for this
        project's marker before sending it again. Returns the id of an agent found that way
        (None when this create made it: ``agent_id`` and ``version_id`` are then set).

        Each create is noted on this machine before it is sent (``state.journal``), with
        the agent's id once known: a run that dies before the agents list shows the agent
        leaves the next run here its id, or that a create of the key may have been made. A
        create the platform refused made nothing, and is forgotten; where an agent with this
        key's marker has taken the name it asked for (``ClaimsBoard.took_the_name``: a platform
        that keeps names unique), that agent is another apply's create of the key, settled
        as one (``_converge_on``), or, after a lost answer, this run's own."""
        from operator_iac.errors import AmbiguousWriteError

        run, key = self.run_, self.resource.key
        noted = run.writes.begun(self.resource.kind, key)
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                created = self._send_fitting(body, lambda b: self.agents.create(**b),
                                             creates=True)
                body = self.body or body
            except AmbiguousWriteError:
                found = owned_agents(self.agents, run.owner, run.claims_board.seen).get(key)
                if found is not None:
                    run.writes.answered(noted, found)
                    return found
                if attempt == CREATE_ATTEMPTS:
                    raise  # it may still have made the agent: the note stays
                self.lost_create = True  # a list that shows it late: settled after the create
                continue
            except REVISION_REFUSALS as exc:
                found = run.claims_board.took_the_name(self.resource.kind, key,
                                                       str(body.get("name", "")),
                                                       wait=isinstance(exc, ApiConflictError))
                if found is not None and (attempt > 1 or self.lost_create):
                    run.writes.answered(noted, found)  # this run's create whose answer was lost
                    return found
                run.writes.refused(noted)
                if found is None:
                    raise
                self._converge_on([found])  # returns when this run finishes the agent kept
                return None
            except OperatorIacError:
                run.writes.refused(noted)
                raise
            self.version_id = created.version_id or f"{created.id}@v0"
            run.writes.answered(noted, created.id, self.version_id)
            self.agent_id = created.id
            self.created_here = True
            run.claims_board.seen.own(created.id, key)
            self.wrote("created", self.version_id)
            self.note(f"created {self.version_id}")
            return None
        raise AssertionError("unreachable")

    def _yield_to_concurrent_create(self, since: float, *, final: bool = False) -> None:
        """Another apply may have created an agent for this key at the same time: when the
        claim rule (``apply.claims``) keeps the other one, this run's agent is deleted before
        it is ever released, and the key is a conflict for this run. ``final``: right before
        the release."""
        key = self.resource.key
        yielded = settle(self.client, self.run_.claims_board, self.resource.kind, key,
                         self._agent_id(), since=since,
                         created_here=self.created_here,
                         content_hash=self.resource.desired_hash or "",
                         lost_create=self.lost_create, final=final)
        if yielded is None:
            self.settled_at = time.monotonic()
            return
        if self.lost_create and yielded.deleted and yielded.same_content:
            # The agent kept is most likely the one this run's lost create made: the run goes
            # on with it (a concurrent run that made it goes on too; their writes of one
            # draft are settled like any others).
            self.lost_create = False
            self.agent_id, self.created_here = yielded.keep, True
            self.version_id = self._draft_of(yielded.keep)
            self.wrote("deleted", agent_id=yielded.mine)
            self.note(f"found {yielded.keep}, created by the request whose answer was lost; "
                      f"deleted {yielded.mine}, created again before the list showed it")
            self.settled_at = time.monotonic()
            return
        if yielded.deleted and yielded.same_content and not final:
            self.wrote("deleted", agent_id=yielded.mine)
            self._finish_kept(yielded.keep, yielded.message(key), f"deleted {yielded.mine}: "
                              f"{yielded.keep} was created first for this key with the same "
                              "content (by another apply, or by a run that stopped before "
                              "releasing it)")
            self.settled_at = time.monotonic()
            return
        if yielded.deleted:
            self.wrote("deleted", agent_id=yielded.mine)
            self.note(f"deleted {yielded.mine}: another apply created {yielded.keep} for this "
                      "key at the same time")
            self.agent_id = yielded.keep
            self.version_id = None
        converged = yielded.deleted and yielded.same_content
        raise ResourceFailed("converged" if converged else "conflict", yielded.message(key))

    def _kept_for_key(self, mine: str, claimants: list[str], *,
                      read_before: bool = False) -> tuple[str, bool]:
        """The agent the claim rule keeps for the key among ``claimants`` and those a
        listing begun now shows (``ClaimsBoard.listing_after``, showing ``mine``;
        ``read_before``: ``mine`` was read before, so a listing without it need not wait),
        and whether it was written for this content (``apply.claims.agent_to_keep``)."""
        kind, board = self.resource.kind, self.run_.claims_board
        listing = board.listing_after(kind, time.monotonic(), mine, read_before=read_before)
        return agent_to_keep(self.client, kind,
                             {*claimants, *listing.claims.get(self.resource.key, [])}, mine,
                             self.resource.desired_hash or "", listing=listing,
                             timeout_s=board.timeout_s)

    def _finish_kept(self, keep: str, converged: str, found: str) -> None:
        """The key's agent is ``keep``, another create's for the same content (this run's
        own yielded to it, or the plan did not see it): the run goes on with that agent's
        draft, as it would with its own, unless the agent already has this change released
        (``converged``, which says why). Nothing shows whether the run that created it is
        alive: another apply releasing and proving it (its check before the release, or
        this run's, then finds the other's write of the same content and converges), or a
        run killed before its release, on another machine (no journal names its create),
        whose agent nobody would release: left to it, the change was reported done while
        the plan after it still proposed the release. Its release follows the claim rule's
        final check like this run's own would. ``found``: how the run came to it."""
        self.agent_id, self.version_id = keep, None
        try:
            kept = fetch_agent(self.client, self.resource.kind, keep)
        except NotFoundError:
            raise ResourceFailed("conflict", f"{converged}; but {keep} was deleted since; "
                                 "make a new plan") from None
        if holds_this_change(self.resource, self._desired(), self.run_.ids, kept.released,
                             self.run_.forms):
            raise ResourceFailed("converged", converged)
        if kept.draft is None or not carries_marker(kept.draft, self.resource):
            raise ResourceFailed("converged", converged)
        self.version_id, self.adopted = kept.draft.version_id, True
        self.saw_created(keep)
        self.note(f"{found}; this run finishes {self.version_id}")

    def _write_draft(self, current: RemoteAgent) -> None:
        if current.draft is not None and self.resource.blocked == "foreign_draft" and \
                not self.run_.options.overwrite_draft:
            raise ForeignDraftError(f"agent {self.resource.key!r} has a foreign draft")
        # Fields the declarations do not mention keep the released revision's values.
        base = self.base = current.released or current.draft
        body = write_body(self.resource, self._desired(), self.run_.ids, base)
        if current.draft is not None:
            # Written into a draft that was there before: its times cannot say the write was
            # its last change, so the marker says when it was made (``unfinished_own_write``);
            # said before the marker is fitted, which gives it up only where it must
            # (``GIVEN_UP_IN_ORDER``).
            body = with_write_time(body, self.client.platform_clock.now())
        body = self.body = self.records.naming(body)
        address, written = self._put_draft(current, body)
        self.answered_at = written.answered_at
        self.version_id = written.version_id or address
        self.wrote("drafted", self.version_id)
        self.note(f"wrote draft {self.version_id}")
        self._verify_persisted()
        self.records.written(self.version_id)

    def _put_draft(self, current: RemoteAgent,
                   body: dict[str, Any]) -> tuple[str, WriteResult]:
        """PUT the draft, addressed explicitly when there is one (a bare id makes a new one).

        A refusal (409, or the 400 or 422 some platforms give a write to an immutable
        revision; or 403, 404 or 405 from a platform that takes writes to the bare id only,
        ``ADDRESSED_WRITE_REFUSALS``) may say the revision is not the draft, or that it is
        not to be addressed at all. If the agent did not move since the
        re-check, its status was inferred wrongly (platforms that report only
        ``is_released`` make an archived revision newer than the released one, as after a
        rollback, look like a draft), so the bare id starts a new draft; a body the platform
        rejects is rejected there too, and that error stands. If the agent moved, someone
        else wrote it: a conflict, and nothing is written.
        """
        if current.draft is None:
            return self._agent_id(), self._send_fitting(
                body, lambda b: self.agents.update(self._agent_id(), **b))
        self._supersedes(current.draft, body)
        draft = current.draft.version_id
        try:
            return draft, self._send_fitting(body, lambda b: self.agents.update(draft, **b))
        except ADDRESSED_WRITE_REFUSALS:
            try:
                self._recheck()
            except (ResourceFailed, OperatorIacError):
                # Refused, and nothing else is written here: the draft holds what it held
                # (another apply's release of it, say, which the run's end then waits for).
                self._withdraw(current.draft)
                raise
            return self._agent_id(), self._send_fitting(
                body, lambda b: self.agents.update(self._agent_id(), **b))

    def _verify_persisted(self, created_with: dict[str, Any] | None = None) -> None:
        """Read the draft back and account for every declared value (``plan.stored``).

        Who wrote the draft is told by its marker, never by its content: a read-back without
        this run's marker holds another writer's content (a conflict). A declared value the
        platform does not hold at all was not kept: a create may drop fields a platform
        accepts only on PUT (``postprocess_agents``, on some), written once more with a PUT
        before the draft is given up. Any other value that came back in another form is the
        platform's way of storing it: recorded (``_record_stored_forms``), never a failure.
        """
        assert self.version_id is not None
        revision, found = self._ensure_marker_kept(*self._read_back())
        self._require_own_marker(revision)
        if created_with is not None:
            created_with = self.body  # as fitted to a limit the read-back taught
        lost = [d for d in found if d.lost]
        by_create = created_with is not None
        if lost and created_with is not None:
            revision, found = self._rewrite(
                created_with, revision,
                f"the create did not keep {_paths(lost)}; wrote them into {{version}} with PUT")
            self._require_own_marker(revision)
            lost = [d for d in found if d.lost]
            by_create = False
        if lost:
            raise ResourceFailed("failed", f"the platform did not keep {_paths(lost)} in draft "
                                  f"{self.version_id}; the draft was left unreleased")
        if found:
            revision = self._record_stored_forms(revision, found, by_create=by_create)
            by_create = False
        self.stored_by_create = by_create
        self.written_fingerprint = revision_fingerprint(revision)
        self.read_back = revision

    def _write_again(self, body: dict[str, Any], wrote: RemoteRevision) -> WriteResult:
        """Write this run's draft once more (fields a create dropped, the record of stored
        forms); ``wrote``: the read-back of the write before.

        A refusal (409, or 400/422 on some platforms) says the revision is no longer a
        draft, or (400/422) that the platform refuses the body; 403, 404 or 405 may say that
        it takes writes to the bare id only. The revision is read again:
        holding anything but exactly this run's write, another writer replaced it (a
        conflict like any concurrent write of one draft, exit 5, never a failure of the
        run), unless the refusal was for the address alone and the revision is still the
        draft: then the bare id takes the write as the address would have, and the read-back
        after it tells who wrote last, as after any write. Holding this run's write and
        released (the platform released it on create, or another apply's release call, made
        between its last check and its release, took this run's write with it), it is this
        run's change, released before it was complete: written again into a new draft, it is
        finished and released as any other.

        Holding this run's write and still reading as a draft, the read may trail the
        release (status fields are not documented to show a write at once): the bare id then
        tells, without trusting the status. It writes into the agent's draft if there is
        one, so a body the draft refuses is refused again there and that error stands; if
        the write makes a new draft, the revision was no longer the draft, as the refusal
        said, and the run goes on as above. Archived, something else was released since:
        a conflict."""
        assert self.version_id is not None
        self._supersedes(wrote, body)
        address = self.version_id
        try:
            written = self._send_fitting(body, lambda b: self.agents.update(address, **b))
            self.answered_at = written.answered_at
            return written
        except ADDRESSED_WRITE_REFUSALS as exc:
            self._withdraw(wrote)  # refused: the revision holds what it held
            # This run's own write made it: a 404 is a read that trails that write.
            now = self.agents.get(self.version_id, exists=True)
            taken = revision_of(now, self.version_id, "draft")
            # No status at all (a read that trails, where only a false ``is_released`` would
            # say it, left out): told as for a draft, by where the bare id's write goes.
            ours = same_written(taken, wrote, body.get("config")) and \
                taken.description == wrote.description
            # Refused for its address alone (a platform taking writes to the bare id only),
            # a draft holding another apply's write is written over as the addressed write
            # would have been, and the read-back tells who wrote last; released, it must
            # hold this run's write, or another writer's release would be released over.
            addressed = not isinstance(exc, REVISION_REFUSALS)
            if now.status not in ("released", "draft", None) or \
                    (not ours and (now.status == "released" or not addressed)):
                raise ResourceFailed("conflict", f"draft {self.version_id} was released or "
                                      "replaced by another writer while this run wrote it "
                                      f"({exc}); this run's change was not released, make a "
                                      "new plan") from exc
            self._supersedes(taken, body)
            written = self._send_fitting(body,
                                         lambda b: self.agents.update(self._agent_id(), **b))
            self.answered_at = written.answered_at
            if now.status != "released" and written.version_id in (None, self.version_id):
                return written  # still the draft: it takes the write now
            self._withdraw(taken)  # the write made a new draft: this one holds what it held
            if not ours:  # no longer the draft, and it held another writer's content
                raise ResourceFailed("conflict", f"draft {self.version_id} was released or "
                                      "replaced by another writer while this run wrote it; "
                                      f"this run's write went to {written.version_id} and "
                                      "was not released, make a new plan") from exc
            seen = "" if now.status == "released" else " (its status still read as a draft)"
            self.note(f"{self.version_id} was released holding this run's write before this "
                      "run completed it (by the platform on create, or by another apply)"
                      f"{seen}; wrote it again into a new draft")
            self.released_before = self.version_id
            return written

    def _record_stored_forms(self, revision: RemoteRevision, found: list[Difference], *,
                             by_create: bool = False) -> RemoteRevision:
        """The platform stored some values in a form of its own: write the draft once more
        with a marker that records those forms and what the platform holds, and read it back.

        The same write stored the same way twice is the platform's rule; a second read-back
        that differs from the first means someone else wrote the draft in between (the
        stored form of one write cannot change), which is a conflict, unless it holds this
        very content under another apply's marker: that apply's write, which it finishes
        (``converged``). ``by_create``: ``revision`` is the create's read-back, and the PUT's
        is judged on its own (``stored_by_put``)."""
        assert self.version_id is not None and self.body is not None
        self.run_.learn_forms(StoredForms.learnt(found))
        raw = raw_differences(self._desired(), self.run_.ids, revision)
        body = self.body = self._fitted(with_stored_forms(
            self.body, revision, found, raw, self.resource.kind, self.run_.key_by_id()))
        written = self._write_again(body, revision)
        self.version_id = written.version_id or self.version_id
        self.wrote("drafted", self.version_id)
        again, left = self._ensure_marker_kept(*self._read_back())
        self._require_own_marker(again)
        body = self.body or body
        same = same_written(again, revision, body.get("config"))
        if (left or not same) and by_create and not any(d.lost for d in left):
            self.note(f"the platform stores {describe_forms(found)} on create, and a PUT of "
                      "the same body otherwise")
            return self.stored_by_put(again, left)
        if left or not same:
            if same and \
                    parse_marker(again.description) != parse_marker(body["description"]):
                # Another apply's write of this very content (its marker, not yet recording
                # the forms): the platform stored it as it stored this run's. It records them
                # itself, then releases and proves it.
                raise ResourceFailed("converged", SAME_CONTENT.format(self.version_id))
            raise ResourceFailed("conflict", f"draft {self.version_id} was written by someone "
                                  "else at the same time: the same write read back twice "
                                  "held different content; this run's change was not "
                                  "released, make a new plan")
        self.note(f"the platform stores {describe_forms(found)}: recorded in the marker, "
                  "compared as equal from now on")
        return again

    def _require_own_marker(self, revision: RemoteRevision) -> None:
        if carries_marker(revision, self.resource):
            return
        raise ResourceFailed("conflict", f"draft {self.version_id} was written by someone "
                             "else at the same time; this run's change is not in it and "
                             "was not released, make a new plan")

    def _cut_short(self, revision: RemoteRevision) -> int | None:
        """The characters of the description the platform kept, when it kept only the
        beginning of what this run sent, cutting off the marker at its end (a limit of the
        user's platform, never to be taken for another writer); None otherwise."""
        if carries_marker(revision, self.resource):
            return None
        return cut_from(str((self.body or {}).get("description") or ""), revision.description)

    def _ensure_marker_kept(self, revision: RemoteRevision, found: list[Difference]
                            ) -> tuple[RemoteRevision, list[Difference]]:
        """The read-back of this run's write, with its marker: where the platform cut the
        description short, the limit it keeps is learnt for the rest of the run
        (``Run.learn_description_limit``) and the draft written again with the richest
        marker that fits beside the user's text (``plan.marker.fitted``), until a read-back
        keeps it; each time it does not (a platform that escapes or counts what it stores
        otherwise), the marker gives up one more field. The user's text is never shortened:
        where even the smallest marker does not fit beside it, the run fails and says by how
        much.

        The read-back may hold instead another apply's write of this very content, made before
        that apply fitted its marker to the limit (``carries_cut_marker``): the same content
        under the same marker cut short, never another writer's. This run's fitted write goes
        in once more over it, as after its own cut; that apply, reading this run's write back,
        finds the same content under a whole marker, and converges."""
        rewritten = False
        while (kept := self._cut_short(revision)) is not None or (
                not rewritten and carries_cut_marker(revision, self.resource)):
            assert self.body is not None and self.version_id is not None
            if kept is None:
                rewritten = True
                revision, found = self._rewrite(
                    self.body, revision, "{version} held another apply's write of this "
                    "content, its marker cut at the platform's limit: wrote this run's again")
                continue
            sent = str(self.body.get("description") or "")
            limit = self.run_.learn_description_limit(min(kept, len(sent) - 1))
            try:
                body = self.body = self._fitted(self.body)
            except ResourceFailed:
                self._delete_unmarked_create()
                raise
            self.records.still_named(body)
            revision, found = self._rewrite(
                body, revision, f"the platform keeps {limit} characters of a description: "
                "wrote {version} again with a marker that fits beside it")
        return revision, found

    def _rewrite(self, body: dict[str, Any], revision: RemoteRevision,
                 why: str) -> tuple[RemoteRevision, list[Difference]]:
        """Write this run's draft once more (``_write_again``), say ``why`` (``{version}``
        standing for the revision written), and read it back."""
        written = self._write_again(body, revision)
        version_id = self.version_id = written.version_id or self.version_id
        assert version_id is not None
        self.wrote("drafted", version_id)
        self.note(why.replace("{version}", version_id))
        return self._read_back()

    def _require_forms_kept(self, recorded: dict[str, Any], body: dict[str, Any]) -> None:
        """A marker fitted to the platform's limit (``body``) that had to give up the record
        of the platform's forms (``recorded`` holds it) would leave every later plan showing
        them as changes: the run fails instead, and says how much room the record needs."""
        had = parse_marker(str(recorded.get("description") or ""))
        kept = parse_marker(str(body.get("description") or ""))
        if had is None or had.stored is None or kept is None or kept.stored is not None:
            return
        limit = self.run_.description_limit or len(str(body.get("description") or ""))
        needed = room_needed(str(recorded.get("description") or ""), keeping="stored")
        raise ResourceFailed("failed", f"the platform keeps or takes at most {limit} "
                             "characters of a description: too few to record beside this one "
                             "how it stores the values it keeps in forms of its own (without "
                             "that record every plan would show them as changes); shorten "
                             f"the description by at least {max(1, needed - limit)} "
                             f"characters; draft {self.version_id} was left unreleased")

    def _delete_unmarked_create(self) -> None:
        """An agent this run created whose description cannot carry its marker would be
        nobody's on the platform: deleted, as never released, so nothing is left behind."""
        if not self.created_here or self.agent_id is None:
            return
        try:
            self.agents.delete(self.agent_id)
        except OperatorIacError as exc:
            self.note(f"deleting {self.agent_id}, created by this run without room for its "
                      f"marker, failed: {exc}")
            return
        self.wrote("deleted", agent_id=self.agent_id)
        self.note(f"deleted {self.agent_id}, created by this run: its description has no "
                  "room for the marker that makes it this project's")

    def _send_fitting(self, body: dict[str, Any],
                      send: Callable[[dict[str, Any]], WriteResult], *,
                      creates: bool = False) -> WriteResult:
        """``send(body)``; where the platform refuses it (400 or 422: a body it rejects, which
        a description over its limit is on some platforms), the write is sent again with
        smaller markers (``plan.marker.smaller_markers``), and the richest the platform
        takes is written (``self.body`` then what was sent), the run keeping to the limit
        the refusals teach (``Run.learn_description_limit``). A refusal no
        marker makes go away (the body is rejected for another reason, or the revision is
        not a draft) stands as it was.

        A write into a draft tries the smallest marker first, so that a refusal of another
        kind costs one more request, not one per field; a create goes from the richest
        down, since every create taken makes an agent.

        The limit kept is one less than the shortest description refused, not the length of
        the one taken: the markers tried are a few lengths apart, and a later write (one that
        records the platform's forms) may need the room between them."""
        try:
            return send(body)
        except BadRequestError as refused:
            text = str(body.get("description") or "")
            candidates = [{**body, "description": smaller}
                          for smaller in smaller_descriptions(text)]
            if not candidates:
                raise
            taken: dict[str, Any] | None = None
            refused_lengths = [len(text)]
            if not creates:
                try:
                    answer, taken = send(candidates[-1]), candidates[-1]
                except BadRequestError:
                    raise refused from None
                candidates = candidates[:-1]
            for candidate in candidates:
                try:
                    answer, taken = send(candidate), candidate
                    break
                except BadRequestError:
                    refused_lengths.append(len(candidate["description"]))
                    continue
            if taken is None:
                raise refused from None
            limit = self.run_.learn_description_limit(min(refused_lengths) - 1)
            self._require_forms_kept(body, taken)
            self.body = taken
            self.records.still_named(taken)
            self.note(f"the platform refused a description of {len(text)} characters: "
                      f"wrote it with a smaller marker, {len(taken['description'])} "
                      f"characters in all (it takes at most {limit})")
            return answer

    def _fitted(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with its description within the limit the platform taught this run, if
        any (``_ensure_marker_kept``)."""
        limit = self.run_.description_limit
        text = str(body.get("description") or "")
        if limit is None or len(text) <= limit:
            return body
        fit = fitted(text, limit)
        if fit is None:
            raise ResourceFailed("failed", f"the platform keeps at most {limit} characters "
                                 f"of a description, and this one takes {room_needed(text)} "
                                 "with the smallest ownership marker operator-iac can keep "
                                 "beside it: shorten the description by "
                                 f"{room_needed(text) - limit} characters; nothing of this "
                                 "change was released")
        self._require_forms_kept(body, {**body, "description": fit})
        return {**body, "description": fit}

    def _supersedes(self, before: RemoteRevision, body: dict[str, Any]) -> None:
        """A write of ``body`` is about to change the revision ``before`` was read from: a
        read of it still showing ``before`` has not caught up with the write
        (``read_written``), nor has the platform, for the next run (``WriteLog``). A body
        that changes nothing ``before`` holds leaves nothing to catch up with."""
        if not changes(body, before):
            return
        state = read_state(before)
        self.superseded.add(state)
        self.run_.writes.supersedes(before.version_id, state)

    def _withdraw(self, before: RemoteRevision) -> None:
        """A write ``_supersedes`` noted changed nothing of ``before``'s revision (refused, or
        made a new draft): the run's end no longer waits for the lists to show that revision
        changed. A read-back still takes a revision showing ``before`` for one that trails
        this run's write (``superseded`` is kept), and so one showing its content with times
        of its own (``copy_state``): the new draft may begin as a copy of it (a platform that
        opens a draft beside a release), stamped when it was made."""
        self.run_.writes.withdraw(before.version_id, read_state(before))
        self.superseded.add(copy_state(before))

    def stored_by_put(self, again: RemoteRevision,
                      found: list[Difference] | None = None) -> RemoteRevision:
        """The read-back of this run's first PUT after its create, which differs from the
        create's where the write speaks. A platform may store a create and a PUT of one body
        otherwise (two paths of its own: a create that dates a model alias, a PUT that keeps
        it), and nobody else knows the new agent yet, so it is judged on its own, as the
        create's was: holding every declared value as sent or in a form, its forms not
        recorded yet are recorded with the same PUT again, whose read-back must then match
        (the same write stored the same way twice). A value it does not hold at all is
        another writer's doing: a conflict."""
        if found is None:
            found = stored_differences(self._desired(), self.run_.ids, again)
        self.stored_by_create = False
        if any(d.lost for d in found):
            raise ResourceFailed("conflict", WRITTEN_BY_ANOTHER.format(self.version_id))
        return self._record_stored_forms(again, found) if found else again

    def _read_back(self) -> tuple[RemoteRevision, list[Difference]]:
        assert self.version_id is not None
        order = None if self.adopted else self.write_order(self.body)
        revision = read_written(self.client, self.resource.kind, self.version_id, "draft",
                                self.superseded, order)
        return revision, stored_differences(self._desired(), self.run_.ids, revision)

    def _of_this_key(self, revision: RemoteRevision) -> bool:
        """Whether ``revision`` was written by an apply of this project and environment for
        this key (another apply's write, whatever its content)."""
        return own_marker(revision, self.run_.owner, self.resource.key) is not None

    def write_order(self, body: dict[str, Any] | None) -> WriteOrder:
        """What places another apply's state that a read-back of this run's write of
        ``body`` shows (``state.write_order``): this run's own state is the one carrying
        ``body``'s marker exactly (the forms recorded and the smoke records named, in which
        another apply of this very change differs)."""
        sent = parse_marker(str((body or {}).get("description") or ""))

        def mine(shown: RemoteRevision) -> bool:
            return sent is not None and parse_marker(shown.description) == sent

        return WriteOrder(self.answered_at, mine, self._of_this_key)

    def _changed_since_written(self) -> RemoteRevision | None:
        """None when the revision this run wrote still holds what it wrote and read back,
        else what it holds now."""
        if self.written_fingerprint is None or self.version_id is None:
            return None
        written = self.written_fingerprint
        revision = read_written(self.client, self.resource.kind, self.version_id, "draft",
                                self.superseded, WriteOrder(
                                    self.answered_at,
                                    lambda shown: revision_fingerprint(shown) == written or
                                    self._written_as_this_run(shown),
                                    self._of_this_key, shown=True))
        if revision_fingerprint(revision) == written:
            return None
        if self._written_as_this_run(revision):
            self.written_fingerprint, self.read_back = revision_fingerprint(revision), revision
            return None
        return revision

    def _written_as_this_run(self, revision: RemoteRevision) -> bool:
        """Whether ``revision`` is a write of this run's as far as anyone can tell: the
        read-back's rule for this run's own state (``write_order``: exactly the marker of
        this run's last write, the same records named or none) over this run's content
        (``_holds_this_content``). Another apply of this very change that sent that very
        marker (its records not named, where the platform keeps short descriptions) wrote
        nothing this run would not: a platform that gives list items ids of its own on every
        write stores the two writes apart, and each run would otherwise wait for the other
        to release the draft."""
        return self.write_order(self.body).mine(revision) and \
            self._holds_this_content(revision)

    def _check_nothing_released_since_plan(self) -> None:
        """Right before releasing: no other writer released a revision since the plan.

        The platform keeps one draft per agent, so another apply writing at the same time
        writes into this run's draft (the read-back and ``_check_draft_unchanged`` catch it),
        unless it released that draft before this run's write, which then began a new draft
        from the revision the plan saw. Releasing that would silently undo the other's
        release (a lost update). Two signs tell, each where the other may not:

        - ``_check_no_revision_between``: this run's write made a later revision than the
          plan's state makes next, so the ones between were written since, and released (or
          this write would have gone into them). Told by the ids alone, so lists that show
          writes late do not hide it.
        - ``_check_release_unmoved``: the revision the plan saw released is released no
          more: a release since, also of an older revision (a rollback in the dashboard).
        """
        remote = self.resource.remote
        if remote is None or self.version_id is None:
            return  # a create: concurrent creates are settled by the claim rule
        if not self._check_no_revision_between(remote):
            self._check_release_unmoved(remote)

    def _check_no_revision_between(self, remote: RemoteState) -> bool:
        """Each revision made between the plan's state and this run's write holds this run's
        content or is a conflict. True when there were such revisions: another apply of the
        same content released since, which is why the plan's release is released no more.

        The plan's draft left exactly as the plan saw it is passed over: on platforms that
        report only ``is_released``, an archived revision newer than the released one looks
        like a draft, and the write starts a new one after it (``_put_draft``). Ids without
        revision numbers tell nothing here."""
        assert self.version_id is not None
        expected = version_number(next_draft(remote))
        mine = version_number(self.version_id)
        if expected is None or mine is None:
            return False
        same = False
        for number in range(expected, mine):
            other = f"{self._agent_id()}@v{number}"
            revision = read_revision(self.client, self.resource.kind, other, "draft")
            if other == remote.draft_version_id and \
                    revision_fingerprint(revision) == remote.draft_fingerprint:
                continue
            if not self._holds_this_content(revision):
                raise ResourceFailed("conflict", f"{other} was written and released by "
                                      "another writer since the plan was made; this run's "
                                      f"draft {self.version_id} was not released, make a new "
                                      "plan")
            same = True
        return same

    def _check_release_unmoved(self, remote: RemoteState) -> None:
        """The revision the plan saw released still is, read by its id; this run's own draft
        released since by another apply of the same content is no conflict here. Where the
        plan saw no release, or the revision does not say its status, the versions list
        tells (it may show a release late)."""
        before = remote.released_version_id
        try:
            status = self._status_not_behind(before) if before else None
        except NotFoundError as exc:
            raise ResourceFailed("conflict", f"{before} is gone: the agent was deleted since "
                                  "the plan was made; make a new plan") from exc
        if status == "released":
            return
        if status is not None:
            if self.version_id and self.agents.get(self.version_id).status == "released":
                return
            raise ResourceFailed("conflict", f"{before} is no longer the released revision: "
                                  "another apply or a dashboard release replaced it since the "
                                  f"plan was made; this run's draft {self.version_id} was not "
                                  "released, make a new plan")
        seen = {*remote.version_ids, self.version_id}
        for version in fetch_versions(self.client, self.resource.kind, self._agent_id()):
            if version.status == "released" and version.version_id not in seen:
                raise ResourceFailed("conflict", f"{version.version_id} was released since "
                                      "the plan was made (another apply or a dashboard "
                                      f"release); this run's draft {self.version_id} was not "
                                      "released, make a new plan")

    def _status_not_behind(self, version_id: str) -> str | None:
        """The status of ``version_id`` (which the plan saw released) read by its id; read
        again, with growing pauses, while it says another status and this machine released
        it within the time reads may trail (``Floor.released_here_until``: a rollback made
        here, read from a replica from before it, is what was released all along)."""
        status = self.agents.get(version_id).status
        floor = self._seen_here()
        until = floor.released_here_until(version_number(version_id)) \
            if floor is not None else None
        if until is None:
            return status
        for pause in pauses_until(until):
            if status in (None, "released"):
                break
            logger.info("%s reads as %s, where this machine released it lately: a read that "
                        "trails; reading it again in %.2f s", version_id, status, pause)
            self.client.pause(pause)
            status = self.agents.get(version_id).status
        return status

    def _check_draft_unchanged(self) -> None:
        """Right before releasing: the draft still holds what this run wrote and read back, so
        a concurrent writer's content is never released in this run's name."""
        changed = self._changed_since_written()
        if changed is not None:
            self._yield_to_same_content(changed)
            raise ResourceFailed("conflict", f"draft {self.version_id} changed after this run "
                                  "wrote it (another apply or a dashboard edit); it was not "
                                  "released, make a new plan")

    def _yield_to_same_content(self, revision: RemoteRevision, *,
                               released: bool = False) -> None:
        """Another apply of this project and environment wrote this key's draft after this
        run, for the same content: its marker names this run's content hash, and the draft
        holds exactly what this run read back after its own write (markers aside; a marker
        alone proves nothing, a dashboard edit keeps it). The draft is what this run wanted,
        and that apply, whose marker it holds, releases and proves it. Like concurrent
        creates of the same content, this is no conflict: ``converged``. ``released``: this
        run's release took that write (it came in the instant before), which the other apply
        finds released holding its write, and finishes."""
        if not self._holds_this_content(revision):
            return
        if released:
            raise ResourceFailed("converged", f"{self.version_id} was released holding another "
                                  "apply's write of the same content, made in the instant "
                                  "before the release; that apply finishes and proves it")
        raise ResourceFailed("converged", SAME_CONTENT.format(self.version_id))

    def _holds_this_content(self, revision: RemoteRevision) -> bool:
        """Whether ``revision`` is another apply's write of this run's content: a marker of
        this project and environment for this key and content hash, over exactly what this
        run read back after its own write (markers aside). A marker alone proves nothing: a
        dashboard edit keeps it. That apply's write made before it fitted its marker to a
        platform's limit holds the marker cut short after the user's whole text
        (``carries_cut_marker``): told by the identity it still names."""
        marker = parse_marker(revision.description)
        if marker is None and self.read_back is not None and \
                carries_cut_marker(revision, self.resource):
            marker = parse_cut_marker(revision.description)
            revision = replace(revision, description=self.read_back.description)
        return marker is not None and self.read_back is not None and \
            self.run_.owner.claims(marker, self.resource.key) and \
            hash_matches(marker.content_hash, self.resource.desired_hash or "") and \
            same_written(revision, self.read_back, (self.body or {}).get("config"))

    def _check_released_is_ours(self) -> None:
        """Right after releasing: the platform has no compare-and-set, so another writer may
        have changed the draft between the check above and the release. Then the revision
        released holds their content, not this run's: a conflict, reported as such (their
        apply releases and proves it; rolling it back would undo their change). Another
        apply's write of this very content is no conflict (``_yield_to_same_content``)."""
        changed = self._changed_since_written()
        if changed is not None:
            self._yield_to_same_content(changed, released=True)
            raise ResourceFailed("conflict", f"{self.version_id} was released, but another "
                                  "writer changed it in the instant before the release: it "
                                  "holds their content, not this run's; make a new plan")

    def _gate(self, stage: SmokeStage) -> None:
        gate = self.run_.smoke_gate
        if gate is None or stage not in self.resource.smoke or self.version_id is None:
            return
        self.run_.progress(f"{self.resource.key}: smoke testing {stage} {self.version_id}")
        verdict = gate(self.resource, self._desired(), self.version_id, stage,
                       dict(self.run_.ids), revision=self.records.as_known(self.read_back))
        self.smoke.append(verdict)
        if not verdict.passed:
            failed = (f"smoke tests {verdict.word} on the {stage} revision {self.version_id}: "
                      f"{verdict.summary}")
            if stage == "draft":
                self._ensure_draft_still_ours(failed)
            raise ResourceFailed("smoke_failed", failed)
        self.note(f"smoke tests passed on {stage} ({verdict.summary})")

    def _ensure_draft_still_ours(self, failed: str) -> None:
        """A failing verdict on the draft speaks for this run's change only while the draft
        holds it: another writer's content written into it since (what the tests then met)
        makes it a conflict, not a failure of this change. The same content written by
        another apply of this project is this change all the same: its verdict stands. A new
        agent deleted while it was tested (``_deleted_while_tested``) is no failure of it."""
        if self.resource.action == "create":
            self._deleted_while_tested(failed)
        changed = self._changed_since_written()
        if changed is not None and not self._holds_this_content(changed):
            raise ResourceFailed("conflict", f"{failed}; but another writer changed draft "
                                  f"{self.version_id} since this run wrote it, so the tests "
                                  "did not speak for this run's change; make a new plan")

    def _deleted_while_tested(self, failed: str) -> None:
        """This run's new agent, kept at its first settlement, found deleted after its tests
        failed: where creation times tie, a run that created later may rank first and, at its
        final decision, delete the same-content agents that yield to it while their runs
        still test them. Another agent of this key written for the same content then holds
        this change, and its run releases and proves it: ``converged``; with none, a
        conflict (deleted by hand, say). Returns while the agent exists."""
        kind, key, mine = self.resource.kind, self.resource.key, self._agent_id()
        if agent_exists(self.client, kind, mine):
            return
        others = set(owned_claims(agents_resource(self.client, kind), self.run_.owner,
                                  self.run_.claims_board.seen)
                     .get(key, [])) - {mine}
        keep, same = agent_to_keep(self.client, kind, others, mine,
                                   self.resource.desired_hash or "") if others else (mine, False)
        self.wrote("deleted", agent_id=mine)
        if keep != mine and same:
            self.agent_id, self.version_id = keep, None
            raise ResourceFailed("converged", f"{failed}; but {mine} was deleted meanwhile: "
                                  f"another apply created {keep} for {key!r} with the same "
                                  "content, which the claim rule keeps; it releases and "
                                  "proves it")
        raise ResourceFailed("conflict", f"{failed}; but {mine} was deleted meanwhile, and no "
                              "other agent holds this change; make a new plan")

    def _ensure_still_released(self, failure: ResourceFailed, previous: str | None) -> None:
        """Before a failure on the released revision leads to a rollback: a release made since
        is another writer's (its own tests speak for it, and may be what refused these), and
        rolling back would undo it. A conflict, or ``converged`` where that release is this
        very change (another apply of the same commit, which proves it)."""
        replaced, since = self._released_since(previous)
        if not replaced:
            return
        if since is not None and holds_this_change(
                self.resource, self._desired(), self.run_.ids,
                read_revision(self.client, self.resource.kind, since, "released"),
                self.run_.forms):
            raise ResourceFailed("converged", f"{failure}; but {self.version_id} was released "
                                  f"no more: another apply released this very change as "
                                  f"{since} since, and proves it") from failure
        raise ResourceFailed("conflict", f"{failure}; but {self.version_id} was released no "
                              f"more: another writer released {since or 'a later revision'} "
                              "since, so it was not rolled back (that would undo their "
                              "release); make a new plan") from failure

    def _released_since(self, previous: str | None) -> tuple[bool, str | None]:
        """Whether another writer released a revision after this run's ``version_id`` was
        released, and which (None where no list names it yet).

        Told by the revision itself (archived: a later release replaced it), else by the
        versions list, which may trail the release: there only a released revision other
        than this run's and the one its release replaced (``previous``) counts, so a list
        still showing the state before this run's release never passes for a newer one."""
        assert self.version_id is not None
        try:
            status = self.agents.get(self.version_id).status
        except NotFoundError:
            return False, None  # the agent is gone: the rollback says so
        if status == "released":
            return False, None
        released = next((version.version_id for version in
                         fetch_versions(self.client, self.resource.kind, self._agent_id())
                         if version.status == "released"), None)
        if status == "archived":
            return True, released if released != self.version_id else None
        replaced = released not in (None, self.version_id, previous)
        return replaced, released if replaced else None

    def _release(self, previous: str | None) -> None:
        assert self.version_id is not None
        if self.resource.action == "create":
            # A listing begun after the first settlement ended: it shows whatever appeared
            # since, and the run's other creates share it.
            self._yield_to_concurrent_create(self.settled_at or time.monotonic(), final=True)
        self._check_nothing_released_since_plan()
        self._ensure_own_forms_recorded()
        self._check_draft_unchanged()
        self.agents.release(self.version_id)
        self.wrote("released", self.version_id, replaced=self.released_before)
        self.released = self.version_id
        self.records.after_release()
        self.note(f"released {self.version_id}")
        self._check_released_is_ours()
        self._prove_release(previous)

    def _ensure_own_forms_recorded(self) -> None:
        """What apply releases records its own stored forms: a release is judged on its own
        marker once other revisions are gone (pruned, rewritten). A draft this run finishes
        may hold another run's record, and this run's write naming its records sends this
        run's body, without it: the forms are then recorded once more (the marker alone
        changes, so what was tested is what is released)."""
        if self.read_back is None or self.body is None:
            return
        own = stored_differences(self._desired(), self.run_.ids, self.read_back)
        if own and not any(d.lost for d in own):
            self.read_back = self._record_stored_forms(self.read_back, own)
            self.written_fingerprint = revision_fingerprint(self.read_back)

    def _prove_release(self, previous: str | None) -> None:
        """Smoke-test the released revision; on failure release ``previous`` again."""
        try:
            self._gate("released")
        except ResourceFailed as failure:
            if failure.outcome == "smoke_failed":
                self._ensure_still_released(failure, previous)
            rollback = self.run_.options.rollback and self._desired().smoke_rollback
            if failure.outcome != "smoke_failed" or not rollback or previous is None or \
                    previous == self.version_id:
                if failure.outcome == "smoke_failed" and rollback and previous is None:
                    raise ResourceFailed("smoke_failed", f"{failure}; no earlier release is "
                                          "known to roll back to") from failure
                raise
            self.note(f"rolling back: releasing {previous} again")
            try:
                self.agents.release(previous)
                self.wrote("released", previous, replaced=self.version_id)
            except OperatorIacError as refused:
                # The revision that failed stays released: the report must say both.
                raise ResourceFailed("failed", f"{failure}; rolling back to {previous} failed: "
                                      f"{refused}") from refused
            self.rolled_back_to = previous
            self.released = previous
            self.note(f"rolled back: released {previous} again")
            raise ResourceFailed("rolled_back", f"{failure}; rolled back to {previous}") \
                from failure

    def _draft_of(self, agent_id: str) -> str:
        versions = self.agents.list_versions(agent_id)
        drafts = [v for v in versions if v.status == "draft"]
        if not drafts:
            raise ResourceFailed("conflict", f"agent {agent_id} has no draft to release")
        return drafts[-1].version_id


def _paths(found: list[Difference]) -> str:
    return ", ".join(d.dotted for d in found[:5])
