"""The frozen snapshot of remote state the planner reads: the agents on the platform with
their versions lists and the contents of their released and draft revisions.

A snapshot may be read for one project (``operator_iac.services.remote``): it then holds in
depth only the agents that can belong to the project, and lists the others it saw in the
platform's agent list as ``unread``.

These are plain values (no I/O); ``operator_iac.state.fetch`` reads them from the platform.
The planner (``operator_iac.plan``) reads only these.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from operator_iac.spec.desired import AgentKind

VersionStatus = Literal["released", "draft", "archived"]


@dataclass(frozen=True)
class RemoteVersion:
    """One entry of an agent's versions list (no config: the list does not carry it)."""

    version_id: str
    """The revision's id, ``<agent id>@v<N>`` (``ca_x@v3``), as the list gives it."""
    number: int
    """N of ``@v<N>``; the entry's position in the list (from 0) when the id carries no
    number."""
    status: VersionStatus
    """``released``, ``draft`` or ``archived``: the platform's ``version_status``, inferred
    from ``is_released`` where only that is given (``api.models``); any other is
    ``archived``."""
    name: str
    """The revision's name."""
    description: str
    """The revision's description, ownership marker included: how an agent whose newest
    revision lost its marker is still recognised (``plan.identity``)."""
    created_at: str | None = None
    """When the revision was created, RFC 3339 in UTC whatever form the platform wrote it in
    (``api.tolerance.Timestamp``); None when it does not say. Compared as a time
    (``state.times``), never as text."""
    updated_at: str | None = None
    """When the revision was last changed, in the same form; None when the platform does not
    say."""


@dataclass(frozen=True)
class RemoteRevision:
    """The full content of one revision, as the platform returned it."""

    version_id: str
    """The revision's id, ``<agent id>@v<N>`` (``ca_x@v3``)."""
    status: VersionStatus
    """The revision's status as the reader knew it: its versions list entry's (``draft``
    for apply's read-back of the draft it wrote)."""
    name: str
    """The revision's name."""
    description: str
    """The revision's description, ownership marker included (``plan.marker``)."""
    config: dict[str, Any]
    """The revision's config, every field the platform returned kept (transfers spelt
    ``{entity_id}``, ``api.models``); references to other agents are their ids."""
    postprocess_agents: tuple[str, ...] = ()
    """Ids of the procedural agents run after a conversation ends; empty when there are none
    or the platform returned none."""
    updated_at: str | None = None
    """When the revision was last changed, RFC 3339 in UTC (``api.tolerance.Timestamp``);
    None when the platform does not say."""


def held_content(revision: RemoteRevision) -> str:
    """What ``revision`` holds, whichever revision it is: its name, description (marker
    included), config and post-processing agents as one text, equal for two revisions that
    hold the same (id, status and times left out)."""
    return json.dumps([revision.name, revision.description, revision.config,
                       list(revision.postprocess_agents)], sort_keys=True, default=str,
                      separators=(",", ":"))


def read_state(revision: RemoteRevision) -> str:
    """What a read of ``revision`` showed: what it holds (``held_content``) and when the
    platform says it last changed. A read showing the state a revision had before a write
    trails that write; the same content read with another ``updated_at`` is the write
    itself, which changed nothing the content shows."""
    return f"{held_content(revision)}\n{revision.updated_at or ''}"


def state_digest(state: str) -> str:
    """A short digest of a ``read_state``: what a writes journal keeps on disk of a state a
    write superseded (no content, no secret)."""
    return hashlib.sha256(state.encode()).hexdigest()[:32]


def copy_state(revision: RemoteRevision) -> str:
    """The state of a new revision that the platform begins as a copy of ``revision`` (the
    draft it opens beside a release): the same content, with times of its own, whose
    precision is the platform's (two writes within a second may or may not share them)."""
    return f"{held_content(revision)}\n*"


def trails(revision: RemoteRevision, superseded: Collection[str]) -> bool:
    """Whether a read showing ``revision`` shows a state that a write of this run has
    superseded (``read_state``), or a copy of one that a write of this run began
    (``copy_state``): the read has not caught up with the write."""
    return read_state(revision) in superseded or copy_state(revision) in superseded


def changes(body: dict[str, Any], revision: RemoteRevision) -> bool:
    """Whether writing ``body`` (a PUT's fields) into ``revision`` would change a value it
    holds as read (a write that changes nothing reads as the state before it, and must not
    be waited for as if the read trailed it)."""
    held = {"name": revision.name, "description": revision.description,
            "config": revision.config, "postprocess_agents": list(revision.postprocess_agents)}
    return any(key in held and held[key] != (list(value) if key == "postprocess_agents"
                                             and value is not None else value)
               for key, value in body.items())


@dataclass(frozen=True)
class RemoteAgent:
    """One agent on the platform: its versions list and the content of its released and
    draft revisions (None when it has none)."""

    kind: AgentKind
    """``conversational_agent`` or ``procedural_agent``."""
    id: str
    """The platform's id of the agent, without a revision (``ca_x``)."""
    versions: tuple[RemoteVersion, ...]
    """Every entry of the agent's versions list, oldest first (by number)."""
    released: RemoteRevision | None = None
    """The content of the released revision, the one conversations get; None when nothing
    is released, or when only the versions list was read."""
    draft: RemoteRevision | None = None
    """The content of the unreleased draft; None when there is none, or when only the
    versions list was read."""
    draft_kept_in: RemoteRevision | None = None
    """An archived revision holding exactly what the draft holds, when the draft differs
    from the released revision and the versions list shows one that may (same name and
    description); None otherwise. Such a draft is a copy of content the platform keeps: a
    platform that opens a draft beside every release, rolled back, keeps the copy of the
    revision it rolled back from."""

    @property
    def newest(self) -> RemoteVersion | None:
        return max(self.versions, key=lambda v: v.number) if self.versions else None

    @property
    def pending_draft(self) -> RemoteRevision | None:
        """The draft, when it holds something no other revision of the agent holds; None
        otherwise. A draft holding exactly the released revision's name, description
        (marker included), config and post-processing agents is nobody's work in progress:
        some platforms open one beside every release, and a dashboard's "edit" opens one
        before anything is changed. Nor is a draft holding exactly what an archived revision
        holds (``draft_kept_in``): writing over it loses nothing the platform does not keep,
        as when such a platform is rolled back and the draft it opened beside the release
        rolled back from stays. Such a draft never blocks a write as someone's draft, is
        never a change applied and left unreleased, and is written into like any draft."""
        draft, released = self.draft, self.released
        if draft is None or released is None:
            return draft
        kept = [r for r in (released, self.draft_kept_in) if r is not None]
        return None if held_content(draft) in {held_content(r) for r in kept} else draft


@dataclass(frozen=True)
class ListedAgent:
    """One item of an agents list: an agent as its newest revision describes it.
    ``description`` is None when the platform's list items carry no description."""

    kind: AgentKind
    """``conversational_agent`` or ``procedural_agent``: the list it came from."""
    id: str
    """The platform's id of the agent (``ca_x``)."""
    name: str
    """The newest revision's name."""
    description: str | None
    """The newest revision's description, marker included; None when the list item carries
    none."""
    version_id: str = ""
    """The revision the list item describes (``ca_x@v3``); empty when it names none."""
    status: str | None = None
    """That revision's status as the list item gives it; None when it gives none."""

@dataclass(frozen=True)
class ReleaseVerdict:
    """What the platform's smoke records say about one released revision: whether its
    smoke tests passed there, or its release is unverified (a release announced and never
    proven, or proven failing), and which revision to release again if it fails."""

    version_id: str
    """The released revision the verdict is about (``ca_x@v3``)."""
    passed: bool
    """Whether its smoke tests passed there. The snapshot holds verdicts of unproven
    releases only (``smoke.evidence.unproven_releases``), so False there."""
    summary: str = ""
    """One line for people about the verdict; empty when none was given."""
    previous: str | None = None
    """The revision released before it, which a failed verification rolls back to; None
    when none is recorded (a first release, or a record that could not be read)."""


@dataclass(frozen=True)
class Snapshot:
    """The agents on one platform (``api_url``) as read at one moment; the planner's only
    view of the remote side."""

    api_url: str
    """The platform's REST API, as the client addresses it (no trailing ``/``)."""
    agents: tuple[RemoteAgent, ...] = field(default=())
    """The agents read in depth: every agent, or those that can be the project's when it
    was read for one project."""
    read_at: str = ""
    """When the reading began (ISO-8601 UTC, whole seconds: ``2024-05-01T12:00:00Z``); the
    plan's date. Empty when not set."""
    verdicts: dict[str, ReleaseVerdict] | None = None
    """Smoke verdicts of released revisions by version id, for the agents whose verification
    was asked about; None when they were not read (then nothing is to be verified)."""
    unread: tuple[ListedAgent, ...] = ()
    """The agents the list showed that were not read in depth; empty when every listed agent
    was read, and once the rest is read (``fetch.complete_snapshot``: those not the
    project's are then left out of ``agents``)."""
    drafted_here: frozenset[str] = frozenset()
    """Drafts (``ca_x@v3``) an earlier run on this machine wrote and did not see through, as
    its journal says (``services.earlier_runs``): one still marked for the content declared
    now is that run's unfinished write, not someone else's draft. Empty without a journal."""
    created_here: frozenset[tuple[str, str]] = frozenset()
    """(agent id, key) of the agents an earlier run on this machine created and did not see
    through, as its journal says (``services.earlier_runs``): one that carries no marker at
    all is that run's create, its marker cut off at the platform's limit on descriptions
    before the run could fit it (``plan.identity``), not someone else's agent to adopt.
    Empty without a journal."""

    @property
    def complete(self) -> bool:
        return not self.unread

    def by_id(self, agent_id: str) -> RemoteAgent | None:
        return next((a for a in self.agents if a.id == agent_id), None)
