"""Reading the remote state: the snapshot of the agents (fetched concurrently through the API
client), every one or those a project can own, completed on demand; one agent's view for
apply's re-checks; and one revision's content. Released and archived contents may come from
a ``RevisionCache``; drafts and apply's re-checks are always read from the platform.

The values it returns are defined in ``operator_iac.state.snapshot``; this is the state
layer's only I/O.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Future, InvalidStateError
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from operator_iac.defaults import PARALLELISM
from operator_iac.errors import NotFoundError
from operator_iac.spec.desired import AgentKind
from operator_iac.state.snapshot import (
    ListedAgent,
    RemoteAgent,
    RemoteRevision,
    RemoteVersion,
    Snapshot,
    VersionStatus,
    held_content,
    read_state,
    trails,
)

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.models import Agent, AgentSummary
    from operator_iac.api.pool import WorkPool
    from operator_iac.api.resources import AgentsResource
    from operator_iac.state.cache import RevisionCache
    from operator_iac.state.floor import Floor
    from operator_iac.state.write_order import WriteOrder

logger = logging.getLogger(__name__)

# The clients (one per run and platform) whose reads by id were seen to trail this run's
# writes (``read_written``): what one read learnt of the platform holds for the run's later
# reads, whose first answer may already show another apply's write but not yet its own.
_TRAILING: weakref.WeakSet[OperatorClient] = weakref.WeakSet()

# ---- fetching ---------------------------------------------------------------------------
# The fetch is the only I/O in this module. The agents lists must be read page after page
# (each page names the cursor of the next), so each agent's versions and revisions are fetched
# as soon as its page arrives, while the next page loads, and the kinds are listed at the
# same time: wall time stays close to requests x latency / parallelism instead of adding the
# pages' chain to it. A listing is a task of the pool, holding one slot of its limit, so no
# more than ``parallelism`` requests are ever in flight.

_KIND_RESOURCES: dict[AgentKind, str] = {
    "conversational_agent": "conversational_agents",
    "procedural_agent": "procedural_agents",
}


class FetchCancelled(Exception):
    """A fetch given up by whoever asked for it (``fetch_snapshot``'s ``cancelled``)."""


# Which listed agents to read in depth (None: all of them), and which agents read by their
# versions list alone to read in depth too.
ListedClaim = Callable[[ListedAgent], bool]
VersionsClaim = Callable[[RemoteAgent], bool]
# Told each agent read in depth (``fetch_snapshot``'s ``after``).
AgentRead = Callable[[RemoteAgent], None]


def fetch_snapshot(client: OperatorClient, *, parallelism: int = PARALLELISM,
                   kinds: tuple[AgentKind, ...] = ("procedural_agent", "conversational_agent"),
                   claims: ListedClaim | None = None, cache: RevisionCache | None = None,
                   after: AgentRead | None = None,
                   cancelled: threading.Event | None = None,
                   listed: Callable[[], None] | None = None) -> Snapshot:
    """Read the agents of the given kinds with their versions and released/draft content:
    every one, or those ``claims`` takes from the list (the others are kept as ``unread``).
    Released and archived contents come from ``cache`` when it holds them. ``after`` is
    called with each agent read in depth, as a task of its own right after it: more reads
    that follow from one agent start at once instead of after the whole snapshot.
    ``listed`` is called once every list has been read and the reads it calls for are
    queued. Once
    ``cancelled`` is set, no further request is begun and the fetch raises
    ``FetchCancelled``."""
    from operator_iac.api.pool import WorkPool, results_in_order

    read_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with WorkPool(client, parallelism=parallelism) as pool:
        depth = _InDepth(client, pool, cache, after, cancelled)
        # Each kind's list is read as a task of its own, so the kinds' first pages are in
        # flight together; a listing holds its slot while it reads its pages.
        listings = [pool.submit(lambda k: _list_kind(client, depth, k, claims), kind)
                    for kind in kinds]
        try:
            found = results_in_order(listings)
            if listed is not None:
                listed()
            futures = [future for reads, _ in found for future in reads]
            agents = tuple(agent for agent in results_in_order(futures) if agent is not None)
            results_in_order(depth.followups)
        except BaseException:
            depth.stop()
            raise
    return Snapshot(api_url=client.base_url, agents=agents, read_at=read_at,
                    unread=tuple(item for _, unread in found for item in unread))


def _list_kind(client: OperatorClient, depth: _InDepth, kind: AgentKind,
               claims: ListedClaim | None) -> tuple[list[Future[RemoteAgent | None]],
                                                     list[ListedAgent]]:
    """One kind's list, page after page; each agent ``claims`` takes is read in depth as
    soon as its page arrives (the futures), the others are kept as listed only."""
    futures: list[Future[RemoteAgent | None]] = []
    unread: list[ListedAgent] = []
    for summary in agents_resource(client, kind).list():
        depth.check()  # a page may have many items: at most one more page once cancelled
        listed = _listed(kind, summary)
        if claims is not None and not claims(listed):
            unread.append(listed)
            continue
        futures.append(depth.read(listed))
    return futures, unread


class _InDepth:
    """Listed agents read in depth as chains of pool tasks, one step each: the versions list,
    then the contents, then what ``after`` reads. Each step is queued behind the work already
    waiting and frees its slot when done, so no slot idles while another agent's step waits.
    Tasks that each held a slot for a whole chain left the last few agents' chains running
    on a few slots at the end, a tail of half-empty round trips. An agent deleted since the
    listing (a concurrent apply removing its duplicate) reads as None: it is gone."""

    def __init__(self, client: OperatorClient, pool: WorkPool, cache: RevisionCache | None,
                 after: AgentRead | None, cancelled: threading.Event | None = None) -> None:
        self.client, self.pool, self.cache, self.after = client, pool, cache, after
        self.followups: list[Future[None]] = []  # the ``after`` tasks, for their failures
        self._lock = threading.Lock()
        self._stopped = False
        self._cancelled = cancelled

    def check(self) -> None:
        """Raise ``FetchCancelled`` once the fetch is cancelled."""
        if self._cancelled is not None and self._cancelled.is_set():
            raise FetchCancelled("the read was cancelled")

    def read(self, listed: ListedAgent) -> Future[RemoteAgent | None]:
        result: Future[RemoteAgent | None] = Future()
        self._step(result, self._versions, listed)
        return result

    def stop(self) -> None:
        """The fetch failed: steps not yet begun end without a request."""
        self._stopped = True

    def _step(self, result: Future[RemoteAgent | None],
              step: Callable[[Future[RemoteAgent | None], Any], None], value: Any) -> None:
        self.pool.submit(lambda v: self._run(result, step, v), value)

    def _run(self, result: Future[RemoteAgent | None],
             step: Callable[[Future[RemoteAgent | None], Any], None], value: Any) -> None:

        if self._stopped or result.done():
            return
        try:
            self.check()
            step(result, value)
        except NotFoundError:
            _settle(result, None)
        except BaseException as exc:
            with contextlib.suppress(InvalidStateError):
                result.set_exception(exc)

    def _versions(self, result: Future[RemoteAgent | None], listed: ListedAgent) -> None:
        from operator_iac.state.lag import caught_up_versions

        versions = caught_up_versions(self.client, listed)
        self._step(result, self._contents, RemoteAgent(listed.kind, listed.id, versions))

    def _contents(self, result: Future[RemoteAgent | None], bare: RemoteAgent) -> None:
        agent = with_contents(self.client, bare, self.cache)
        if self.after is not None:
            # Queued before the result is given, so it is in ``followups`` once every
            # result is in, and the pool is still open to take it.
            with self._lock:
                self.followups.append(self.pool.submit(self.after, agent))
        _settle(result, agent)


def _settle(result: Future[RemoteAgent | None], agent: RemoteAgent | None) -> None:
    with contextlib.suppress(InvalidStateError):  # cancelled: the fetch failed elsewhere
        result.set_result(agent)


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


def read_listed(client: OperatorClient, snapshot: Snapshot, listed: list[ListedAgent], *,
                parallelism: int = PARALLELISM,
                cache: RevisionCache | None = None) -> Snapshot:
    """``snapshot`` with the agents ``listed`` (among those it only listed) read in depth, as
    if its listing had claimed them."""
    from operator_iac.api.pool import WorkPool

    ids = {(item.kind, item.id) for item in listed}
    with WorkPool(client, parallelism=parallelism) as pool:
        found = pool.map(lambda item: _claimed(client, item, lambda _agent: True, cache),
                         listed)
    more = tuple(agent for agent in found if agent is not None)
    return replace(snapshot, agents=snapshot.agents + more,
                   unread=tuple(item for item in snapshot.unread
                                if (item.kind, item.id) not in ids))


def _listed(kind: AgentKind, summary: AgentSummary) -> ListedAgent:
    return ListedAgent(kind, summary.id, summary.name,
                       summary.description if summary.described else None,
                       summary.version_id, summary.status)


def _claimed(client: OperatorClient, listed: ListedAgent, claims: VersionsClaim,
             cache: RevisionCache | None) -> RemoteAgent | None:
    from operator_iac.state.lag import caught_up_versions

    try:
        # Whether the agent is the project's is read from this list: one that has not caught
        # up with the agents list would make it nobody's, and its key be created again.
        bare = RemoteAgent(listed.kind, listed.id, caught_up_versions(client, listed))
        return with_contents(client, bare, cache) if claims(bare) else None
    except NotFoundError:
        return None


def with_unlisted(client: OperatorClient, snapshot: Snapshot,
                  wanted: Iterable[tuple[AgentKind, str]], cache: RevisionCache | None = None
                  ) -> tuple[Snapshot, tuple[str, ...]]:
    """``snapshot`` with each agent of ``wanted`` (kind, id) that its listing did not show,
    read by its id, and the ids of those found gone (404). An agents list may show a new agent
    late, or, read from a replica that trails by a delay of its own, less than one read a
    moment before; a read by id is not late where a list is."""

    listed = {agent.id for agent in snapshot.agents} | {item.id for item in snapshot.unread}
    found: dict[str, RemoteAgent] = {}
    gone: list[str] = []
    for kind, agent_id in wanted:
        if agent_id in listed or agent_id in found or agent_id in gone:
            continue
        try:
            found[agent_id] = fetch_agent(client, kind, agent_id, cache)
        except NotFoundError:
            gone.append(agent_id)
            continue
        logger.info("the agents list does not show %s: read by its id", agent_id)
    if found:
        snapshot = replace(snapshot, agents=(*snapshot.agents, *found.values()))
    return snapshot, tuple(gone)


def fetch_agent(client: OperatorClient, kind: AgentKind, agent_id: str,
                cache: RevisionCache | None = None, *, floor: Floor | None = None
                ) -> RemoteAgent:
    """The same view as the snapshot's, for one agent (apply re-checks with it, uncached);
    one whose versions list shows less than ``floor`` is read again (``fetch_not_behind``).
    ``NotFoundError`` when the agent is gone."""
    if floor is None:
        return with_contents(client, RemoteAgent(kind, agent_id,
                                                 fetch_versions(client, kind, agent_id)), cache)
    read = fetch_not_behind(client, [(kind, agent_id, floor)], cache, parallelism=1)[agent_id]
    if isinstance(read, NotFoundError):
        raise read
    return read


def fetch_not_behind(client: OperatorClient, wanted: Collection[tuple[AgentKind, str, Floor]],
                     cache: RevisionCache | None = None, *, parallelism: int = PARALLELISM
                     ) -> dict[str, RemoteAgent | NotFoundError]:
    """Each agent of ``wanted`` as ``fetch_agent`` reads it (or the ``NotFoundError`` of one
    gone), concurrently. A versions list that shows less than the agent's floor (what was
    seen of it before: ``state.floor``) is a read served by a replica that trails, not the
    agent going back: those are read again together, with growing pauses, each logged, up to
    ``VISIBILITY_TIMEOUT_S`` for all of them (agents that never catch up cost one wait, not
    one each); past that each read stands, and the caller decides on it as it reads."""
    from operator_iac import defaults
    from operator_iac.api.polling import bounded_pauses
    from operator_iac.api.pool import WorkPool

    def versions(item: tuple[AgentKind, str, Floor]) -> RemoteAgent | NotFoundError:
        kind, agent_id, _ = item
        try:
            return RemoteAgent(kind, agent_id, fetch_versions(client, kind, agent_id))
        except NotFoundError as exc:
            return exc

    items = list(wanted)
    pauses = bounded_pauses(defaults.VISIBILITY_TIMEOUT_S)
    with WorkPool(client, parallelism=parallelism) as pool:
        read = {item[1]: bare for item, bare in zip(items, pool.map(versions, items),
                                                    strict=True)}
        while True:
            behind = {item: why for item in items
                      if isinstance(bare := read[item[1]], RemoteAgent)
                      and (why := item[2].behind(bare)) is not None}
            pause = next(pauses, None) if behind else None
            for (_, agent_id, _), why in behind.items():
                if pause is None:
                    logger.info("%s still reads as less than was seen of it before (%s): "
                                "taken as it reads", agent_id, why)
                else:
                    logger.info("%s reads as less than was seen of it before (%s): a read "
                                "that trails; reading it again in %.2f s", agent_id, why, pause)
            if pause is None:
                break
            client.pause(pause)
            again = list(behind)
            read.update((item[1], bare) for item, bare in zip(again, pool.map(versions, again),
                                                              strict=True))

        def contents(agent: RemoteAgent) -> RemoteAgent | NotFoundError:
            try:
                return with_contents(client, agent, cache)
            except NotFoundError as exc:  # deleted since its versions list was read
                return exc

        agents = [bare for bare in read.values() if isinstance(bare, RemoteAgent)]
        full = dict(zip((a.id for a in agents), pool.map(contents, agents), strict=True))
    return {agent_id: full.get(agent_id, bare) for agent_id, bare in read.items()}


def with_contents(client: OperatorClient, agent: RemoteAgent,
                  cache: RevisionCache | None = None) -> RemoteAgent:
    """``agent`` (its versions list read) with its released and draft revisions' contents."""
    wanted = [v for v in agent.versions if v.status in ("released", "draft")]
    revisions = [_content(client, agent.kind, version, cache) for version in wanted]
    read = _assemble(agent.kind, agent.id, agent.versions, {r.version_id: r for r in revisions})
    return _with_draft_kept(client, read, cache)


def _with_draft_kept(client: OperatorClient, agent: RemoteAgent,
                     cache: RevisionCache | None) -> RemoteAgent:
    """``agent`` with ``draft_kept_in`` read: when its draft differs from the released
    revision, the newest archived revision whose versions-list entry may hold the same (its
    name and description the draft's, or not shown) is read (once: archived revisions do not
    change, and the cache keeps them), and kept when it holds exactly what the draft holds.
    One read at most, and only for an agent with a draft of its own content."""
    draft, released = agent.draft, agent.released
    if draft is None or released is None or held_content(draft) == held_content(released):
        return agent
    alike = [v for v in agent.versions if v.status == "archived"
             and v.name in ("", draft.name) and v.description in ("", draft.description)]
    if not alike:
        return agent
    kept = _content(client, agent.kind, max(alike, key=lambda v: v.number), cache)
    if held_content(kept) != held_content(draft):
        return agent
    return replace(agent, draft_kept_in=kept)


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
    """The full content of one revision the caller saw exist (in a versions list, or below
    one it saw), read from the platform: a 404 while its agent is there is a read that
    trails (``AgentsResource.get``'s ``exists``)."""
    return revision_of(agents_resource(client, kind).get(version_id, exists=True),
                       version_id, status)


def read_written(client: OperatorClient, kind: AgentKind, version_id: str,
                 status: VersionStatus, superseded: Collection[str] = (),
                 order: WriteOrder | None = None) -> RemoteRevision:
    """A revision this run has just written (created, or a draft it wrote), read by its id.

    The platform answered the write, so a 404 for it is the platform's reads trailing its
    writes (reads served by a replica: nothing in the contract says a read by id is never
    late), not a deletion; and so is a read that shows the revision as it was before a
    write of this run that changes it (``superseded``: ``read_state`` of each such state),
    not someone else's write. Either is read again with growing pauses, up to
    ``VISIBILITY_TIMEOUT_S``, each pause logged. Past that the read stands (someone deleted
    the revision, or wrote that content back). Taken at once, a trailing read made every
    write on such a platform a conflict. So is a read showing another apply's state that
    ``order`` places before this run's write (``state.write_order``): read again until this
    run's write shows, up to the same timeout once the reads were seen to trail (in this
    read, or an earlier one of the same client), else up to ``WRITE_ORDER_SLACK_S``, as is
    a state written about when the write was answered."""
    from operator_iac import defaults
    from operator_iac.api.polling import bounded_pauses

    pauses = bounded_pauses(defaults.VISIBILITY_TIMEOUT_S)
    waited = 0.0  # seconds paused so far
    seen_since: dict[str, float] = {}  # another writer's state: ``waited`` when first seen
    while True:
        revision: RemoteRevision | None = None  # None: not found
        why: str | None
        try:
            # Impatient: this loop takes every 404 of the write for a read that trails, and
            # counts it as such (``waited``).
            read = revision_of(agents_resource(client, kind).get(version_id, patient=False),
                               version_id, status)
        except NotFoundError as exc:
            missing = exc
            _TRAILING.add(client)
            why = "reads as not found: the platform's reads trail its writes"
        else:
            revision = read
            why = _read_again_why(client, read, superseded, order, seen_since, waited)
            if why is None:
                return read
        pause = next(pauses, None)
        if pause is None:
            if revision is None:
                raise missing
            return revision
        logger.info("%s, just written, %s; reading it again in %.2f s", version_id, why, pause)
        client.pause(pause)
        waited += pause


def _read_again_why(client: OperatorClient, revision: RemoteRevision, superseded: Collection[str],
                    order: WriteOrder | None, seen_since: dict[str, float],
                    waited: float) -> str | None:
    """Why ``read_written`` reads ``revision`` again, or None when the read stands."""
    from operator_iac import defaults

    state = read_state(revision)
    if trails(revision, superseded):
        _TRAILING.add(client)
        return "reads as it was before this run's write: the platform's reads trail its writes"
    placed = order.placed(revision) if order is not None else None
    if placed is None or placed == "after":
        return None
    # A state placed clearly before this run's write is read past for as long as any write
    # takes to show, once the reads were seen to trail (in this read, or an earlier one of
    # the run's client). Otherwise (placed about when the write was answered, or before it
    # by reads never seen to trail: a first read-back may trail unseen) it is read again
    # for the seconds the evidence cannot order only: on a consistent platform it is the
    # state after this run's write (also where ``updated_at`` does not move on a write),
    # a conflict reported after those seconds. Nothing is read past where a read already
    # showed this run's write and no read ever trailed: that state came after it.
    trailing = client in _TRAILING
    if order is not None and order.shown and not trailing:
        return None
    first_seen = seen_since.setdefault(state, waited)
    patient = placed == "before" and trailing
    if waited - first_seen >= (defaults.VISIBILITY_TIMEOUT_S if patient
                               else defaults.WRITE_ORDER_SLACK_S):
        return None
    when = "before" if placed == "before" else "about when"
    return (f"shows another writer's state written {when} this run's write was answered: the "
            "platform's reads may trail the write")


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
