"""Which remote agents a project's commands must read in depth: those that can belong to the
project, so that the cost of a plan follows the project, not the account.

An agent can belong to a project when one of its revisions carries the project's marker
(``identity``: a marker in *any* revision counts), or when it is unmanaged and named like a
declared agent of its kind (an adoption candidate). The platform's agent list shows each
agent's *newest* revision only, so it proves less than the versions list:

- a list item whose description carries this project's marker, or whose name is a declared
  name, can belong to the project: it is read in depth;
- a list item without either may still be the project's: a dashboard edit can have dropped
  the marker from the newest revision while an older one carries it, and a platform may send
  no description in list items at all.

So the other agents are read too (their versions lists, then in depth those that turn out
to be the project's) whenever a decision would depend on an agent not found: when the list
carries no descriptions, when a declared key has no agent carrying its marker yet (the plan
would create or adopt, and a create must never duplicate a hidden agent of this project),
and for ``--prune``. What this cannot see without reading everything: a second agent that
carries a key's marker only in older revisions beside the key's visible owner (a duplicate
that a full read reports as an error); ``plan --prune`` reads everything and finds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from operator_iac.plan.identity import as_owner, claims_by_key, markers, read_name
from operator_iac.plan.marker import Owner, parse_marker
from operator_iac.spec.desired import DesiredAgent
from operator_iac.state.snapshot import ListedAgent, RemoteAgent, Snapshot


@dataclass(frozen=True)
class ProjectScope:
    """What marks a remote agent as possibly this project's: its marker, or a declared name."""

    owner: Owner
    # (kind, name) of every declared agent, the name as a person reads it (``read_name``).
    names: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def of(cls, owner: Owner | str, desired: Mapping[str, DesiredAgent] | None = None,
           ) -> ProjectScope:
        agents = (desired or {}).values()
        return cls(as_owner(owner), frozenset((agent.kind, read_name(agent.name))
                                              for agent in agents))

    @property
    def project(self) -> str:
        return self.owner.project

    def claims_listed(self, listed: ListedAgent) -> bool:
        """Whether a list item (its newest revision) shows that the agent can be ours."""
        if (listed.kind, read_name(listed.name)) in self.names:
            return True
        marker = parse_marker(listed.description) if listed.description else None
        return marker is not None and marker.project == self.project

    def claims_versions(self, agent: RemoteAgent) -> bool:
        """Whether an agent's versions list (every revision) shows that it can be ours: this
        project's marker in any revision, or a declared name on its newest or released one."""
        if any(marker.project == self.project for _, marker in markers(agent)):
            return True
        shown = {v.name for v in agent.versions if v.status == "released"}
        if agent.newest is not None:
            shown.add(agent.newest.name)
        return any((agent.kind, read_name(name)) in self.names for name in shown)

    def reason_to_read_the_rest(self, snapshot: Snapshot, keys: Iterable[str]) -> str | None:
        """Why the agents the snapshot only listed must be read before deciding anything about
        ``keys``, or None when what was read is enough."""
        if snapshot.complete:
            return None
        if any(listed.description is None for listed in snapshot.unread):
            return "the platform's agent list carries no descriptions"
        claimed = claims_by_key(snapshot.agents, self.owner)
        missing = sorted(key for key in keys if key not in claimed)
        if missing:
            shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more"
                                              if len(missing) > 3 else "")
            return f"no agent carries the marker of {shown} yet"
        return None
