"""The frozen snapshot of remote state the planner reads: the agents on the platform with
their versions lists and the contents of their released and draft revisions.

A snapshot may be read for one project (``operator_iac.services.remote``): it then holds in
depth only the agents that can belong to the project, and lists the others it saw in the
platform's agent list as ``unread``.

These are plain values (no I/O); ``operator_iac.state.fetch`` reads them from the platform.
The planner (``operator_iac.plan``) reads only these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from operator_iac.spec.desired import AgentKind

VersionStatus = Literal["released", "draft", "archived"]


@dataclass(frozen=True)
class RemoteVersion:
    """One entry of an agent's versions list (no config: the list does not carry it)."""

    version_id: str  # "<agent id>@v<N>"
    number: int
    status: VersionStatus
    name: str
    description: str
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class RemoteRevision:
    """The full content of one revision, as the platform returned it."""

    version_id: str
    status: VersionStatus
    name: str
    description: str
    config: dict[str, Any]
    postprocess_agents: tuple[str, ...] = ()
    updated_at: str | None = None


@dataclass(frozen=True)
class RemoteAgent:
    """One agent on the platform: its versions list and the content of its released and
    draft revisions (None when it has none)."""

    kind: AgentKind
    id: str
    versions: tuple[RemoteVersion, ...]
    released: RemoteRevision | None = None
    draft: RemoteRevision | None = None

    @property
    def newest(self) -> RemoteVersion | None:
        return max(self.versions, key=lambda v: v.number) if self.versions else None


@dataclass(frozen=True)
class ListedAgent:
    """One item of an agents list: an agent as its newest revision describes it.
    ``description`` is None when the platform's list items carry no description."""

    kind: AgentKind
    id: str
    name: str
    description: str | None
    version_id: str = ""


@dataclass(frozen=True)
class ReleaseVerdict:
    """What the platform's smoke records say about one released revision: whether its
    smoke tests passed there, or its release is unverified (a release announced and never
    proven, or proven failing), and which revision to release again if it fails."""

    version_id: str
    passed: bool
    summary: str = ""
    previous: str | None = None  # the revision released before it, when recorded


@dataclass(frozen=True)
class Snapshot:
    """The agents on one platform (``api_url``) as read at one moment; the planner's only
    view of the remote side. ``unread``: agents the list showed that were not read in depth
    (none when every agent was read)."""

    api_url: str
    agents: tuple[RemoteAgent, ...] = field(default=())
    read_at: str = ""  # when it was read (ISO-8601 UTC); the plan's date
    # Smoke verdicts of released revisions by version id, for the agents whose verification
    # was asked about; None when they were not read (then nothing is to be verified).
    verdicts: dict[str, ReleaseVerdict] | None = None
    unread: tuple[ListedAgent, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unread

    def by_id(self, agent_id: str) -> RemoteAgent | None:
        return next((a for a in self.agents if a.id == agent_id), None)
