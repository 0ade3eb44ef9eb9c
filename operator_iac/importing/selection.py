"""Which remote agents an import writes, and under which keys: pure, over a snapshot.

Every remote agent is in one of four situations with respect to this project:

- **managed**: a revision carries this project's marker; its key is the marker's key;
- **declared**: unmanaged, and an agent file of the same kind has its name, so the next plan
  adopts it under that file's key;
- **foreign**: a revision carries another project's marker; an import never takes it, because
  the planner never adopts another project's agent (the file would create a duplicate);
- **free**: none of these; it gets a key derived from its name.

``--all`` imports the free agents and says why it skipped the others. Named ids are imported
whatever their situation except foreign, under the key their situation gives, so a managed
agent whose file was lost can be restored. Procedural agents that an imported agent runs after
its conversations (``postprocess_agents``) and that have no declaration yet are imported with
it, since the file must name them by key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from operator_iac.errors import UsageError
from operator_iac.importing.keys import KeyCandidate, check_collisions, derive_key
from operator_iac.plan.identity import markers, owner_key, read_name
from operator_iac.plan.refs import ref_key
from operator_iac.spec.desired import AgentKind
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision, Snapshot

Situation = Literal["managed", "declared", "foreign", "free"]


@dataclass(frozen=True)
class DeclaredAgent:
    """What an existing agent file says about identity: its kind and (unresolved) name."""

    kind: AgentKind
    name: str


@dataclass(frozen=True)
class Standing:
    situation: Situation
    key: str | None = None
    owners: tuple[str, ...] = ()  # projects named in the markers of a foreign agent


@dataclass(frozen=True)
class Chosen:
    """A remote agent to import, the revision its file is made from, and its key."""

    agent: RemoteAgent
    revision: RemoteRevision
    key: str
    reason: str = "requested"
    managed: bool = False  # already carries this project's marker (no adoption needed)


@dataclass(frozen=True)
class Skipped:
    agent_id: str
    name: str
    reason: str


@dataclass(frozen=True)
class Selection:
    chosen: tuple[Chosen, ...]
    skipped: tuple[Skipped, ...] = ()
    # Every remote agent that has or gets a declaration, by id: references become these keys.
    keys_by_id: dict[str, str] = field(default_factory=dict)


def standing(agent: RemoteAgent, revision: RemoteRevision | None, project: str,
             declared: Mapping[str, DeclaredAgent]) -> Standing:
    """The agent's situation with respect to ``project`` and its declarations."""
    key = owner_key(agent, project)
    if key is not None:
        return Standing("managed", key)
    found = markers(agent)
    if found:
        return Standing("foreign", owners=tuple(sorted({m.project for _, m in found})))
    names = {read_name(v.name) for v in agent.versions} if revision is None \
        else {read_name(revision.name)}
    same = sorted(k for k, d in declared.items()
                  if d.kind == agent.kind and read_name(d.name) in names)
    return Standing("declared", same[0]) if same else Standing("free")


def select_agents(snapshot: Snapshot, revisions: Mapping[str, RemoteRevision], project: str,
                  declared: Mapping[str, DeclaredAgent], *, ids: Iterable[str] = (),
                  everything: bool = False) -> Selection:
    """The agents to import for ``ids`` (or every free agent), their dependencies included.

    ``revisions`` holds, per agent id, the revision a file would be made from.
    """
    standings = {a.id: standing(a, revisions.get(a.id), project, declared)
                 for a in snapshot.agents}
    picked: dict[str, tuple[RemoteAgent, str]] = {}  # id -> (agent, reason)
    skipped: list[Skipped] = []
    if everything:
        for agent in snapshot.agents:
            reason = _skip_reason(agent.id, standings[agent.id], declared)
            if reason is None:
                picked[agent.id] = (agent, "requested")
            else:
                skipped.append(Skipped(agent.id, _name(agent, revisions), reason))
    else:
        for agent in _requested(snapshot, ids):
            _refuse_foreign(agent, standings[agent.id], revisions)
            picked[agent.id] = (agent, "requested")
    keys = _declared_keys(standings, declared)
    _add_dependencies(snapshot, revisions, standings, picked, keys)
    chosen = _assign_keys(picked, revisions, standings)
    keys.update({c.agent.id: c.key for c in chosen})
    return Selection(tuple(sorted(chosen, key=lambda c: c.key)), tuple(skipped), keys)


def _requested(snapshot: Snapshot, ids: Iterable[str]) -> list[RemoteAgent]:
    wanted = list(dict.fromkeys(i.partition("@")[0] for i in ids))
    missing = [i for i in wanted if snapshot.by_id(i) is None]
    if missing:
        raise UsageError(f"no agent with id {', '.join(missing)} on {snapshot.api_url}")
    return [a for i in wanted if (a := snapshot.by_id(i)) is not None]


def _skip_reason(agent_id: str, standing: Standing,
                 declared: Mapping[str, DeclaredAgent]) -> str | None:
    if standing.situation == "managed" and standing.key in declared:
        return f"already managed by this project as {standing.key!r}"
    if standing.situation == "managed":
        return (f"managed by this project as {standing.key!r}, whose agent file is missing; "
                f"`operator-iac import {agent_id}` restores it")
    if standing.situation == "declared":
        return (f"already declared as {standing.key!r} (same name); "
                "`plan --adopt` takes it over")
    if standing.situation == "foreign":
        return f"managed by project {', '.join(standing.owners)}"
    return None


def _refuse_foreign(agent: RemoteAgent, standing: Standing,
                    revisions: Mapping[str, RemoteRevision]) -> None:
    if standing.situation == "foreign":
        raise UsageError(f"agent {agent.id} ({_name(agent, revisions)!r}) is managed by project "
                         f"{', '.join(standing.owners)}; operator-iac never takes over another "
                         "project's agents")


def _declared_keys(standings: Mapping[str, Standing],
                   declared: Mapping[str, DeclaredAgent]) -> dict[str, str]:
    """Remote ids of agents that already have an agent file, with that file's key."""
    return {agent_id: s.key for agent_id, s in standings.items()
            if s.key is not None and s.key in declared}


def _add_dependencies(snapshot: Snapshot, revisions: Mapping[str, RemoteRevision],
                      standings: Mapping[str, Standing],
                      picked: dict[str, tuple[RemoteAgent, str]],
                      keys: Mapping[str, str]) -> None:
    """Pick the procedural agents a picked agent runs and that have no declaration."""
    queue = list(picked)
    while queue:
        source = queue.pop(0)
        revision = revisions[source]
        for target in revision.postprocess_agents:
            if target in picked or target in keys:
                continue
            agent = snapshot.by_id(target)
            if agent is None:
                raise UsageError(f"agent {source} runs {target} after its conversations, but "
                                 f"no agent {target} exists on {snapshot.api_url}")
            _refuse_foreign(agent, standings[target], revisions)
            picked[target] = (agent, f"run by {source} after its conversations")
            queue.append(target)


def _assign_keys(picked: Mapping[str, tuple[RemoteAgent, str]],
                 revisions: Mapping[str, RemoteRevision],
                 standings: Mapping[str, Standing]) -> list[Chosen]:
    chosen = []
    for agent_id, (agent, reason) in picked.items():
        revision = revisions[agent_id]
        standing = standings[agent_id]
        key = standing.key or derive_key(revision.name, agent_id)
        chosen.append(Chosen(agent, revision, key, reason, standing.situation == "managed"))
    check_collisions(KeyCandidate(c.agent.id, c.revision.name, c.key) for c in chosen)
    return chosen


def _name(agent: RemoteAgent, revisions: Mapping[str, RemoteRevision]) -> str:
    revision = revisions.get(agent.id)
    if revision is not None:
        return revision.name
    return agent.newest.name if agent.newest else agent.id


# ---- transfers -------------------------------------------------------------------------------


def transfer_keys(chosen: Chosen, selection: Selection,
                  accepted: dict[str, set[str]]) -> dict[str, str]:
    """The id -> key map for one agent's file: transfers become ``agent:<key>`` only where
    that creates no cycle (an agent referenced by key is created before the agents that
    reference it, so key references cannot go round). ``accepted`` collects the transfer
    edges written so far (key -> target keys) across the agents of one import."""
    keys = dict(selection.keys_by_id)
    edges = accepted.setdefault(chosen.key, set())
    for target_id in _transfer_targets(chosen.revision):
        target = keys.get(target_id)
        if target is None:
            continue
        if target == chosen.key or _reaches(accepted, target, chosen.key):
            del keys[target_id]  # keep the platform id for this one
        else:
            edges.add(target)
    return keys


def _transfer_targets(revision: RemoteRevision) -> list[str]:
    tool = revision.config.get("tool")
    transfers = tool.get("transfers") if isinstance(tool, dict) else None
    targets = []
    for item in transfers if isinstance(transfers, list) else []:
        target = item.get("entity_id") if isinstance(item, dict) else None
        if isinstance(target, str) and ref_key(target) is None:
            targets.append(target)
    return targets


def _reaches(graph: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(graph.get(node, ()))
    return False
