"""The client sends the API key to its own origin only: a redirect elsewhere is never
followed, and a request whose URL leads elsewhere (an absolute URL taken from an answer) is
never sent. A redirect on the platform's own origin (a path moved) is followed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from operator_iac.errors import ApiError, OperationError

from .conftest import SECRET_KEY, Harness, json_response, sequence


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_reported_and_not_followed(harness: Callable[..., Harness],
                                                 status: int) -> None:
    redirect = httpx.Response(status, headers={"location": "https://collector.example/x"})
    h = harness(sequence(redirect, json_response(200, {"ok": True})))

    with pytest.raises(ApiError) as caught:
        h.client.request_json("GET", "/conversational_agents")

    assert [str(r.url.host) for r in h.requests] == ["api.example.test"]
    assert "redirected to https://collector.example/x, which operator-iac does not follow" \
        in str(caught.value)
    assert SECRET_KEY not in str(caught.value)


@pytest.mark.parametrize(("status", "method"), [
    (307, "GET"), (308, "PUT"), (307, "POST"), (301, "GET"), (302, "GET")])
def test_a_redirect_on_the_platforms_own_origin_is_followed(
        harness: Callable[..., Harness], status: int, method: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/"):  # the platform's paths end with a slash
            return httpx.Response(status, headers={"location": f"{request.url.path}/?x=1"})
        return json_response(200, {"id": "ca_1", "sent": request.content.decode()})

    h = harness(answer)
    body = h.client.request_json(method, "/conversational_agents/ca_1", json={"a": 1})
    assert body["sent"] == h.requests[0].content.decode() != ""  # the body goes along
    assert [(r.method, r.url.path) for r in h.requests] == [
        (method, "/conversational_agents/ca_1"), (method, "/conversational_agents/ca_1/")]
    assert all(r.headers["authorization"] == f"Bearer {SECRET_KEY}" for r in h.requests)


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_write_redirected_without_keeping_its_method_is_not_followed(
        harness: Callable[..., Harness], status: int) -> None:
    h = harness(sequence(httpx.Response(status, headers={"location": "/elsewhere"})))
    with pytest.raises(ApiError, match="which operator-iac does not follow"):
        h.client.request_json("PUT", "/conversational_agents/ca_1", json={"a": 1})
    assert len(h.requests) == 1


def test_a_single_attempt_follows_a_redirect_on_the_own_origin_too(
        harness: Callable[..., Harness]) -> None:
    h = harness(lambda request: httpx.Response(307, headers={"location": "/x/"})
                if request.url.path == "/x" else json_response(404, {"error": {}}))
    assert h.client.send_once("GET", "/x").status_code == 404  # the answer at /x/
    assert [r.url.path for r in h.requests] == ["/x", "/x/"]
    assert h.client.notices.seen()["paths"] == "HTTP 307 to another path on the same origin"


def test_a_redirect_loop_on_the_own_origin_ends(harness: Callable[..., Harness]) -> None:
    h = harness(lambda request: httpx.Response(307, headers={"location": "/round"}))
    with pytest.raises(ApiError, match="does not follow"):
        h.client.request_json("GET", "/round")
    assert len(h.requests) == 6  # the request, and five redirects followed


@pytest.mark.parametrize("elsewhere", ["https://collector.example/steal",
                                       "http://api.example.test/plain",
                                       "https://api.example.test:8443/port"])
def test_a_request_off_the_clients_origin_is_never_sent(harness: Callable[..., Harness],
                                                        elsewhere: str) -> None:
    h = harness(sequence(json_response(200, {})))
    sends: list[Any] = [lambda: h.client.request("GET", elsewhere),
                        lambda: h.client.send_once("GET", elsewhere)]

    for send in sends:
        with pytest.raises(OperationError, match="not sent, because it is not on the "
                                                 "platform's origin"):
            send()

    assert h.requests == []
    h.client.request("GET", "/conversational_agents?cursor=x")  # its own origin: sent
    assert len(h.requests) == 1
