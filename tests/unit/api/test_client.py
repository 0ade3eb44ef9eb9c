"""OperatorClient over a mock transport: headers, secrecy, retries, error mapping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from operator_iac import __version__
from operator_iac.api import AmbiguousWriteError, OperatorClient, derive_ws_url
from operator_iac.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OperationError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)

from .conftest import SECRET_KEY, Harness, json_response, sequence

MakeHarness = Callable[..., Harness]
AGENT = {"id": "ca_1", "version_id": "ca_1@v0", "name": "A", "description": "d",
         "version_status": "draft", "config": {}}


def reset() -> httpx.ReadError:
    return httpx.ReadError("connection reset by peer")


def test_every_request_carries_auth_version_and_user_agent(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(200, AGENT)))
    h.client.conversational_agents.get("ca_1")
    h.client.conversational_agents.update("ca_1", name="B")
    h.client.conversational_agents.create("A", "d", {})
    for request in h.requests:
        assert request.headers["Authorization"] == f"Bearer {SECRET_KEY}"
        assert request.headers["Operator-Version"] == "2025-06-19"
        assert request.headers["User-Agent"] == f"operator-iac/{__version__}"
    assert [r.method for r in h.requests] == ["GET", "PUT", "POST"]


def test_the_key_never_shows_in_repr_or_str(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(200, AGENT)))
    assert SECRET_KEY not in repr(h.client)
    assert SECRET_KEY not in str(h.client)
    assert SECRET_KEY not in repr(vars(h.client))


def test_the_key_never_shows_in_errors_even_if_the_server_echoes_it(
        harness: MakeHarness) -> None:
    body = {"error": {"message": f"key {SECRET_KEY} is not valid"}}
    h = harness(sequence(json_response(401, body)))
    with pytest.raises(AuthenticationError) as caught:
        h.client.conversational_agents.get("ca_1")
    assert SECRET_KEY not in str(caught.value)
    assert "is not valid" in str(caught.value)


def test_request_bodies_are_never_echoed_in_errors(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(422, {"message": "bad config"})))
    with pytest.raises(BadRequestError) as caught:
        h.client.conversational_agents.update("ca_1", config={"secret_value": "hunter2"})
    assert "hunter2" not in str(caught.value)
    assert str(caught.value) == "PUT /conversational_agents/ca_1 failed with HTTP 422: bad config"


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retryable_statuses_are_retried_then_succeed(harness: MakeHarness, status: int) -> None:
    h = harness(sequence(json_response(status, {}), json_response(status, {}),
                         json_response(200, AGENT)))
    agent = h.client.conversational_agents.get("ca_1")
    assert agent.id == "ca_1"
    assert [a.number for a in h.attempts] == [1, 2, 3]
    assert [a.status for a in h.attempts] == [status, status, 200]
    assert h.client.attempts == 3
    assert len(h.time.sleeps) == 2


@pytest.mark.parametrize("error", [reset(), httpx.ConnectError("refused"),
                                   httpx.RemoteProtocolError("peer closed")])
def test_connection_failures_are_retried(harness: MakeHarness, error: Exception) -> None:
    h = harness(sequence(error, json_response(200, AGENT)))
    h.client.conversational_agents.update("ca_1", name="x")
    assert h.client.attempts == 2
    assert h.attempts[0].exc_kind is not None


@pytest.mark.parametrize("status", [501, 400, 404, 409])
def test_non_retryable_statuses_fail_at_once(harness: MakeHarness, status: int) -> None:
    h = harness(sequence(json_response(status, {"error": {"message": "no"}})))
    with pytest.raises(ApiError) as caught:
        h.client.conversational_agents.get("ca_1")
    assert caught.value.status == status
    assert h.client.attempts == 1


def test_persistent_503_gives_server_error_after_max_retries(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(503, {"message": "down"})), max_retries=3)
    with pytest.raises(ServerError) as caught:
        h.client.procedures.get("trun_1")
    assert h.client.attempts == 4
    assert caught.value.status == 503
    assert "down" in str(caught.value)


def test_persistent_resets_give_transport_error_with_attempt_count(
        harness: MakeHarness) -> None:
    h = harness(sequence(reset()), max_retries=2)
    with pytest.raises(TransportError) as caught:
        h.client.customers.get("cus_1")
    assert h.client.attempts == 3
    assert "GET /customers/cus_1" in str(caught.value)
    assert "after 3 attempts" in str(caught.value)


def test_timeouts_become_request_timeout_errors(harness: MakeHarness) -> None:
    h = harness(sequence(httpx.ReadTimeout("slow")), max_retries=1)
    with pytest.raises(RequestTimeoutError):
        h.client.customers.get("cus_1")
    assert h.client.attempts == 2


def test_retry_after_seconds_is_honoured(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(429, {}, **{"Retry-After": "7"}),
                         json_response(200, AGENT)))
    h.client.conversational_agents.get("ca_1")
    assert h.time.sleeps == [7.0]


def test_retry_after_http_date_is_honoured(harness: MakeHarness) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    h = harness(sequence(json_response(503, {}, **{"Retry-After": when}),
                         json_response(200, AGENT)))
    h.client.conversational_agents.get("ca_1")
    assert len(h.time.sleeps) == 1
    assert 25.0 <= h.time.sleeps[0] <= 30.0


def test_backoff_without_retry_after_grows(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(502, {}), json_response(502, {}),
                         json_response(502, {}), json_response(200, AGENT)))
    h.client.conversational_agents.get("ca_1")
    assert h.time.sleeps == [0.25, 0.5, 1.0]  # rng fixed at 0.5: half of 0.5, 1, 2


def test_429_storm_stops_at_the_deadline(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(429, {"message": "slow down"}, **{"Retry-After": "4"})),
                max_retries=100, deadline=30.0)
    with pytest.raises(RateLimitedError) as caught:
        h.client.conversational_agents.get("ca_1")
    assert h.time.sleeps == [4.0] * 7  # 28 s spent; one more wait would pass 30 s
    assert h.client.attempts == 8
    assert "slow down" in str(caught.value)


def test_a_retry_after_beyond_the_deadline_is_not_waited_for(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(429, {}, **{"Retry-After": "3600"})), deadline=60.0)
    with pytest.raises(RateLimitedError):
        h.client.conversational_agents.get("ca_1")
    assert h.time.sleeps == []


@pytest.mark.parametrize("failure", [json_response(503, {}), json_response(500, {}),
                                     json_response(502, {}), reset(),
                                     httpx.ReadTimeout("slow")])
def test_create_is_never_retried_and_reports_ambiguity(
        harness: MakeHarness, failure: httpx.Response | Exception) -> None:
    h = harness(sequence(failure, json_response(200, {"id": "ca_2", "version_id": "ca_2@v0"})))
    with pytest.raises(AmbiguousWriteError) as caught:
        h.client.conversational_agents.create("A", "d", {})
    assert h.client.attempts == 1
    assert isinstance(caught.value, TransportError)
    assert caught.value.path == "/conversational_agents"
    assert "may or may not have been applied" in str(caught.value)


def test_create_rejected_with_429_is_retried_after_the_wait(harness: MakeHarness) -> None:
    created = {"id": "conv_1", "channel": {"type": "chat_realtime", "token": "t"}}
    h = harness(sequence(json_response(429, {}, **{"Retry-After": "1"}),
                         json_response(200, created)))
    assert h.client.conversations.create("ca_1").id == "conv_1"
    assert h.client.attempts == 2
    assert h.time.sleeps == [1.0]


def test_a_create_rate_limited_until_the_deadline_is_not_ambiguous(
        harness: MakeHarness) -> None:
    h = harness(sequence(json_response(429, {}, **{"Retry-After": "3600"})), deadline=60.0)
    with pytest.raises(RateLimitedError):
        h.client.conversations.create("ca_1")
    assert h.client.attempts == 1


def test_create_that_could_not_connect_is_retried(harness: MakeHarness) -> None:
    created = {"id": "conv_1", "channel": {"type": "chat_realtime", "token": "t"}}
    h = harness(sequence(httpx.ConnectError("refused"), json_response(200, created)))
    assert h.client.conversations.create("ca_1").id == "conv_1"
    assert h.client.attempts == 2


def test_release_is_retried(harness: MakeHarness) -> None:
    h = harness(sequence(reset(), json_response(503, {}),
                         json_response(200, {"id": "ca_1", "version_id": "ca_1@v1"})))
    result = h.client.conversational_agents.release("ca_1@v1")
    assert result.version_id == "ca_1@v1"
    assert h.requests[-1].url.path == "/conversational_agents/ca_1@v1/release"
    assert h.client.attempts == 3


def test_delete_finding_nothing_after_a_lost_answer_counts_as_deleted(
        harness: MakeHarness) -> None:
    h = harness(sequence(reset(), json_response(404, {"message": "no such agent"})))
    result = h.client.procedural_agents.delete("pa_1")
    assert (result.id, result.deleted) == ("pa_1", True)


@pytest.mark.parametrize("status", [404, 410])
def test_delete_of_a_missing_resource_is_not_found(harness: MakeHarness, status: int) -> None:
    h = harness(sequence(json_response(status, {"message": "no such agent"})))
    with pytest.raises(NotFoundError):
        h.client.procedural_agents.delete("pa_1")


def test_a_resource_gone_is_not_found_and_a_retried_delete_that_finds_it_gone_deleted_it(
        harness: MakeHarness) -> None:
    h = harness(sequence(json_response(410, {"message": "deleted"})))
    with pytest.raises(NotFoundError):
        h.client.conversations.get("conv_1")
    h = harness(sequence(reset(), json_response(410, {"message": "deleted"})))
    result = h.client.conversations.delete("conv_1")
    assert (result.id, result.deleted) == ("conv_1", True)


def test_non_json_success_body_is_a_clear_error(harness: MakeHarness) -> None:
    h = harness(sequence(httpx.Response(200, content=b"<html>hi</html>")))
    with pytest.raises(OperationError, match="not JSON"):
        h.client.customers.get("cus_1")


def test_unexpected_response_shape_is_a_clear_error(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(200, {"name": "no id"})))
    with pytest.raises(OperationError, match=r"GET /customers/cus_1: unexpected response"):
        h.client.customers.get("cus_1")


@pytest.mark.parametrize(("base", "expected"), [
    ("https://api.operator.xyz", "wss://agent.app.operator.xyz"),
    ("http://127.0.0.1:8765", "ws://127.0.0.1:8765"),
    ("http://localhost:9000/", "ws://localhost:9000"),
    ("https://127.0.0.1:8443", "wss://127.0.0.1:8443"),
])
def test_websocket_base_url_follows_the_rest_url(base: str, expected: str) -> None:
    assert derive_ws_url(base.rstrip("/")) == expected


def test_websocket_base_url_can_be_overridden() -> None:
    with OperatorClient("http://127.0.0.1:1", "k", ws_url="wss://elsewhere.test/") as client:
        assert client.ws_url == "wss://elsewhere.test"
        url = client.session_url("conv_1", "tok en")
    assert url == "wss://elsewhere.test/conversations/conv_1/session?token=tok+en"


def test_a_revision_its_versions_list_shows_is_read_again_until_found(
        harness: MakeHarness) -> None:
    """A read by id that trails the write that made the revision (a 404 while the versions
    list shows it) is read again after a pause; one the versions list does not show is not
    found at once, and so is every 404 read impatiently."""
    versions = {"data": [{"version_id": "ca_1@v0", "version_status": "draft"}]}
    missing = json_response(404, {"error": {"message": "no"}})
    h = harness(sequence(missing, json_response(200, versions), json_response(200, AGENT)))
    assert h.client.conversational_agents.get("ca_1@v0").version_id == "ca_1@v0"
    assert [r.url.path for r in h.requests] == [
        "/conversational_agents/ca_1@v0", "/conversational_agents/ca_1/versions",
        "/conversational_agents/ca_1@v0"]
    h = harness(sequence(missing, json_response(200, {"data": []})))
    with pytest.raises(ApiError) as caught:
        h.client.conversational_agents.get("ca_1@v0")
    assert caught.value.status == 404 and len(h.requests) == 2
    h = harness(sequence(missing))
    with pytest.raises(ApiError):
        h.client.conversational_agents.get("ca_1@v0", patient=False)
    assert len(h.requests) == 1


def test_a_revision_seen_before_is_read_again_while_its_agent_is_there(
        harness: MakeHarness) -> None:
    """A revision the caller saw exist (in a versions list read before) is read again after a
    404 even where the versions list, read from a replica that trails, does not show it yet;
    not found at once only where the agent itself is gone."""
    missing = json_response(404, {"error": {"message": "no"}})
    h = harness(sequence(missing, json_response(200, {"data": []}), json_response(200, AGENT)))
    agent = h.client.conversational_agents.get("ca_1@v0", exists=True)
    assert agent.version_id == "ca_1@v0" and len(h.requests) == 3
    h = harness(sequence(missing, missing))
    with pytest.raises(ApiError) as caught:
        h.client.conversational_agents.get("ca_1@v0", exists=True)
    assert caught.value.status == 404 and [r.url.path for r in h.requests] == [
        "/conversational_agents/ca_1@v0", "/conversational_agents/ca_1/versions"]
