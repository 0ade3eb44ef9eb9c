"""Reading the remote state: the snapshot of the agents (fetched concurrently through the API
client), every one or those a project can own, completed on demand; one agent's view for
apply's re-checks; and one revision's content. Released and archived contents may come from
a ``RevisionCache``; drafts and apply's re-checks are always read from the platform.

The values it returns are defined in ``operator_iac.state.snapshot``; this is the state
layer's only I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from operator_iac.defaults import PARALLELISM
from operator_iac.spec.desired import AgentKind
from operator_iac.state.snapshot import (
    ListedAgent,
    RemoteAgent,
    RemoteRevision,
    RemoteVersion,
    Snapshot,
    VersionStatus,
)

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.models import Agent, AgentSummary
    from operator_iac.api.resources import AgentsResource
    from operator_iac.state.cache import RevisionCache

# ---- fetching ---------------------------------------------------------------------------
# The fetch is the only I/O in this module. The agents lists must be read page after page
# (each page names the cursor of the next), so each agent's versions and revisions are fetched
# as soon as its page arrives, while the next page loads: wall time stays close to
# requests x latency / parallelism instead of adding the pages' chain to it. The listing holds
# one slot of the pool's limit, so no more than ``parallelism`` requests are ever in flight.

_KIND_RESOURCES: dict[AgentKind, str] = {
    "conversational_agent": "conversational_agents",
    "procedural_agent": "procedural_agents",
}


# Which listed agents to read in depth (None: all of them), and which agents read by their
# versions list alone to read in depth too.
ListedClaim = Callable[[ListedAgent], bool]
VersionsClaim = Callable[[RemoteAgent], bool]
# Told each agent read in depth (``fetch_snapshot``'s ``after``).
AgentRead = Callable[[RemoteAgent], None]


def fetch_snapshot(client: OperatorClient, *, parallelism: int = PARALLELISM,
                   kinds: tuple[AgentKind, ...] = ("procedural_agent", "conversational_agent"),
                   claims: ListedClaim | None = None, cache: RevisionCache | None = None,
                   after: AgentRead | None = None) -> Snapshot:
    """Read the agents of the given kinds with their versions and released/draft content:
    every one, or those ``claims`` takes from the list (the others are kept as ``unread``).
    Released and archived contents come from ``cache`` when it holds them. ``after`` is
    called with each agent read in depth, in the task that read it: more reads that follow
    from one agent start at once instead of after the whole snapshot."""
    from operator_iac.api.pool import WorkPool, results_in_order

    read_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    unread: list[ListedAgent] = []
    with WorkPool(client, parallelism=parallelism) as pool:
        futures: list[Future[RemoteAgent | None]] = []
        try:
            with pool.slot():  # the listing is one request in flight too
                for kind in kinds:
                    for summary in agents_resource(client, kind).list():
                        listed = _listed(kind, summary)
                        if claims is not None and not claims(listed):
                            unread.append(listed)
                            continue
                        futures.append(pool.submit(
                            lambda item: _listed_agent(client, item, cache, after), listed))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        agents = tuple(agent for agent in results_in_order(futures) if agent is not None)
    return Snapshot(api_url=client.base_url, agents=agents, read_at=read_at,
                    unread=tuple(unread))


def complete_snapshot(client: OperatorClient, snapshot: Snapshot, claims: VersionsClaim, *,
                      parallelism: int = PARALLELISM,
                      cache: RevisionCache | None = None) -> Snapshot:
    """``snapshot`` with the agents it only listed read: each one's versions list (every
    revision's name and description, so a marker in any revision is seen), and the contents
    of those ``claims`` takes on that evidence. The others are not this project's and are
    left out."""
    from operator_iac.api.pool import WorkPool

    with WorkPool(client, parallelism=parallelism) as pool:
        found = pool.map(lambda listed: _claimed(client, listed, claims, cache),
                         list(snapshot.unread))
    more = tuple(agent for agent in found if agent is not None)
    return replace(snapshot, agents=snapshot.agents + more, unread=())


def _listed(kind: AgentKind, summary: AgentSummary) -> ListedAgent:
    return ListedAgent(kind, summary.id, summary.name,
                       summary.description if summary.described else None)


def _listed_agent(client: OperatorClient, listed: ListedAgent, cache: RevisionCache | None,
                  after: AgentRead | None = None) -> RemoteAgent | None:
    """A listed agent, or None when it was deleted between the listing and this read (a
    concurrent apply removing its duplicate): it is not on the platform any more."""
    from operator_iac.errors import NotFoundError

    try:
        agent = fetch_agent(client, listed.kind, listed.id, cache)
    except NotFoundError:
        return None
    if after is not None:
        after(agent)
    return agent


def _claimed(client: OperatorClient, listed: ListedAgent, claims: VersionsClaim,
             cache: RevisionCache | None) -> RemoteAgent | None:
    from operator_iac.errors import NotFoundError

    try:
        bare = RemoteAgent(listed.kind, listed.id, fetch_versions(client, listed.kind, listed.id))
        return with_contents(client, bare, cache) if claims(bare) else None
    except NotFoundError:
        return None


def fetch_agent(client: OperatorClient, kind: AgentKind, agent_id: str,
                cache: RevisionCache | None = None) -> RemoteAgent:
    """The same view as the snapshot's, for one agent (apply re-checks with it, uncached)."""
    bare = RemoteAgent(kind, agent_id, fetch_versions(client, kind, agent_id))
    return with_contents(client, bare, cache)


def with_contents(client: OperatorClient, agent: RemoteAgent,
                  cache: RevisionCache | None = None) -> RemoteAgent:
    """``agent`` (its versions list read) with its released and draft revisions' contents."""
    wanted = [v for v in agent.versions if v.status in ("released", "draft")]
    revisions = [_content(client, agent.kind, version, cache) for version in wanted]
    return _assemble(agent.kind, agent.id, agent.versions, {r.version_id: r for r in revisions})


def _content(client: OperatorClient, kind: AgentKind, version: RemoteVersion,
             cache: RevisionCache | None) -> RemoteRevision:
    cached = cache.get(version) if cache is not None else None
    if cached is not None:
        return cached
    revision = read_revision(client, kind, version.version_id, version.status)
    if cache is not None:
        cache.put(revision)
    return revision


def agents_resource(client: OperatorClient, kind: AgentKind) -> AgentsResource:
    """The client's endpoints for agents of ``kind``."""
    resource: AgentsResource = getattr(client, _KIND_RESOURCES[kind])
    return resource


def read_revision(client: OperatorClient, kind: AgentKind, version_id: str,
                  status: VersionStatus) -> RemoteRevision:
    """The full content of one revision, read from the platform."""
    return revision_of(agents_resource(client, kind).get(version_id), version_id, status)


def revision_of(agent: Agent, version_id: str, status: VersionStatus) -> RemoteRevision:
    """One revision's content as the reading boundary read it (``agent``)."""
    return RemoteRevision(
        version_id=version_id,
        status=status,
        name=agent.name,
        description=agent.description,
        config=dict(agent.config),
        postprocess_agents=tuple(agent.postprocess_agents or ()),
        updated_at=agent.updated_at,
    )


def fetch_versions(client: OperatorClient, kind: AgentKind,
                   agent_id: str) -> tuple[RemoteVersion, ...]:
    """One agent's versions list, statuses read as ``RemoteVersion`` does (no contents)."""
    entries = agents_resource(client, kind).list_versions(agent_id)
    return tuple(
        RemoteVersion(
            version_id=e.version_id,
            number=e.number if e.number is not None else index,
            status=_status(e.status),
            name=e.name,
            description=e.description,
            created_at=e.created_at,
            updated_at=e.updated_at,
        )
        for index, e in enumerate(entries)
    )


def _assemble(kind: AgentKind, agent_id: str, versions: tuple[RemoteVersion, ...],
              by_version: dict[str, RemoteRevision]) -> RemoteAgent:
    def pick(status: VersionStatus) -> RemoteRevision | None:
        # Several entries with one status would be a platform bug; the newest one wins.
        matching = [v for v in versions if v.status == status]
        newest = max(matching, key=lambda v: v.number) if matching else None
        return by_version.get(newest.version_id) if newest else None

    return RemoteAgent(kind=kind, id=agent_id, versions=versions,
                       released=pick("released"), draft=pick("draft"))


def _status(status: str | None) -> VersionStatus:
    return status if status in ("released", "draft", "archived") else "archived"  # type: ignore[return-value]
