"""The smoke records of one resource's release (``operator_iac.smoke.announce`` writes them,
``operator_iac.smoke.evidence`` says why): which revision they are kept on, and which write
of the draft names them in its marker.

An update names them in the very write that makes the draft, so no other write can slip in
between: the records are written first (pinned to the existing draft, or to the released
revision, as the plan saw them), then the agent is re-checked and written at once, the
body's marker naming them: the records never widen the gap between the re-check and the
write. A create cannot (the agent does not exist before its create): its new draft is written
once more, as it is, naming them, with the draft checked to hold what this run wrote before
and after. Where the create released its revision (some platforms do), that write makes a
new draft, and records of that draft are written and named in it by the same write again.
The release of a draft that already names records of this very release, still pending,
writes nothing; one that does not is written again as an update would. Where no revision
takes the records before the release, they are written right after it (``late``), and the
write of the draft says so in its marker (``smoke=after``), as where their ids do not fit:
a reader on another machine, whose listing may not show them yet, knows to look again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from operator_iac.api.models import version_number
from operator_iac.plan.hashing import revision_fingerprint
from operator_iac.plan.normalise import same_written
from operator_iac.plan.writes import carries_marker
from operator_iac.smoke.announce import Pin, marked_with
from operator_iac.smoke.evidence import records_of
from operator_iac.smoke.record import remove_record
from operator_iac.state.fetch import read_written

if TYPE_CHECKING:
    from operator_iac.apply.steps import Steps
    from operator_iac.plan.model import RemoteState
    from operator_iac.smoke.record import SmokeRecord
    from operator_iac.state.snapshot import RemoteRevision

# Other released agents of the project a release's records may be pinned to, at most.
OTHER_PINS = 2
# What a run says when its own draft, read back, holds another writer's write (a conflict).
WRITTEN_BY_ANOTHER = ("draft {} was written by someone else at the same time; this run's "
                      "change was not released, make a new plan")


class ReleaseRecords:
    """The records of the release ``steps`` makes."""

    def __init__(self, steps: Steps) -> None:
        self.steps = steps
        # The release record the draft's marker names, and the one to write right after the
        # release instead (no revision took it before).
        self.announced: SmokeRecord | None = None
        self.ids: tuple[str, str] | None = None
        self.late: SmokeRecord | None = None
        self.late_ids: tuple[str, str] | None = None

    def release_record(self, version_id: str, description: str,
                       previous: str | None) -> SmokeRecord | None:
        """The release record of releasing ``version_id``; None when none is kept (no
        smoke tests, a procedural agent, or a run that releases nothing)."""
        run, agent = self.steps.run_, self.steps._desired()
        if run.release_records is None or agent.kind != "conversational_agent" or \
                not agent.smoke or not run.options.release:
            return None  # no records, or no release (--no-release)
        tested = run.smoke_gate is not None and bool(self.steps.resource.smoke)
        return run.release_records.release(self.steps.resource.key, version_id, description,
                                           previous=previous, tested=tested,
                                           tests=agent.smoke)

    def prepare(self, previous: str | None) -> None:
        """Write the records of the draft this run is about to write over the agent as the
        plan saw it (their pins and the draft's id come from the plan's view, which the
        re-check right before the write confirms): done before that re-check, so that nothing
        but the re-check stands between it and the write."""
        remote, resource = self.steps.resource.remote, self.steps.resource
        if remote is None or resource.desired is None:
            return
        pins = [Pin(remote.draft_version_id, self.steps._desired().config)] \
            if remote.draft_version_id else []
        if remote.released_version_id:
            pins.append(Pin(remote.released_version_id, self.steps._desired().config))
        self._announce(next_draft(remote), resource.desired.description, previous,
                       [*pins, *self._others(self.steps._desired().config)])

    def naming(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with its marker naming the records written for it (if any), within the
        description's length the platform keeps (``Steps._fitted``). Where the records' ids
        do not fit beside the user's text, they are not named: removed, and written after
        the release instead (``late``), as where no revision can take them. Either way the
        marker then says that they follow the release (``smoke=after``), so that a reader on
        any machine knows to look for them after it."""
        steps = self.steps
        if self.announced is None or self.ids is None:
            return self._following(body) if self.late is not None else steps._fitted(body)
        described = marked_with(body["description"], steps.run_.plan.project,
                                steps.resource.key, self.ids)
        named = steps._fitted({**body, "description": described} if described else body)
        if self.still_named(named):
            return named
        return self._following(body)

    def _following(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` whose marker says the records follow the release, fitted."""
        steps = self.steps
        following = marked_with(body["description"], steps.run_.plan.project,
                                steps.resource.key, None)
        return steps._fitted({**body, "description": following} if following else body)

    def still_named(self, body: dict[str, Any]) -> bool:
        """Whether ``body``'s marker still names the records announced (if any). Records a
        marker fitted to the platform's limit gave up are removed and follow the release
        (``late``), as where no revision can take them."""
        steps = self.steps
        if self.ids is None or records_of(body["description"], steps.run_.plan.project,
                                          steps.resource.key):
            return True
        for conversation_id in self.ids:
            remove_record(steps.client, conversation_id)
        self.late, self.announced, self.ids = self.announced, None, None
        steps.note("the platform keeps descriptions too short to name the smoke records "
                   "beside the description: they follow the release")
        return False

    def _announce(self, version_id: str, description: str, previous: str | None,
                  pins: list[Pin]) -> None:
        release = self.release_record(version_id, description, previous)
        recorder = self.steps.run_.release_records
        if release is None or recorder is None:
            return
        self.ids = recorder.announce(release, pins)
        if self.ids is None:
            self.late = release
        else:
            self.announced = release

    def written(self, version_id: str) -> None:
        """The write that named the records made ``version_id``: when another writer made a
        draft in between, the records speak about another revision (readers check), so this
        release's follow it instead. Records left for after the release (no revision took
        them) are about the revision written too, not the one the plan expected."""
        if self.late is not None:
            if self.late.version_id != version_id:
                self.late = replace(self.late, version_id=version_id)
        elif self.announced is not None and self.announced.version_id != version_id:
            self.late = replace(self.announced, version_id=version_id)

    def hold(self, draft: RemoteRevision, previous: str | None) -> bool:
        """Whether the draft to release names records of this very release, still pending
        (a run that wrote them stopped before releasing): they serve again."""
        release = self.release_record(draft.version_id, draft.description, previous)
        recorder = self.steps.run_.release_records
        return release is None or recorder is None or recorder.holds(release, draft.description)

    def name_after_create(self, previous: str | None) -> str | None:
        """Write the new draft once more, naming the records; why that is a conflict
        (someone else wrote the draft meanwhile), or None.

        What goes is the body this run last sent, not what the platform holds: a
        platform's stored form is what it makes of a write, not necessarily a fixed point
        (one that encodes ``&`` as ``&amp;`` encodes it again), so only the same write is
        stored the same way twice."""
        steps = self.steps
        before, version_id, sent = steps.read_back, steps.version_id, steps.body
        if before is None or version_id is None or sent is None:
            return None
        self._announce(version_id, before.description, previous,
                       [Pin(version_id, before.config), *self._others(before.config)])
        if self.announced is None and self.late is None:
            return None  # no records are kept
        body = self.naming(sent)
        if self.announced is None and body == sent:
            return None  # the marker already says the records follow the release
        # Named, or (where their ids do not fit) the marker saying that they follow the
        # release (``smoke=after``): written either way, so that a reader knows where to look.
        steps._check_draft_unchanged()
        # A platform that releases what it creates refuses this write to v0: it goes to a
        # new draft, whose marker names records of its own (``_name_moved``).
        steps.body = body
        written = steps._write_again(body, before)
        body = steps.body  # as sent: fitted to a limit the platform refused it over
        moved_from, version_id = version_id, written.version_id or version_id
        steps.version_id = version_id
        steps.wrote("drafted", version_id)
        if version_id != moved_from and steps.released_before == moved_from:
            body = steps.body = self._name_moved(sent, before, moved_from, version_id,
                                                 previous) or body
        self.written(version_id)
        again = read_written(steps.client, steps.resource.kind, version_id, "draft",
                             steps.superseded, steps.write_order(body))
        again, _ = steps._ensure_marker_kept(again, [])
        body = steps.body
        # Fitted to the platform's limit, the marker may have given up naming the records
        # (they then follow the release): its own marker is what makes the write this run's.
        ours = carries_marker(again, steps.resource) if self.announced is None else \
            records_of(again.description, steps.run_.plan.project, steps.resource.key) is not None
        if not ours:
            return WRITTEN_BY_ANOTHER.format(version_id)
        if not same_written(again, before, body.get("config")):
            if not steps.stored_by_create:
                return WRITTEN_BY_ANOTHER.format(version_id)
            # The first PUT after the create: a platform may store it otherwise.
            again = steps.stored_by_put(again)
        steps.stored_by_create = False
        steps.written_fingerprint = revision_fingerprint(again)
        steps.read_back = again
        return None

    def _name_moved(self, sent: dict[str, Any], before: RemoteRevision, released: str,
                    draft: str, previous: str | None) -> dict[str, Any] | None:
        """The write naming the records went to a new ``draft``: ``released``, which they
        speak about, was released by its create. Records of the draft itself are written and
        named in it with the same write again, and the others removed, so that the release
        is proven by records its own marker names: found by id, where records written after
        a release are found only by a listing of conversations (which a platform may show
        late, or without its testmode conversations). The body written; None where the
        records could not be written (they then follow the release, ``written``)."""
        stray = self.ids
        self.announced, self.ids = None, None
        self._announce(draft, before.description, previous,
                       [Pin(released, before.config), *self._others(before.config)])
        if self.announced is None:  # ``late`` is set: they follow the release
            return None
        body = self.naming(sent)
        steps = self.steps
        written = steps._write_again(body, before)
        steps.version_id = written.version_id or draft
        steps.wrote("drafted", steps.version_id)
        for conversation_id in stray or ():
            remove_record(steps.client, conversation_id)
        return body

    def after_release(self) -> None:
        """Write the records that no revision took before the release. Readers find them by
        listing the time after the revision's creation; this run holds their ids, and the
        run ends once that listing shows them (``apply.visibility``)."""
        recorder, read_back = self.steps.run_.release_records, self.steps.read_back
        if self.late is None or recorder is None or read_back is None:
            return
        # Noted on this machine before they are written: a run that dies before the listing
        # shows them leaves the next run here to wait for it (``services.earlier_runs``),
        # where it would read the release as kept without records.
        writes = self.steps.run_.writes
        agent_id, version_id = self.steps._agent_id(), self.late.version_id
        noted = writes.intends("recording", self.steps.resource.kind, agent_id, version_id)
        self.late_ids = recorder.announce_released(self.late, read_back.config)
        if self.late_ids is None:
            writes.refused(noted)
            return
        writes.answered(noted, agent_id, version_id, records=self.late_ids)
        self.steps.wrote("recorded", version_id, records=self.late_ids)

    def as_known(self, revision: RemoteRevision | None) -> RemoteRevision | None:
        """``revision`` as this run knows it: where it wrote the release's records after the
        release, its marker names them (the platform's copy, immutable once released,
        cannot), so that proving the release deletes the proof record by its id rather than
        by a listing that may not show it yet."""
        if revision is None or self.late_ids is None or self.late is None or \
                revision.version_id != self.late.version_id:
            return revision
        run = self.steps.run_
        marked = marked_with(revision.description, run.plan.project, self.steps.resource.key,
                             self.late_ids)
        return revision if marked is None else replace(revision, description=marked)

    def _others(self, config: dict[str, Any]) -> list[Pin]:
        """Other released agents of the project the records may be kept on (platforms that
        converse only with released revisions, for an agent that has none yet)."""
        others = [r.remote.released_version_id for r in self.steps.run_.plan.resources
                  if r.kind == "conversational_agent" and r.key != self.steps.resource.key
                  and r.remote is not None and r.remote.released_version_id]
        return [Pin(other, config) for other in others[:OTHER_PINS]]


def next_draft(remote: RemoteState) -> str:
    """The revision a write makes over the agent as the plan saw it: its draft, or a new one
    after the newest."""
    if remote.draft_version_id:
        return remote.draft_version_id
    newest = version_number(remote.newest_version_id or "")
    return f"{remote.agent_id}@v{newest + 1 if newest is not None else 0}"
