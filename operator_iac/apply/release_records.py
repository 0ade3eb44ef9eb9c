"""The smoke records of one resource's release (``operator_iac.smoke.announce`` writes them,
``operator_iac.smoke.evidence`` says why): which revision they are kept on, and which write
of the draft names them in its marker.

An update names them in the very write that makes the draft, so no other write can slip in
between: the records are written first (pinned to the existing draft, or to the released
revision), the body's marker names them. A create cannot (the agent does not exist before
its create): its new draft is written once more, as it is, naming them, with the draft checked
to hold what this run wrote before and after. The release of a draft that already names
records of this very release, still pending, writes nothing; one that does not is written
again as an update would. Where no revision takes the records before the release, they are
written right after it (``late``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from operator_iac.plan.hashing import revision_fingerprint
from operator_iac.plan.marker import strip_marker
from operator_iac.smoke.announce import Pin, marked_with
from operator_iac.smoke.evidence import records_of
from operator_iac.state.fetch import read_revision

if TYPE_CHECKING:
    from operator_iac.apply.steps import Steps
    from operator_iac.smoke.record import SmokeRecord
    from operator_iac.state.snapshot import RemoteAgent, RemoteRevision

# Other released agents of the project a release's records may be pinned to, at most.
OTHER_PINS = 2


class ReleaseRecords:
    """The records of the release ``steps`` makes."""

    def __init__(self, steps: Steps) -> None:
        self.steps = steps
        # The release record the draft's marker names, and the one to write right after the
        # release instead (no revision took it before).
        self.announced: SmokeRecord | None = None
        self.late: SmokeRecord | None = None

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

    def naming(self, body: dict[str, Any], version_id: str, previous: str | None,
               current: RemoteAgent | None) -> dict[str, Any]:
        """``body`` with its marker naming the release's records, written now."""
        release = self.release_record(version_id, body["description"], previous)
        recorder = self.steps.run_.release_records
        if release is None or recorder is None:
            return body
        ids = recorder.announce(release, self._pins(version_id, body["config"], current))
        described = marked_with(body["description"], self.steps.run_.plan.project,
                                self.steps.resource.key, ids) if ids else None
        if described is None:
            self.late = release
            return body
        self.announced = release
        return {**body, "description": described}

    def written(self, version_id: str) -> None:
        """The write that named the records made ``version_id``: when another writer made a
        draft in between, the records speak about another revision (readers check), so this
        release's follow it instead."""
        if self.late is None and self.announced is not None and \
                self.announced.version_id != version_id:
            self.late = replace(self.announced, version_id=version_id)

    def hold(self, draft: RemoteRevision, previous: str | None) -> bool:
        """Whether the draft to release names records of this very release, still pending
        (a run that wrote them stopped before releasing): they serve again."""
        release = self.release_record(draft.version_id, draft.description, previous)
        recorder = self.steps.run_.release_records
        return release is None or recorder is None or recorder.holds(release, draft.description)

    def name_after_create(self, previous: str | None) -> str | None:
        """Write the new draft once more, as it is, naming the records; why that is a
        conflict (someone else wrote the draft meanwhile), or None."""
        steps = self.steps
        before, version_id = steps.read_back, steps.version_id
        if before is None or version_id is None:
            return None
        body = self.naming({"name": before.name, "description": before.description,
                            "config": before.config,
                            "postprocess_agents": list(before.postprocess_agents)},
                           version_id, previous, None)
        if self.announced is None:
            return None
        steps._check_draft_unchanged()
        steps.agents.update(version_id, **body)
        steps.wrote("drafted", version_id)
        again = read_revision(steps.client, steps.resource.kind, version_id, "draft")
        if records_of(again.description, steps.run_.plan.project,
                      steps.resource.key) is None or _unmarked(again) != _unmarked(before):
            return (f"draft {version_id} was written by someone else at the same time; this "
                    "run's change was not released, make a new plan")
        steps.written_fingerprint = revision_fingerprint(again)
        steps.read_back = again
        return None

    def after_release(self) -> None:
        """Write the records that no revision took before the release."""
        recorder, read_back = self.steps.run_.release_records, self.steps.read_back
        if self.late is not None and recorder is not None and read_back is not None:
            recorder.announce_released(self.late, read_back.config)

    def _pins(self, version_id: str, config: dict[str, Any],
              current: RemoteAgent | None) -> list[Pin]:
        """Where the records may be kept: the draft itself (when it exists already), else
        (platforms that converse only with released revisions) the agent's released
        revision, else another released agent of the project."""
        pins = [] if current is not None and current.draft is None else \
            [Pin(version_id, config)]
        if current is not None and current.released is not None:
            pins.append(Pin(current.released.version_id, current.released.config))
        others = [r.remote.released_version_id for r in self.steps.run_.plan.resources
                  if r.kind == "conversational_agent" and r.key != self.steps.resource.key
                  and r.remote is not None and r.remote.released_version_id]
        pins.extend(Pin(other, config) for other in others[:OTHER_PINS])
        return pins


def draft_to_write(current: RemoteAgent) -> str:
    """The revision a write makes: the draft, or a new one after the newest."""
    if current.draft is not None:
        return current.draft.version_id
    newest = current.newest
    return f"{current.id}@v{newest.number + 1 if newest is not None else 0}"


def _unmarked(revision: RemoteRevision) -> str:
    """The revision's fingerprint without its marker (which naming the records changes)."""
    return revision_fingerprint(replace(revision, description=strip_marker(revision.description)))
