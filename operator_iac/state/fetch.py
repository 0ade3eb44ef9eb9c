"""Reading the remote state: the snapshot of every agent (fetched concurrently through the API
client), one agent's view for apply's re-checks, and one revision's content.

The values it returns are defined in ``operator_iac.state.snapshot``; this is the state
layer's only I/O.
"""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from operator_iac.spec.desired import AgentKind
from operator_iac.state.snapshot import (
    RemoteAgent,
    RemoteRevision,
    RemoteVersion,
    Snapshot,
    VersionStatus,
)

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.resources import AgentsResource

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


def fetch_snapshot(client: OperatorClient, *, parallelism: int = 8,
                   kinds: tuple[AgentKind, ...] = ("procedural_agent", "conversational_agent"),
                   ) -> Snapshot:
    """Read every agent of the given kinds with its versions and its released/draft content."""
    from operator_iac.api.pool import WorkPool, results_in_order

    read_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with WorkPool(client, parallelism=parallelism) as pool:
        futures: list[Future[RemoteAgent | None]] = []
        try:
            with pool.slot():  # the listing is one request in flight too
                for kind in kinds:
                    for summary in agents_resource(client, kind).list():
                        futures.append(pool.submit(
                            lambda item: _listed_agent(client, *item), (kind, summary.id)))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        agents = tuple(agent for agent in results_in_order(futures) if agent is not None)
    return Snapshot(api_url=client.base_url, agents=agents, read_at=read_at)


def _listed_agent(client: OperatorClient, kind: AgentKind, agent_id: str) -> RemoteAgent | None:
    """A listed agent, or None when it was deleted between the listing and this read (a
    concurrent apply removing its duplicate): it is not on the platform any more."""
    from operator_iac.errors import NotFoundError

    try:
        return fetch_agent(client, kind, agent_id)
    except NotFoundError:
        return None


def fetch_agent(client: OperatorClient, kind: AgentKind, agent_id: str) -> RemoteAgent:
    """The same view as the snapshot's, for one agent (apply re-checks with it)."""
    versions = _versions(client, kind, agent_id)
    revisions = [read_revision(client, kind, v.version_id, v.status) for v in versions
                 if v.status in ("released", "draft")]
    return _assemble(kind, agent_id, versions, {r.version_id: r for r in revisions})


def agents_resource(client: OperatorClient, kind: AgentKind) -> AgentsResource:
    """The client's endpoints for agents of ``kind``."""
    resource: AgentsResource = getattr(client, _KIND_RESOURCES[kind])
    return resource


def read_revision(client: OperatorClient, kind: AgentKind, version_id: str,
                  status: VersionStatus) -> RemoteRevision:
    """The full content of one revision, read from the platform."""
    agent = agents_resource(client, kind).get(version_id)
    return RemoteRevision(
        version_id=version_id,
        status=status,
        name=agent.name,
        description=agent.description,
        config=dict(agent.config),
        postprocess_agents=tuple(agent.postprocess_agents or ()),
        updated_at=agent.updated_at,
    )


def _versions(client: OperatorClient, kind: AgentKind, agent_id: str) -> tuple[RemoteVersion, ...]:
    entries = agents_resource(client, kind).list_versions(agent_id)
    return tuple(
        RemoteVersion(
            version_id=_qualified(agent_id, e.version_id, e.number),
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


def _qualified(agent_id: str, version_id: str, number: int | None) -> str:
    # Some answers may carry a bare number or id; revisions are always addressed as @vN.
    return version_id if "@" in version_id or number is None else f"{agent_id}@v{number}"


def _status(status: str | None) -> VersionStatus:
    return status if status in ("released", "draft", "archived") else "archived"  # type: ignore[return-value]
