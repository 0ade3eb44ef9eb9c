"""Reading the snapshot (``state.fetch``): every listed agent read in depth as a chain of steps
queued behind the waiting work, agents deleted since the listing left out, and any failure
(of a listing, a read, or what follows a read) raised instead of a wait without end."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.errors import OperatorIacError
from operator_iac.state.fetch import fetch_snapshot
from operator_iac.state.snapshot import RemoteAgent

KINDS = {"conversational_agents": "ca", "procedural_agents": "pa"}


class FakePlatform:
    """Two agents of each kind, each with one released revision; ``fail`` maps a path to
    the status it answers with instead."""

    def __init__(self, fail: dict[str, int] | None = None) -> None:
        self.fail = fail or {}
        self.paths: list[str] = []
        self._lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        with self._lock:
            self.paths.append(path)
        if path in self.fail:
            return httpx.Response(self.fail[path], json={"error": {"message": "refused"}})
        parts = path.strip("/").split("/")
        prefix = KINDS[parts[0]]
        if len(parts) == 1:
            return httpx.Response(200, json={"data": [_item(f"{prefix}_{n}") for n in range(2)]})
        if parts[-1] == "versions":
            return httpx.Response(200, json={"data": [{"version_id": f"{parts[1]}@v0", "name": "n",
                                         "description": "", "version_status": "released"}]})
        agent_id = parts[1].split("@")[0]
        return httpx.Response(200, json={**_item(agent_id), "config": {}})


def _item(agent_id: str) -> dict[str, object]:
    return {"id": agent_id, "version_id": f"{agent_id}@v0", "name": "n", "description": "",
            "version_status": "released"}


def test_each_step_waits_behind_the_work_already_queued(
        mock_client: Callable[..., OperatorClient]) -> None:
    """One slot: of each kind, every versions list is read before any revision, and every
    revision before anything ``after`` reads. A task holding its slot for a whole agent would
    alternate. (Which kind's list comes first, and whether the second list is queued before
    the first kind's reads, is the threads' race: not asserted.)"""
    platform = FakePlatform()
    told: list[str] = []
    snapshot = fetch_snapshot(mock_client(platform.handle), parallelism=1,
                              after=lambda agent: told.append(agent.id))
    assert sorted(a.id for a in snapshot.agents) == ["ca_0", "ca_1", "pa_0", "pa_1"]
    assert all(a.released is not None for a in snapshot.agents)
    for kind in KINDS:
        steps = ["versions" if p.endswith("/versions") else "revision" if "@" in p else "list"
                 for p in platform.paths if p.startswith(f"/{kind}")]
        assert steps == ["list"] + ["versions"] * 2 + ["revision"] * 2, kind
    assert sorted(told) == ["ca_0", "ca_1", "pa_0", "pa_1"]


def test_the_snapshot_keeps_the_listing_order_of_each_kind(
        mock_client: Callable[..., OperatorClient]) -> None:
    snapshot = fetch_snapshot(mock_client(FakePlatform().handle), parallelism=8)
    assert [a.id for a in snapshot.agents] == ["pa_0", "pa_1", "ca_0", "ca_1"]


def test_an_agent_deleted_since_the_listing_is_left_out(
        mock_client: Callable[..., OperatorClient]) -> None:
    platform = FakePlatform(fail={"/conversational_agents/ca_1/versions": 404,
                                  "/procedural_agents/pa_0@v0": 410})
    snapshot = fetch_snapshot(mock_client(platform.handle), parallelism=4)
    assert sorted(a.id for a in snapshot.agents) == ["ca_0", "pa_1"]


@pytest.mark.parametrize("path", ["/procedural_agents", "/conversational_agents/ca_0/versions",
                                  "/procedural_agents/pa_1@v0"])
def test_a_failed_read_is_raised(mock_client: Callable[..., OperatorClient],
                                 path: str) -> None:
    platform = FakePlatform(fail={path: 403})
    with pytest.raises(OperatorIacError):
        fetch_snapshot(mock_client(platform.handle), parallelism=2)


def test_a_failure_of_what_follows_a_read_is_raised(
        mock_client: Callable[..., OperatorClient]) -> None:
    def after(agent: RemoteAgent) -> None:
        if agent.id == "ca_1":
            raise RuntimeError("a bug in what follows")

    with pytest.raises(RuntimeError, match="a bug in what follows"):
        fetch_snapshot(mock_client(FakePlatform().handle), parallelism=3, after=after)


def test_listed_is_told_once_both_lists_are_read_and_before_the_reads_they_queued_end(
        mock_client: Callable[..., OperatorClient]) -> None:
    """What a command waits for before loading its declarations beside the reads
    (``ReadAhead.lead``): told once, when both lists are read, while the reads they queued
    wait (here, until it is told)."""
    platform, told, go = FakePlatform(), list[list[str]](), threading.Event()

    def reads_wait_for_listed(request: httpx.Request) -> httpx.Response:
        if request.url.path.strip("/").count("/"):
            assert go.wait(timeout=10)
        return platform.handle(request)

    def listed() -> None:
        told.append(list(platform.paths))
        go.set()

    snapshot = fetch_snapshot(mock_client(reads_wait_for_listed), parallelism=8, listed=listed)
    assert told == [["/procedural_agents", "/conversational_agents"]] or \
        told == [["/conversational_agents", "/procedural_agents"]]
    assert len(snapshot.agents) == 4 and len(platform.paths) == 2 + 2 * 4


def _revisions(draft_prompt: str) -> dict[str, dict[str, object]]:
    """v0 released, v1 released after it (an edit) and rolled back from, v2 a draft."""
    def revision(number: int, status: str, prompt: str, description: str) -> dict[str, object]:
        return {"id": "ca_1", "version_id": f"ca_1@v{number}", "name": "Booking",
                "description": description, "version_status": status,
                "config": {"runtime": {"prompt": {"text": prompt}}}}

    return {"ca_1@v0": revision(0, "released", "Ours.", "marker A"),
            "ca_1@v1": revision(1, "archived", "Edited.", "marker A"),
            "ca_1@v2": revision(2, "draft", draft_prompt, "marker A")}


@pytest.mark.parametrize(("draft_prompt", "pending"), [("Edited.", False),
                                                       ("Edited again.", True)])
def test_a_draft_holding_what_an_archived_revision_holds_is_nobodys_work(
        mock_client: Callable[..., OperatorClient], draft_prompt: str, pending: bool) -> None:
    """A platform that opens a draft beside every release, rolled back from an edit: the
    draft it copied from the edit stays. The newest archived revision whose versions-list
    entry may hold the same is read once, and the draft, holding just that, is no pending
    work; a draft holding one word more is."""
    from operator_iac.state.fetch import fetch_agent

    revisions = _revisions(draft_prompt)
    paths: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path.endswith("/versions"):
            return httpx.Response(200, json={"data": [
                {k: v for k, v in r.items() if k != "config"} for r in revisions.values()]})
        return httpx.Response(200, json=revisions[request.url.path.rsplit("/", 1)[1]])

    agent = fetch_agent(mock_client(handle), "conversational_agent", "ca_1")

    assert agent.draft is not None and agent.draft.version_id == "ca_1@v2"
    assert (agent.pending_draft is not None) is pending
    assert (agent.draft_kept_in is not None) is not pending
    assert sorted(p for p in paths if "@" in p) == [
        f"/conversational_agents/ca_1@v{n}" for n in range(3)]
