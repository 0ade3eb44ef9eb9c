"""Fault injection, compatibility modes and the admin API of the emulator, observed over
real loopback HTTP, SSE and WebSocket connections."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from operator_iac.emulator.problems import Problem
from operator_iac.emulator.server import EmulatorServer

from .raw_http import raw_client

CA = "/conversational_agents"
PA = "/procedural_agents"


@pytest.fixture
def api(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with raw_client(emulator) as client:
        yield client


@pytest.fixture
def admin(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """The admin API needs the key but no version header."""
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    with httpx.Client(base_url=f"{emulator.url}/_emulator", headers=headers,
                      timeout=5) as client:
        yield client


@pytest.fixture
def make_agent(api: httpx.Client) -> Callable[..., str]:
    def make(release: bool = True, **config: Any) -> str:
        agent_id = str(api.post(CA, json={"name": "A", "description": "d",
                                          "config": config}).json()["id"])
        if release:
            api.post(f"{CA}/{agent_id}/release")
        return agent_id

    return make


def count_agents(api: httpx.Client) -> int:
    return len(api.get(CA).json()["data"])


# ---- faults ---------------------------------------------------------------------------------


def test_latency_is_added(emulator: EmulatorServer, api: httpx.Client) -> None:
    emulator.set_faults(latency_ms=120)
    began = time.monotonic()
    api.get(CA)
    assert time.monotonic() - began >= 0.11


def test_fail_next_gives_exact_attempt_counts(emulator: EmulatorServer,
                                              api: httpx.Client) -> None:
    emulator.clear_requests()
    emulator.fail_next(2, 503, method="GET", path="^/conversational_agents$", retry_after=1)
    first, second, third = (api.get(CA) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["retry-after"] == "1"
    assert first.json()["error"]["code"] == "service_unavailable"
    assert [r.status for r in emulator.requests] == [503, 503, 200]


def test_error_rate_answers_500_or_503(emulator: EmulatorServer, api: httpx.Client) -> None:
    emulator.set_faults(error_rate=1.0, error_statuses=[500])
    assert {api.get(CA).status_code for _ in range(5)} == {500}
    emulator.set_faults(error_rate=0.0)
    assert api.get(CA).status_code == 200


def test_rate_limit_answers_429_with_retry_after(emulator: EmulatorServer,
                                                 api: httpx.Client) -> None:
    emulator.set_faults(rate_limit_rps=3, retry_after_s=2)
    statuses = [api.get(CA) for _ in range(5)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
    assert statuses[-1].headers["retry-after"] == "2"
    assert statuses[-1].json()["error"]["code"] == "rate_limited"


def test_connection_reset(emulator: EmulatorServer, api: httpx.Client) -> None:
    emulator.fail_next(1, 0)
    with pytest.raises(httpx.RemoteProtocolError):
        api.get(CA)
    assert api.get(CA).status_code == 200
    assert [r.status for r in emulator.requests][-2:] == [0, 200]


@pytest.mark.parametrize(("shape", "content_type", "check"), [
    ("html", "text/html", lambda text: "<html>" in text),
    ("text", "text/plain", lambda text: "fault" in text),
    ("empty", None, lambda text: text == ""),
])
def test_error_bodies_of_other_shapes(emulator: EmulatorServer, api: httpx.Client, shape: Any,
                                      content_type: str | None,
                                      check: Callable[[str], bool]) -> None:
    emulator.fail_next(1, 502, body=shape)
    response = api.get(CA)
    assert response.status_code == 502 and check(response.text)
    if content_type:
        assert response.headers["content-type"].startswith(content_type)


@pytest.mark.parametrize("mode", ["502", "reset"])
def test_lost_create_responses_still_create(emulator: EmulatorServer, api: httpx.Client,
                                            mode: Any) -> None:
    emulator.lose_next_response("POST", "^/conversational_agents$", mode=mode)
    body = {"name": "A", "description": "d", "config": {}}
    if mode == "502":
        assert api.post(CA, json=body).status_code == 502
    else:
        with pytest.raises(httpx.RemoteProtocolError):
            api.post(CA, json=body)
    assert count_agents(api) == 1
    assert api.post(CA, json=body).status_code == 200
    assert count_agents(api) == 2


def test_sse_drop_after_n_events_then_resume(emulator: EmulatorServer, api: httpx.Client,
                                             make_agent: Callable[..., str]) -> None:
    conversation = api.post("/conversations", json={"agent_id": make_agent(), "channel": {
        "type": "chat_async"}}).json()
    emulator.inject_events(conversation["id"], [{"type": "agent.notice.sent", "text": str(i)}
                                                for i in range(4)])
    emulator.set_faults(drop_sse_after=2)
    url = f"/conversations/{conversation['id']}/events"
    lines: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError), api.stream("GET", url) as response:
        lines.extend(response.iter_lines())
    complete = [json.loads(line[5:]) for line in lines if line.startswith("data:")
                and line.endswith("}")]
    assert len(complete) == 2
    emulator.set_faults(drop_sse_after=None)
    last = complete[-1]["id"]
    with api.stream("GET", url, headers={"Last-Event-ID": last}) as response:
        rest = []
        for line in response.iter_lines():
            if line.startswith("data:"):
                rest.append(json.loads(line[5:]))
            if len(rest) == 3:
                break
    assert [e["payload"].get("text") for e in complete + rest] == [None, "0", "1", "2", "3"]


def test_procedure_outcome_can_be_scripted_per_agent(emulator: EmulatorServer,
                                                     api: httpx.Client,
                                                     make_agent: Callable[..., str]) -> None:
    from operator_iac.emulator.rules import parse_rules

    emulator.set_brain(rules=parse_rules({"procedures": {"doomed": "fail"}}))
    pa = api.post("/procedural_agents", json={"name": "doomed", "description": "d",
                                              "config": {}}).json()["id"]
    api.post(f"/procedural_agents/{pa}/release")
    conversation = api.post("/conversations", json={"agent_id": make_agent(), "channel": {
        "type": "chat_async"}}).json()
    run = api.post("/procedures", json={"agent_id": pa,
                                        "conversation_id": conversation["id"]}).json()["id"]
    deadline = time.monotonic() + 5
    while api.get(f"/procedures/{run}").json()["status"] != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.01)


# ---- compatibility modes --------------------------------------------------------------------


def test_is_released_replaces_version_status(emulator: EmulatorServer, api: httpx.Client,
                                             make_agent: Callable[..., str]) -> None:
    agent_id = make_agent()
    emulator.set_compat("is_released")
    agent = api.get(f"{CA}/{agent_id}").json()
    assert agent["is_released"] is True and "version_status" not in agent
    (version,) = api.get(f"{CA}/{agent_id}/versions").json()["data"]
    (item,) = api.get(CA).json()["data"]
    assert version["is_released"] is True and item["is_released"] is True


def test_draft_after_release_opens_a_copy_of_every_release(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    """Every release (of a draft, by a create, or a rollback to an archived revision) leaves a
    draft copied from the released revision, unless a draft is there already."""
    emulator.set_compat("draft_after_release")

    def statuses(agent_id: str) -> list[str]:
        return [v["version_status"] for v in api.get(f"{CA}/{agent_id}/versions").json()["data"]]

    agent_id = make_agent(release=True)
    assert statuses(agent_id) == ["released", "draft"]
    released, draft = (api.get(f"{CA}/{agent_id}@v{n}").json() for n in (0, 1))
    assert {k: draft[k] for k in ("name", "description", "config")} == \
        {k: released[k] for k in ("name", "description", "config")}
    api.put(f"{CA}/{agent_id}@v1", json={"description": "changed"})
    api.post(f"{CA}/{agent_id}@v1/release")
    assert statuses(agent_id) == ["archived", "released", "draft"]
    api.put(f"{CA}/{agent_id}@v2", json={"description": "work in progress"})
    api.post(f"{CA}/{agent_id}@v0/release")  # a rollback: the draft of work stays the draft
    assert statuses(agent_id) == ["released", "archived", "draft"]
    assert api.get(f"{CA}/{agent_id}@v2").json()["description"] == "work in progress"
    emulator.set_compat("draft_after_release", "create_releases")
    created = api.post(CA, json={"name": "B", "description": "d", "config": {}}).json()["id"]
    assert statuses(created) == ["released", "draft"]


def test_unique_names_refuses_a_name_another_agent_of_the_kind_holds(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    emulator.set_compat("unique_names")
    first = make_agent(release=False)  # named "A"
    refused = api.post(CA, json={"name": "A", "description": "d", "config": {}})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "name_taken"
    assert first in refused.json()["error"]["message"]
    assert api.post(PA, json={"name": "A", "description": "d", "config": {}}).status_code == 200
    second = api.post(CA, json={"name": "B", "description": "d", "config": {}}).json()["id"]
    assert api.put(f"{CA}/{second}", json={"name": "A"}).status_code == 409
    assert api.put(f"{CA}/{first}", json={"name": "A", "description": "e"}).status_code == 200
    api.put(f"{CA}/{first}", json={"name": "C"})  # renamed: its old name is free again
    assert api.put(f"{CA}/{second}", json={"name": "A"}).status_code == 200


def test_list_released_describes_each_agent_by_its_released_revision(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    emulator.set_compat("list_released")
    released = make_agent(release=True)
    api.put(f"{CA}/{released}", json={"description": "next"})  # a draft v1 on top
    never = make_agent(release=False)
    items = {item["id"]: item for item in api.get(CA).json()["data"]}
    assert (items[released]["version_id"], items[released]["version_status"]) == (
        f"{released}@v0", "released")
    assert items[released]["description"] == "d"
    assert (items[never]["version_id"], items[never]["version_status"]) == (
        f"{never}@v0", "draft")
    emulator.set_compat()
    assert {i["id"]: i["version_id"] for i in api.get(CA).json()["data"]}[released] == \
        f"{released}@v1"


def test_no_session_url(emulator: EmulatorServer, api: httpx.Client,
                        make_agent: Callable[..., str]) -> None:
    emulator.set_compat("no_session_url")
    created = api.post("/conversations", json={"agent_id": make_agent(),
                                               "channel": {"type": "chat_realtime"}}).json()
    assert "session_url" not in created["channel"]
    url = f"{emulator.ws_url}/conversations/{created['id']}/session"
    with connect(f"{url}?token={created['channel']['token']}", open_timeout=5) as ws:
        ws.send(json.dumps({"id": "1", "payload": {"type": "conversation.start"}}))
        assert json.loads(ws.recv(timeout=5))["payload"]["type"] == "conversation.started"


def test_no_sse_ids_ignores_last_event_id(emulator: EmulatorServer, api: httpx.Client,
                                          make_agent: Callable[..., str]) -> None:
    created = api.post("/conversations", json={"agent_id": make_agent(),
                                               "channel": {"type": "chat_async"}}).json()
    emulator.inject_events(created["id"], [{"type": "agent.notice.sent", "text": "x"}])
    emulator.set_compat("no_sse_ids")
    url = f"/conversations/{created['id']}/events"
    first_id = None
    with api.stream("GET", url, headers={"Last-Event-ID": "ev_whatever"}) as response:
        lines = []
        for line in response.iter_lines():
            lines.append(line)
            if line.startswith("data:"):
                first_id = first_id or json.loads(line[5:])["id"]
            if sum(1 for x in lines if x.startswith("data:")) == 2:
                break
    assert not any(line.startswith("id:") for line in lines)
    with api.stream("GET", url, headers={"Last-Event-ID": str(first_id)}) as response:
        again = next(line for line in response.iter_lines() if line.startswith("data:"))
    assert json.loads(again[5:])["id"] == first_id  # replayed from the start


def test_multiline_sse_data(emulator: EmulatorServer, api: httpx.Client,
                            make_agent: Callable[..., str]) -> None:
    created = api.post("/conversations", json={"agent_id": make_agent(),
                                               "channel": {"type": "chat_async"}}).json()
    emulator.set_compat("multiline_sse")
    data: list[str] = []
    with api.stream("GET", f"/conversations/{created['id']}/events") as response:
        for line in response.iter_lines():
            if not line and data:
                break
            if line.startswith("data:"):
                data.append(line[6:])
    assert len(data) > 3
    assert json.loads("\n".join(data))["payload"]["type"] == "conversation.setup"


def test_plain_errors(emulator: EmulatorServer, api: httpx.Client) -> None:
    emulator.set_compat("plain_errors")
    response = api.get(f"{CA}/ca_none")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert "ca_none" in response.text
    with httpx.Client(base_url=emulator.url, timeout=5) as raw:
        unauthorized = raw.get(CA)
    assert unauthorized.status_code == 401 and not unauthorized.text.startswith("{")


def test_transfer_id_enqueued_and_extra_fields(emulator: EmulatorServer, api: httpx.Client,
                                               make_agent: Callable[..., str]) -> None:
    agent_id = make_agent(tool={"transfers": [{"entity_id": "ca_other"}]})
    created = api.post("/conversations", json={"agent_id": agent_id,
                                               "channel": {"type": "chat_async"}}).json()
    emulator.set_compat("transfer_id", "enqueued", "extra_fields")
    agent = api.get(f"{CA}/{agent_id}").json()
    assert agent["config"]["tool"]["transfers"] == [{"id": "ca_other"}]
    assert "platform_extension" in agent and "platform_extension" in agent["config"]
    assert api.get(f"/conversations/{created['id']}").json()["status"] == "enqueued"


# ---- admin API ------------------------------------------------------------------------------


def test_admin_needs_the_key(emulator: EmulatorServer) -> None:
    with httpx.Client(base_url=emulator.url, timeout=5) as raw:
        assert raw.get("/_emulator/faults").status_code == 401
        assert raw.post("/_emulator/faults", json={"error_rate": 1}).status_code == 401
    assert emulator.faults.settings.error_rate == 0


def test_admin_faults_round_trip(admin: httpx.Client, api: httpx.Client) -> None:
    changed = admin.post("/faults", json={"fail_next": [{"status": 429, "count": 1}],
                                          "compat": ["is_released"]}).json()
    assert changed["compat"] == ["is_released"] and changed["fail_next"][0]["status"] == 429
    limited = api.get(CA)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert admin.post("/faults", json={"compat": ["bogus"]}).status_code == 422
    assert admin.post("/faults", json={"latency": 5}).status_code == 422
    assert admin.delete("/faults").json()["compat"] == []
    assert admin.post("/faults", json={"reset": True, "latency_ms": 1}).json()["latency_ms"] == 1


def test_admin_clock_requests_brain_and_events(admin: httpx.Client, api: httpx.Client,
                                               make_agent: Callable[..., str]) -> None:
    assert admin.post("/clock", json={"advance_s": 3600}).json()["now"].endswith("Z")
    assert admin.post("/clock", json={"advance_s": "soon"}).status_code == 422
    api.get(CA)
    logged = admin.get("/requests").json()["data"]
    assert logged[-1] == {"method": "GET", "path": CA, "status": 200}
    assert all(not entry["path"].startswith("/_emulator") for entry in logged)
    assert admin.delete("/requests").json() == {"data": []}
    assert admin.post("/brain", json={"silent": True}).json()["silent"] is True
    assert admin.post("/brain", json={"rules": [{"match": "("}]}).status_code == 422
    created = api.post("/conversations", json={"agent_id": make_agent(),
                                               "channel": {"type": "chat_async"}}).json()
    url = f"/conversations/{created['id']}/events"
    assert admin.post(url, json={"payloads": [{"type": "x.custom", "v": 1}]}).json() == {
        "count": 1}
    assert admin.post(url, json={"payloads": [{"no": "type"}]}).status_code == 422


def test_admin_edits_a_released_revision_in_place(admin: httpx.Client, api: httpx.Client,
                                                  make_agent: Callable[..., str]) -> None:
    agent_id = make_agent()
    edited = admin.put(f"/revisions/{agent_id}@v0", json={"description": "dashboard edit"})
    assert edited.status_code == 200 and edited.json()["version_status"] == "released"
    assert api.get(f"{CA}/{agent_id}@v0").json()["description"] == "dashboard edit"
    assert len(api.get(f"{CA}/{agent_id}/versions").json()["data"]) == 1
    assert admin.put("/revisions/xx_1@v0", json={}).status_code == 422


def test_the_python_controls_refuse_what_the_admin_routes_refuse(
        emulator: EmulatorServer, api: httpx.Client, make_agent: Callable[..., str]) -> None:
    with pytest.raises(Problem) as not_a_revision:
        emulator.edit_revision("conv_1@v0", config={})
    assert not_a_revision.value.status == 422
    created = api.post("/conversations", json={"agent_id": make_agent(),
                                               "channel": {"type": "chat_async"}}).json()
    with pytest.raises(Problem) as not_an_event:
        emulator.inject_events(created["id"], [{"no": "type"}])
    assert not_an_event.value.status == 422
