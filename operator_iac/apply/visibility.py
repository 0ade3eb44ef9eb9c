"""Read your own writes: a run ends only once what it wrote shows through the reads the next
run relies on.

A platform may answer a write at once and show it in its lists a little later (eventual
consistency: nothing in the contract says otherwise). The next command plans from the agents
list and each agent's versions list; were it to run before they caught up, it would create a
second agent for a key this run just created, or plan the release this run just made. So each
write is noted (``WriteLog``) and, before the run ends, ``await_visible`` reads until the lists
show them:

- the agents list shows every agent created and none deleted;
- each written agent's versions list shows the revision written (a draft) or the release made;
- the same for what another apply of this change did that the run reports as its own
  outcome (``converged``: that apply's create of the key, its release of the change);
- the smoke records a release could not name in its marker (written right after it, found by
  listing the conversations of the time after the revision's creation: ``smoke.evidence``)
  show in that listing, the release record there and the proof record there only while it
  exists (a release proven by this run must not read as pending).

The check starts with the last write of each sort per kind of agent: lists that show the newest
creation (or release, deletion...) show the older ones too on a platform whose delay does not
shrink over time, so a platform that is already consistent costs one listing and a versions
list or two per kind. Only when a newest write is late does the wait look at every write,
with pauses that grow (the platform's delay is learnt by waiting for it, not assumed). Past the
bound the run still ends, with a warning naming what is not visible yet, because the writes
themselves succeeded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from operator_iac import defaults
from operator_iac.api.models import agent_id_of
from operator_iac.api.polling import growing_pauses
from operator_iac.errors import NotFoundError, OperatorIacError
from operator_iac.state.fetch import agents_resource
from operator_iac.state.snapshot import state_digest

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.resources import AgentsResource
    from operator_iac.spec.desired import AgentKind
    from operator_iac.state.journal import Noted, NotedWhat, WritesJournal

logger = logging.getLogger(__name__)

# How long a run waits is ``defaults.VISIBILITY_TIMEOUT_S``; the pauses between two reads
# while waiting are ``api.polling.growing_pauses``.

WriteKind = Literal["created", "deleted", "drafted", "released", "recorded"]


@dataclass(frozen=True)
class Write:
    """One write the next run must see: what happened to which agent (and revision)."""

    what: WriteKind
    kind: AgentKind
    agent_id: str
    version_id: str | None = None
    replaced: str | None = None
    """For a release: the revision released before it, as the writer knew it ("" for none,
    None when it did not know). Another revision shown released that is neither this one nor
    that one was released later by someone else: this release was superseded, not lagging."""
    records: tuple[str, str] | None = None
    """For smoke records written after the release of ``version_id`` ("recorded"): the
    release record and the proof record."""
    by_other: bool = False
    """Made by another apply of this change, which this run reports as its own outcome
    (``converged``: that apply's create of the key, or its release of the change). The next
    run must see it as it must see this run's writes; but it was noted when this run learnt
    of it, not when it was made, so it is never taken for the newest write of its sort."""


class WriteLog:
    """The writes of one run, in the order they were made (safe across threads), and the
    entries of ``journal`` (``state.journal``) that note them on this machine meanwhile: a
    run that dies before its writes show leaves them to the next run there."""

    def __init__(self, journal: WritesJournal | None = None) -> None:
        self.journal = journal
        self._writes: list[Write] = []
        self._noted: list[Noted | None] = []
        self._superseded: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def supersedes(self, version_id: str, held: str) -> None:
        """A write of the run is about to change revision ``version_id`` from the state
        ``held`` (``read_state``): a read by id still showing it trails the write."""
        with self._lock:
            self._superseded.setdefault(version_id, set()).add(state_digest(held))

    def withdraw(self, version_id: str, held: str) -> None:
        """The write noted by ``supersedes`` did not change revision ``version_id``."""
        with self._lock:
            self._superseded.get(version_id, set()).discard(state_digest(held))

    def superseded(self) -> dict[str, frozenset[str]]:
        """Revision id -> what it held before the run's writes of it (``state_digest``)."""
        with self._lock:
            return {v: frozenset(held) for v, held in self._superseded.items()}

    def _superseded_of(self, agent_id: str, version_id: str | None) -> tuple[str, ...]:
        """What a write about to be sent to ``version_id`` (else the agent's bare id)
        supersedes, for the journal (``state_digest`` of each)."""
        with self._lock:
            return tuple(sorted(held for version, states in self._superseded.items()
                                for held in states
                                if version == version_id or
                                (version_id is None and agent_id_of(version) == agent_id)))

    def note(self, what: WriteKind, kind: AgentKind, agent_id: str,
             version_id: str | None = None, replaced: str | None = None,
             records: tuple[str, str] | None = None, *, by_other: bool = False) -> None:
        with self._lock:
            self._writes.append(Write(what, kind, agent_id, version_id, replaced, records,
                                      by_other))

    def noted(self, entry: Noted | None) -> None:
        """Keep an entry of the journal the run made (each write is noted there before it
        is sent: ``apply.journaled``), to forget it once the lists show the run's writes."""
        with self._lock:
            self._noted.append(entry)

    def begun(self, kind: AgentKind, key: str) -> Noted | None:
        """Note in the journal a create of ``key`` about to be sent (None: no journal)."""
        entry = self.journal.begun(kind, key) if self.journal is not None else None
        self.noted(entry)
        return entry

    def intends(self, what: NotedWhat, kind: AgentKind, agent_id: str,
                version_id: str | None = None) -> Noted | None:
        """Note in the journal a write of ``agent_id`` about to be sent (``state.journal``:
        ``WritesJournal.intends``); None: no journal."""
        superseded = self._superseded_of(agent_id, version_id) if what == "drafting" else ()
        entry = self.journal.intends(what, kind, agent_id, version_id, superseded) \
            if self.journal is not None else None
        self.noted(entry)
        return entry

    def answered(self, entry: Noted | None, agent_id: str, version_id: str | None = None,
                 records: tuple[str, str] | None = None) -> None:
        """The write ``entry`` notes was made: noted so (``WritesJournal.answered``)."""
        if self.journal is not None:
            self.noted(self.journal.answered(entry, agent_id, version_id, records))

    def refused(self, entry: Noted | None) -> None:
        """The write ``entry`` notes made nothing (the platform refused it): forgotten."""
        if self.journal is not None:
            self.journal.forget([entry])

    def shown(self) -> None:
        """The lists show every write of the run: the journal need not keep them."""
        if self.journal is not None:
            with self._lock:
                noted = list(self._noted)
            self.journal.forget(noted)

    def writes(self) -> list[Write]:
        with self._lock:
            return list(self._writes)


def await_visible(client: OperatorClient, writes: list[Write], *,
                  superseded: Mapping[str, frozenset[str]] | None = None,
                  timeout_s: float | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Wait until the platform's lists show ``writes``, and reads by id the revisions
    written (none of them still holding what ``superseded`` says it held before the run's
    writes: ``WriteLog.superseded``, a ``state_digest`` of each state), up to ``timeout_s``
    (default: ``defaults.VISIBILITY_TIMEOUT_S``); what is still not shown at the bound, one
    sentence each (empty: everything is visible)."""
    if timeout_s is None:
        timeout_s = defaults.VISIBILITY_TIMEOUT_S
    pending = _expectations(writes, superseded or {})
    recorded = [w for w in writes if w.what == "recorded"]
    if not pending and not recorded:
        return []
    deadline = time.monotonic() + timeout_s
    # The newest write of each sort (created, deleted, ...) per kind of agent: a deletion
    # shown says nothing about a creation. Once one is late, the platform lags: from then on
    # every write is looked at. Another apply's writes are looked at each: when they were
    # made is not known.
    newest = {(w.kind, w.what): pending[w.agent_id] for w in writes
              if w.agent_id in pending and not w.by_other}
    others = [pending[w.agent_id] for w in writes if w.agent_id in pending and w.by_other]
    waiting = list(pending.values()) if _unseen(
        client, list(dict.fromkeys([*newest.values(), *others]))) else []
    records = recorded
    anchors: dict[str, str | None] = {}  # each revision's creation, read once
    pauses = growing_pauses()
    while True:
        waiting = _unseen(client, waiting)
        records = [w for w, _ in _records_unseen(client, records, anchors)]
        if not waiting and not records:
            return []
        if time.monotonic() >= deadline:
            late = [why for _, why in _unseen_why(client, waiting)] + \
                [why for _, why in _records_unseen(client, records, anchors)]
            logger.warning("after %.0f s the platform's lists do not show: %s", timeout_s,
                           "; ".join(late))
            return late
        pause = next(pauses)
        logger.info("waiting %.2f s for the platform's lists to show this run's writes "
                    "(%d not shown yet)", pause, len(waiting) + len(records))
        sleep(pause)


# ---- internals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Expected:
    """What the lists must show about one agent after the run's last write to it."""

    kind: AgentKind
    agent_id: str
    listed: bool  # in the agents list (False: deleted, not in it)
    version_id: str | None = None  # in its versions list
    released: bool = False  # ... as the released revision
    # Whether the agents list must be read: the run created or deleted the agent (an agent
    # that existed before the run is listed already).
    listing: bool = True
    replaced: str | None = None  # the release's ``Write.replaced``
    # What the revision held before the run's writes of it: a read by id showing one trails.
    superseded: frozenset[str] = frozenset()

    def sentence(self, listed: bool) -> str:
        """What the lists get wrong about this agent (``listed``: the agents list shows it)."""
        if not self.listed:
            return f"{self.agent_id} still listed after its deletion"
        if not listed:
            return f"{self.agent_id} not listed yet"
        state = "released" if self.released else "written"
        return f"{self.version_id} not shown as {state} in its versions list yet"


def _expectations(writes: list[Write],
                  superseded: Mapping[str, frozenset[str]]) -> dict[str, _Expected]:
    """The last state each written agent must show in the lists."""
    expected: dict[str, _Expected] = {}
    for write in writes:
        if write.what == "recorded":  # conversations, not agents: ``_records_unseen``
            continue
        if write.what == "deleted":
            expected[write.agent_id] = _Expected(write.kind, write.agent_id, listed=False)
        else:
            earlier = expected.get(write.agent_id)
            version = write.version_id or (earlier.version_id if earlier else None)
            released = write.what == "released" or bool(
                earlier and earlier.released and write.what != "drafted")
            created = write.what == "created" or bool(earlier and earlier.listing)
            replaced = write.replaced if write.what == "released" else (
                earlier.replaced if earlier else None)
            expected[write.agent_id] = _Expected(
                write.kind, write.agent_id, listed=True, version_id=version, released=released,
                listing=created, replaced=replaced,
                superseded=superseded.get(version or "", frozenset()))
    return expected


def _unseen(client: OperatorClient, expected: list[_Expected]) -> list[_Expected]:
    """Those of ``expected`` the platform's lists do not show yet."""
    return [item for item, _ in _unseen_why(client, expected)]


def _unseen_why(client: OperatorClient,
                expected: list[_Expected]) -> list[tuple[_Expected, str]]:
    """Those of ``expected`` the platform's lists do not show yet, each with what is wrong."""
    listings: dict[str, set[str]] = {}
    unseen = []
    for item in expected:
        agents = agents_resource(client, item.kind)
        if item.listing and item.kind not in listings:
            listings[item.kind] = {summary.id for summary in agents.list()}
        listed = item.agent_id in listings[item.kind] if item.listing else item.listed
        if listed != item.listed or (listed and not _shows(agents, item)):
            unseen.append((item, item.sentence(listed)))
    return unseen


def _shows(agents: AgentsResource, item: _Expected) -> bool:
    """Whether the agent's versions list shows the revision the run wrote or released."""
    if item.version_id is None:
        return True
    try:
        versions = agents.list_versions(item.agent_id)
    except NotFoundError:
        # An agent that was there before the run (read since, so no read trails its
        # creation) and is gone now was deleted by someone else: no list will show what the
        # run wrote into it, and the run's outcome for it said so already.
        if item.listing:
            return False
        logger.info("%s was deleted by someone else: its writes will not show", item.agent_id)
        return True
    except OperatorIacError:
        return False
    entry = next((v for v in versions if v.version_id == item.version_id), None)
    if entry is None:
        return False
    if not item.released or entry.status == "released":
        return _read_by_id(agents, item)
    # Superseded: someone released another revision after this one (a concurrent run); the
    # revision released before this release still shown is the list lagging instead. Which
    # one was released before is what the run knew (the platform may have released one
    # itself), so the revision is asked too, by its id: still released, it is the list that
    # is behind.
    return item.replaced is not None and any(
        v.status == "released" and v.version_id not in (item.version_id, item.replaced)
        for v in versions) and not _released_by_id(agents, item.version_id)


def _read_by_id(agents: AgentsResource, item: _Expected) -> bool:
    """Whether a read of the revision by its id shows it as the run left it: found (reads
    by id may trail the writes too, and the next run reads every revision it plans from by
    id), holding none of what it held before the run's writes."""
    from operator_iac.state.fetch import revision_of
    from operator_iac.state.snapshot import read_state

    assert item.version_id is not None
    try:
        read = agents.get(item.version_id)
    except OperatorIacError:
        return False
    return state_digest(read_state(revision_of(read, item.version_id, "draft"))) \
        not in item.superseded


def _released_by_id(agents: AgentsResource, version_id: str) -> bool:
    try:
        return agents.get(version_id).status == "released"
    except OperatorIacError:
        return False


def _records_unseen(client: OperatorClient, recorded: list[Write],
                    anchors: dict[str, str | None]) -> list[tuple[Write, str]]:
    """Those of the records written after releases that the conversations listing where
    readers look for them does not show as they are, each with what is wrong. ``anchors``
    keeps each revision's creation time once read."""
    from operator_iac.smoke.evidence import unlisted_records

    unseen = []
    for write in recorded:
        assert write.version_id is not None and write.records is not None
        try:
            if write.version_id not in anchors:
                anchors[write.version_id] = client.conversational_agents.created_at(
                    write.version_id)
            why = unlisted_records(client, write.version_id, write.records,
                                   anchors[write.version_id])
        except OperatorIacError as exc:
            why = f"the smoke records of {write.version_id} could not be listed ({exc})"
        if why is not None:
            unseen.append((write, why))
    return unseen
