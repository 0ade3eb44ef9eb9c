"""Conversations, tokens, customers, context and procedures over real loopback HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jsonschema
import pytest

from operator_iac.emulator.server import EmulatorServer

from .raw_http import VERSION, raw_client

SUMMARY_SCHEMA = {"type": "object", "properties": {
    "is_qualified": {"type": "boolean"}, "reason": {"type": "string"},
    "topics": {"type": "array", "items": {"enum": ["billing", "booking"]}}},
    "required": ["is_qualified", "reason"]}


@pytest.fixture
def api(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with raw_client(emulator) as client:
        yield client


@pytest.fixture
def make_agents(api: httpx.Client) -> Callable[..., tuple[str, str]]:
    """A procedural agent and a conversational agent that post-processes with it."""

    def make(release: bool = True, variables: list[dict[str, Any]] | None = None,
             filter_statuses: list[str] | None = None,
             release_procedural: bool = True) -> tuple[str, str]:
        pa_config = {"filter_statuses": filter_statuses or ["completed"],
                     "output": {"output_schema": SUMMARY_SCHEMA}}
        pa = api.post("/procedural_agents", json={"name": "call-summary", "description": "d",
                                                  "config": pa_config}).json()["id"]
        if release_procedural:
            api.post(f"/procedural_agents/{pa}/release")
        ca_config = {"personas": [{"name": "Amanda"}],
                     "runtime": {"variables": variables or []},
                     "tool": {"tools": [{"ns": "syscall", "name": "check_availability"}]}}
        ca = api.post("/conversational_agents", json={
            "name": "Booking", "description": "d", "config": ca_config,
            "postprocess_agents": [pa]}).json()["id"]
        if release:
            api.post(f"/conversational_agents/{ca}@v0/release")
        return ca, pa

    return make


@pytest.fixture
def start_conversation(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    def start(agent_id: str, channel: str = "chat_realtime", **body: Any) -> dict[str, Any]:
        response = api.post("/conversations", json={"agent_id": agent_id,
                                                    "channel": {"type": channel}, **body})
        assert response.status_code == 200, response.text
        return dict(response.json())

    return start


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)


def run_chat(server: EmulatorServer, created: dict[str, Any]) -> None:
    """Start and end a chat session over the WebSocket."""
    import json

    from websockets.sync.client import connect

    with connect(created["channel"]["session_url"], open_timeout=5) as ws:
        for n, kind in enumerate(["conversation.start", "conversation.end"]):
            ws.send(json.dumps({"id": str(n), "payload": {"type": kind}}))
        while True:
            try:
                ws.recv(timeout=5)
            except Exception:  # the server closed the socket after conversation.ended
                return


# ---- creation rules -------------------------------------------------------------------------


def test_bare_id_needs_a_released_revision(api: httpx.Client,
                                           make_agents: Callable[..., tuple[str, str]],
                                           start_conversation: Callable[..., dict[str, Any]],
                                           ) -> None:
    ca, _ = make_agents(release=False)
    response = api.post("/conversations", json={"agent_id": ca,
                                                "channel": {"type": "chat_realtime"}})
    assert error_of(response) == (409, "no_released_version")
    pinned = start_conversation(f"{ca}@v0", livemode=False)
    assert api.get(f"/conversations/{pinned['id']}").json()["agent_id"] == f"{ca}@v0"


def test_bare_id_binds_the_released_revision(api: httpx.Client,
                                             make_agents: Callable[..., tuple[str, str]],
                                             start_conversation: Callable[..., dict[str, Any]],
                                             ) -> None:
    ca, _ = make_agents()
    api.put(f"/conversational_agents/{ca}", json={"name": "draft"})
    created = start_conversation(ca)
    conversation = api.get(f"/conversations/{created['id']}").json()
    assert conversation["agent_id"] == f"{ca}@v0"
    assert conversation["livemode"] is True and conversation["status"] == "queued"
    assert conversation["channel_type"] == "chat_realtime"
    assert conversation["direction"] == "inbound"
    assert conversation["started_at"] is None and conversation["duration_sec"] is None


@pytest.mark.parametrize(("agent_id", "expected"), [
    ("ca_doesnotexist", (404, "not_found")),
    ("pa_doesnotexist", (404, "not_found")),
    ("ca_x@vfoo", (400, "invalid_version_id")),
])
def test_unknown_or_malformed_agent_ids(api: httpx.Client, agent_id: str,
                                        expected: tuple[int, str]) -> None:
    response = api.post("/conversations", json={"agent_id": agent_id,
                                                "channel": {"type": "chat_realtime"}})
    assert error_of(response) == expected


def test_unknown_revision_is_404(api: httpx.Client,
                                 make_agents: Callable[..., tuple[str, str]]) -> None:
    ca, _ = make_agents()
    response = api.post("/conversations", json={"agent_id": f"{ca}@v99",
                                                "channel": {"type": "chat_realtime"}})
    assert error_of(response) == (404, "not_found")


MISSING = object()


@pytest.mark.parametrize("changes", [
    {"agent_id": MISSING},
    {"agent_id": 7},
    {"channel": MISSING},
    {"channel": {"type": "carrier_pigeon"}},
    {"channel": "chat_realtime"},
    {"livemode": "false"},
    {"context": []},
    {"context": {"$customer": "Dana"}},
    {"context": {"$variables": {"name": ["x"]}}},
    {"override_config": {"personas": "x"}},
    {"channel": {"type": "phone"}},
])
def test_invalid_conversation_bodies_are_422(api: httpx.Client,
                                             make_agents: Callable[..., tuple[str, str]],
                                             changes: dict[str, Any]) -> None:
    ca, _ = make_agents()
    body = {"agent_id": ca, "channel": {"type": "chat_realtime"}, **changes}
    payload = {key: value for key, value in body.items() if value is not MISSING}
    assert error_of(api.post("/conversations", json=payload)) == (422, "validation_error")


def test_missing_prompt_variables_are_422(api: httpx.Client,
                                          make_agents: Callable[..., tuple[str, str]],
                                          start_conversation: Callable[..., dict[str, Any]],
                                          ) -> None:
    ca, _ = make_agents(variables=[{"name": "customer_name", "description": "who"},
                                   {"name": "tone", "default_value": "warm"}])
    response = api.post("/conversations", json={"agent_id": ca,
                                                "channel": {"type": "chat_realtime"}})
    assert error_of(response) == (422, "missing_variables")
    assert "customer_name" in response.json()["error"]["message"]
    start_conversation(ca, context={"$variables": {"customer_name": "Dana"}})


def test_channels_of_the_create_response(emulator: EmulatorServer,
                                         make_agents: Callable[..., tuple[str, str]],
                                         start_conversation: Callable[..., dict[str, Any]],
                                         ) -> None:
    ca, _ = make_agents()
    chat = start_conversation(ca)
    channel = chat["channel"]
    assert set(channel) == {"type", "token", "events_url", "session_url"}
    assert channel["events_url"] == f"{emulator.url}/conversations/{chat['id']}/events"
    assert channel["session_url"] == (
        f"{emulator.ws_url}/conversations/{chat['id']}/session?token={channel['token']}")
    phone_body = {"agent_id": ca, "channel": {"type": "phone", "callee_no": "+15550100",
                                              "caller_no": "+15550199"}}
    with httpx.Client(base_url=emulator.url, timeout=5, headers={
            "Authorization": f"Bearer {emulator.api_key}", "Operator-Version": VERSION}) as api:
        phone = api.post("/conversations", json=phone_body).json()
        assert set(phone["channel"]) == {"type", "callee_no", "caller_no", "token", "events_url"}
        assert api.get(f"/conversations/{phone['id']}").json()["direction"] == "outbound"


def test_customers_come_from_the_context(api: httpx.Client,
                                         make_agents: Callable[..., tuple[str, str]],
                                         start_conversation: Callable[..., dict[str, Any]],
                                         ) -> None:
    ca, _ = make_agents()
    customer = {"name": "Dana", "email": "dana@example.com", "external_id": "crm-7"}
    first = start_conversation(ca, context={"$customer": customer})
    second = start_conversation(ca, context={"$customer": {"external_id": "crm-7"}})
    ids = {api.get(f"/conversations/{c['id']}").json()["customer_id"] for c in (first, second)}
    (customer_id,) = ids
    assert customer_id.startswith("cus_")
    got = api.get(f"/customers/{customer_id}").json()
    assert (got["id"], got["name"], got["email"]) == (customer_id, "Dana", "dana@example.com")
    assert error_of(api.get("/customers/cus_nobody")) == (404, "not_found")


# ---- list, delete, tokens, context ----------------------------------------------------------


def test_list_filters_and_paginates(emulator_factory: Callable[..., EmulatorServer]) -> None:
    server = emulator_factory(page_size=2)
    headers = {"Authorization": f"Bearer {server.api_key}", "Operator-Version": VERSION}
    with httpx.Client(base_url=server.url, headers=headers, timeout=5) as api:
        ca = api.post("/conversational_agents", json={"name": "a", "description": "d",
                                                      "config": {}}).json()["id"]
        made = [api.post("/conversations", json={"agent_id": f"{ca}@v0", "channel": {
            "type": "chat_async"}}).json()["id"] for _ in range(3)]
        first = api.get("/conversations").json()
        assert len(first["data"]) == 2 and first["cursor"]
        rest = api.get("/conversations", params={"cursor": first["cursor"]}).json()
        assert {c["id"] for c in first["data"] + rest["data"]} == set(made)
        assert rest["cursor"] is None
        created = first["data"][0]["created_at"]
        # the three may straddle a second: those created at or after the first listed one,
        # as many as a page holds
        stamps = [c["created_at"] for c in first["data"] + rest["data"]]
        expected = min(2, sum(1 for stamp in stamps if stamp >= created))
        assert len(api.get("/conversations", params={"created_at_gte": created,
                                                      "created_at_lt": "2999-01-01T00:00:00Z"}
                           ).json()["data"]) == expected
        assert api.get("/conversations", params={"created_at_lt": "2000-01-01T00:00:00Z"}
                       ).json()["data"] == []
        assert api.get("/conversations", params={"completed_at_gte": "2000-01-01T00:00:00Z"}
                       ).json()["data"] == []
        bad = api.get("/conversations", params={"created_at_gte": "yesterday"})
        assert error_of(bad) == (400, "invalid_parameter")


def test_delete_rules(emulator: EmulatorServer, api: httpx.Client,
                      make_agents: Callable[..., tuple[str, str]],
                      start_conversation: Callable[..., dict[str, Any]]) -> None:
    ca, _ = make_agents()
    queued_live = start_conversation(ca)
    assert api.delete(f"/conversations/{queued_live['id']}").json() == {
        "id": queued_live["id"], "deleted": True}
    assert error_of(api.get(f"/conversations/{queued_live['id']}")) == (404, "not_found")
    finished_live = start_conversation(ca)
    run_chat(emulator, finished_live)
    response = api.delete(f"/conversations/{finished_live['id']}")
    assert error_of(response) == (409, "conversation_not_deletable")
    finished_test = start_conversation(ca, livemode=False)
    run_chat(emulator, finished_test)
    assert api.delete(f"/conversations/{finished_test['id']}").status_code == 200
    assert error_of(api.delete("/conversations/conv_nothing")) == (404, "not_found")


def test_token_refresh_invalidates_the_old_token(emulator: EmulatorServer, api: httpx.Client,
                                                 make_agents: Callable[..., tuple[str, str]],
                                                 start_conversation: Callable[..., Any]) -> None:
    ca, _ = make_agents()
    created = start_conversation(ca)
    old = created["channel"]["token"]
    refreshed = api.post(f"/conversations/{created['id']}/token/refresh").json()
    assert set(refreshed) == {"token", "expires_at"} and refreshed["token"] != old
    events = f"{emulator.url}/conversations/{created['id']}/events"
    with httpx.Client(timeout=5) as raw:
        assert raw.get(events, params={"token": old}).status_code == 401
        with raw.stream("GET", events, params={"token": refreshed["token"]}) as stream:
            assert stream.status_code == 200
    assert error_of(api.post("/conversations/conv_x/token/refresh")) == (404, "not_found")


def test_context_update_records_an_event(api: httpx.Client,
                                         make_agents: Callable[..., tuple[str, str]],
                                         start_conversation: Callable[..., Any]) -> None:
    ca, _ = make_agents()
    created = start_conversation(ca, context={"plan": "basic"})
    response = api.post(f"/conversations/{created['id']}/context",
                        json={"context": {"verified": True}})
    assert response.json()["context"] == {"plan": "basic", "verified": True}
    wrong = api.post(f"/conversations/{created['id']}/context", json={"context": "yes"})
    assert error_of(wrong) == (422, "validation_error")
    assert error_of(api.post("/conversations/conv_x/context", json={"context": {}})) == (
        404, "not_found")


# ---- procedures -----------------------------------------------------------------------------


def test_post_processing_runs_after_the_end(emulator: EmulatorServer, api: httpx.Client,
                                            make_agents: Callable[..., tuple[str, str]],
                                            start_conversation: Callable[..., Any]) -> None:
    ca, pa = make_agents()
    created = start_conversation(ca, livemode=False)
    run_chat(emulator, created)
    url = f"/conversations/{created['id']}/procedures"
    page = wait_for(lambda: [p for p in api.get(url).json()["page"] if p["status"] == "success"])
    (procedure,) = page
    assert procedure["agent_id"] == pa and procedure["agent_version_id"] == f"{pa}@v0"
    assert procedure["livemode"] is False and procedure["name"] == "call-summary"
    jsonschema.validate(procedure["output"], SUMMARY_SCHEMA)
    assert procedure["summary"] and procedure["error"] is None
    assert api.get(f"/procedures/{procedure['id']}").json() == procedure
    conversation = api.get(f"/conversations/{created['id']}").json()
    assert conversation["status"] == "completed" and conversation["duration_sec"] is not None


def test_procedures_on_demand_and_their_lists(api: httpx.Client,
                                              make_agents: Callable[..., tuple[str, str]],
                                              start_conversation: Callable[..., Any]) -> None:
    ca, pa = make_agents()
    conversation_id = start_conversation(ca)["id"]
    created = api.post("/procedures", json={"agent_id": pa, "conversation_id": conversation_id,
                                            "livemode": False}).json()
    assert created["id"].startswith("trun_")
    first = api.get(f"/procedures/{created['id']}").json()["status"]
    assert first in ("pending", "running", "success")
    assert wait_for(lambda: api.get(f"/procedures/{created['id']}").json()["status"]
                    == "success")
    for url, params in [("/procedures", {"agent_id": pa}),
                        ("/procedures", {"agent_id": f"{pa}@v0"}),
                        ("/procedures", {"conversation_id": conversation_id}),
                        (f"/conversations/{conversation_id}/procedures", {}),
                        (f"/procedural_agents/{pa}/procedures", {})]:
        listed = api.get(url, params=params).json()
        assert [p["id"] for p in listed["page"]] == [created["id"]], url
        assert listed["cursor"] is None
    assert api.get("/procedures", params={"agent_id": "pa_other"}).json()["page"] == []


def test_procedure_bad_input(api: httpx.Client, make_agents: Callable[..., tuple[str, str]],
                             start_conversation: Callable[..., Any]) -> None:
    ca, _ = make_agents()
    conversation_id = start_conversation(ca)["id"]
    unreleased = api.post("/procedural_agents", json={"name": "p", "description": "d",
                                                      "config": {}}).json()["id"]
    assert error_of(api.post("/procedures", json={
        "agent_id": unreleased, "conversation_id": conversation_id})) == (
        409, "no_released_version")
    assert error_of(api.post("/procedures", json={
        "agent_id": f"{unreleased}@v0", "conversation_id": "conv_none"})) == (404, "not_found")
    assert error_of(api.post("/procedures", json={"agent_id": 3})) == (422, "validation_error")
    assert error_of(api.get("/procedures/trun_none")) == (404, "not_found")
    assert error_of(api.get("/conversations/conv_none/procedures")) == (404, "not_found")
    assert error_of(api.get("/procedural_agents/pa_none/procedures")) == (404, "not_found")


def test_filters_and_unreleased_post_processors(emulator: EmulatorServer, api: httpx.Client,
                                                make_agents: Callable[..., tuple[str, str]],
                                                start_conversation: Callable[..., Any]) -> None:
    ca, _ = make_agents(filter_statuses=["failed"])
    filtered = start_conversation(ca, livemode=False)
    run_chat(emulator, filtered)
    ca_skip, _ = make_agents(release_procedural=False)
    skipped = start_conversation(ca_skip, livemode=False)
    run_chat(emulator, skipped)
    # Runs are created before the session closes, so the lists are final now.
    assert api.get(f"/conversations/{filtered['id']}/procedures").json()["page"] == []
    (run,) = api.get(f"/conversations/{skipped['id']}/procedures").json()["page"]
    assert run["status"] == "skipped" and "no released revision" in run["error"]


@pytest.mark.parametrize(("outcome", "final"), [("fail", "failed"), ("hang", "running")])
def test_procedure_outcome_faults(emulator: EmulatorServer, api: httpx.Client,
                                  make_agents: Callable[..., tuple[str, str]],
                                  start_conversation: Callable[..., Any], outcome: str,
                                  final: str) -> None:
    emulator.set_faults(procedure_outcome=outcome)
    ca, pa = make_agents()
    conversation_id = start_conversation(ca)["id"]
    run_id = api.post("/procedures", json={"agent_id": pa,
                                           "conversation_id": conversation_id}).json()["id"]
    status = wait_for(lambda: api.get(f"/procedures/{run_id}").json()["status"] == final)
    assert status
    procedure = api.get(f"/procedures/{run_id}").json()
    assert procedure["output"] is None
    if outcome == "fail":
        assert procedure["error"]
