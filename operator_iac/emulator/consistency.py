"""Eventual consistency on purpose: reads that trail the writes by a bounded delay.

Three fault settings, in seconds: ``list_lag`` (the agents list shows a new agent, and stops
showing a deleted one, only that long after the write; the conversations list likewise,
``conversations.ConversationService.page``), ``versions_lag`` (the versions lists and every
status field show a new revision or a release only that long after it) and ``read_lag`` (a
read of a revision by its id shows a write only that long after it: a new revision is not
found, a rewritten one reads as it was). Without ``read_lag`` a client reads its own writes
when it asks for them by id, which is how platforms with a lagging index usually behave; a
platform whose reads are served by replicas may not.

``History`` remembers, per agent, the statuses of its revisions after every write that
changed them, the content of each revision after every write (for ``read_lag``), and the
agents deleted lately; the functions below answer what a reader saw at a moment in the
past. Kept in memory only, for an hour (``KEEP_S``): after a restart (``--db``) the reads
are consistent until the next write.
"""

from __future__ import annotations

import random
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from operator_iac.emulator.agents import Revision

# How long history is kept: far beyond any lag a test or a demonstration would set.
KEEP_S = 3600.0

Statuses = Mapping[int, str]


@dataclass(frozen=True)
class Gone:
    """A deleted agent, listed as it last was while the agents list trails the delete."""

    seq: int
    kind: str
    created_at: float
    deleted_at: float
    newest: Revision


class History:
    """The statuses of every agent's revisions over time, and the agents deleted lately."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, list[tuple[float, dict[int, str]]]] = {}
        self._contents: dict[tuple[str, int], list[tuple[float, Revision]]] = {}
        self._gone: dict[str, Gone] = {}

    def keep(self, revision: Revision, at: float) -> None:
        """The content ``revision`` holds from ``at`` on (for reads by id that trail)."""
        with self._lock:
            kept = self._contents.setdefault((revision.agent_id, revision.number), [])
            kept.append((at, revision))
            while len(kept) > 1 and kept[1][0] < at - KEEP_S:
                kept.pop(0)

    def content_at(self, agent_id: str, number: int,
                   moment: float) -> Revision | Unknown | None:
        """The content revision ``number`` held at ``moment``: None when it did not exist
        yet, ``UNKNOWN`` when nothing is remembered of it."""
        with self._lock:
            kept = self._contents.get((agent_id, number))
            if not kept:
                return UNKNOWN
            held = [revision for at, revision in kept if at <= moment]
            return held[-1] if held else None

    def record(self, agent_id: str, at: float, statuses: Statuses) -> None:
        """The statuses an agent's revisions have from ``at`` on."""
        with self._lock:
            states = self._states.setdefault(agent_id, [])
            states.append((at, dict(statuses)))
            while len(states) > 1 and states[1][0] < at - KEEP_S:
                states.pop(0)

    def statuses_at(self, agent_id: str, moment: float) -> dict[int, str] | None:
        """The statuses a reader saw at ``moment``: {} when the agent did not exist yet,
        None when nothing is known (the reads are then consistent)."""
        with self._lock:
            states = self._states.get(agent_id)
            if not states:
                return None
            seen = [statuses for at, statuses in states if at <= moment]
            return dict(seen[-1]) if seen else {}

    def bury(self, agent_id: str, gone: Gone) -> None:
        with self._lock:
            self._states.pop(agent_id, None)
            self._gone[agent_id] = gone
            for old in [k for k, g in self._gone.items() if g.deleted_at < gone.deleted_at
                        - KEEP_S]:
                del self._gone[old]

    def still_listed(self, kind: str, seen_at: ListMoments | float) -> list[Gone]:
        """Agents of ``kind`` deleted after the moment a reader saw each of them at (one
        moment for all, or ``ListMoments``), so that it still saw them, and that existed by
        then."""
        if not isinstance(seen_at, ListMoments):
            seen_at = ListMoments(seen_at)
        with self._lock:
            return [g for g in self._gone.values()
                    if g.kind == kind and g.deleted_at > seen_at(g.newest.agent_id)
                    and g.created_at <= seen_at(g.newest.agent_id)]


# How a lagging list's delay varies, beyond one delay for all (``list_moments``), for the
# agents list and the versions lists alike: ``uneven_list_lag``, each agent after a delay of
# its own (an index whose shards catch up at their own pace: a list can show an agent and not
# one created before it); ``replica_lists``, each read served by a replica trailing by a delay
# of its own (a list can show less than the one before it). Each delay is up to twice the
# list's lag (``list_lag``, ``versions_lag``).
SPREADS = ("uneven_list_lag", "replica_lists")


@dataclass(frozen=True)
class ListMoments:
    """The moment of the platform's past a list read shows each agent as it was at:
    ``uniform`` for every agent alike, else one per agent (``spread_s`` scaled by a fraction
    the agent's id draws)."""

    uniform: float | None
    now: float = 0.0
    spread_s: float = 0.0

    def __call__(self, agent_id: str) -> float:
        if self.uniform is not None:
            return self.uniform
        return self.now - self.spread_s * (zlib.crc32(agent_id.encode()) % 1000) / 999


def list_moments(now: float, lag_s: float, spread: str | None) -> ListMoments:
    """The moments one list read shows the agents at (``SPREADS``)."""
    if spread == "uneven_list_lag" and lag_s > 0:
        return ListMoments(None, now, 2 * lag_s)
    if spread == "replica_lists":
        return ListMoments(now - random.uniform(0.0, 2 * lag_s))
    return ListMoments(now - lag_s)


class Unknown:
    """Nothing is remembered of a revision's content over time."""


UNKNOWN = Unknown()


def as_seen(revisions: list[Revision], statuses: Statuses | None) -> list[Revision]:
    """A versions list as a reader saw it: only the revisions that existed, each with the
    status it had (all of them, as they are, when nothing is known)."""
    if statuses is None:
        return revisions
    return [replace(r, status=statuses[r.number]) for r in revisions if r.number in statuses]


def status_as_seen(revision: Revision, statuses: Statuses | None) -> Revision:
    """One revision read by its id: its content now, the status a lagging reader saw (a
    revision too new for that reader shows its own status)."""
    if statuses is None or revision.number not in statuses:
        return revision
    return replace(revision, status=statuses[revision.number])
