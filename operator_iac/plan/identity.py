"""Identity: which remote agent each declared key stands for.

A remote agent belongs to key K of an environment when the newest revision carrying this
project's marker names key K and that environment (``marker.Owner``): the newest decides when
the history names several keys, or another environment of the project (an agent that staging
wrote is never production's, also when both share one account). A marker written before
environments were recorded names none and belongs to the environment that finds it. A dashboard
edit that drops the marker from the newest revision therefore does not orphan the agent.

A declared key without an owned agent may *adopt* an unmanaged remote agent: one of the same
kind, with no operator-iac marker in any revision (agents of other projects are never taken),
whose name equals the declared name. Two owners that were both released, or two candidates for
one key, are an error that lists the ids, because guessing would write to the wrong agent.
Never-released agents beside a key's owner are what concurrent applies leave when one of them
could not remove its yielded create: the owner is chosen by the same rule the applies follow
(``operator_iac.apply.claims``), and the others are ``leftovers`` for the plan to delete.
"""

from __future__ import annotations

import html
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from operator_iac.errors import DeclarationError, Diagnostic
from operator_iac.plan.marker import Marker, Owner, parse_cut_marker, parse_marker
from operator_iac.spec.desired import DesiredAgent
from operator_iac.state.snapshot import RemoteAgent, Snapshot
from operator_iac.state.times import parse_time

# The rank of a first revision whose creation time is unknown: after every known one.
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Ownership:
    """The result of matching declarations with remote agents."""

    owned: dict[str, RemoteAgent] = field(default_factory=dict)
    adoptable: dict[str, RemoteAgent] = field(default_factory=dict)
    # Agents this project owns under keys that are not declared any more.
    orphans: tuple[tuple[str, RemoteAgent], ...] = ()
    # Never-released agents beside a key's owner: left by concurrent applies (``duplicates``).
    leftovers: tuple[tuple[str, RemoteAgent], ...] = ()
    # Keys whose agent is claimed through a marker that names no environment (written before
    # environments were recorded): read as this environment's.
    unrecorded: tuple[str, ...] = ()

    def matched(self, key: str) -> RemoteAgent | None:
        return self.owned.get(key) or self.adoptable.get(key)

    def id_by_key(self) -> dict[str, str]:
        return {key: agent.id for key, agent in (*self.owned.items(), *self.adoptable.items())}

    def key_by_id(self) -> dict[str, str]:
        return {agent_id: key for key, agent_id in self.id_by_key().items()}


def markers(agent: RemoteAgent) -> list[tuple[int, Marker]]:
    """Every marker in the agent's history with its revision number, newest first; a marker
    a platform cut short at its limit counts by the identity it still names
    (``parse_cut_marker``: a write killed before it was fitted)."""
    found = [(v.number, _identity(v.description)) for v in agent.versions]
    for revision in (agent.released, agent.draft):
        if revision is not None:
            found.append((_number(revision.version_id), _identity(revision.description)))
    return sorted(((n, m) for n, m in found if m is not None), key=lambda p: -p[0])


def _identity(description: str | None) -> Marker | None:
    return parse_marker(description) or parse_cut_marker(description)


def as_owner(owner: Owner | str) -> Owner:
    """An ``Owner``; a bare project name stands for that project in every environment."""
    return Owner(owner) if isinstance(owner, str) else owner


def project_marker(agent: RemoteAgent, project: str) -> Marker | None:
    """The newest marker of ``project`` in ``agent``'s history, whatever its environment."""
    return next((m for _, m in markers(agent) if m.project == project), None)


def owner_key(agent: RemoteAgent, owner: Owner | str) -> str | None:
    """The key ``owner``'s project's newest marker on ``agent`` names, if that marker is
    ``owner``'s (its environment, or none recorded)."""
    owner = as_owner(owner)
    marker = project_marker(agent, owner.project)
    return marker.key if marker is not None and owner.claims(marker) else None


def unrecorded_environment(agent: RemoteAgent, owner: Owner | str) -> bool:
    """Whether ``owner`` claims ``agent`` through a marker that names no environment."""
    owner = as_owner(owner)
    marker = project_marker(agent, owner.project)
    return owner.environment is not None and marker is not None and \
        marker.environment is None and owner.claims(marker)


def claims_by_key(agents: Iterable[RemoteAgent],
                  owner: Owner | str) -> dict[str, list[RemoteAgent]]:
    """The agents each key of ``owner`` is marked on (more than one is an error for the
    caller to report)."""
    claims: dict[str, list[RemoteAgent]] = defaultdict(list)
    for agent in agents:
        key = owner_key(agent, owner)
        if key is not None:
            claims[key].append(agent)
    return dict(claims)


def resolve_ownership(desired: Mapping[str, DesiredAgent], snapshot: Snapshot,
                      owner: Owner | str) -> Ownership:
    by_key = claims_by_key(snapshot.agents, owner)
    created_here = _created_here(snapshot)
    for agent, key in created_here.values():
        by_key.setdefault(key, []).append(agent)
    claims = {key: _recorded_first(agents, owner) for key, agents in by_key.items()}
    unmanaged = [agent for agent in snapshot.agents
                 if not markers(agent) and agent.id not in created_here]
    owned: dict[str, RemoteAgent] = {}
    leftovers: list[tuple[str, RemoteAgent]] = []
    for key, agents in sorted(claims.items()):
        if key in desired:
            owned[key], extra = _single_owner(desired[key], agents)
            leftovers += [(key, agent) for agent in extra]
    orphans = tuple((key, agent) for key, agents in sorted(claims.items())
                    if key not in desired for agent in agents)
    unowned = [agent for key, agent in sorted(desired.items()) if key not in owned]
    unrecorded = tuple(key for key, agent in sorted(owned.items())
                       if unrecorded_environment(agent, owner))
    return Ownership(owned=owned, adoptable=_adoption_candidates(unowned, unmanaged),
                     orphans=orphans, leftovers=tuple(leftovers), unrecorded=unrecorded)


def _created_here(snapshot: Snapshot) -> dict[str, tuple[RemoteAgent, str]]:
    """Agent id -> the agent and its key, of the agents without any marker that an earlier
    run on this machine created, as its journal says (``Snapshot.created_here``): a create
    whose marker the platform cut off at its limit on descriptions, the run killed before it
    fitted one (nothing else leaves an agent of this tool without a marker). They are that
    key's, not someone else's agents to adopt."""
    keys = dict(snapshot.created_here)
    return {agent.id: (agent, keys[agent.id]) for agent in snapshot.agents
            if agent.id in keys and not markers(agent)}


def released_twins(agents: Iterable[RemoteAgent], owner: Owner | str,
                   window_s: float) -> list[RemoteAgent]:
    """The agents of keys that more than one released agent claims, where those were created
    within ``window_s`` of each other: on a platform that releases what it creates, two
    applies that created a key's agent at the same moment both show released until the one
    that yields deletes its own (``apply.claims``), which a plan that reads in between would
    take for an ambiguous key (``_single_owner``). Claimants created further apart, or at
    unknown times, are left to that error: one is not a concurrent apply's."""
    twins: list[RemoteAgent] = []
    for claimants in claims_by_key(agents, owner).values():
        released = [agent for agent in claimants if ever_released(agent)]
        times = [_created(agent) for agent in released]
        if len(released) < 2 or any(t is None for t in times):
            continue
        known = [t for t in times if t is not None]
        if (max(known) - min(known)).total_seconds() <= window_s:
            twins += claimants
    return twins


def _created(agent: RemoteAgent) -> datetime | None:
    first = min(agent.versions, key=lambda v: v.number, default=None)
    return parse_time(first.created_at) if first is not None else None


def _recorded_first(agents: list[RemoteAgent], owner: Owner | str) -> list[RemoteAgent]:
    """The claimants whose marker names this environment, when there are any: an agent
    claimed only through a marker that names none (written before environments were
    recorded) is then another environment's of the same account, not a duplicate."""
    recorded = [agent for agent in agents if not unrecorded_environment(agent, owner)]
    return recorded or agents


def duplicates(claimants: list[RemoteAgent]) -> tuple[RemoteAgent, list[RemoteAgent]]:
    """The claimant to keep and the others, by the rule concurrent applies follow
    (``operator_iac.apply.claims``): ever released first, then earliest created, then id."""
    ranked = sorted(claimants, key=_claim_rank)
    return ranked[0], ranked[1:]


def ever_released(agent: RemoteAgent) -> bool:
    return agent.released is not None or any(
        v.status in ("released", "archived") for v in agent.versions)


def _claim_rank(agent: RemoteAgent) -> tuple[int, datetime, str, str]:
    # Times compare as times: platforms (and fields) write them to different precisions,
    # and text order is not time order across them. A time that reads as none ranks last.
    first = min(agent.versions, key=lambda v: v.number, default=None)
    text = first.created_at if first is not None and first.created_at else ""
    created = _created(agent) or _NEVER
    return (0 if ever_released(agent) else 1, created, text if created is _NEVER else "",
            agent.id)


def _single_owner(agent: DesiredAgent, claimants: list[RemoteAgent]
                  ) -> tuple[RemoteAgent, list[RemoteAgent]]:
    """The owner of a key, and never-released duplicates beside it (concurrent applies that
    could not remove theirs). Two that were both released are an error: guessing would
    write to the wrong agent."""
    owner, others = duplicates(claimants)
    if any(ever_released(other) for other in others):
        ids = ", ".join(sorted(a.id for a in claimants))
        raise _error(agent, f"several remote agents carry the marker of key {agent.key!r}: "
                            f"{ids}; delete the duplicates on the platform, then plan again")
    if owner.kind != agent.kind:
        raise _error(agent, f"declared as {agent.kind}, but the remote agent {owner.id} that "
                            f"carries its marker is a {owner.kind}; use a new key or delete "
                            "the remote agent")
    return owner, [other for other in others if other.kind == agent.kind]


def _adoption_candidates(unowned: Iterable[DesiredAgent],
                         unmanaged: list[RemoteAgent]) -> dict[str, RemoteAgent]:
    adoptable: dict[str, RemoteAgent] = {}
    taken: dict[str, str] = {}
    for agent in unowned:
        candidates = [r for r in unmanaged
                      if r.kind == agent.kind and read_name(agent.name) in _names(r)]
        if len(candidates) > 1:
            ids = ", ".join(sorted(c.id for c in candidates))
            raise _error(agent, f"several unmanaged remote agents are named {agent.name!r}: "
                                f"{ids}; rename or delete all but one, then plan again")
        if candidates:
            chosen = candidates[0]
            if chosen.id in taken:
                raise _error(agent, f"keys {taken[chosen.id]!r} and {agent.key!r} would both "
                                    f"adopt {chosen.id} (named {agent.name!r}); give one of "
                                    "them another name")
            taken[chosen.id] = agent.key
            adoptable[agent.key] = chosen
    return adoptable


def _names(agent: RemoteAgent) -> set[str]:
    """The names the dashboard shows for an agent, as a person reads them
    (``read_name``): its newest and its released revision's."""
    names = {read_name(agent.newest.name)} if agent.newest else set()
    if agent.released is not None:
        names.add(read_name(agent.released.name))
    return names


def read_name(name: str | None) -> str:
    """An agent's name as a person reads it, the form names are matched in for adoption.
    A platform may store a name in a form of its own (markup and quotes encoded as
    entities, Unicode normalised, whitespace trimmed) and a person may type one in another
    (a decomposed accent, a doubled space); the dashboard shows them all alike, so they are
    compared with entities decoded, in NFC, with runs of whitespace as one space and none at
    either end. Case still counts: two names that differ in it are two names."""
    text = unicodedata.normalize("NFC", html.unescape(name or ""))
    return " ".join(text.split())


def _number(version_id: str) -> int:
    _, _, number = version_id.rpartition("@v")
    return int(number) if number.isdigit() else -1


def _error(agent: DesiredAgent, message: str) -> DeclarationError:
    return DeclarationError([Diagnostic(file=str(agent.source), line=0, column=0,
                                        message=f"agent {agent.key!r}: {message}")])
