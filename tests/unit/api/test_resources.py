"""Typed resources: paths, bodies, pagination over ``data`` and ``page`` keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from operator_iac.errors import OperationError

from .conftest import Harness, json_response

MakeHarness = Callable[..., Harness]


def paged(key: str, pages: list[list[dict[str, Any]]]) -> Callable[[httpx.Request], httpx.Response]:
    """A handler serving ``pages`` through cursors ``c1``, ``c2``..."""
    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        index = int(cursor[1:]) if cursor else 0
        following = f"c{index + 1}" if index + 1 < len(pages) else None
        return json_response(200, {key: pages[index], "cursor": following})
    return handler


def test_agent_list_follows_the_cursor(harness: MakeHarness) -> None:
    pages = [[{"id": f"ca_{p}{i}", "version_id": f"ca_{p}{i}@v0"} for i in range(3)]
             for p in range(3)]
    h = harness(paged("data", pages))
    agents = list(h.client.conversational_agents.list())
    assert [a.id for a in agents] == [f"ca_{p}{i}" for p in range(3) for i in range(3)]
    assert [r.url.params.get("cursor") for r in h.requests] == [None, "c1", "c2"]


def test_procedure_list_reads_the_page_key_and_filters(harness: MakeHarness) -> None:
    pages = [[{"id": "trun_1", "status": "success"}], [{"id": "trun_2", "status": "failed"}]]
    h = harness(paged("page", pages))
    runs = list(h.client.procedures.list(agent_id="pa_1"))
    assert [(r.id, r.status) for r in runs] == [("trun_1", "success"), ("trun_2", "failed")]
    assert all(r.url.params.get("agent_id") == "pa_1" for r in h.requests)
    assert "conversation_id" not in h.requests[0].url.params


def test_conversation_list_passes_filters(harness: MakeHarness) -> None:
    h = harness(paged("data", [[{"id": "conv_1", "status": "enqueued"}]]))
    conversations = list(h.client.conversations.list(created_at_gte="2025-01-01T00:00:00Z"))
    assert conversations[0].id == "conv_1"
    assert not conversations[0].is_started
    assert h.requests[0].url.params["created_at_gte"] == "2025-01-01T00:00:00Z"


@pytest.mark.parametrize(("method", "path"), [
    ("list_for_conversation", "/conversations/conv_1/procedures"),
    ("list_for_agent", "/procedural_agents/pa_1/procedures")])
def test_nested_procedure_lists(harness: MakeHarness, method: str, path: str) -> None:
    h = harness(paged("page", [[{"id": "trun_1"}]]))
    subject = "conv_1" if "conversation" in method else "pa_1"
    assert [r.id for r in getattr(h.client.procedures, method)(subject)] == ["trun_1"]
    assert h.requests[0].url.path == path


def test_a_repeated_cursor_stops_the_listing(harness: MakeHarness) -> None:
    h = harness(lambda request: json_response(200, {"data": [{"id": "ca_1"}], "cursor": "same"}))
    with pytest.raises(OperationError, match="cursor twice"):
        list(h.client.conversational_agents.list())


@pytest.mark.parametrize("last", [
    {"data": [], "cursor": "c1"},  # the last cursor answered again, with nothing
    {"data": [{"id": "ca_2"}], "cursor": "c2", "has_more": False},  # a cursor kept at the end
])
def test_a_list_ends_where_the_platform_says_it_ends(harness: MakeHarness,
                                                      last: dict[str, Any]) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") is None:
            return json_response(200, {"data": [{"id": "ca_1"}], "cursor": "c1"})
        return json_response(200, last)

    h = harness(pages)
    found = [a.id for a in h.client.conversational_agents.list()]
    assert found == ["ca_1", *[item["id"] for item in last["data"]]]
    assert len(h.requests) == 2


def test_versions_are_normalised(harness: MakeHarness) -> None:
    body = {"data": [{"version_id": "pa_1@v0", "is_released": True},
                     {"version_id": "pa_1@v1", "is_released": False}]}
    h = harness(lambda request: json_response(200, body))
    versions = h.client.procedural_agents.list_versions("pa_1")
    assert [(v.number, v.version_status) for v in versions] == [(0, "released"), (1, "draft")]
    assert h.requests[0].url.path == "/procedural_agents/pa_1/versions"


def test_read_modify_write_sends_unknown_config_fields_back(harness: MakeHarness) -> None:
    stored = {"id": "ca_1", "version_id": "ca_1@v1", "name": "A", "description": "d",
              "version_status": "draft",
              "config": {"runtime": {"model": "m", "novel": [1, 2]}, "future": {"a": 1}}}
    h = harness(lambda request: json_response(200, stored if request.method == "GET" else {
        "id": "ca_1", "version_id": "ca_1@v1"}))
    agent = h.client.conversational_agents.get_version("ca_1", 1)
    agent.config["runtime"]["model"] = "m2"
    h.client.conversational_agents.update(agent.version_id, **agent.update_body())
    sent = json.loads(h.requests[1].content)
    assert sent["config"] == {"runtime": {"model": "m2", "novel": [1, 2]}, "future": {"a": 1}}
    assert h.requests[0].url.path == "/conversational_agents/ca_1@v1"
    assert h.requests[1].url.path == "/conversational_agents/ca_1@v1"


def test_create_bodies(harness: MakeHarness) -> None:
    h = harness(lambda request: json_response(200, {"id": "x_1", "version_id": "x_1@v0"}))
    h.client.conversational_agents.create("A", "d", {"k": 1}, postprocess_agents=["pa_1"])
    h.client.conversations.create("ca_1@v2", livemode=False,
                                  context={"$variables": {"name": "Dana"}})
    h.client.procedures.create("pa_1", "conv_1")
    bodies = [json.loads(r.content) for r in h.requests]
    assert bodies[0] == {"name": "A", "description": "d", "config": {"k": 1},
                         "postprocess_agents": ["pa_1"]}
    assert bodies[1] == {"agent_id": "ca_1@v2", "channel": {"type": "chat_realtime"},
                         "livemode": False, "context": {"$variables": {"name": "Dana"}}}
    assert bodies[2] == {"agent_id": "pa_1", "conversation_id": "conv_1", "livemode": True}


def test_conversation_side_endpoints(harness: MakeHarness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/refresh"):
            return json_response(200, {"token": "new", "expires_at": "2025-06-19T03:00:00Z"})
        if request.method == "DELETE":
            return httpx.Response(204)
        return json_response(200, {})
    h = harness(handler)
    assert h.client.conversations.refresh_token("conv_1").token == "new"
    h.client.conversations.update_context("conv_1", {"$variables": {"a": "b"}})
    assert h.client.conversations.delete("conv_1").deleted
    assert [(r.method, r.url.path) for r in h.requests] == [
        ("POST", "/conversations/conv_1/token/refresh"),
        ("POST", "/conversations/conv_1/context"),
        ("DELETE", "/conversations/conv_1")]
    assert json.loads(h.requests[1].content) == {"context": {"$variables": {"a": "b"}}}


def test_ids_are_path_escaped(harness: MakeHarness) -> None:
    h = harness(lambda request: json_response(200, {"id": "cus_1"}))
    h.client.customers.get("cus_1/../admin")
    assert h.requests[0].url.raw_path == b"/customers/cus_1%2F..%2Fadmin"


def test_a_cursor_written_as_a_number_is_followed(harness: MakeHarness) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("cursor", "0"))
        return json_response(200, {"data": [{"id": f"ca_{offset}"}],
                                   "cursor": offset + 1 if offset < 2 else None})

    h = harness(pages)
    assert [a.id for a in h.client.conversational_agents.list()] == ["ca_0", "ca_1", "ca_2"]
    assert [r.url.params.get("cursor") for r in h.requests] == [None, "1", "2"]


def test_items_under_a_key_of_their_own_are_read_when_the_page_holds_one_list(
        harness: MakeHarness) -> None:
    h = harness(lambda request: json_response(200, {"agents": [{"id": "ca_1"}], "total": 1}))
    assert [a.id for a in h.client.conversational_agents.list()] == ["ca_1"]


@pytest.mark.parametrize(("body", "message"), [
    ({"data": [{"id": "ca_1"}], "has_more": True}, "gives no cursor"),
    ({"agents": [{"id": "ca_1"}], "deleted": []}, "cannot tell which holds the items"),
])
def test_a_list_that_cannot_be_read_whole_is_an_error_not_a_short_list(
        harness: MakeHarness, body: dict[str, Any], message: str) -> None:
    h = harness(lambda request: json_response(200, body))
    with pytest.raises(OperationError, match=message):
        list(h.client.conversational_agents.list())


def test_an_item_shown_on_two_pages_is_read_once(harness: MakeHarness) -> None:
    # Positions as cursors, and an agent created at the head of the list between two pages:
    # the second page begins with the item the first one ended with.
    def pages(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") is None:
            return json_response(200, {"data": [{"id": "ca_new"}, {"id": "ca_1"}], "cursor": 2})
        return json_response(200, {"data": [{"id": "ca_1"}, {"id": "ca_2"}], "cursor": None})

    h = harness(pages)
    assert [a.id for a in h.client.conversational_agents.list()] == ["ca_new", "ca_1", "ca_2"]


def test_a_revision_listed_twice_is_one_revision(harness: MakeHarness) -> None:
    entry = {"version_id": "ca_1@v0", "version_status": "released"}
    h = harness(lambda request: json_response(200, {"data": [entry, entry]}))
    assert [v.version_id for v in h.client.conversational_agents.list_versions("ca_1")] == \
        ["ca_1@v0"]


def test_writes_answered_without_a_body_name_what_was_asked(harness: MakeHarness) -> None:
    h = harness(lambda request: httpx.Response(204))
    released = h.client.conversational_agents.release("ca_1@v2")
    written = h.client.conversational_agents.update("ca_1@v3", description="d")
    assert (released.id, released.version_id) == ("ca_1", "ca_1@v2")
    assert (written.id, written.version_id) == ("ca_1", None)  # the caller reads where it wrote


def test_a_failure_answered_with_a_success_status_says_what_the_platform_said(
        harness: MakeHarness) -> None:
    h = harness(lambda request: json_response(200, {"error": {
        "code": "quota", "message": "Agent limit reached for this account."}}))
    with pytest.raises(OperationError, match=r"unexpected response .*; the platform said: "
                                             r"Agent limit reached for this account"):
        h.client.conversational_agents.create("Desk", "", {})
