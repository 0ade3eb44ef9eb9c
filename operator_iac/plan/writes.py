"""What apply writes for a resource, and the pure checks around each write.

``apply`` is the only writer, but what it sends and how it decides that a write is safe are
pure questions answered here:

- ``check_declarations``: the declarations (secrets resolved again from the environment)
  still hash to the plan's ``desired_hash``; otherwise the plan is stale.
- ``remote_moved``: a fresh read of the agent still shows the revisions the plan recorded
  (``state_moved`` compares two recorded states).
- ``write_body``: the request body: the plan's name and marked description, the declared
  config with references resolved to ids deep-merged over the base revision's config (so
  server fields survive the read-modify-write), and postprocess ids.
- ``persisted_mismatches``: after reading the written draft back, the declared fields that did
  not persist (empty when the write took); ``written_by_someone_else`` tells a concurrent
  writer's content from a field the platform dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from operator_iac.errors import RemoteChangedError, StalePlanError
from operator_iac.plan.compare import DesiredView
from operator_iac.plan.diff import diff_content
from operator_iac.plan.hashing import revision_fingerprint
from operator_iac.plan.marker import parse_marker
from operator_iac.plan.model import FieldChange, RemoteState, ResourcePlan
from operator_iac.plan.normalise import merge_for_write
from operator_iac.plan.owned import keep_owned
from operator_iac.plan.refs import resolve_for_write
from operator_iac.spec.desired import DesiredAgent
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


def persisted_mismatches(agent: DesiredAgent, ids: Mapping[str, str],
                         revision: RemoteRevision) -> tuple[FieldChange, ...]:
    """Declared fields that the read-back ``revision`` does not hold (secrets redacted)."""
    view = DesiredView.of(agent, ids)
    return diff_content(view.remote_content(revision), view.id_content)


def carries_marker(revision: RemoteRevision, resource: ResourcePlan) -> bool:
    """Whether ``revision`` carries the marker ``resource`` writes (same project, key and
    content hash): a read-back without it holds another writer's content."""
    wanted = parse_marker(resource.desired.description) if resource.desired else None
    found = parse_marker(revision.description)
    return wanted is not None and found is not None and \
        (found.project, found.key, found.content_hash) == \
        (wanted.project, wanted.key, wanted.content_hash)


def written_by_someone_else(resource: ResourcePlan, agent: DesiredAgent, ids: Mapping[str, str],
                            revision: RemoteRevision, base: RemoteRevision | None,
                            missing: tuple[FieldChange, ...]) -> bool:
    """Whether a read-back draft that lacks declared values (``missing``) holds another
    writer's content rather than a field the platform did not keep: it carries another
    marker, or a missing field holds a value that is neither this run's nor the one of the
    revision it was written over (``base``)."""
    if not carries_marker(revision, resource):
        return True
    before = {c.path: c.before for c in persisted_mismatches(agent, ids, base)} \
        if base is not None else {}
    return any(c.before is not None and c.before != before.get(c.path) for c in missing)
