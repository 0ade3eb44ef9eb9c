"""Monotonic reads (``state.floor``): what was seen of an agent before, a later read shows at
least; the machine keeps it (``state.journal``) and a read behind it is read again
(``state.fetch.fetch_agent``)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from operator_iac import defaults
from operator_iac.api.client import OperatorClient
from operator_iac.plan.marker import Owner
from operator_iac.state.fetch import fetch_agent, fetch_not_behind
from operator_iac.state.floor import Floor
from operator_iac.state.journal import WritesJournal
from operator_iac.state.snapshot import RemoteAgent, RemoteVersion, VersionStatus


def _agent(*statuses: VersionStatus) -> RemoteAgent:
    return RemoteAgent("conversational_agent", "ca_1", tuple(
        RemoteVersion(f"ca_1@v{n}", n, status, "Desk", "") for n, status in enumerate(statuses)))


def test_a_read_showing_fewer_revisions_or_a_release_as_the_draft_is_behind() -> None:
    seen = Floor.of(_agent("archived", "released", "draft"))
    assert seen == Floor(newest=2, settled=1)
    assert seen.behind(_agent("archived", "released", "draft")) is None
    assert seen.behind(_agent("released", "archived", "archived", "released")) is None  # more
    assert "ends at ca_1@v1" in (seen.behind(_agent("archived", "released")) or "")
    released = Floor.of(_agent("archived", "archived", "released"))
    assert "ca_1@v2 reads as the draft" in (released.behind(_agent("archived", "released",
                                                                   "draft")) or "")
    # A rollback releases an older revision: nothing goes back that was seen.
    assert released.behind(_agent("released", "archived", "archived")) is None
    assert "is empty" in (seen.behind(_agent()) or "")


def test_a_plans_record_tells_the_same_and_a_floor_is_kept_as_text() -> None:
    assert Floor.of_ids(("ca_1@v0", "ca_1@v1", "ca_1@v2"), "ca_1@v2") == Floor(2, 1)
    assert Floor.of_ids(("ca_1@v0",), None) == Floor(0, 0)
    assert Floor.of_ids(("ca_1",), None) == Floor()  # an id without a number tells nothing
    assert Floor(3, 2).raised(Floor(1, 3)) == Floor(3, 3)
    # A release made here after what was kept is over what was kept settled; a read after
    # it leaves the release as it was.
    assert Floor(3, 3, 3, 3, 60.0).raised(Floor(2, 2, 1, 1, 50.0)) == Floor(3, 3, 3, 3, 60.0)
    assert Floor(1, 1, 1, 1, 60.0).raised(Floor(4, 4)) == Floor(4, 4, 1, 4, 60.0)
    assert Floor(5, 5).raised(Floor(2, 2, 1, 1, 60.0)) == Floor(5, 5, 1, 1, 60.0)
    assert Floor.parse(Floor(3, -1, 2, 2, 1.5).text()) == Floor(3, -1, 2, 2, 1.5)
    assert Floor.parse("") is None and Floor.parse("3 x 1 1 0") is None


def test_a_release_made_here_is_what_reads_show_for_as_long_as_they_may_trail() -> None:
    # v1 released again here (a rollback), where v2 had been seen released.
    rolled_back = Floor(2, 1, 1, 2, time.time())
    assert rolled_back.behind(_agent("archived", "released", "archived")) is None
    assert "ca_1@v2 reads as released, where v1 was released here" in (
        rolled_back.behind(_agent("archived", "archived", "released")) or "")
    assert rolled_back.behind(_agent("archived", "archived", "archived", "released")) is None
    long_ago = Floor(2, 1, 1, 2, time.time() - 3600)  # another may have released since
    assert long_ago.behind(_agent("archived", "archived", "released")) is None
    # v0 released here, v1 then a draft: someone's release of v1 since is no read behind.
    released = Floor(1, 0, 0, 0, time.time())
    assert released.behind(_agent("archived", "released")) is None
    # A read of one revision by its id: until when it reads as released, where made here.
    until = rolled_back.released_here_until(1)
    assert until is not None and time.time() < until <= time.time() + \
        defaults.VISIBILITY_TIMEOUT_S
    assert rolled_back.released_here_until(2) is None  # not released here
    assert rolled_back.released_here_until(None) is None  # an id without a number
    assert Floor(2, 1).released_here_until(1) is None  # nothing released here


def test_the_journal_keeps_the_most_seen_of_each_agent(tmp_path: Path) -> None:
    owner = Owner("acme", "staging")
    journal = WritesJournal(tmp_path, "http://platform", owner)
    journal.remember_seen([("conversational_agent", "ca_1", Floor(2, 1)),
                           ("procedural_agent", "pa_1", None)])
    # Another run on the machine saw less (a trailing read), then wrote a release.
    other = WritesJournal(tmp_path, "http://platform", owner)
    other.remember_seen([("conversational_agent", "ca_1", Floor(1, 1))])
    noted = other.intends("releasing", "conversational_agent", "ca_1", "ca_1@v3")
    other.answered(noted, "ca_1", "ca_1@v3")
    seen = WritesJournal(tmp_path, "http://platform", owner).seen()
    kept = seen[("conversational_agent", "ca_1")]
    assert kept is not None and (kept.newest, kept.settled, kept.released) == (3, 3, 3)
    assert seen[("procedural_agent", "pa_1")] is None


def test_a_read_behind_the_floor_is_read_again_until_it_shows_as_much(
        mock_client: Callable[..., OperatorClient], caplog: pytest.LogCaptureFixture) -> None:
    reads: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        reads.append(path)
        if path.endswith("/versions"):
            released = sum(p.endswith("/versions") for p in reads) >= 3  # a replica catches up
            return httpx.Response(200, json={"data": [
                {"version_id": "ca_1@v0", "name": "Desk", "description": "",
                 "version_status": "archived" if released else "released"},
                {"version_id": "ca_1@v1", "name": "Desk", "description": "",
                 "version_status": "released" if released else "draft"}]})
        number = path.rsplit("@v", 1)[-1]
        return httpx.Response(200, json={
            "id": "ca_1", "version_id": f"ca_1@v{number}", "name": "Desk", "description": "",
            "config": {}, "version_status": "released" if number == "1" else "archived"})

    client = mock_client(handle)
    # The package's own logger, whatever level a command run in this process left on it.
    with caplog.at_level(logging.INFO, logger="operator_iac"):
        agent = fetch_agent(client, "conversational_agent", "ca_1", floor=Floor(1, 1))
    assert agent.released is not None and agent.released.version_id == "ca_1@v1"
    assert sum(p.endswith("/versions") for p in reads) == 3
    assert "ca_1@v1 reads as the draft, where v1 was seen released" in caplog.text


def test_agents_that_never_catch_up_cost_one_wait_together() -> None:
    """Read again together, agents whose reads stay behind (a rollback made elsewhere where
    only ``is_released`` is told) share one bounded wait: not one each."""
    slept: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        agent_id = request.url.path.split("/")[2].partition("@")[0]
        if request.url.path.endswith("/versions"):
            return httpx.Response(200, json={"data": [
                {"version_id": f"{agent_id}@v0", "name": "Desk", "description": "",
                 "version_status": "released"}]})
        return httpx.Response(200, json={
            "id": agent_id, "version_id": f"{agent_id}@v0", "name": "Desk", "description": "",
            "config": {}, "version_status": "released"})

    def pauses(client_sleep: list[float], count: int) -> float:
        with OperatorClient("https://api.example.test", "op_test_key",
                            transport=httpx.MockTransport(handle), sleep=client_sleep.append,
                            max_retries=0) as client:
            read = fetch_not_behind(client, [("conversational_agent", f"ca_{n}", Floor(1, 1))
                                             for n in range(count)])
        assert all(isinstance(agent, RemoteAgent) for agent in read.values())
        return sum(client_sleep)

    alone = pauses(slept, 1)
    together = pauses([], 5)
    assert alone >= defaults.VISIBILITY_TIMEOUT_S and together == alone


def test_the_journal_keeps_the_description_limit_learnt_and_sweeps_it_when_old(
        tmp_path: Path) -> None:
    from operator_iac.state import journal as journals

    owner = Owner("acme", "staging")
    WritesJournal(tmp_path, "http://platform", owner).remember_description_limit(255)
    assert WritesJournal(tmp_path, "http://platform", owner).description_limit() == 255
    assert WritesJournal(tmp_path, "http://other", owner).description_limit() is None
    journal = WritesJournal(tmp_path, "http://platform", owner)
    limit = journal.folder.with_name(f"{journal.folder.name}.limit")
    old = time.time() - journals.KEEP_S - 10
    os.utime(limit, (old, old))
    assert journal.description_limit() is None  # too old to trust
    journals._sweep_once(tmp_path)
    assert not limit.exists()
