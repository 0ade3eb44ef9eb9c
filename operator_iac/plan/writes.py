"""What apply writes for a resource, and the pure checks around each write.

``apply`` is the only writer, but what it sends and how it decides that a write is safe are
pure questions answered here:

- ``check_declarations``: the declarations (secrets resolved again from the environment)
  still hash to the plan's ``desired_hash``; otherwise the plan is stale.
- ``remote_moved``: a fresh read of the agent still shows the revisions the plan recorded
  (``state_moved`` compares two recorded states); ``seen_by_plan``, what a fresh read shows
  at least (a read that shows less trails the plan's, ``state.floor``).
- ``write_body``: the request body: the plan's name and marked description, the declared
  config with references resolved to ids deep-merged over the base revision's config (so
  server fields survive the read-modify-write), and postprocess ids.
- ``stored_differences``: after reading the written draft back, the declared values it does not
  hold as sent: values not kept, and values stored in a form of the platform's own, which
  ``with_stored_forms`` records in the marker (``plan.stored``); ``carries_marker`` tells this
  write's read-back from another writer's by identity, never by content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from operator_iac.errors import RemoteChangedError, StalePlanError
from operator_iac.plan.compare import DesiredView, cut_own_write
from operator_iac.plan.hashing import hash_matches, revision_fingerprint
from operator_iac.plan.marker import Owner, parse_marker, strip_marker, with_marker
from operator_iac.plan.model import Plan, RemoteState, ResourcePlan
from operator_iac.plan.normalise import mask_sealed, merge_for_write
from operator_iac.plan.owned import keep_owned
from operator_iac.plan.refs import resolve_for_write
from operator_iac.plan.stored import (
    EMPTY,
    Difference,
    StoredForms,
    differences,
    excerpts,
    value_digest,
)
from operator_iac.plan.written import WrittenRecord, stored_record
from operator_iac.spec.desired import DesiredAgent
from operator_iac.state.floor import Floor
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision


def remote_state(agent: RemoteAgent | None) -> RemoteState | None:
    """What a plan records about a remote agent, to notice later that it moved."""
    if agent is None:
        return None
    versions = sorted(agent.versions, key=lambda v: v.number)
    released, draft = agent.released, agent.draft
    return RemoteState(
        agent_id=agent.id, version_ids=tuple(v.version_id for v in versions),
        newest_version_id=agent.newest.version_id if agent.newest else None,
        released_version_id=released.version_id if released else None,
        released_fingerprint=revision_fingerprint(released) if released else None,
        draft_version_id=draft.version_id if draft else None,
        draft_fingerprint=revision_fingerprint(draft) if draft else None,
    )


def seen_by_plan(recorded: RemoteState | None, seen_here: Floor | None = None) -> Floor | None:
    """What the plan's read of an agent showed (``state.floor``), raised by what this machine
    saw of it (``seen_here``: ``WritesJournal.seen_of``, which holds a release or rollback
    made here, as the plan's own read was floored by it): a read before a write that shows
    less, or a revision released before that release, trails the plan's, and is read again
    rather than taken for a change."""
    if recorded is None:
        return None
    return Floor.of_ids(recorded.version_ids, recorded.draft_version_id).raised(seen_here)


def remote_moved(recorded: RemoteState | None, current: RemoteAgent | None) -> str | None:
    """Why ``current`` no longer matches what the plan recorded, or None if it does."""
    return state_moved(recorded, remote_state(current))


def state_moved(recorded: RemoteState | None, fresh: RemoteState | None) -> str | None:
    """Why the remote state ``fresh`` differs from ``recorded``, or None if it does not."""
    if recorded is None:
        return f"agent {fresh.agent_id} appeared since the plan was made" if fresh else None
    if fresh is None:
        return f"agent {recorded.agent_id} was deleted since the plan was made"
    if recorded.agent_id != fresh.agent_id:
        return (f"the key now stands for agent {fresh.agent_id}, not {recorded.agent_id} as "
                "when the plan was made")
    for field, what in (("version_ids", "its list of revisions"),
                        ("released_version_id", "its released revision"),
                        ("released_fingerprint", "the content of its released revision"),
                        ("draft_version_id", "its draft"),
                        ("draft_fingerprint", "the content of its draft")):
        if getattr(recorded, field) != getattr(fresh, field):
            return f"{what} changed since the plan was made (agent {recorded.agent_id})"
    return None


def check_declarations(resource: ResourcePlan, agent: DesiredAgent) -> None:
    """Refuse to write when the declarations no longer hash to what the plan showed."""
    current = DesiredView.of(agent, {}).content_hash
    if current != resource.desired_hash:
        raise StalePlanError(f"agent {resource.key!r}: the declarations changed since the plan "
                             "was made (including secrets from the environment); make a new "
                             "plan")


def write_body(resource: ResourcePlan, agent: DesiredAgent, ids: Mapping[str, str],
               base: RemoteRevision | None) -> dict[str, Any]:
    """The body of the create or PUT for ``resource``; ``ids`` maps keys to remote ids."""
    if resource.desired is None:
        raise ValueError(f"resource {resource.key!r} ({resource.action}) writes nothing")
    config, postprocess, missing = resolve_for_write(agent.config, agent.postprocess_agents, ids)
    if missing:
        raise RemoteChangedError(f"agent {resource.key!r} refers to "
                                 f"{', '.join(repr(k) for k in missing)}, which does not exist "
                                 f"on the platform; nothing was written for {resource.key!r}")
    body: dict[str, Any] = {
        "name": resource.desired.name,
        "description": resource.desired.description,
        "config": merge_for_write(base.config if base else None, config),
    }
    if agent.kind == "conversational_agent":
        body["postprocess_agents"] = list(postprocess)
    # Fields the dashboard owns keep the value of the revision written over.
    return keep_owned(body, base, agent.dashboard_owned)


def with_write_time(body: dict[str, Any], when: datetime | None) -> dict[str, Any]:
    """``body`` whose marker says when the write is made (``Marker.written_at``, seconds by
    the platform's clock: ``when``, from ``api.platform_clock``); as it is when the time is
    not known or the body carries no marker."""
    marker = parse_marker(str(body.get("description") or ""))
    if marker is None or when is None:
        return body
    timed = replace(marker, written_at=int(when.timestamp()))
    return {**body, "description": with_marker(str(body["description"]), timed)}


def remade_body(resource: ResourcePlan, agent: DesiredAgent, ids: Mapping[str, str],
                revision: RemoteRevision) -> dict[str, Any]:
    """The body that made ``revision``, which holds the declaration: the declaration written
    over it, under ``revision``'s own marker. A stale draft is discarded by writing this into
    it. Not ``revision`` as the platform holds it: a stored form need not be a fixed point (a
    platform that stores ``&`` as ``&amp;`` stores ``&amp;`` as ``&amp;amp;``), and only the
    same write is stored the same way twice."""
    marker = parse_marker(revision.description)
    if marker is None:
        raise ValueError(f"{revision.version_id} carries no marker to write again")
    body = write_body(resource, agent, ids, revision)
    return {**body, "description": with_marker(body["description"], marker)}


def stored_differences(agent: DesiredAgent, ids: Mapping[str, str],
                       revision: RemoteRevision,
                       forms: StoredForms = EMPTY) -> list[Difference]:
    """Where the read-back ``revision`` does not hold the declared values, after the stored
    forms its own marker records (``plan.stored``) and ``forms``: values it did not keep,
    and values it holds in a form not recorded yet."""
    view = DesiredView.of(agent, ids, forms)
    return differences(view.id_content, view.remote_content(revision))


def raw_differences(agent: DesiredAgent, ids: Mapping[str, str],
                    revision: RemoteRevision) -> list[Difference]:
    """Every difference between the declaration and ``revision`` as the platform holds it,
    no stored form taken as declared: what the seal of a record is made of
    (``StoredForms.sealing``)."""
    view = DesiredView.of(agent, ids)
    return differences(view.id_content, view.stored_content(revision))


def noted_forms(plan: Plan) -> StoredForms:
    """The stored forms the plan states (``Plan.stored_forms``: what the platform was seen to
    store for this project's declarations) as pairs to compare through, so that another
    apply's first write of a change, whose marker records none yet, compares as what it is.
    A secret's pair is of masked values and matches nothing."""
    return StoredForms(frozenset((value_digest(form.declared), value_digest(form.stored))
                                 for form in plan.stored_forms))


def with_stored_forms(body: dict[str, Any], revision: RemoteRevision,
                      found: list[Difference], raw: list[Difference], kind: str,
                      key_by_id: Mapping[str, str]) -> dict[str, Any]:
    """``body`` again, its marker extended with the stored forms ``found`` teaches, the seal
    of every difference ``revision`` (the platform's read-back of ``body``) holds (``raw``:
    ``raw_differences``) and the record of what it holds, so that the revision is later
    judged on what the platform stored, not on what was sent."""
    marker = parse_marker(body.get("description"))
    if marker is None:
        raise ValueError("a body operator-iac writes always carries its marker")
    pairs = (StoredForms.decode(marker.stored) | StoredForms.learnt(found)).pairs
    forms = StoredForms(pairs, StoredForms.sealing(raw).seal)
    record = WrittenRecord.decode(marker.written, marker.content_hash)
    written = marker.written
    if record is not None:
        written = stored_record(revision, kind, record.paths, key_by_id).encode(
            marker.content_hash)
    remarked = replace(marker, stored=forms.encode(), written=written)
    return {**body, "description": with_marker(body["description"], remarked)}


def describe_forms(found: list[Difference]) -> str:
    """"config.runtime.model `a` as `b`, ..." for a note (secrets never reach here: their
    values are sealed digests, shown as ``(sensitive)``)."""
    shown = (excerpts(mask_sealed(d.sent), mask_sealed(d.stored), 60) for d in found[:5])
    return ", ".join(f"{d.dotted} `{sent}` as `{stored}`"
                     for d, (sent, stored) in zip(found, shown, strict=False))


# The actions that write a declared change into an agent that exists: where another apply of
# the same commit may have written or released it first (``moved_to_this_change``).
CHANGE_ACTIONS = ("update", "adopt", "release")


def holds_this_change(resource: ResourcePlan, agent: DesiredAgent, ids: Mapping[str, str],
                      revision: RemoteRevision | None, forms: StoredForms = EMPTY) -> bool:
    """Whether ``revision`` holds exactly the change ``resource`` writes: the marker it writes
    (``carries_marker``) over content holding every declared value, after the stored forms
    its own marker records and ``forms`` (``noted_forms``). A marker alone proves nothing:
    a dashboard edit keeps it."""
    return revision is not None and carries_marker(revision, resource) and \
        not stored_differences(agent, ids, revision, forms)


def moved_to_this_change(resource: ResourcePlan, agent: DesiredAgent, ids: Mapping[str, str],
                         current: RemoteAgent | None, forms: StoredForms = EMPTY) -> bool:
    """Whether the agent, moved since the plan, now holds exactly this change as its newest
    revision (its draft, else its release): what another apply of the same commit leaves
    once it wrote or released the change first. Another content, an
    edit under the marker or a release of another revision is not this."""
    remote = resource.remote
    if current is None or remote is None or current.id != remote.agent_id:
        return False
    return holds_this_change(resource, agent, ids, current.draft or current.released, forms)


def carries_marker(revision: RemoteRevision, resource: ResourcePlan) -> bool:
    """Whether ``revision`` carries the marker ``resource`` writes (same project, environment,
    key and content hash): a read-back without it holds another writer's content."""
    wanted = parse_marker(resource.desired.description) if resource.desired else None
    found = parse_marker(revision.description)
    return wanted is not None and found is not None and \
        (found.project, found.environment, found.key) == \
        (wanted.project, wanted.environment, wanted.key) and \
        hash_matches(found.content_hash, wanted.content_hash)  # a fitted marker's is shorter


def carries_cut_marker(revision: RemoteRevision, resource: ResourcePlan) -> bool:
    """Whether ``revision`` holds the user's whole description followed by the marker
    ``resource`` writes, cut short at a platform's limit where its identity and content hash
    are still whole (``plan.marker.parse_cut_marker``): a write of this very content whose
    marker was not fitted to the limit yet, this run's or another apply's of the same
    commit; never another writer's content."""
    if resource.desired is None:
        return False
    wanted = parse_marker(resource.desired.description)
    return wanted is not None and cut_own_write(
        revision.description, Owner(wanted.project, wanted.environment), wanted.key,
        wanted.content_hash, strip_marker(resource.desired.description))
