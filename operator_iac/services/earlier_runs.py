"""What earlier runs on this machine wrote and did not see shown, finished before a command
reads the platform (``state.journal`` says why writes are noted, and how).

A run that died (killed, its runner lost) may leave writes the platform's lists do not show
yet, and one write it sent without seeing the answer. (A run still alive on this machine
finishes its own, as a run on another machine does: ``WritesJournal.earlier`` leaves them
out.) ``after_earlier_runs`` tells what each
noted write did by reading by id, which is never late where lists are: a write answered was
made; a new draft or a deletion sent without an answer is read at once; a release by its
revision's status, which some platforms show late, read again until it shows or the bound
passes; a create never answered is looked for in the agents list, by its key's marker, until
``VISIBILITY_TIMEOUT_S`` after it was sent, and smoke records written after a release and never
answered in the listing of the time after it. Then it waits, bounded, for the lists to show
those writes (``apply.visibility.await_visible``, the wait the dead run could not finish)
and reads the agents written again, so the command decides on what they hold now: a new
agent the agents list still does not show is taken by its id, as the list's own. Writes the
lists show are forgotten; writes that did nothing are forgotten; the others stay noted for
the next command.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from operator_iac import defaults
from operator_iac.services.feedback import Say

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.apply.visibility import Write
    from operator_iac.plan.marker import Owner
    from operator_iac.spec.desired import AgentKind
    from operator_iac.state.cache import RevisionCache
    from operator_iac.state.journal import Noted, WritesJournal
    from operator_iac.state.snapshot import RemoteAgent, Snapshot

logger = logging.getLogger(__name__)


def after_earlier_runs(client: OperatorClient, project: Owner | str, snapshot: Snapshot,
                        journal: WritesJournal, *, cache: RevisionCache | None,
                        say: Say) -> Snapshot:
    """``snapshot`` once the platform's lists show what earlier runs on this machine wrote
    and did not see shown (``state.journal``: a run that died first). What each noted write
    did is read by id, never late (``_done``); creates sent and never answered are waited
    for in the agents list (``_await_unanswered``); then the wait the run could not finish
    (``apply.visibility.await_visible``, bounded), and the agents written are read again,
    so the plan is made on what they hold now (a new agent the agents list still does not
    show is read by its id, as the list's own), knowing which drafts those runs wrote
    (``Snapshot.drafted_here``). Writes the lists show are forgotten; the others stay noted
    for the next run."""
    from dataclasses import replace

    from operator_iac.apply.visibility import await_visible

    noted = journal.earlier()
    if not noted:
        return snapshot
    say("Checking that the platform's lists show what an earlier run on this machine "
        "wrote ...")
    touched = {(n.kind, n.agent_id) for n in noted if n.agent_id is not None}
    creating = [n for n in noted if n.what == "creating"]
    if creating:
        touched |= _await_unanswered(client, project, journal, creating)
    done = {n: _done(client, n) for n in noted if n.agent_id is not None}
    writes = [write for write in done.values() if write is not None]
    gone = {w.agent_id for w in writes if w.what == "deleted"}
    journal.forget(n for n, write in done.items() if write is None)  # nothing was done
    # A draft written reads by id as before the write, where reads trail, until it shows:
    # the plan must not be made on that state (its re-check would find the draft moved).
    superseded: dict[str, frozenset[str]] = {}
    for entry, write in done.items():
        if write is not None and write.version_id and entry.superseded:
            superseded[write.version_id] = superseded.get(write.version_id, frozenset()) | \
                frozenset(entry.superseded)
    if not await_visible(client, writes, superseded=superseded):
        journal.forget(done)
    agents = {agent.id: agent for agent in snapshot.agents}
    for kind, agent_id in sorted(touched):
        read = None if agent_id in gone else _fetched(client, kind, agent_id, cache)
        if read is None:
            agents.pop(agent_id, None)
        else:
            agents[agent_id] = read
    logger.info("read again after an earlier run's writes: %s", ", ".join(
        sorted(agent_id for _, agent_id in touched)))
    # A create writes its agent's first revision: a draft written here too.
    drafted = frozenset(w.version_id for w in writes
                        if w.what in ("drafted", "created") and w.version_id)
    created = frozenset((n.agent_id, n.key) for n in noted
                        if n.what == "created" and n.agent_id and n.key)
    return replace(snapshot, agents=tuple(agents.values()),
                   unread=tuple(item for item in snapshot.unread if item.id not in agents),
                   drafted_here=snapshot.drafted_here | drafted,
                   created_here=snapshot.created_here | created)


def _done(client: OperatorClient, noted: Noted) -> Write | None:
    """What a noted write did, read by id: the write the lists must show, or None when it
    did nothing they will show (refused, never sent, or undone since: the agent deleted, a
    release superseded, a draft released). A write the platform answered was made; one sent
    without an answer seen is told by reading what it wrote: a new draft or a deletion by
    id at once, a release by the revision's status, which some platforms show late, so
    read again, with growing pauses, until it shows or ``VISIBILITY_TIMEOUT_S`` after the
    release was sent."""
    from operator_iac.api.polling import pauses_until
    from operator_iac.apply.visibility import Write
    from operator_iac.errors import NotFoundError
    from operator_iac.state.fetch import agents_resource

    assert noted.agent_id is not None
    agents, kind, agent_id = agents_resource(client, noted.kind), noted.kind, noted.agent_id
    pauses = pauses_until(noted.at + defaults.VISIBILITY_TIMEOUT_S)
    while True:
        try:
            read = agents.get(noted.version_id or agent_id)
        except NotFoundError:
            deleted = noted.what in ("deleting", "deleted")
            return Write("deleted", kind, agent_id) if deleted else None
        if noted.what in ("created", "drafted", "released"):
            return Write(noted.what, kind, agent_id, noted.version_id or read.version_id)
        if noted.what == "recorded" and noted.version_id and noted.records:
            return Write("recorded", kind, agent_id, noted.version_id, records=noted.records)
        if noted.what == "recording" and noted.version_id:
            _await_unanswered_records(client, noted.version_id, noted.at)
            return None
        if noted.what == "drafting" and read.status == "draft":
            return Write("drafted", kind, agent_id, read.version_id)
        if noted.what == "releasing" and read.status == "released":
            return Write("released", kind, agent_id, read.version_id)
        pause = next(pauses, None)
        if noted.what != "releasing" or pause is None:
            return None
        logger.info("%s: a release an earlier run sent, its answer not seen, does not show "
                    "yet: reading it again in %.2f s", noted.version_id, pause)
        client.pause(pause)


def _await_unanswered_records(client: OperatorClient, version_id: str, sent_at: float) -> None:
    """Smoke records an earlier run sent right after releasing ``version_id`` and died
    before their answer: readers find them by listing the time after the release, which may
    show them late. Until ``VISIBILITY_TIMEOUT_S`` after they were sent, that listing is read
    again with growing pauses until it shows a release record of the revision; past it, none
    was kept."""
    from operator_iac.api.polling import pauses_until
    from operator_iac.smoke.evidence import lists_a_release_record

    since = client.conversational_agents.created_at(version_id)
    if since is None:
        return  # no time to list after: no reader finds such records either
    for pause in pauses_until(sent_at + defaults.VISIBILITY_TIMEOUT_S):
        if lists_a_release_record(client, version_id, since):
            return
        logger.info("%s: smoke records an earlier run sent after its release, their answer "
                    "not seen, are not listed yet: listing again in %.2f s", version_id, pause)
        client.pause(pause)


def _fetched(client: OperatorClient, kind: AgentKind, agent_id: str,
             cache: RevisionCache | None) -> RemoteAgent | None:
    """The agent read in depth, or None when it is gone."""
    from operator_iac.errors import NotFoundError
    from operator_iac.state.fetch import fetch_agent

    try:
        return fetch_agent(client, kind, agent_id, cache)
    except NotFoundError:
        return None


def _await_unanswered(client: OperatorClient, project: Owner | str, journal: WritesJournal,
                      creating: list[Noted]) -> set[tuple[AgentKind, str]]:
    """Creates an earlier run sent and never saw answered (it died in between): each may
    have made an agent the list does not show yet. Until ``VISIBILITY_TIMEOUT_S`` after it
    was sent, the list is read again with growing pauses until it shows an agent with that
    key's marker; past it, none was made. Returns the agents found (kind, id)."""
    from operator_iac.api.polling import growing_pauses
    from operator_iac.apply.claims import claims
    from operator_iac.plan.identity import as_owner
    from operator_iac.state.fetch import agents_resource

    owner = as_owner(project)
    pauses = growing_pauses()
    found: set[tuple[AgentKind, str]] = set()
    while True:
        for kind in sorted({n.kind for n in creating}):
            claimed = claims(agents_resource(client, kind), owner)
            shown = [n for n in creating if n.kind == kind and n.key in claimed]
            found |= {(kind, agent_id) for n in shown for agent_id in claimed[n.key or ""]}
            journal.forget(shown)
            creating = [n for n in creating if n not in shown]
        expired = [n for n in creating if time.time() >= n.at + defaults.VISIBILITY_TIMEOUT_S]
        journal.forget(expired)  # the list would show it by now: nothing was made
        creating = [n for n in creating if n not in expired]
        if not creating:
            return found
        pause = min(next(pauses), max(0.0, min(n.at for n in creating)
                                      + defaults.VISIBILITY_TIMEOUT_S - time.time()))
        logger.info("an earlier run on this machine sent a create of %s and died before its "
                    "answer: listing again in %.2f s", ", ".join(str(n.key) for n in creating),
                    pause)
        client.pause(pause)
