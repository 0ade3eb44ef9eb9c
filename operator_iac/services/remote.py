"""Reading the platform for one project: the agents that can be the project's, in depth, and
the rest only when a decision needs them (``operator_iac.plan.scope`` says when and why).

A 20-agent project in a 1,000-agent account reads the agent list (every page), then about
two requests per project agent (its versions list and its released revision), or one when
the released revision is in the local cache (``operator_iac.state.cache``), instead of
reading every agent of the account in depth.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from operator_iac.defaults import PARALLELISM, VISIBILITY_TIMEOUT_S
from operator_iac.services.feedback import Say, silent

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.plan.marker import Owner
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.state.cache import RevisionCache
    from operator_iac.state.fetch import AgentRead
    from operator_iac.state.journal import WritesJournal
    from operator_iac.state.snapshot import RemoteAgent, Snapshot

logger = logging.getLogger(__name__)


def read_project_agents(client: OperatorClient, project: Owner | str,
                        desired: Mapping[str, DesiredAgent] | None = None, *,
                        keys: Iterable[str] | None = None, everything: bool = False,
                        parallelism: int = PARALLELISM, cache: RevisionCache | None = None,
                        say: Say = silent, after: AgentRead | None = None,
                        journal: WritesJournal | None = None) -> Snapshot:
    """The snapshot a command of ``project`` needs to decide about ``keys`` (default: every
    declared key): every agent that can belong to the project, read in depth, plus the
    others when that is not enough to be sure. ``everything`` reads every agent (``--prune``,
    which must find every agent the project owns). ``after``: as ``fetch_snapshot``'s;
    ``journal``: writes of earlier runs on this machine (``state.journal``)."""
    from operator_iac.plan.scope import ProjectScope
    from operator_iac.state.fetch import fetch_snapshot

    scope = ProjectScope.of(project, desired)
    snapshot = fetch_snapshot(client, parallelism=parallelism, cache=cache,
                              claims=None if everything else scope.claims_listed, after=after)
    return finish_project_read(client, project, desired, snapshot, keys=keys,
                               parallelism=parallelism, cache=cache, say=say, journal=journal)


def finish_project_read(client: OperatorClient, project: Owner | str,
                        desired: Mapping[str, DesiredAgent] | None, snapshot: Snapshot, *,
                        keys: Iterable[str] | None = None, parallelism: int = PARALLELISM,
                        cache: RevisionCache | None = None, say: Say = silent,
                        journal: WritesJournal | None = None) -> Snapshot:
    """``snapshot`` (read by its list, agents read in depth as far as their list items
    showed them to be ``project``'s) made what ``read_project_agents`` returns: the agents
    listed under a declared name read in depth too (a read begun before the declarations
    were known could not tell them, ``services.read_ahead``), then the other agents when
    what was read is not enough to decide about ``keys``."""
    from operator_iac.plan.scope import ProjectScope
    from operator_iac.state.fetch import complete_snapshot, read_listed

    scope = ProjectScope.of(project, desired)
    named = [listed for listed in snapshot.unread if scope.claims_listed(listed)]
    if named:
        snapshot = read_listed(client, snapshot, named, parallelism=parallelism, cache=cache)
    wanted = list(keys) if keys is not None else list(desired or ())
    reason = scope.reason_to_read_the_rest(snapshot, wanted)
    if reason is not None:
        say(f"Reading the other {len(snapshot.unread)} agents too: {reason} ...")
        snapshot = complete_snapshot(client, snapshot, scope.claims_versions,
                                     parallelism=parallelism, cache=cache)
    if journal is not None:
        from operator_iac.services.earlier_runs import after_earlier_runs

        snapshot = after_earlier_runs(client, project, snapshot, journal, cache=cache, say=say)
        snapshot = _with_seen(client, project, snapshot, journal, cache=cache,
                              parallelism=parallelism)
    return _settle_released_twins(client, project, snapshot, cache=cache, say=say)


def _with_seen(client: OperatorClient, project: Owner | str, snapshot: Snapshot,
               journal: WritesJournal, *, cache: RevisionCache | None,
               parallelism: int = PARALLELISM) -> Snapshot:
    """``snapshot`` as monotonic reads on this machine give it (``WritesJournal.seen``: lists
    served by replicas may show less than one read a moment before). Every agent this
    machine saw as ``project``'s that the agents list did not show is read by id (a key
    planned on such a list would be created a second time), an agent gone is forgotten; and
    every agent whose versions list shows less than was seen of it (``state.floor``: its
    newest revision missing, a release as the draft again) is read again until it shows as
    much (a plan on it would write again what was written), all of them with one bounded
    wait. Then the agents it holds that
    are ``project``'s are remembered, with what was seen of each. Where the lists show as
    much as before, as they do but on such platforms, nothing is read."""
    from dataclasses import replace

    from operator_iac.errors import NotFoundError
    from operator_iac.plan.identity import as_owner, markers
    from operator_iac.state.fetch import fetch_not_behind, with_unlisted
    from operator_iac.state.floor import Floor

    seen = journal.seen()
    snapshot, gone = with_unlisted(client, snapshot, seen, cache)
    for agent_id in gone:
        journal.forget_seen(agent_id)
    floors = {agent_id: floor for (_, agent_id), floor in seen.items() if floor is not None}
    behind = [agent for agent in snapshot.agents
              if agent.id in floors and floors[agent.id].behind(agent) is not None]
    if behind:
        again = fetch_not_behind(client, [(a.kind, a.id, floors[a.id]) for a in behind],
                                 cache, parallelism=parallelism)
        for agent_id, read in again.items():
            # Gone since the listing; or behind for the whole wait: what was kept is not
            # what the platform shows (a rollback made elsewhere where only `is_released`
            # is told, a platform that goes back where the contract says it does not), and
            # it is kept no more, so that it costs one wait, not one per command.
            if isinstance(read, NotFoundError) or floors[agent_id].behind(read) is not None:
                journal.forget_seen(agent_id)
        agents = (again.get(agent.id, agent) for agent in snapshot.agents)
        snapshot = replace(snapshot, agents=tuple(a for a in agents
                                                  if not isinstance(a, NotFoundError)))
    owner = as_owner(project)
    journal.remember_seen((agent.kind, agent.id, Floor.of(agent)) for agent in snapshot.agents
                          if any(owner.claims(marker) for _, marker in markers(agent)))
    return snapshot


def _settle_released_twins(client: OperatorClient, project: Owner | str, snapshot: Snapshot,
                           *, cache: RevisionCache | None, say: Say,
                           timeout_s: float = VISIBILITY_TIMEOUT_S) -> Snapshot:
    """``snapshot`` once no key is claimed by two released agents created at the same
    moment (``plan.identity.released_twins``: concurrent applies on a platform that releases
    what it creates, one of which deletes its own at once), reading those agents again with
    growing pauses, up to ``timeout_s``; then as it is, for the plan to report what is left.
    Each pause is logged with its reason."""
    from dataclasses import replace

    from operator_iac.api.polling import bounded_pauses
    from operator_iac.errors import NotFoundError
    from operator_iac.plan.identity import released_twins
    from operator_iac.state.fetch import fetch_agent

    twins = released_twins(snapshot.agents, project, timeout_s)
    for number, pause in enumerate(bounded_pauses(timeout_s) if twins else ()):
        ids = ", ".join(sorted(agent.id for agent in twins))
        logger.info("released agents created at the same moment claim one key (%s): a "
                    "concurrent apply deletes its own; reading them again in %.2f s", ids, pause)
        if not number:
            say(f"Waiting for a concurrent apply to remove its copy of an agent ({ids}) ...")
        client.pause(pause)
        again: dict[str, RemoteAgent | None] = {}
        for agent in twins:
            try:
                again[agent.id] = fetch_agent(client, agent.kind, agent.id, cache)
            except NotFoundError:
                again[agent.id] = None
        agents = tuple(again.get(a.id, a) for a in snapshot.agents)
        snapshot = replace(snapshot, agents=tuple(a for a in agents if a is not None))
        twins = released_twins(snapshot.agents, project, timeout_s)
        if not twins:
            break
    return snapshot
