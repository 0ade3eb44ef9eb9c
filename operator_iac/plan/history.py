"""The history of one agent, from the snapshot: which remote agent a key stands for (by this
project's marker in any revision, never by name) and what each revision says about itself
(its marker: commit and content hash). Pure; ``operator_iac.services.history`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from operator_iac.errors import UsageError
from operator_iac.plan.identity import as_owner, claims_by_key
from operator_iac.plan.marker import Marker, Owner, parse_marker
from operator_iac.spec.desired import AgentKind
from operator_iac.state.snapshot import RemoteAgent, Snapshot

NO_MARKER = "no marker: edited outside operator-iac"


@dataclass(frozen=True)
class RevisionInfo:
    """One revision as ``history`` shows it."""

    version_id: str
    number: int
    status: str
    created_at: str | None
    updated_at: str | None
    marker: Marker | None  # this project's marker for the key, if the revision carries it
    foreign_marker: Marker | None = None  # a marker naming another project or key

    @property
    def note(self) -> str:
        if self.marker is not None:
            return ""
        if self.foreign_marker is not None:
            m = self.foreign_marker
            return f"marker of project {m.project}, key {m.key}"
        return NO_MARKER


@dataclass(frozen=True)
class AgentHistory:
    """Every revision of one agent, newest first, for ``history``."""

    key: str
    kind: AgentKind
    agent_id: str
    revisions: tuple[RevisionInfo, ...]  # newest first


@dataclass(frozen=True)
class LoadedAgent:
    """The agent owned by a key, with the key -> id map of every agent this project owns."""

    key: str
    agent: RemoteAgent
    ids: dict[str, str] = field(default_factory=dict)


def find_agent(snapshot: Snapshot, owner: Owner | str, key: str) -> LoadedAgent:
    """The remote agent this project's marker names ``key`` on (in the owner's environment),
    or a ``UsageError``."""
    owned = claims_by_key(snapshot.agents, owner)
    project = as_owner(owner).project
    candidates = owned.get(key, [])
    if not candidates:
        known = ", ".join(sorted(owned)) or "none"
        raise UsageError(f"no agent on {snapshot.api_url} carries the marker of project "
                         f"{project!r} and key {key!r} (keys found there: {known})")
    if len(candidates) > 1:
        listed = ", ".join(sorted(a.id for a in candidates))
        raise UsageError(f"several agents carry the marker of key {key!r}: {listed}; delete "
                         "the duplicates on the platform first")
    ids = {k: agents[0].id for k, agents in owned.items() if len(agents) == 1}
    return LoadedAgent(key, candidates[0], ids)


def agent_history(loaded: LoadedAgent, project: str) -> AgentHistory:
    """Every revision, newest first, with what its marker says."""
    revisions = []
    for version in sorted(loaded.agent.versions, key=lambda v: -v.number):
        marker = parse_marker(version.description)
        own = marker if marker is not None and marker.owned_by(project, loaded.key) else None
        revisions.append(RevisionInfo(version.version_id, version.number, version.status,
                                      version.created_at, version.updated_at, own,
                                      marker if own is None else None))
    agent = loaded.agent
    return AgentHistory(loaded.key, agent.kind, agent.id, tuple(revisions))
