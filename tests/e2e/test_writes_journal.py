"""The writes journal (``state.journal``): what a run on this machine wrote stays noted until
the platform's lists show it, and the next run's read of the platform (``services.remote``)
first waits for the lists to show it and reads the agents written again, taking a new agent
the agents list does not show yet by its id, on an emulator whose lists trail the writes."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.emulator.server import EmulatorServer
from operator_iac.plan.identity import claims_by_key
from operator_iac.plan.marker import Owner, with_marker
from operator_iac.services.remote import read_project_agents
from operator_iac.state.fetch import read_revision
from operator_iac.state.journal import KEEP_S, WritesJournal
from operator_iac.state.snapshot import read_state, state_digest

OWNER = Owner("acme", "staging")
CONFIG = {"filter_statuses": ["completed"]}


def create_marked(client: OperatorClient, key: str) -> str:
    description = with_marker("Made by a run.", OWNER.marker(key, "0123456789abcdef", None))
    return client.procedural_agents.create(key, description, CONFIG).id


@pytest.fixture
def journal(tmp_path: Path, emulator: EmulatorServer) -> WritesJournal:
    return WritesJournal(tmp_path / "creates", emulator.url, OWNER)


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[OperatorClient]:
    with OperatorClient(emulator.url, emulator.api_key) as made:
        yield made


def owned(client: OperatorClient, journal: WritesJournal) -> dict[str, list[str]]:
    snapshot = read_project_agents(client, OWNER, journal=journal)
    return {key: sorted(a.id for a in agents)
            for key, agents in claims_by_key(snapshot.agents, OWNER).items()}


def test_an_answered_create_the_list_does_not_show_yet_is_waited_for_and_read(
        emulator: EmulatorServer, client: OperatorClient, journal: WritesJournal) -> None:
    emulator.set_faults(list_lag=0.6)
    noted = journal.begun("procedural_agent", "summary")
    agent_id = create_marked(client, "summary")
    journal.answered(noted, agent_id, f"{agent_id}@v0")
    assert [a.id for a in client.procedural_agents.list()] == []  # the list is behind

    assert owned(client, journal) == {"summary": [agent_id]}
    assert journal.entries() == []  # listed now: forgotten


def test_a_draft_an_earlier_run_wrote_is_waited_for_before_the_plan_reads_it(
        emulator: EmulatorServer, client: OperatorClient, journal: WritesJournal) -> None:
    """A run wrote a draft and died before the versions list showed it: the next read
    waits until it does and reads the agent again, so the plan is made on the draft (and
    apply's own check before writing does not find the agent moved since the plan)."""
    agent_id = create_marked(client, "summary")
    client.procedural_agents.release(f"{agent_id}@v0")
    emulator.advance_clock(5)
    emulator.set_faults(versions_lag=0.6)
    written = client.procedural_agents.update(agent_id, name="summary, again")
    journal.intends("drafting", "procedural_agent", agent_id, written.version_id)
    assert [v.version_id for v in client.procedural_agents.list_versions(agent_id)] == [
        f"{agent_id}@v0"]  # the versions list is behind

    snapshot = read_project_agents(client, OWNER, journal=journal)

    (agent,) = snapshot.agents
    assert agent.draft is not None and agent.draft.version_id == f"{agent_id}@v1"
    assert journal.entries() == []


def test_a_draft_an_earlier_run_wrote_again_is_read_once_a_read_by_id_shows_the_write(
        emulator: EmulatorServer, client: OperatorClient, journal: WritesJournal) -> None:
    """Reads by id trail the writes: a run wrote its draft once more (the record of how the
    platform stores it, say) and died. The versions list shows that draft already, but a
    read by id of it still shows what it held before; planned on that, apply's own check
    before writing would find the draft moved since the plan and refuse it. The journal
    keeps a digest of the state the write superseded: the next read waits until a read by
    id no longer shows it."""
    agent_id = create_marked(client, "summary")
    client.procedural_agents.release(f"{agent_id}@v0")
    draft = client.procedural_agents.update(agent_id, name="summary, drafted").version_id
    assert draft is not None
    before = read_revision(client, "procedural_agent", draft, "draft")
    emulator.advance_clock(5)  # the draft was made long before the write
    emulator.set_faults(read_lag=0.8)
    client.procedural_agents.update(draft, name="summary, written again")
    journal.intends("drafting", "procedural_agent", agent_id, draft,
                    (state_digest(read_state(before)),))
    assert client.procedural_agents.get(draft).name == "summary, drafted"  # the read trails

    snapshot = read_project_agents(client, OWNER, journal=journal)

    (agent,) = snapshot.agents
    assert agent.draft is not None and agent.draft.name == "summary, written again"
    assert journal.entries() == []


def test_a_create_never_answered_is_waited_for_until_the_list_shows_its_key(
        emulator: EmulatorServer, client: OperatorClient, journal: WritesJournal) -> None:
    """A run died between sending a create and its answer: the next read waits for the
    list to show an agent with that key's marker (it does after the lag), and takes it."""
    emulator.set_faults(list_lag=0.6)
    journal.begun("procedural_agent", "summary")
    agent_id = create_marked(client, "summary")
    started = time.monotonic()

    assert owned(client, journal) == {"summary": [agent_id]}
    assert time.monotonic() - started >= 0.3
    assert journal.entries() == []


def test_noted_agents_deleted_since_and_old_or_broken_entries_are_forgotten(
        emulator: EmulatorServer, client: OperatorClient, journal: WritesJournal) -> None:
    gone = create_marked(client, "gone")
    journal.answered(journal.begun("procedural_agent", "gone"), gone)
    client.procedural_agents.delete(gone)
    old = journal.answered(journal.begun("procedural_agent", "old"), "pa_old")
    assert old is not None
    old.path.write_text(json.dumps({"what": "created", "kind": "procedural_agent",
                                    "key": "old", "agent_id": "pa_old",
                                    "at": time.time() - KEEP_S - 1}))
    (journal.folder / "broken.json").write_text("{not json")

    assert owned(client, journal) == {}
    assert journal.entries() == []
    assert list(journal.folder.glob("*.json")) == []


def test_a_journal_that_cannot_be_written_is_skipped(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    journal = WritesJournal(blocked, "http://127.0.0.1:1", OWNER)

    assert journal.begun("procedural_agent", "summary") is None
    assert journal.entries() == []
    journal.forget([None])


def test_each_platform_and_environment_has_a_journal_of_its_own(tmp_path: Path) -> None:
    folders = {WritesJournal(tmp_path, url, owner).folder
               for url in ("https://a.example", "https://b.example")
               for owner in (OWNER, Owner("acme", "production"), Owner("other", "staging"))}
    assert len(folders) == 6


def test_old_entries_of_any_target_and_empty_folders_are_swept(tmp_path: Path) -> None:
    import os

    from operator_iac.state import journal as module

    stale = WritesJournal(tmp_path, "http://127.0.0.1:2", OWNER)
    kept = stale.answered(stale.begun("procedural_agent", "old"), "pa_old")
    assert kept is not None
    os.utime(kept.path, (time.time() - KEEP_S - 1,) * 2)
    for seen in stale.seen_folder.iterdir():  # the agent it created, not seen since
        os.utime(seen, (time.time() - KEEP_S - 1,) * 2)
    emptied = WritesJournal(tmp_path, "http://127.0.0.1:3", OWNER)
    emptied.forget([emptied.begun("procedural_agent", "gone")])
    module._swept.discard(tmp_path)

    fresh = WritesJournal(tmp_path, "http://127.0.0.1:4", OWNER)
    noted = fresh.begun("procedural_agent", "new")

    assert noted is not None and [p.name for p in tmp_path.iterdir()] == [fresh.folder.name]


def test_a_release_sent_by_a_run_that_died_is_waited_for_only_if_it_was_made(
        emulator: EmulatorServer, client: OperatorClient, journal: WritesJournal) -> None:
    """A release noted before it was sent, its answer never seen: read by id, it was made
    (the versions list, behind, is waited for and the agent read again), or, sent longer
    ago than a release takes to show, it was not (nothing to wait for; forgotten)."""
    agent_id = create_marked(client, "summary")
    client.procedural_agents.release(f"{agent_id}@v0")
    client.procedural_agents.update(agent_id, name="summary, again")
    emulator.advance_clock(5)
    emulator.set_faults(versions_lag=0.6)
    journal.intends("releasing", "procedural_agent", agent_id, f"{agent_id}@v1")
    client.procedural_agents.release(f"{agent_id}@v1")

    (agent,) = read_project_agents(client, OWNER, journal=journal).agents

    assert agent.released is not None and agent.released.version_id == f"{agent_id}@v1"
    assert journal.entries() == []
    # Sent long enough ago that it would show by now: not made, nothing to wait for.
    sent = journal.intends("releasing", "procedural_agent", agent_id, f"{agent_id}@v0")
    assert sent is not None
    sent.path.write_text(json.dumps({"what": "releasing", "kind": "procedural_agent",
                                     "key": None, "agent_id": agent_id,
                                     "version_id": f"{agent_id}@v0", "at": time.time() - 31}))
    started = time.monotonic()
    (agent,) = read_project_agents(client, OWNER, journal=journal).agents
    assert time.monotonic() - started < 5
    assert agent.released is not None and agent.released.version_id == f"{agent_id}@v1"
    assert journal.entries() == []


def test_smoke_records_a_run_that_died_wrote_after_a_release_are_waited_for_in_the_listing(
        emulator: EmulatorServer, client: OperatorClient, journal: WritesJournal) -> None:
    """Records written right after a release are found by listing the time after it, which
    trails the writes here. Noted as sent (their answer never seen) or as answered (with
    their ids), the next read waits until that listing shows them; a write noted longer ago
    than records take to show, and never listed, is not waited for."""
    from operator_iac.smoke.evidence import lists_a_release_record
    from operator_iac.smoke.record import RELEASE_STAGE, SmokeRecord, now, write_record

    agent = client.conversational_agents.create("desk", "", {})
    version_id = agent.version_id or f"{agent.id}@v0"
    client.conversational_agents.release(version_id)
    since = client.conversational_agents.created_at(version_id)
    emulator.set_faults(list_lag=0.6)
    journal.intends("recording", "conversational_agent", agent.id, version_id)
    write_record(client, version_id, {}, SmokeRecord(
        "acme", "desk", version_id, False, "released", now(), stage=RELEASE_STAGE))
    assert not lists_a_release_record(client, version_id, since)  # the listing is behind
    started = time.monotonic()

    read_project_agents(client, OWNER, journal=journal)

    assert time.monotonic() - started >= 0.3
    assert lists_a_release_record(client, version_id, since)
    assert journal.entries() == []
    old = journal.intends("recording", "conversational_agent", agent.id, f"{agent.id}@v9")
    assert old is not None
    old.path.write_text(json.dumps({"what": "recording", "kind": "conversational_agent",
                                    "key": None, "agent_id": agent.id,
                                    "version_id": version_id, "at": time.time() - 31}))
    started = time.monotonic()
    read_project_agents(client, OWNER, journal=journal)
    assert time.monotonic() - started < 5
    assert journal.entries() == []


def test_an_entry_of_records_keeps_their_ids_and_a_broken_one_is_forgotten(
        journal: WritesJournal) -> None:
    noted = journal.intends("recording", "conversational_agent", "ca_1", "ca_1@v0")
    answered = journal.answered(noted, "ca_1", "ca_1@v0", records=("conv_r", "conv_p"))
    assert answered is not None and answered.what == "recorded"
    (entry,) = journal.entries()
    assert (entry.what, entry.version_id, entry.records) == (
        "recorded", "ca_1@v0", ("conv_r", "conv_p"))
    entry.path.write_text(json.dumps({**json.loads(entry.path.read_text()),
                                      "records": ["conv_r"]}))
    assert journal.entries() == []


NOTING_RUN = """
import sys
from pathlib import Path
from operator_iac.plan.marker import Owner
from operator_iac.state.journal import WritesJournal
journal = WritesJournal(Path(sys.argv[1]), sys.argv[2], Owner("acme", "staging"))
journal.begun("procedural_agent", "summary")
print("noted", flush=True)
sys.stdin.readline()
"""


def test_the_writes_of_a_run_still_alive_on_this_machine_are_its_own_to_finish(
        tmp_path: Path, emulator: EmulatorServer, client: OperatorClient,
        journal: WritesJournal) -> None:
    """Two runs on one machine share the journal: while the run that noted a create is
    alive, another command on the machine leaves it to that run (as a run on another
    machine does) rather than wait up to the bound for its create to show; once that run
    died (SIGKILL), its create is an earlier run's, waited for."""
    import subprocess
    import sys

    with subprocess.Popen([sys.executable, "-c", NOTING_RUN, str(tmp_path / "creates"),
                           emulator.url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as run:
        try:
            assert run.stdout is not None and run.stdout.readline() == "noted\n"
            [theirs] = journal.entries()
            assert theirs.what == "creating" and theirs.run
            assert journal.earlier() == []
            started = time.monotonic()
            assert owned(client, journal) == {}
            assert time.monotonic() - started < 1.0  # no wait for a create that run sends
            assert journal.entries() == [theirs]  # kept: that run, or the next, forgets it
        finally:
            run.kill()
    runs = tmp_path / "creates.runs"
    assert (runs / f"{theirs.run}.lock").exists()  # the killed run left its file
    assert journal.earlier() == [theirs]
    assert not (runs / f"{theirs.run}.lock").exists()  # found unlocked: removed
    left = runs / "0123456789abcdef.lock"  # a dead run's, left a while ago
    left.write_text("")
    os.utime(left, (time.time() - 120, time.time() - 120))
    ended = subprocess.run([sys.executable, "-c", NOTING_RUN, str(tmp_path / "creates"),
                            emulator.url], input="\n", capture_output=True, text=True,
                           check=True)
    assert ended.stdout == "noted\n"
    # A run that ends removes its file; one taking its own swept the dead run's.
    assert not list(runs.glob("*.lock"))
    mine = journal.begun("procedural_agent", "other")  # this process's own: ended runs
    assert mine is not None and mine.run and mine.run != theirs.run
    assert {n.key for n in journal.earlier()} == {"summary", "other"}
    assert sum(n.key == "summary" for n in journal.earlier()) == 2  # the ended run's too
