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

from typing import TYPE_CHECKING

from operator_iac.plan.marker import parse_marker

if TYPE_CHECKING:
    from operator_iac.api.resources import AgentsResource


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
