"""The emulator's platform variations that change stored forms, empty values, shapes and
consistency, observed over real loopback HTTP and WebSocket connections (without the
project's client, so that a bug shared by both cannot hide)."""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

from operator_iac.api.client import OperatorClient
from operator_iac.emulator.server import EmulatorServer

from .raw_http import raw_client

CA = "/conversational_agents"
PA = "/procedural_agents"
DECOMPOSED = unicodedata.normalize("NFD", "Café crème")


@pytest.fixture
def api(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with raw_client(emulator) as client:
        yield client


@pytest.fixture
def make_agent(api: httpx.Client) -> Callable[..., str]:
    def make(release: bool = True, path: str = CA, description: str = "d",
             **config: Any) -> str:
        agent_id = str(api.post(path, json={"name": "A", "description": description,
                                            "config": config}).json()["id"])
        if release:
            api.post(f"{path}/{agent_id}/release")
        return agent_id

    return make


def chat(emulator: EmulatorServer, api: httpx.Client, agent_id: str,
         **context: Any) -> dict[str, Any]:
    created: dict[str, Any] = api.post("/conversations", json={
        "agent_id": agent_id, "channel": {"type": "chat_realtime"}, "livemode": False,
        "context": context}).json()
    return created


def sse_types(api: httpx.Client, conversation_id: str, last: str) -> list[str]:
    """The event types of a conversation's stream, up to the first ``last``."""
    types: list[str] = []
    with api.stream("GET", f"/conversations/{conversation_id}/events") as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                types.append(json.loads(line[5:])["payload"]["type"])
                if types[-1] == last:
                    return types
    return types


# ---- stored forms ---------------------------------------------------------------------------


def test_stored_forms_change_every_value_of_their_kind(emulator: EmulatorServer,
                                                       api: httpx.Client,
                                                       make_agent: Callable[..., str]) -> None:
    emulator.set_compat("dated_models", "sorted_lists", "nfc_text")
    agent_id = make_agent(
        release=False, description=DECOMPOSED,
        runtime={"model": "openai/gpt-4o", "prompt": {"type": "fixed", "text": DECOMPOSED}},
        voice={"boosted_keywords": ["zeta", "alpha", "Mid"]},
        language={"default_language": "English",
                  "supported_languages": ["Spanish", "English"]})
    stored = api.get(f"{CA}/{agent_id}@v0").json()
    assert stored["config"]["runtime"]["model"] == "openai/gpt-4o-2024-08-06"
    assert stored["config"]["voice"]["boosted_keywords"] == ["Mid", "alpha", "zeta"]
    assert stored["config"]["language"]["supported_languages"] == ["English", "Spanish"]
    composed = unicodedata.normalize("NFC", DECOMPOSED)
    assert stored["description"] == composed != DECOMPOSED
    assert stored["config"]["runtime"]["prompt"]["text"] == composed
    # PUTs, procedural agents and dashboard edits are stored the same way; dates stay.
    api.put(f"{CA}/{agent_id}", json={"config": {"runtime": {"model": "acme/m-2023-01-31"}}})
    assert api.get(f"{CA}/{agent_id}").json()["config"]["runtime"]["model"] == \
        "acme/m-2023-01-31"
    procedural = make_agent(path=PA, runtime={"model": "openai/gpt-4o-mini"},
                            filter_statuses=["failed", "completed"])
    config = api.get(f"{PA}/{procedural}").json()["config"]
    assert config["runtime"]["model"] == "openai/gpt-4o-mini-2024-07-18"
    assert config["filter_statuses"] == ["completed", "failed"]
    edited = emulator.edit_revision(f"{procedural}@v0",
                                    config={"runtime": {"model": "anthropic/claude"}})
    assert edited.config["runtime"]["model"] == "anthropic/claude-2025-01-01"


# ---- empty values and shapes ----------------------------------------------------------------


def test_empty_strings_come_back_as_null_and_nulls_can_be_left_out(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    agent_id = make_agent(description="", runtime={"variables": [
        {"name": "who", "description": "", "default_value": None}]})
    emulator.set_compat("null_empty")
    agent = api.get(f"{CA}/{agent_id}").json()
    assert agent["description"] is None
    assert agent["config"]["runtime"]["variables"] == [
        {"name": "who", "description": None, "default_value": None}]
    (item,) = api.get(CA).json()["data"]
    (version,) = api.get(f"{CA}/{agent_id}/versions").json()["data"]
    assert item["description"] is None and version["description"] is None

    emulator.set_compat("null_empty", "omit_nulls")
    agent = api.get(f"{CA}/{agent_id}").json()
    assert "description" not in agent
    assert agent["config"]["runtime"]["variables"] == [{"name": "who"}]
    assert "description" not in api.get(CA).json()["data"][0]
    created = chat(emulator, api, agent_id, **{"$variables": {"who": "x"}})
    conversation = api.get(f"/conversations/{created['id']}").json()
    assert conversation["status"] == "queued"
    assert "started_at" not in conversation and "completed_at" not in conversation


def test_procedure_output_as_a_json_encoded_string(emulator: EmulatorServer,
                                                   api: httpx.Client,
                                                   make_agent: Callable[..., str]) -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}},
              "required": ["ok"]}
    procedural = make_agent(path=PA, output={"output_schema": schema})
    conversation = chat(emulator, api, make_agent())["id"]
    emulator.set_compat("output_as_string")
    run = api.post("/procedures", json={"agent_id": procedural,
                                        "conversation_id": conversation}).json()["id"]
    deadline = time.monotonic() + 5
    while (body := api.get(f"/procedures/{run}").json())["status"] != "success":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert isinstance(body["output"], str) and json.loads(body["output"]) == {"ok": True}
    (listed,) = api.get("/procedures", params={"conversation_id": conversation}).json()["page"]
    assert listed["output"] == body["output"]


def test_relative_session_url_and_a_session_of_the_agents_own_events(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    emulator.set_compat("relative_session_url", "agent_events_only_ws")
    created = chat(emulator, api, make_agent())
    url = created["channel"]["session_url"]
    assert url == f"/conversations/{created['id']}/session?token={created['channel']['token']}"
    received: list[str] = []
    with connect(f"{emulator.ws_url}{url}", open_timeout=5) as ws:
        for number, kind in enumerate(("conversation.start", "user.message.send")):
            ws.send(json.dumps({"id": str(number), "payload": {"type": kind, "text": "Hi"}}))
            while not received or received[-1] != "agent.message.completed" or (
                    number and received.count("agent.message.completed") < 2):
                received.append(json.loads(ws.recv(timeout=5))["payload"]["type"])
        ws.send(json.dumps({"id": "end", "payload": {"type": "conversation.end"}}))
        with pytest.raises(ConnectionClosedOK):  # closed with nothing sent: no agent event
            ws.recv(timeout=5)
    assert received and all(t.startswith("agent.") for t in received)
    streamed = sse_types(api, created["id"], "conversation.ended")
    assert {"conversation.started", "user.message.received"} <= set(streamed)
    assert [t for t in streamed if t.startswith("agent.")] == received


def test_a_conversation_nobody_joins_ends_a_minute_after_its_creation_under_unjoined_end(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    emulator.set_faults(compat=["unjoined_end"])
    agent = make_agent()
    left, joined = chat(emulator, api, agent), chat(emulator, api, agent)
    with connect(joined["channel"]["session_url"], open_timeout=5) as ws:
        ws.send(json.dumps({"id": "0", "payload": {"type": "conversation.start"}}))
        while json.loads(ws.recv(timeout=5))["payload"]["type"] != "conversation.started":
            pass
    emulator.advance_clock(30)
    assert api.get(f"/conversations/{left['id']}").json()["status"] == "queued"
    emulator.advance_clock(31)

    ended = api.get(f"/conversations/{left['id']}").json()
    assert (ended["status"], ended["failure_reason"]) == ("failed", "agent_timeout")
    assert ended["completed_at"] is not None
    assert api.get(f"/conversations/{joined['id']}").json()["status"] == "in-progress"
    assert sse_types(api, left["id"], "conversation.ended")[-1] == "conversation.ended"
    listed = {c["id"]: c["status"] for c in api.get("/conversations").json()["data"]}
    assert listed[left["id"]] == "failed"
    assert api.delete(f"/conversations/{left['id']}").status_code == 200  # testmode: always


# ---- eventual consistency -------------------------------------------------------------------


def test_the_agents_list_trails_creates_and_deletes_by_list_lag(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    early = make_agent()
    emulator.advance_clock(60)  # long before the lag starts
    emulator.set_faults(list_lag=30.0)
    late = make_agent()

    def listed() -> list[str]:
        return [item["id"] for item in api.get(CA).json()["data"]]

    assert listed() == [early]
    assert api.get(f"{CA}/{late}").status_code == 200  # by id: at once
    emulator.advance_clock(31)
    assert listed() == [early, late]
    assert api.delete(f"{CA}/{early}").json()["deleted"] is True
    assert api.get(f"{CA}/{early}").status_code == 404
    assert listed() == [early, late]
    emulator.advance_clock(31)
    assert listed() == [late]


def test_the_agents_list_pages_through_agents_a_lagging_list_still_shows(
        emulator_factory: Callable[..., EmulatorServer]) -> None:
    small = emulator_factory(page_size=2)
    with raw_client(small) as client:
        made = [str(client.post(CA, json={"name": str(i), "description": "", "config": {}})
                    .json()["id"]) for i in range(5)]
        small.advance_clock(60)
        small.set_faults(list_lag=30.0)
        client.delete(f"{CA}/{made[1]}")
        client.delete(f"{CA}/{made[3]}")
        seen, cursor = [], None
        while True:
            page = client.get(CA, params={"cursor": cursor} if cursor else None).json()
            seen += [item["id"] for item in page["data"]]
            if not (cursor := page["cursor"]):
                break
        assert seen == made


def test_the_conversations_list_trails_creates_and_deletes_by_list_lag(
        emulator_factory: Callable[..., EmulatorServer]) -> None:
    """The same lag on the conversations list, across pages and through its time filters:
    a new conversation shows only once the lag has passed, and a deleted one until then."""
    small = emulator_factory(page_size=2)
    with raw_client(small) as client:
        agent = client.post(CA, json={"name": "a", "description": "", "config": {}}).json()
        client.post(f"{CA}/{agent['version_id']}/release")

        def converse() -> str:
            return str(client.post("/conversations", json={
                "agent_id": agent["id"], "channel": {"type": "chat_realtime"},
                "livemode": False}).json()["id"])

        def listed(**filters: str) -> list[str]:
            seen, cursor = [], None
            while True:
                params = {**filters, **({"cursor": cursor} if cursor else {})}
                page = client.get("/conversations", params=params).json()
                seen += [item["id"] for item in page["data"]]
                if not (cursor := page["cursor"]):
                    return seen

        early = [converse() for _ in range(3)]
        small.advance_clock(60)
        small.set_faults(list_lag=30.0)
        late = converse()
        for gone in early[:2]:
            client.delete(f"/conversations/{gone}")
        assert client.get(f"/conversations/{late}").status_code == 200  # by id: at once
        assert listed() == early[::-1]
        assert listed(created_at_gte="2000-01-01T00:00:00Z") == early[::-1]
        small.advance_clock(31)
        assert listed() == [late, early[2]]
        more = [converse() for _ in range(3)]  # pages of its own, nothing deleted among them
        small.advance_clock(31)
        assert listed() == [*more[::-1], late, early[2]]


def test_numeric_cursors_say_where_the_next_page_begins_and_the_client_reads_them_all(
        emulator_factory: Callable[..., EmulatorServer]) -> None:
    small = emulator_factory(page_size=2)
    small.set_compat("numeric_cursors")
    with raw_client(small) as client:
        made = [str(client.post(CA, json={"name": str(i), "description": "", "config": {}})
                    .json()["id"]) for i in range(5)]
        first = client.get(CA).json()
        last = client.get(CA, params={"cursor": "5"}).json()
    assert isinstance(first["cursor"], int) and first["has_more"] is True
    assert (last["cursor"], last["has_more"]) == (None, False)
    with OperatorClient(small.url, small.api_key) as operator:
        assert [a.id for a in operator.conversational_agents.list()] == made


def test_versions_and_statuses_trail_new_revisions_and_releases_by_versions_lag(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    agent_id = make_agent(release=False)
    emulator.advance_clock(60)
    emulator.set_faults(versions_lag=30.0)
    api.post(f"{CA}/{agent_id}@v0/release")
    draft = api.put(f"{CA}/{agent_id}", json={"description": "second"}).json()["version_id"]

    def versions() -> list[tuple[str, str]]:
        return [(v["version_id"], v["version_status"])
                for v in api.get(f"{CA}/{agent_id}/versions").json()["data"]]

    assert versions() == [(f"{agent_id}@v0", "draft")]
    assert api.get(f"{CA}/{agent_id}@v0").json()["version_status"] == "draft"
    written = api.get(f"{CA}/{draft}").json()  # read your writes by id
    assert written["description"] == "second" and written["version_status"] == "draft"
    (item,) = api.get(CA).json()["data"]
    assert (item["version_id"], item["version_status"]) == (f"{agent_id}@v0", "draft")
    emulator.advance_clock(31)
    assert versions() == [(f"{agent_id}@v0", "released"), (draft, "draft")]
    assert api.get(CA).json()["data"][0]["version_id"] == draft


def test_reads_by_id_trail_writes_by_read_lag(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    """A new revision is not found, and a rewritten one reads as it was, until ``read_lag``
    has passed; the versions list is not delayed by it."""
    agent_id = make_agent(release=False)
    emulator.advance_clock(60)
    emulator.set_faults(read_lag=30.0)
    api.put(f"{CA}/{agent_id}@v0", json={"description": "rewritten"})
    api.post(f"{CA}/{agent_id}@v0/release")
    draft = api.put(f"{CA}/{agent_id}", json={"description": "second"}).json()["version_id"]
    assert api.get(f"{CA}/{draft}").status_code == 404
    before = api.get(f"{CA}/{agent_id}@v0").json()
    assert (before["description"], before["version_status"]) == ("d", "draft")
    assert [v["version_id"] for v in api.get(f"{CA}/{agent_id}/versions").json()["data"]] == \
        [f"{agent_id}@v0", draft]
    emulator.advance_clock(31)
    after = api.get(f"{CA}/{agent_id}@v0").json()
    assert (after["description"], after["version_status"]) == ("rewritten", "released")
    assert api.get(f"{CA}/{draft}").json()["description"] == "second"


# ---- addressing, deletions and session tokens --------------------------------------------------


def test_bare_id_writes_refuse_an_address_with_a_revision(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    emulator.set_compat("bare_id_writes")
    agent_id = make_agent(release=False)
    refused = api.put(f"{CA}/{agent_id}@v0", json={"description": "addressed"})
    assert refused.status_code == 404
    assert api.put(f"{CA}/{agent_id}", json={"description": "bare"}).json()["version_id"] == \
        f"{agent_id}@v0"
    assert api.get(f"{CA}/{agent_id}@v0").json()["description"] == "bare"


def test_deleted_stubs_answer_a_read_of_a_deleted_agent_or_conversation_with_200(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    emulator.set_compat("deleted_stubs")
    agent_id = make_agent()
    conversation_id = chat(emulator, api, agent_id)["id"]
    assert api.delete(f"/conversations/{conversation_id}").status_code == 200
    assert api.delete(f"{CA}/{agent_id}").status_code == 200
    for path, gone in ((f"/conversations/{conversation_id}", conversation_id),
                       (f"{CA}/{agent_id}", agent_id), (f"{CA}/{agent_id}@v0", agent_id)):
        answer = api.get(path)
        assert (answer.status_code, answer.json()) == (200, {"id": gone, "deleted": True})
    assert api.get(f"{CA}/ca_neverMade").status_code == 404  # never made: not found


def test_no_chat_token_leaves_the_session_to_a_token_refresh(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    emulator.set_compat("no_chat_token")
    created = chat(emulator, api, make_agent())
    assert "token" not in created["channel"] and "session_url" not in created["channel"]
    token = api.post(f"/conversations/{created['id']}/token/refresh").json()["token"]
    with connect(f"{emulator.ws_url}/conversations/{created['id']}/session?token={token}",
                 open_timeout=5) as ws:
        ws.send(json.dumps({"id": "0", "payload": {"type": "conversation.start"}}))
        assert json.loads(ws.recv(timeout=5))["payload"]["type"].startswith(
            ("agent.", "conversation.", "server."))


def test_the_date_of_every_answer_is_the_accounts_clock(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    """``Date`` comes from the clock that stamps ``updated_at`` (as one platform's clocks
    agree), also once a test moved that clock."""
    from email.utils import parsedate_to_datetime

    from operator_iac.api.tolerance import moment_of

    emulator.advance_clock(3600)
    agent_id = make_agent(release=False)
    answer = api.put(f"{CA}/{agent_id}", json={"description": "now"})
    answered = parsedate_to_datetime(answer.headers["date"])
    updated = moment_of(api.get(f"{CA}/{agent_id}@v0").json()["updated_at"])
    assert updated is not None and abs((answered - updated).total_seconds()) < 2
    assert (answered.timestamp() - time.time()) > 3500
    assert len(answer.headers.get_list("date")) == 1
