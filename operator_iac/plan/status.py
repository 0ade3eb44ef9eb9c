"""Status: what an environment holds, agent by agent, measured against the declarations.

For every declared agent, and every agent this project owns under a key no longer declared:
the released and draft revisions, the commit and content hash in the released revision's
marker, whether it **matches** the declarations, and whether it **drifted** (changed outside
operator-iac). Both questions are answered by the planner, so status and plan never disagree:

- *matches*: the plan for the agent is a no-op (released content equals the declarations and
  carries this content's marker). ``create``, ``update``, ``release`` and ``adopt`` mean it
  does not, and so does ``verify`` (the release was never proven by its smoke tests); an
  owned agent whose key is no longer declared does not match either (``plan --prune`` would
  delete it).
- *drift*: the plan's drift flag: the released revision has no marker, or no longer holds
  the content its marker names.

``StatusReport.exit_code``: 2 when any agent drifted or does not match, else 0; a scheduled
CI job fails on either. Building the report is pure (``build_status``);
``operator_iac.services.status`` reads the platform once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from operator_iac.plan.compare import HASH_MISMATCH, NO_MARKER, holds_own_writing, own_marker

if TYPE_CHECKING:
    from operator_iac.plan.model import Plan, ResourcePlan, UnprunedAgent
    from operator_iac.state.snapshot import RemoteAgent, RemoteRevision, Snapshot


DRIFT_EXIT_CODE = 2


STATES = {
    "no-op": "in sync",
    "create": "not on the platform",
    "update": "differs from the declarations",
    "release": "the declared content is an unreleased draft",
    "adopt": "an unmanaged agent of this name exists (adopt it)",
    "verify": "released, but its smoke tests never passed there (apply proves or rolls back)",
    "orphan": "owned, but no longer declared",
}


@dataclass(frozen=True)
class AgentStatus:
    """One agent's line in ``status``: its revisions, where the released one came from, and
    whether it matches the declarations and whether it drifted."""

    key: str
    kind: str
    agent_id: str | None
    declared: bool
    action: str  # the plan's action, or "orphan" for an owned agent no longer declared
    released: str | None = None
    draft: str | None = None
    commit: str | None = None
    content_hash: str | None = None
    drift: bool = False
    drift_reason: str | None = None
    draft_note: str | None = None

    @property
    def matches(self) -> bool:
        return self.action == "no-op"

    @property
    def state(self) -> str:
        return STATES.get(self.action, self.action)

    @property
    def clean(self) -> bool:
        return self.matches and not self.drift

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "matches": self.matches, "state": self.state}


@dataclass(frozen=True)
class StatusReport:
    """What an environment holds, agent by agent; ``exit_code`` is 2 on drift or mismatch."""

    project: str
    environment: str | None
    api_url: str
    commit: str | None  # the commit the declarations come from
    agents: tuple[AgentStatus, ...]

    @property
    def drifted(self) -> tuple[AgentStatus, ...]:
        return tuple(a for a in self.agents if a.drift)

    @property
    def mismatched(self) -> tuple[AgentStatus, ...]:
        return tuple(a for a in self.agents if not a.matches)

    @property
    def clean(self) -> bool:
        return all(a.clean for a in self.agents)

    def exit_code(self) -> int:
        return 0 if self.clean else DRIFT_EXIT_CODE

    def to_dict(self) -> dict[str, Any]:
        return {"project": self.project, "environment": self.environment,
                "api_url": self.api_url, "commit": self.commit, "clean": self.clean,
                "exit_code": self.exit_code(),
                "agents": [a.to_dict() for a in self.agents]}


def build_status(plan: Plan, snapshot: Snapshot) -> StatusReport:
    """Pure: the status of every agent of ``plan`` (made with default options, so that owned
    agents no longer declared are listed as unpruned)."""
    agents = [_declared(resource, snapshot, plan.project) for resource in plan.resources
              if resource.action != "delete"]
    key_by_id = {agent_id: key for key, agent_id in plan.known_ids.items()}
    agents += [_orphan(item, snapshot, plan.project, key_by_id) for item in plan.unpruned]
    return StatusReport(plan.project, plan.environment, plan.api_url, plan.commit,
                        tuple(sorted(agents, key=lambda a: a.key)))


def _declared(resource: ResourcePlan, snapshot: Snapshot, project: str) -> AgentStatus:
    remote = snapshot.by_id(resource.agent_id) if resource.agent_id else None
    adopting = resource.action == "adopt"
    fields = _revisions(remote, project, resource.key, owned=not adopting)
    if resource.stale_draft is not None:
        fields["draft_note"] = (f"{fields['draft_note']}, never released: promote refuses it "
                                "until it is released or discarded (apply --discard-drafts)")
    return AgentStatus(
        key=resource.key, kind=resource.kind, agent_id=resource.agent_id, declared=True,
        action=resource.action, drift=resource.drift, drift_reason=resource.drift_reason,
        **fields)


def _orphan(item: UnprunedAgent, snapshot: Snapshot, project: str,
            key_by_id: dict[str, str]) -> AgentStatus:
    """An owned agent no longer declared: drifted when its released revision lost the
    marker, or no longer holds what the marker says was written (nothing is declared to
    compare with, so a marker without that record cannot tell)."""
    remote = snapshot.by_id(item.agent_id)
    fields = _revisions(remote, project, item.key, owned=True)
    released = remote.released if remote is not None else None
    marker = own_marker(released, project, item.key)
    reason = None
    if released is not None and marker is None:
        reason = NO_MARKER
    elif released is not None and marker is not None and \
            holds_own_writing(released, marker, item.kind, key_by_id) is False:
        reason = HASH_MISMATCH
    return AgentStatus(key=item.key, kind=item.kind, agent_id=item.agent_id, declared=False,
                       action="orphan", drift=reason is not None, drift_reason=reason,
                       **fields)


def _revisions(remote: RemoteAgent | None, project: str, key: str, *,
               owned: bool) -> dict[str, Any]:
    if remote is None:
        return {}
    released, draft = remote.released, remote.draft
    marker = own_marker(released, project, key) if owned else None
    return {
        "released": released.version_id if released else None,
        "draft": draft.version_id if draft else None,
        "commit": marker.commit if marker else None,
        "content_hash": marker.content_hash if marker else None,
        "draft_note": _draft_note(remote.pending_draft, project, key),
    }


def _draft_note(draft: RemoteRevision | None, project: str, key: str) -> str | None:
    if draft is None:
        return None
    marker = own_marker(draft, project, key)
    if marker is not None:
        return f"unreleased draft from operator-iac (commit {marker.commit or 'unknown'})"
    return "unreleased draft not written by operator-iac"
