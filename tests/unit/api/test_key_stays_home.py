"""The client sends the API key to its own origin only: a redirect is never followed, and a
request whose URL leads elsewhere (an absolute URL taken from an answer) is never sent."""

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
