"""The emulator's REST surface for agents over real loopback HTTP: auth and version rules,
error shapes, bad input, drafts and releases, pagination, deletion."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from operator_iac.emulator.server import EmulatorServer

from .raw_http import VERSION, headers_for, raw_client

CA = "/conversational_agents"
PA = "/procedural_agents"


@pytest.fixture
def api(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with raw_client(emulator) as client:
        yield client


def agent_body(name: str = "Booking", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name, "description": f"{name} agent",
        "config": {"personas": [{"name": "Amanda", "voice": {"provider": "operator",
                                                             "id": "Female 1"}}],
                   "runtime": {"model": "openai/gpt-4o",
                               "prompt": {"type": "fixed", "text": "Be nice."}}},
    }
    return {**body, **overrides}


@pytest.fixture
def make_agent(api: httpx.Client) -> Callable[..., str]:
    """Create an agent (conversational unless ``path=PA``); return its id."""

    def make(path: str = CA, release: bool = False, **overrides: Any) -> str:
        response = api.post(path, json=agent_body(**overrides))
        assert response.status_code == 200, response.text
        agent_id = str(response.json()["id"])
        if release:
            assert api.post(f"{path}/{agent_id}@v0/release").status_code == 200
        return agent_id

    return make


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


# ---- auth, version header, error shape ------------------------------------------------------


def test_missing_or_wrong_key_is_401_without_echoing_the_key(emulator: EmulatorServer) -> None:
    with httpx.Client(base_url=emulator.url, timeout=5) as raw:
        missing = raw.get(CA, headers={"Operator-Version": VERSION})
        wrong = raw.get(CA, headers={"Operator-Version": VERSION,
                                     "Authorization": "Bearer op_prod_secret123"})
    assert error_of(missing) == (401, "unauthorized")
    assert error_of(wrong) == (401, "unauthorized")
    assert "op_prod_secret123" not in wrong.text and emulator.api_key not in wrong.text


@pytest.mark.parametrize(("version", "code"), [(None, "missing_version_header"),
                                               ("2024-01-01", "unsupported_version")])
def test_version_header_is_required_on_rest(emulator: EmulatorServer, version: str | None,
                                            code: str) -> None:
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    if version:
        headers["Operator-Version"] = version
    with httpx.Client(base_url=emulator.url, timeout=5) as raw:
        assert error_of(raw.get(CA, headers=headers)) == (400, code)


def test_unknown_route_and_method_use_the_error_shape(api: httpx.Client) -> None:
    assert error_of(api.get("/nothing/here")) == (404, "not_found")
    assert error_of(api.patch(CA)) == (405, "method_not_allowed")


# ---- bad input ------------------------------------------------------------------------------


def test_malformed_json_is_400(api: httpx.Client) -> None:
    response = api.post(CA, content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert error_of(response) == (400, "invalid_json")


@pytest.mark.parametrize("body", [
    [1, 2],
    {"name": 5, "description": "d", "config": {}},
    {"name": "n", "description": "d", "config": "not an object"},
    {"name": "n", "description": "d", "config": {"personas": "Amanda"}},
    {"name": "n", "description": "d", "config": {"channel": {"is_sms_enabled": "yes"}}},
    {"name": "n", "description": "d", "config": {}, "postprocess_agents": "pa_1"},
    {"name": "n", "config": {}},
    {"name": None, "description": "d", "config": {}},
])
def test_bodies_that_fail_validation_are_422(api: httpx.Client, body: Any) -> None:
    response = api.post(CA, json=body)
    assert error_of(response) == (422, "validation_error")
    assert response.json()["error"]["message"]


def test_unknown_config_fields_are_kept(api: httpx.Client, make_agent: Callable[..., str]) -> None:
    config = {**agent_body()["config"], "future_feature": {"x": 1}}
    agent_id = make_agent(config=config)
    assert api.get(f"{CA}/{agent_id}").json()["config"] == config


def test_invalid_output_schema_is_422(api: httpx.Client) -> None:
    body = agent_body(config={"output": {"output_schema": {"type": "no-such-type"}}})
    assert error_of(api.post(PA, json=body)) == (422, "validation_error")
    assert error_of(api.post(PA, json=body)) == (422, "validation_error")  # checked once, kept
    # OpenAPI 3.0's draft-4 flavour (a boolean exclusiveMinimum) is a schema too.
    draft4 = {"type": "object", "properties": {"n": {"type": "number", "minimum": 0,
                                                     "exclusiveMinimum": True}}}
    assert api.post(PA, json=agent_body(config={"output": {"output_schema": draft4}})) \
        .status_code in (200, 201)


def test_postprocess_agents_must_exist(api: httpx.Client) -> None:
    response = api.post(CA, json=agent_body(postprocess_agents=["pa_doesnotexist"]))
    assert error_of(response) == (404, "not_found")


@pytest.mark.parametrize(("method", "suffix"), [("GET", ""), ("PUT", ""), ("DELETE", ""),
                                                ("GET", "/versions"), ("POST", "/release")])
def test_unknown_agent_ids_are_404(api: httpx.Client, method: str, suffix: str) -> None:
    kwargs: dict[str, Any] = {"json": {}} if method == "PUT" else {}
    response = api.request(method, f"{CA}/ca_doesnotexist{suffix}", **kwargs)
    assert error_of(response) == (404, "not_found")


def test_bad_version_ids(api: httpx.Client, make_agent: Callable[..., str]) -> None:
    agent_id = make_agent()
    assert error_of(api.get(f"{CA}/{agent_id}@v99")) == (404, "not_found")
    assert error_of(api.get(f"{CA}/{agent_id}@vfoo")) == (400, "invalid_version_id")
    assert error_of(api.post(f"{CA}/{agent_id}@vfoo/release")) == (400, "invalid_version_id")
    assert error_of(api.get(f"{PA}/{agent_id}")) == (404, "not_found")


# ---- drafts and releases --------------------------------------------------------------------


def test_create_makes_a_v0_draft(api: httpx.Client) -> None:
    created = api.post(CA, json=agent_body()).json()
    assert created["version_id"] == f"{created['id']}@v0"
    agent = api.get(f"{CA}/{created['id']}").json()
    assert agent["version_status"] == "draft" and agent["name"] == "Booking"
    assert agent["postprocess_agents"] == []
    assert agent["created_at"].endswith("Z") and agent["updated_at"].endswith("Z")


def test_put_writes_the_draft_in_place(api: httpx.Client, make_agent: Callable[..., str]) -> None:
    agent_id = make_agent()
    response = api.put(f"{CA}/{agent_id}", json={"name": "Renamed"})
    assert response.json() == {"id": agent_id, "version_id": f"{agent_id}@v0"}
    assert api.get(f"{CA}/{agent_id}@v0").json()["name"] == "Renamed"
    assert len(api.get(f"{CA}/{agent_id}/versions").json()["data"]) == 1


def test_put_after_release_creates_a_draft_from_the_newest(
        api: httpx.Client, make_agent: Callable[..., str]) -> None:
    agent_id = make_agent(release=True)
    new_config = {"runtime": {"model": "openai/gpt-4o-mini"}}
    response = api.put(f"{CA}/{agent_id}", json={"config": new_config})
    assert response.json()["version_id"] == f"{agent_id}@v1"
    draft = api.get(f"{CA}/{agent_id}").json()
    assert draft["version_status"] == "draft"
    assert draft["config"] == new_config  # config is replaced whole, not merged
    assert draft["name"] == "Booking" and draft["description"] == "Booking agent"
    assert api.get(f"{CA}/{agent_id}@v0").json()["config"] == agent_body()["config"]


def test_put_to_a_released_revision_is_409(api: httpx.Client,
                                           make_agent: Callable[..., str]) -> None:
    agent_id = make_agent(release=True)
    response = api.put(f"{CA}/{agent_id}@v0", json={"name": "x"})
    assert error_of(response) == (409, "version_immutable")
    api.put(f"{CA}/{agent_id}", json={"name": "draft"})
    assert api.put(f"{CA}/{agent_id}@v1", json={"name": "again"}).status_code == 200
    assert error_of(api.put(f"{CA}/{agent_id}@v7", json={})) == (404, "not_found")


def statuses(api: httpx.Client, agent_id: str, path: str = CA) -> list[str]:
    return [v["version_status"] for v in api.get(f"{path}/{agent_id}/versions").json()["data"]]


def test_release_archives_the_previous_and_rollback_works(
        api: httpx.Client, make_agent: Callable[..., str]) -> None:
    agent_id = make_agent(release=True)
    api.put(f"{CA}/{agent_id}", json={"name": "second"})
    released = api.post(f"{CA}/{agent_id}@v1/release")
    assert released.json() == {"id": agent_id, "version_id": f"{agent_id}@v1"}
    assert statuses(api, agent_id) == ["archived", "released"]
    assert api.post(f"{CA}/{agent_id}@v1/release").status_code == 200  # no-op
    assert statuses(api, agent_id) == ["archived", "released"]
    api.post(f"{CA}/{agent_id}@v0/release")  # rollback
    assert statuses(api, agent_id) == ["released", "archived"]


def test_versions_list_items(api: httpx.Client, make_agent: Callable[..., str]) -> None:
    agent_id = make_agent(path=PA)
    (item,) = api.get(f"{PA}/{agent_id}/versions").json()["data"]
    assert set(item) == {"version_id", "created_at", "updated_at", "name", "description",
                         "version_status"}


def test_release_of_another_agents_version_is_404(
        api: httpx.Client, make_agent: Callable[..., str]) -> None:
    procedural = make_agent(path=PA)
    assert error_of(api.post(f"{CA}/{procedural}@v0/release")) == (404, "not_found")
    conversational = make_agent()
    assert error_of(api.post(f"{CA}/{conversational}@v3/release")) == (404, "not_found")


# ---- lists and deletion ---------------------------------------------------------------------


@pytest.mark.parametrize(("compat", "order", "pages"), [
    ((), 1, 3), (("newest_first_lists",), -1, 3), (("small_pages",), 1, 4),
    (("newest_first_lists", "small_pages"), -1, 4)])
def test_list_is_paginated_with_a_cursor(emulator_factory: Callable[..., EmulatorServer],
                                         compat: tuple[str, ...], order: int,
                                         pages: int) -> None:
    server = emulator_factory(page_size=5)
    server.set_compat(*compat)
    with httpx.Client(base_url=server.url, headers=headers_for(server), timeout=5) as api:
        created = [api.post(CA, json=agent_body(f"A{i}")).json()["id"] for i in range(12)]
        seen, cursor, read = [], None, 0
        while True:
            page = api.get(CA, params={"cursor": cursor} if cursor else {}).json()
            seen += [item["id"] for item in page["data"]]
            read += 1
            cursor = page["cursor"]
            if cursor is None:
                break
        assert seen == created[::order] and read == pages
        item = api.get(CA).json()["data"][0]
        assert set(item) >= {"id", "version_id", "name", "description", "version_status",
                             "created_at", "updated_at"}
        assert error_of(api.get(CA, params={"cursor": "bogus"})) == (400, "invalid_cursor")


def test_list_describes_the_newest_revision(api: httpx.Client,
                                            make_agent: Callable[..., str]) -> None:
    agent_id = make_agent(release=True)
    api.put(f"{CA}/{agent_id}", json={"name": "Next"})
    (item,) = api.get(CA).json()["data"]
    assert (item["version_id"], item["name"], item["version_status"]) == (
        f"{agent_id}@v1", "Next", "draft")


def test_delete_removes_the_agent(api: httpx.Client, make_agent: Callable[..., str]) -> None:
    agent_id = make_agent(release=True)
    assert api.delete(f"{CA}/{agent_id}").json() == {"id": agent_id, "deleted": True}
    assert api.get(f"{CA}/{agent_id}").status_code == 404
    assert error_of(api.delete(f"{CA}/{agent_id}@v0")) == (400, "invalid_id")


def test_procedural_agent_in_use_cannot_be_deleted(api: httpx.Client,
                                                   make_agent: Callable[..., str]) -> None:
    procedural = make_agent(path=PA, release=True)
    conversational = make_agent(postprocess_agents=[procedural])
    response = api.delete(f"{PA}/{procedural}")
    assert error_of(response) == (409, "agent_in_use")
    assert conversational in response.json()["error"]["message"]
    # Once only an archived revision refers to it, it may go.
    api.post(f"{CA}/{conversational}@v0/release")
    api.put(f"{CA}/{conversational}", json={"postprocess_agents": []})
    api.post(f"{CA}/{conversational}@v1/release")
    assert api.delete(f"{PA}/{procedural}").status_code == 200


def test_concurrent_writes_stay_consistent(api: httpx.Client,
                                           make_agent: Callable[..., str]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    agent_id = make_agent(release=True)
    with ThreadPoolExecutor(8) as pool:
        drafts = set(pool.map(lambda i: api.put(f"{CA}/{agent_id}", json={"name": f"n{i}"}
                                                ).json()["version_id"], range(16)))
        created = list(pool.map(lambda i: api.post(PA, json=agent_body(f"P{i}")).json()["id"],
                                range(16)))
    assert drafts == {f"{agent_id}@v1"}  # one draft, however many writers
    assert statuses(api, agent_id) == ["released", "draft"]
    assert len(set(created)) == 16
    assert {item["id"] for item in api.get(PA).json()["data"]} == set(created)


def test_a_client_that_leaves_before_its_body_arrives_is_no_server_error(
        emulator: EmulatorServer, caplog: pytest.LogCaptureFixture) -> None:
    """A run killed while it sends a request: the emulator answers nobody, and logs no
    traceback (as a server would not), whichever request comes next is served."""
    import socket
    import time
    from urllib.parse import urlsplit

    url = urlsplit(emulator.url)
    assert url.scheme == "http" and url.hostname is not None and url.port is not None
    headers = "".join(f"{name}: {value}\r\n" for name, value in headers_for(emulator).items())
    caplog.set_level("ERROR")
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(f"POST /conversations HTTP/1.1\r\nHost: {url.netloc}\r\n{headers}"
                     "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"ag"
                     .encode())
        time.sleep(0.2)  # the request reached the route, which waits for the rest
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
            r.path == "/conversations" and r.method == "POST" for r in emulator.requests):
        time.sleep(0.02)
    assert [r.status >= 500 for r in emulator.requests if r.path == "/conversations"] == \
        [True], emulator.requests  # answered to nobody
    with raw_client(emulator) as api:
        assert api.get("/conversational_agents").status_code == 200
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
