"""Failures that say what to fix, and decisions logged the moment they are taken (never with a
key or a token in them)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import httpx
import pytest

from operator_iac.errors import (
    AuthenticationError,
    EndpointNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TransportError,
    UnknownHostError,
)

from .conftest import SECRET_KEY, Harness, json_response, sequence

MakeHarness = Callable[..., Harness]
SOURCE = "OPERATOR_API_KEY_STAGING (environment staging)"


def test_a_refused_key_names_its_variable_and_environment(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(401, {"message": "invalid key"})), key_source=SOURCE)
    with pytest.raises(AuthenticationError) as caught:
        list(h.client.procedural_agents.list())
    message = str(caught.value)
    assert message.startswith("GET /procedural_agents failed with HTTP 401: invalid key; ")
    assert SOURCE in message and "https://api.example.test" in message
    assert caught.value.exit_code == 3 and len(h.requests) == 1


def test_a_forbidden_key_names_its_variable_too(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(403, {"message": "forbidden"})), key_source=SOURCE)
    with pytest.raises(PermissionDeniedError) as caught:
        h.client.conversational_agents.get("ca_1")
    assert f"the API key from {SOURCE} may not do this" in str(caught.value)
    assert caught.value.exit_code == 3


def test_a_refused_conversation_token_is_not_blamed_on_the_key(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(401, {"message": "token expired"})), key_source=SOURCE)
    with pytest.raises(AuthenticationError) as caught, h.client.stream(
            "/conversations/conv_1/events", params={"token": "tok_123"}, bearer=False):
        pass
    assert "token expired" in str(caught.value) and SOURCE not in str(caught.value)


def test_a_list_that_is_not_found_shows_the_url_and_asks_about_api_url(
        harness: MakeHarness) -> None:
    h = harness(sequence(httpx.Response(404, text="Not Found")))
    with pytest.raises(EndpointNotFoundError) as caught:
        list(h.client.procedural_agents.list())
    message = str(caught.value)
    assert "https://api.example.test/procedural_agents does not exist" in message
    assert "is api_url right?" in message and caught.value.exit_code == 3


def test_a_missing_agent_is_still_a_plain_not_found(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(404, {"message": "no such agent"})))
    with pytest.raises(NotFoundError) as caught:
        h.client.conversational_agents.get("ca_1")
    assert type(caught.value) is NotFoundError and caught.value.exit_code == 1


def resolver_failure(code: int) -> Callable[[httpx.Request], httpx.Response]:
    """A transport failing as httpx does when getaddrinfo answers ``code``."""
    def handler(request: httpx.Request) -> httpx.Response:
        try:
            raise socket.gaierror(code, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
    return handler


def test_a_host_that_does_not_resolve_fails_at_once(harness: MakeHarness) -> None:
    h = harness(resolver_failure(socket.EAI_NONAME))
    with pytest.raises(UnknownHostError) as caught:
        list(h.client.procedural_agents.list())
    assert len(h.requests) == 1 and h.time.sleeps == []
    assert "the host name api.example.test does not resolve" in str(caught.value)
    assert "is api_url right?" in str(caught.value) and caught.value.exit_code == 3


def test_a_resolver_that_is_only_unreachable_is_retried(harness: MakeHarness) -> None:
    h = harness(resolver_failure(socket.EAI_AGAIN), max_retries=2)
    with pytest.raises(TransportError) as caught:
        list(h.client.procedural_agents.list())
    assert len(h.requests) == 3 and not isinstance(caught.value, UnknownHostError)


def test_each_retry_is_announced_when_it_is_decided(harness: MakeHarness,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    h = harness(sequence(json_response(503, {}, **{"Retry-After": "2"}),
                         json_response(200, {"data": [], "has_more": False})))
    with caplog.at_level(logging.DEBUG, logger="operator_iac"):
        list(h.client.procedural_agents.list())
    retries = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in retries] == [
        "retrying GET /procedural_agents in 2.0 s: HTTP 503"]
    requests = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert [line.split(" (")[0] for line in requests] == [
        "GET /procedural_agents: HTTP 503", "GET /procedural_agents: HTTP 200"]


def test_giving_up_is_logged_with_the_reason(harness: MakeHarness,
                                             caplog: pytest.LogCaptureFixture) -> None:
    h = harness(sequence(*[json_response(503, {})] * 3), max_retries=2)
    with caplog.at_level(logging.INFO, logger="operator_iac"), pytest.raises(ServerError):
        list(h.client.procedural_agents.list())
    assert "giving up on GET /procedural_agents after 3 attempt(s): HTTP 503" in [
        r.getMessage() for r in caplog.records]


def test_no_log_record_holds_the_key_or_a_token(harness: MakeHarness,
                                                caplog: pytest.LogCaptureFixture) -> None:
    h = harness(sequence(httpx.ReadError(f"reset while sending {SECRET_KEY}"),
                         httpx.Response(200, text="")))
    with caplog.at_level(logging.DEBUG), h.client.stream("/conversations/conv_1/events",
                         params={"token": "tok_s3cret"}, bearer=False):
        pass
    # httpx logs whole URLs (token and all): the CLI shows operator_iac's records only.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("operator_iac"))
    assert "GET /conversations/conv_1/events" in logged and "retrying" in logged
    assert SECRET_KEY not in logged and "tok_s3cret" not in logged
