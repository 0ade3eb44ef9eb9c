"""Claims on a key: the remote agents whose newest revision carries this project's marker for
it, read fresh from the agents list.

The platform has no idempotency keys and no unique names, so two applies started together on
a fresh project both create an agent for each key. They converge without talking to each
other by one rule every run applies to what it sees (``plan.identity.duplicates``): the agent
to keep is the one that was ever released, else the earliest created (the versions list's
``created_at`` of its first revision), ties broken by id. A run whose own new agent is not
the one to keep deletes it before releasing it and reports a conflict. Each run applies the
rule right after its create and again right before its release, so even two runs that did
not yet see each other's agent after creating agree before either releases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from operator_iac.errors import NotFoundError, OperatorIacError
from operator_iac.plan.identity import duplicates
from operator_iac.plan.marker import parse_marker
from operator_iac.state.fetch import agents_resource, fetch_agent

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.resources import AgentsResource
    from operator_iac.spec.desired import AgentKind


@dataclass(frozen=True)
class Yielded:
    """This run's agent for a key is not the one to keep: ``keep`` is, and this run's was
    deleted (``deleted``) or could not be (``problem`` says why, or that it is not this
    run's to delete)."""

    keep: str
    mine: str
    deleted: bool
    problem: str | None = None

    def message(self, key: str) -> str:
        head = f"another apply created {self.keep} for {key!r} at the same time"
        if self.deleted:
            return f"{head}; this run's {self.mine} yielded and was deleted unreleased"
        return f"{head}; {self.problem}"


def claims(agents: AgentsResource, project: str) -> dict[str, list[str]]:
    """Key -> ids of the agents whose newest revision carries this project's marker, read
    fresh, in listing order.

    The agents list's items are not documented to carry a description; where one carries
    none, the agent's versions list (documented to) is read for its newest revision's.
    """
    found: dict[str, list[str]] = {}
    for summary in agents.list():
        description = summary.description
        if not description:
            versions = agents.list_versions(summary.id)
            description = versions[-1].description if versions else ""
        marker = parse_marker(description)
        if marker is not None and marker.owned_by(project):
            found.setdefault(marker.key, []).append(summary.id)
    return found


def owned_agents(agents: AgentsResource, project: str) -> dict[str, str]:
    """Key -> id of the agents whose newest revision carries this project's marker (read
    fresh: after a lost create this is how the agent it made is found)."""
    return {key: ids[0] for key, ids in claims(agents, project).items()}


def settle(client: OperatorClient, kind: AgentKind, project: str, key: str, mine: str, *,
           created_here: bool) -> Yielded | None:
    """Apply the claim rule to ``key`` now: None when ``mine`` is the agent to keep (or the
    only one); otherwise this run yields, deleting ``mine`` if this run created it."""
    agents = agents_resource(client, kind)
    claimants = set(claims(agents, project).get(key, []))
    claimants.add(mine)  # a listing may lag behind the create
    if len(claimants) < 2:
        return None
    keep = _agent_to_keep(client, kind, claimants, mine)
    if keep == mine:
        return None
    if not created_here:
        return Yielded(keep, mine, False, f"this run cannot tell whether {mine} is its own "
                                          "and works on neither")
    try:
        agents.delete(mine)
    except OperatorIacError as exc:
        return Yielded(keep, mine, False, f"deleting this run's {mine} failed ({exc}); the "
                                          "next apply removes it")
    return Yielded(keep, mine, True)


def _agent_to_keep(client: OperatorClient, kind: AgentKind, claimants: set[str],
                   mine: str) -> str:
    """The claimant every concurrent run agrees to keep (``plan.identity.duplicates``);
    one deleted meanwhile has yielded already."""
    seen = []
    for agent_id in sorted(claimants):
        try:
            seen.append(fetch_agent(client, kind, agent_id))
        except NotFoundError:
            continue
    return duplicates(seen)[0].id if seen else mine
