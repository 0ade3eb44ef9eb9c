"""Finding the server's message in error bodies of every shape, and mapping statuses."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from operator_iac.api.failures import scrub_secrets, server_message
from operator_iac.errors import (
    ApiConflictError,
    ApiError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
)

from .conftest import Harness, json_response, sequence

CLOUDFLARE_PAGE = b"""<!DOCTYPE html><html><head><title>502 Bad Gateway</title>
<style>body{color:red}</style></head><body><h1>Bad gateway</h1><p>The origin failed.</p>
</body></html>"""


@pytest.mark.parametrize(("content_type", "body", "expected"), [
    ("application/json", b'{"error": {"code": "version_immutable", "message": "v1 is released"}}',
     "v1 is released"),
    ("application/json", b'{"message": "Agent not found"}', "Agent not found"),
    ("application/json", b'{"detail": "Not Found"}', "Not Found"),
    ("application/json", b'{"detail": [{"loc": ["body", "name"], "msg": "field required"}]}',
     "field required"),
    ("application/json", b'{"error": "invalid_token"}', "invalid_token"),
    ("application/json", b'{"error": {"code": "agent_in_use"}}', "agent_in_use"),
    ("application/json", b'{"errors": [{"message": "a"}, {"message": "b"}]}', "a; b"),
    ("application/json", b'"just a string"', "just a string"),
    ("application/json", b'{"unrelated": 1}', ""),
    ("application/json", b"[]", ""),
    ("text/plain", b"Service Unavailable\n", "Service Unavailable"),
    ("text/plain", b"  rate   limited\r\n  try later ", "rate limited try later"),
    ("text/html", CLOUDFLARE_PAGE, "502 Bad Gateway"),
    ("text/html", b"<html><body><h1>Oops &amp; sorry</h1></body></html>", "Oops & sorry"),
    ("text/html", b"<html><body><p>plain <b>para</b></p></body></html>", "plain para"),
    ("", b"", ""),
    ("application/json", b"   ", ""),
    ("application/json", b"{not json", "{not json"),
    ("application/octet-stream", b"\xff\xfe\x00bin", "\ufffd\ufffd bin"),
])
def test_server_message_reads_every_body_shape(content_type: str, body: bytes,
                                               expected: str) -> None:
    assert server_message(content_type, body) == expected


def test_long_messages_are_shortened() -> None:
    message = server_message("text/plain", b"x" * 5000)
    assert len(message) == 300
    assert message.endswith("...")


def test_scrub_secrets_masks_secrets_and_tokens() -> None:
    text = scrub_secrets("key abc123 at /events?token=tok_999&x=1", "abc123")
    assert text == "key *** at /events?token=***&x=1"


@pytest.mark.parametrize(("status", "error"), [
    (400, BadRequestError), (403, PermissionDeniedError), (404, NotFoundError),
    (409, ApiConflictError), (422, BadRequestError), (500, ServerError), (418, ApiError)])
def test_statuses_map_to_the_error_hierarchy(harness: Callable[..., Harness], status: int,
                                             error: type[ApiError]) -> None:
    h = harness(sequence(json_response(status, {"error": {"message": "nope"}})))
    with pytest.raises(error) as caught:
        h.client.conversations.get("conv_1")
    assert (caught.value.status, caught.value.method, caught.value.path) == (
        status, "GET", "/conversations/conv_1")
    assert caught.value.server_message == "nope"


@pytest.mark.parametrize(("response", "message"), [
    (httpx.Response(409, content=b"", headers={"content-type": "application/json"}), ""),
    (httpx.Response(409, content=CLOUDFLARE_PAGE, headers={"content-type": "text/html"}),
     "502 Bad Gateway"),
    (httpx.Response(409, content=b"conflict: draft exists"), "conflict: draft exists"),
])
def test_odd_error_bodies_never_crash(harness: Callable[..., Harness],
                                      response: httpx.Response, message: str) -> None:
    h = harness(sequence(response))
    with pytest.raises(ApiConflictError) as caught:
        h.client.conversational_agents.update("ca_1@v0", name="x")
    assert caught.value.server_message == message
    suffix = f": {message}" if message else ""
    assert str(caught.value) == (
        f"PUT /conversational_agents/ca_1@v0 failed with HTTP 409{suffix}")
