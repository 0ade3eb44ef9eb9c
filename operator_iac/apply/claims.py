"""Claims on a key: the remote agents whose newest revision carries this owner's marker for
it (this project, this environment), read fresh from the agents list.

The platform has no idempotency keys and no unique names, so two applies started together on
a fresh project both create an agent for each key. They converge without talking to each
other by one rule every run applies to what it sees (``plan.identity.duplicates``): the agent
to keep is the one that was ever released, else the earliest created (the versions list's
``created_at`` of its first revision), ties broken by id. A run whose own new agent is not
the one to keep deletes it before releasing it.

The rule is applied only to a listing that shows the run's own new agent. Platforms may
show a new agent in their lists late (eventual consistency); a listing that already shows an
agent created at instant t also shows every agent created before t that the platform shows
with the same delay, so the run that created later always sees the earlier one and yields.
Each run applies the rule right after its create and again right before its release, so
two runs whose agents became visible in another order agree before either releases. A run's
new agent that no listing shows yet and that a read by its id no longer finds, while the
listing shows another claimant of its key, was deleted by the run keeping that one (which may
list before this run does): the rule is then applied without it, at once.

Creation times may have whole seconds (the contract's form), so two agents created within
one second tie, and the tie is broken by id, which says nothing of which came first: the
later one may rank first, while the run that created the earlier one decided on a listing
that did not show it yet, and both would release theirs. So a run keeps its own agent only on
a listing begun, after one first showed that agent, as long as the precision of its
``created_at`` (a second, or a millisecond; ``CREATION_TIE_S`` where the platform does not
say): it shows every agent that can tie with it, which the run then ranks as every other run
does. Yielding needs no such wait (the agent a run yields to is the one the other run keeps,
whatever it saw).

Listings are shared by every create of a run (``ClaimsBoard``): a listing serves each create
that had finished when it started. The executor sends every create of a wave before it
settles any, so one listing settles the whole wave and one more comes before their releases,
rather than a listing per create or so.

Where the platform's list items carry no description, a claim is read from the agent's
versions list. The run remembers what each agent it saw listed claimed (``SeenClaims``),
against the list item's newest version id and update time, and reads the versions list again
only for an agent it never saw or whose list item changed since: other teams' agents are read
once per run, and every later listing reads only the agents created or written since, the
concurrent runs' new agents among them. The run's own new agents are never read: it wrote
their markers. A versions list may catch up later than the agents list: one that does not
show yet the revision the list item describes says nothing about the agent's claim, so the
claim is pending (never taken as "none", never remembered), and the run lists again, with
growing pauses, until every claim is known or its wait for the lists runs out.

Yielding is a conflict only when the other run wants other content. Another apply creating
the same content at the same time (the same content hash in its marker) is not a conflict:
this run's result for the key is ``converged`` (exit 0), the other run releases and proves
the agent, so of several identical applies started together every one succeeds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from operator_iac import defaults
from operator_iac.api.models import AgentSummary
from operator_iac.api.polling import bounded_pauses, growing_pauses
from operator_iac.errors import NotFoundError, OperatorIacError
from operator_iac.plan.hashing import hash_matches
from operator_iac.plan.identity import duplicates, ever_released
from operator_iac.plan.marker import Owner, parse_cut_marker, parse_marker
from operator_iac.state.fetch import agents_resource, fetch_agent
from operator_iac.state.lag import listed_revision
from operator_iac.state.times import precision

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.pool import WorkPool
    from operator_iac.api.resources import AgentsResource
    from operator_iac.spec.desired import AgentKind
    from operator_iac.state.snapshot import RemoteAgent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Yielded:
    """This run's agent for a key is not the one to keep: ``keep`` is, and this run's was
    deleted (``deleted``) or could not be (``problem`` says why, or that it is not this
    run's to delete). ``same_content``: ``keep`` was written for the content this run wants."""

    keep: str
    mine: str
    deleted: bool
    problem: str | None = None
    same_content: bool = False

    def message(self, key: str) -> str:
        head = f"another apply created {self.keep} for {key!r} at the same time"
        if self.same_content and self.deleted:
            return (f"{head} with the same content; this run's {self.mine} yielded and was "
                    "deleted unreleased, the other apply releases and proves it")
        if self.deleted:
            return f"{head}; this run's {self.mine} yielded and was deleted unreleased"
        return f"{head}; {self.problem}"


# What identifies the state of an agent in a list item: its newest revision and when that
# was last written. An item with neither is never taken as unchanged.
Stamp = tuple[str, str | None]


class SeenClaims:
    """What one run learnt of the claims of the agents its listings showed without a
    description: agent id -> the list item's stamp and the key the agent's newest revision
    claims for the run's owner (None: no claim). Shared by the run's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[Stamp, str | None]] = {}
        self._own: dict[str, str] = {}

    def own(self, agent_id: str, key: str) -> None:
        """``agent_id`` was created by this run for ``key``: it claims ``key``."""
        with self._lock:
            self._own[agent_id] = key

    def recall(self, summary: AgentSummary) -> tuple[bool, str | None]:
        """(known, key): whether the claim of the listed agent is known without a read."""
        with self._lock:
            if summary.id in self._own:
                return True, self._own[summary.id]
            seen = self._seen.get(summary.id)
        stamp = _stamp(summary)
        if seen is None or stamp is None or seen[0] != stamp:
            return False, None
        return True, seen[1]

    def learn(self, summary: AgentSummary, key: str | None) -> None:
        stamp = _stamp(summary)
        if stamp is not None:
            with self._lock:
                self._seen[summary.id] = (stamp, key)


def _stamp(summary: AgentSummary) -> Stamp | None:
    if not summary.version_id and not summary.updated_at:
        return None
    return summary.version_id, summary.updated_at


@dataclass(frozen=True)
class Listing:
    """Key -> ids of the agents carrying an owner's marker, in listing order, as one listing
    of the agents list showed them, and the instant (monotonic) that listing began."""

    began: float
    """When the listing began (``time.monotonic``)."""
    claims: dict[str, list[str]] = field(default_factory=dict)
    """Key -> the listed agents that claim it, in listing order."""
    pending: frozenset[str] = frozenset()
    """Listed agents whose claim is not known yet: listed without a description, and their
    versions list did not show yet the revision the list item describes."""
    items: dict[str, AgentSummary] = field(default_factory=dict)
    """Each listed agent's list item, by id: what its versions list must show before the
    claim rule ranks the agent (``agent_to_keep``)."""


def list_claims(agents: AgentsResource, owner: Owner, seen: SeenClaims | None = None,
                pool: WorkPool | None = None) -> Listing:
    """One fresh listing of ``owner``'s claims.

    The agents list's items are not documented to carry a description; where one carries
    none, the agent's versions list (documented to) is read for its newest revision's, unless
    ``seen`` knows the claim of the agent as listed. Those reads go through ``pool`` when one
    is given (concurrently from the run's own thread, in turn from inside a pool task).
    """
    began = time.monotonic()
    found: dict[str, list[str]] = {}
    listed: dict[str, AgentSummary] = {}
    keys: dict[str, str | None] = {}
    unknown: list[AgentSummary] = []
    for summary in agents.list():
        listed[summary.id] = summary
        if summary.description:  # an empty one may be a list that leaves them out
            keys[summary.id] = _claimed_key(owner, summary.description)
            continue
        known, key = seen.recall(summary) if seen is not None else (False, None)
        if known:
            keys[summary.id] = key
        else:
            unknown.append(summary)

    def read(summary: AgentSummary) -> str | _Pending | None:
        try:
            versions = agents.list_versions(summary.id)
        except NotFoundError:  # deleted since the listing (a duplicate that yielded)
            return None
        shown = listed_revision(summary, versions)
        if shown is None:
            return PENDING
        key = _claimed_key(owner, shown.description)
        if seen is not None:
            seen.learn(summary, key)
        return key

    read_keys = pool.map(read, unknown) if pool is not None else [read(s) for s in unknown]
    pending = frozenset(s.id for s, key in zip(unknown, read_keys, strict=True)
                        if key is PENDING)
    keys.update((s.id, key) for s, key in zip(unknown, read_keys, strict=True)
                if not isinstance(key, _Pending))
    for agent_id in listed:
        key = keys.get(agent_id)
        if key is not None:
            found.setdefault(key, []).append(agent_id)
    return Listing(began, found, pending, listed)


class _Pending:
    """A claim that a versions list behind the agents list cannot tell yet."""


PENDING = _Pending()


def _claimed_key(owner: Owner, description: str) -> str | None:
    marker = parse_marker(description)
    return marker.key if marker is not None and owner.claims(marker) else None


def claims(agents: AgentsResource, owner: Owner | str, seen: SeenClaims | None = None,
           pool: WorkPool | None = None, *, timeout_s: float = defaults.VISIBILITY_TIMEOUT_S,
           sleep: Callable[[float], None] = time.sleep) -> dict[str, list[str]]:
    """Key -> ids of the agents whose newest revision carries ``owner``'s marker, read fresh
    (``list_claims``). A claim still pending (a versions list behind the agents list) is
    never taken as none, which would create its key a second time: the account is listed
    again with growing pauses until every claim is known, up to ``timeout_s``."""
    owner = Owner(owner) if isinstance(owner, str) else owner
    pauses = bounded_pauses(timeout_s)
    while True:
        listing = list_claims(agents, owner, seen, pool)
        if not listing.pending:
            return listing.claims
        shown = ", ".join(sorted(listing.pending)[:3])
        pause = next(pauses, None)
        if pause is None:
            logger.warning("the versions list of %s does not show the revision the agents list "
                           "describes %.0f s on; deciding on the list as it is", shown,
                           timeout_s)
            return listing.claims
        logger.info("the versions list of %s does not show yet the revision the agents list "
                    "describes; listing again in %.2f s", shown, pause)
        sleep(pause)


def owned_agents(agents: AgentsResource, owner: Owner | str,
                 seen: SeenClaims | None = None) -> dict[str, str]:
    """Key -> id of the agents whose newest revision carries ``owner``'s marker (read fresh:
    after a lost create this is how the agent it made is found)."""
    return {key: ids[0] for key, ids in claims(agents, owner, seen).items()}


class ClaimsBoard:
    """The listings one run shares among its creates, per kind of agent.

    ``listing_after(kind, since, showing)`` returns a listing that began after ``since`` and
    shows the agent ``showing``: the newest one when it qualifies, else a new one, listing
    again with growing pauses while the platform does not show the agent yet. Creates that
    finish while a listing runs wait for it and are served by the next one together.
    ``took_the_name`` judges a create the platform refused.
    """

    def __init__(self, client: OperatorClient, owner: Owner, *,
                 timeout_s: float | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client, self.owner = client, owner
        self.timeout_s = defaults.VISIBILITY_TIMEOUT_S if timeout_s is None else timeout_s
        self._sleep = sleep
        self.seen = SeenClaims()
        self._shown: dict[str, float] = {}  # agent id -> when a listing first showed it
        self._newest: dict[str, Listing] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def listing_after(self, kind: AgentKind, since: float, showing: str, *,
                      read_before: bool = False, key: str | None = None) -> Listing:
        """(See the class docstring.) A listing that does not show ``showing`` ends the wait
        at once, rather than after the whole bound, when a read by id no longer finds it
        either, where that read tells a deletion from a list that shows a create late:
        ``read_before``, ``showing`` was read by its id before (its create was settled); or
        the listing shows another claimant of ``key``, the key ``showing`` claims (only a run
        keeping another agent of the key deletes a new one unbidden, and it may do so before
        any listing of this run showed it)."""
        deadline = since + self.timeout_s
        pauses = growing_pauses()
        while True:
            newest = self._listing_since(kind, since, showing)
            waiting = _waiting_for(newest, showing)
            if not waiting:
                return newest
            if showing not in newest.items and \
                    (read_before or _claimed_by_another(newest, key, showing)) and \
                    not agent_exists(self.client, kind, showing):
                logger.info("%s is not found any more: deleted since %s", showing,
                            "it was settled" if read_before else
                            f"its create, by the run keeping another agent for {key!r}")
                return newest
            if time.monotonic() >= deadline:
                logger.warning("%s %.0f s after %s was created; deciding on the list as it is",
                               waiting, self.timeout_s, showing)
                return newest
            pause = next(pauses)
            logger.info("%s; listing again in %.2f s", waiting, pause)
            self._sleep(pause)

    def took_the_name(self, kind: AgentKind, key: str, name: str, *, wait: bool) -> str | None:
        """After a refused create of ``key``: the agent with this key's marker, now listed, that
        may hold ``name`` on a platform that keeps names unique (another apply's create of the
        key, or this run's own create whose answer was lost), or None when the refusal has
        another cause.

        One listing (shared with the run's other creates: ``_listing_since``) decides when
        it shows an agent of the key, or agents by that name that are all known to be
        someone else's. Otherwise (an agent by that name whose claim is not known yet, or,
        with ``wait``, none by that name: a list that may not show yet the create that took
        it) the account is listed again with growing pauses, up to ``timeout_s``. A refusal
        that can only be about the body (``wait`` false: 400 or 422) never waits for an
        agent nobody lists."""
        pauses = bounded_pauses(self.timeout_s)
        since = time.monotonic()  # after the refusal: the listing must show what caused it
        while True:
            listing = self._listing_since(kind, since)
            if listing.claims.get(key):
                return listing.claims[key][0]
            named = [agent_id for agent_id, item in listing.items.items() if item.name == name]
            unknown = [agent_id for agent_id in named if agent_id in listing.pending]
            if (named and not unknown) or (not named and not wait):
                return None
            pause = next(pauses, None)
            if pause is None:
                return None
            logger.info("the create of %r was refused and %s; listing again in %.2f s", key,
                        f"the claim of {unknown[0]} is not known yet" if unknown else
                        f"no listed agent is named {name!r} yet", pause)
            self._sleep(pause)
            since = time.monotonic()

    def _listing_since(self, kind: AgentKind, since: float,
                       showing: str | None = None) -> Listing:
        """The newest listing of ``kind`` if it began after ``since``, knows every claim and
        shows ``showing`` (when given); else a new one, which becomes the newest. Runs that
        need one at once share it."""
        with self._lock(kind):
            newest = self._newest.get(kind)
            if newest is None or newest.began < since or newest.pending or \
                    (showing is not None and showing not in newest.items):
                newest = self._newest[kind] = list_claims(
                    agents_resource(self.client, kind), self.owner, self.seen)
                ended = time.monotonic()
                with self._guard:
                    for agent_id in newest.items:
                        self._shown.setdefault(agent_id, ended)
            return newest

    def listing_for_keeping(self, kind: AgentKind, since: float, mine: str) -> Listing:
        """A listing (``listing_after``) on which this run may keep its own new agent
        ``mine``: begun, after a listing first showed it, as long as the precision of its
        ``created_at`` (at most ``CREATION_TIE_S``), so that it shows every agent whose
        creation time can tie with it too (module docstring)."""
        listing = self.listing_after(kind, since, mine, read_before=True)
        with self._guard:
            shown = self._shown.get(mine)
        if shown is None:  # the wait for the lists ran out without showing it
            return listing
        item = listing.items.get(mine)
        tie = min(precision(item.created_at if item is not None else None) or
                  defaults.CREATION_TIE_S, defaults.CREATION_TIE_S)
        ready = shown + tie
        if listing.began >= ready:
            return listing
        wait = ready - time.monotonic()
        if wait > 0:
            logger.info("%s: waiting %.2f s for the agents list to show any agent whose "
                        "creation time can tie with it, before deciding to keep it", mine, wait)
            self._sleep(wait)
        return self.listing_after(kind, ready, mine, read_before=True)

    def _lock(self, kind: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(kind, threading.Lock())


def agent_exists(client: OperatorClient, kind: AgentKind, agent_id: str) -> bool:
    """Whether the platform still has the agent: its versions list, read by the agent's
    bare id, is found (a 404 for an agent read before is its deletion)."""
    try:
        agents_resource(client, kind).list_versions(agent_id)
    except NotFoundError:
        return False
    return True


def _claimed_by_another(listing: Listing, key: str | None, showing: str) -> bool:
    """Whether ``listing``, every claim of it known, shows an agent other than ``showing``
    claiming ``key``."""
    return key is not None and not listing.pending and \
        any(agent_id != showing for agent_id in listing.claims.get(key, []))


def _waiting_for(listing: Listing, showing: str) -> str | None:
    """What keeps ``listing`` from deciding about ``showing``, or None."""
    if showing not in listing.items:
        return f"the agents list does not show {showing} yet"
    if listing.pending:
        shown = ", ".join(sorted(listing.pending)[:3])
        return (f"the versions list of {shown} does not show yet the revision the agents "
                "list describes")
    return None


def settle(client: OperatorClient, board: ClaimsBoard, kind: AgentKind, key: str, mine: str,
           *, since: float, created_here: bool, content_hash: str,
           lost_create: bool = False, final: bool = False) -> Yielded | None:
    """Apply the claim rule to ``key`` on a listing that began after ``since`` and shows
    ``mine``: None when ``mine`` is the agent to keep (or the only one); otherwise this run
    yields, deleting ``mine`` if this run created it. ``final``: the decision right before
    ``mine`` is released, made on a listing that shows every agent created in the same second
    (``ClaimsBoard.listing_for_keeping``).

    When ``mine`` is kept, the other never-released claimants written for the same content
    yield to it by the rule; those seen at the final decision, and any after ``lost_create``
    (an earlier create of this run for ``key`` lost its answer and was sent again: most
    likely that create's agent), are deleted here. Their own runs would delete them, unless
    they died first (killed before their release, on a machine whose journal the next run
    never reads): then nobody else would, and the next plan would propose deleting them."""
    listing = board.listing_for_keeping(kind, since, mine) if final else \
        board.listing_after(kind, since, mine, key=key)
    claimants = set(listing.claims.get(key, []))
    claimants.add(mine)  # a listing may still lag behind the create
    if len(claimants) < 2:
        return None
    seen = read_claimants(client, kind, claimants, listing=listing,
                          timeout_s=board.timeout_s, sleep=board._sleep)
    keep, same = _keep_for_own(seen, mine, content_hash)
    logger.info("%s: %d agents claim the key (%s); the claim rule keeps %s", key, len(seen),
                "; ".join(_ranked(agent) for agent in seen), keep)
    if keep == mine:
        if lost_create or final:
            own = next((agent for agent in seen if agent.id == mine), None)
            _remove_yielding(client, kind, [a for a in seen if a.id != mine], content_hash,
                             releases_on_create=own is not None and _released_on_create(own))
        return None
    if not created_here:
        return Yielded(keep, mine, False, f"this run cannot tell whether {mine} is its own "
                                          "and works on neither", same)
    agents = agents_resource(client, kind)
    try:
        agents.delete(mine)
    except NotFoundError:  # the run keeping the other removes those that yield to it
        logger.info("%s: %s was deleted already, by the run keeping %s", key, mine, keep)
    except OperatorIacError as exc:
        return Yielded(keep, mine, False, f"deleting this run's {mine} failed ({exc}); the "
                                          "next apply removes it", same)
    return Yielded(keep, mine, True, same_content=same)


def agent_to_keep(client: OperatorClient, kind: AgentKind, claimants: set[str], mine: str,
                  content_hash: str, *, listing: Listing | None = None,
                  timeout_s: float = defaults.VISIBILITY_TIMEOUT_S,
                  sleep: Callable[[float], None] = time.sleep) -> tuple[str, bool]:
    """The claimant every concurrent run agrees to keep (``plan.identity.duplicates``), and
    whether its newest revision was written for ``content_hash``; one deleted meanwhile has
    yielded already."""
    seen = read_claimants(client, kind, claimants, listing=listing, timeout_s=timeout_s,
                          sleep=sleep)
    return _keep_among(seen, mine, content_hash)


def read_claimants(client: OperatorClient, kind: AgentKind, claimants: set[str], *,
                   listing: Listing | None = None,
                   timeout_s: float = defaults.VISIBILITY_TIMEOUT_S,
                   sleep: Callable[[float], None] = time.sleep) -> list[RemoteAgent]:
    """The claimants as the claim rule ranks them (by their versions lists: ever released,
    first revision's creation), those deleted meanwhile left out.

    A run must not rank on a versions list that has not caught up: one that is empty, or
    does not show the revision (and its release) that ``listing`` showed for the agent, is
    read again with growing pauses, up to ``timeout_s``. Otherwise two runs could each see
    the other's agent as newer and both keep their own."""
    deadline = time.monotonic() + timeout_s
    pauses = growing_pauses()
    read: dict[str, RemoteAgent] = {}
    behind = sorted(claimants)
    while True:
        for agent_id in behind:
            try:
                read[agent_id] = fetch_agent(client, kind, agent_id)
            except NotFoundError:
                read.pop(agent_id, None)
        behind = sorted(i for i, agent in read.items() if not _caught_up(agent, listing))
        if not behind:
            break
        if time.monotonic() >= deadline:
            logger.warning("the versions list of %s does not show what the agents list shows "
                           "%.0f s on; applying the claim rule to it as it is",
                           ", ".join(behind), timeout_s)
            break
        pause = next(pauses)
        logger.info("the versions list of %s does not show what the agents list shows yet; "
                    "reading it again in %.2f s", ", ".join(behind), pause)
        sleep(pause)
    return [read[i] for i in sorted(read)]


def _keep_for_own(seen: list[RemoteAgent], mine: str, content_hash: str) -> tuple[str, bool]:
    """The rule's choice for a run whose own new agent is ``mine``, before it releases it.

    Where the platform released ``mine`` itself on create, "ever released" tells nothing
    (every new agent is), and creation times written to the second can tie. Another claimant
    that a run has released since (a revision after its first) belongs to a run whose last
    settlement is behind it: one that may never have seen ``mine`` (created after that
    settlement, within the same second of the platform's clock), so the rule's order cannot
    be trusted to make it yield. This run yields to it instead: both end with that agent.
    Where only runs release, "ever released first" already says the same."""
    own = next((agent for agent in seen if agent.id == mine), None)
    if own is not None and _released_on_create(own):
        committed = [agent for agent in seen if agent.id != mine and _released_by_a_run(agent)]
        if committed:
            keep = duplicates(committed)[0]
            return keep.id, _written_for(keep, content_hash)
    return _keep_among(seen, mine, content_hash)


def _ranked(agent: RemoteAgent) -> str:
    """How the claim rule sees ``agent``, for the log."""
    first = min(agent.versions, key=lambda v: v.number, default=None)
    return (f"{agent.id} {'released' if ever_released(agent) else 'never released'}, first "
            f"revision created {first.created_at if first is not None else 'unknown'}")


def _released_on_create(own: RemoteAgent) -> bool:
    """Whether this run's new agent, which this run has not released, holds a released
    first revision: the platform's doing."""
    return any(v.number == 0 and v.status in ("released", "archived") for v in own.versions)


def _released_by_a_run(agent: RemoteAgent) -> bool:
    """A revision after the first released (on a platform that releases what it creates, a
    run's release is of the draft it finished after the create)."""
    return any(v.number > 0 and v.status in ("released", "archived") for v in agent.versions)


def _keep_among(seen: list[RemoteAgent], mine: str, content_hash: str) -> tuple[str, bool]:
    if not seen:
        return mine, True
    keep = duplicates(seen)[0]
    return keep.id, _written_for(keep, content_hash)


def _written_for(agent: RemoteAgent, content_hash: str) -> bool:
    """Whether ``agent``'s newest revision was written for ``content_hash``: by its marker,
    or by the identity a marker cut short at the platform's limit still names (a write of
    another apply made before it learnt the limit, fitted a moment later)."""
    newest = agent.draft or agent.released
    if newest is None:
        return False
    marker = parse_marker(newest.description) or parse_cut_marker(newest.description)
    return marker is not None and hash_matches(marker.content_hash, content_hash)


def _caught_up(agent: RemoteAgent, listing: Listing | None) -> bool:
    """Whether ``agent``'s versions list shows at least what ``listing`` showed of it."""
    if not agent.versions:
        return False
    summary = listing.items.get(agent.id) if listing is not None else None
    if summary is None:
        return True
    return listed_revision(summary, agent.versions) is not None


def _remove_yielding(client: OperatorClient, kind: AgentKind, others: list[RemoteAgent],
                     content_hash: str, *, releases_on_create: bool) -> None:
    """Delete those of ``others`` never released and written for ``content_hash``, which
    yield to the agent kept (``settle``). Where the platform releases what it creates
    (``releases_on_create``: this run's own agent shows it), a release counts only once a
    run made it (``_released_by_a_run``), as in the rule."""
    agents = agents_resource(client, kind)
    for agent in others:
        committed = _released_by_a_run(agent) if releases_on_create else ever_released(agent)
        if committed or not _written_for(agent, content_hash):
            continue
        try:
            agents.delete(agent.id)
        except OperatorIacError:
            continue  # gone, or not this run's to remove: the next plan lists it
        logger.info("deleted %s: a create of the same content that yields to the agent kept "
                    "(a create whose answer was lost, or a run's that stopped before its "
                    "release)", agent.id)
