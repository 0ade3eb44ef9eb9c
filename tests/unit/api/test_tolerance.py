"""The client's tolerance of platforms that differ where the contract is silent, and of
faults: a release answered 409 because it already happened, creates whose duplicates are
harmless, messages on the chat session that are not events."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from operator_iac.errors import ApiConflictError

from .conftest import Harness, json_response, sequence

MakeHarness = Callable[..., Harness]
CREATED = {"id": "conv_1", "channel": {"type": "chat_realtime", "token": "t"}}


def versions(released: int) -> httpx.Response:
    return json_response(200, {"data": [
        {"version_id": f"ca_1@v{n}", "version_status": "released" if n == released else
         "archived"} for n in range(3)]})


def test_a_release_answered_already_released_is_a_success(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(409, {"error": {"code": "already_released"}}),
                         versions(released=2)))
    written = h.client.conversational_agents.release("ca_1@v2")
    assert written.version_id == "ca_1@v2"
    assert [r.url.path for r in h.requests][-1] == "/conversational_agents/ca_1/versions"


def test_a_release_refused_for_another_reason_stays_refused(harness: MakeHarness) -> None:
    h = harness(sequence(json_response(409, {"error": {"code": "conflict"}}),
                         versions(released=1),
                         json_response(200, {"id": "ca_1", "version_id": "ca_1@v2",
                                             "version_status": "archived"})))
    with pytest.raises(ApiConflictError):
        h.client.conversational_agents.release("ca_1@v2")


def test_a_release_made_by_another_run_that_the_versions_list_shows_late_is_a_success(
        harness: MakeHarness) -> None:
    h = harness(sequence(json_response(409, {"error": {"code": "already_released"}}),
                         versions(released=1),  # not caught up with the other run's release
                         json_response(200, {"id": "ca_1", "version_id": "ca_1@v2",
                                             "version_status": "released"})))
    assert h.client.conversational_agents.release("ca_1@v2").version_id == "ca_1@v2"
    assert [r.url.path for r in h.requests][-1] == "/conversational_agents/ca_1@v2"


def test_a_release_shown_late_by_every_read_is_waited_for(harness: MakeHarness) -> None:
    """Lists and a revision's status read by id may both trail the writes: after a 409
    "already released", both are read again with growing pauses until they show it."""
    archived = json_response(200, {"id": "ca_1", "version_id": "ca_1@v2",
                                   "version_status": "archived"})
    h = harness(sequence(json_response(409, {"error": {"code": "already_released"}}),
                         versions(released=1), archived, versions(released=1), archived,
                         versions(released=2)))
    assert h.client.conversational_agents.release("ca_1@v2").version_id == "ca_1@v2"
    assert h.time.sleeps == [0.05, 0.1]


def test_a_409_never_shown_released_is_raised_after_the_wait(harness: MakeHarness) -> None:
    def never_released(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return json_response(409, {"error": {"code": "conflict"}})
        if request.url.path.endswith("/versions"):
            return versions(released=1)
        return json_response(200, {"id": "ca_1", "version_id": "ca_1@v2",
                                   "version_status": "archived"})

    h = harness(never_released)
    with pytest.raises(ApiConflictError):
        h.client.conversational_agents.release("ca_1@v2")
    assert sum(h.time.sleeps) >= 30 and max(h.time.sleeps) <= 2.0


def test_a_test_conversation_is_retried_and_the_caller_told_it_may_have_a_twin(
        harness: MakeHarness) -> None:
    h = harness(sequence(json_response(503, {}), json_response(200, CREATED)))
    created, maybe_twin = h.client.conversations.create_test("ca_1@v2", context={"a": 1})
    assert created.id == "conv_1" and maybe_twin
    assert [json.loads(r.content)["livemode"] for r in h.requests] == [False, False]


def test_a_test_conversation_refused_before_it_was_made_has_no_twin(
        harness: MakeHarness) -> None:
    h = harness(sequence(json_response(429, {}), json_response(200, CREATED)))
    _, maybe_twin = h.client.conversations.create_test("ca_1@v2")
    assert not maybe_twin


def test_a_livemode_conversation_is_never_retried_after_a_500(harness: MakeHarness) -> None:
    from operator_iac.errors import AmbiguousWriteError

    h = harness(sequence(json_response(500, {}), json_response(200, CREATED)))
    with pytest.raises(AmbiguousWriteError):
        h.client.conversations.create("ca_1")
    assert len(h.requests) == 1


def test_testmode_procedure_runs_are_retried_livemode_ones_are_not(
        harness: MakeHarness) -> None:
    from operator_iac.errors import AmbiguousWriteError

    h = harness(sequence(json_response(502, {}), json_response(200, {"id": "trun_1"})))
    assert h.client.procedures.create("pa_1", "conv_1", livemode=False).id == "trun_1"
    h = harness(sequence(json_response(502, {}), json_response(200, {"id": "trun_1"})))
    with pytest.raises(AmbiguousWriteError):
        h.client.procedures.create("pa_1", "conv_1", livemode=True)


@pytest.mark.parametrize("status", [408, 500])
def test_408_and_500_are_retried_on_reads(harness: MakeHarness, status: int) -> None:
    agent = {"id": "ca_1", "version_id": "ca_1@v0", "config": {}}
    h = harness(sequence(json_response(status, {}), json_response(200, agent)))
    assert h.client.conversational_agents.get("ca_1").id == "ca_1"
    assert [a.status for a in h.attempts] == [status, 200]


def test_retry_after_as_an_http_date_is_honoured(harness: MakeHarness) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    limited = httpx.Response(429, headers={"Retry-After": when}, json={})
    h = harness(sequence(limited, json_response(200, {"id": "ca_1", "version_id": "ca_1@v0"})))
    h.client.conversational_agents.get("ca_1")
    assert len(h.time.sleeps) == 1 and 28 <= h.time.sleeps[0] <= 30


def test_a_read_answered_with_a_deletion_stub_is_a_read_of_something_gone(
        harness: MakeHarness) -> None:
    """Some platforms answer a read of a deleted object with 200 ``{id, deleted: true}``:
    read as a 404. A delete's own answer, of that very shape, is its success."""
    from operator_iac.errors import NotFoundError

    stub = {"id": "conv_1", "deleted": True}
    h = harness(sequence(json_response(200, stub), json_response(200, stub)))
    assert h.client.conversations.delete("conv_1").deleted
    with pytest.raises(NotFoundError):
        h.client.conversations.get("conv_1")


def test_a_chat_created_without_a_token_asks_the_token_refresh_for_one(
        harness: MakeHarness) -> None:
    """The create response's channel is documented for phone calls only; where a chat's
    carries neither a session URL nor a token, the session URL is built from a token the
    refresh endpoint gives."""
    from operator_iac.api.models import ConversationCreated

    h = harness(sequence(json_response(200, {"token": "fresh", "expires_at": None})))
    created = ConversationCreated.model_validate({"id": "conv_1",
                                                  "channel": {"type": "chat_realtime"}})
    assert h.client._token(created.id) == "fresh"
    assert [(r.method, r.url.path) for r in h.requests] == [
        ("POST", "/conversations/conv_1/token/refresh")]


@pytest.mark.parametrize("mark", [{"deleted": True}, {"is_deleted": True},
                                  {"deleted_at": "2026-01-01T00:00:00Z"},
                                  {"deleted_at": 1767225600}, {"status": "deleted"}],
                         ids=["deleted", "is_deleted", "deleted_at", "deleted_at-epoch",
                              "status"])
def test_an_object_kept_readable_and_marked_deleted_is_gone(
        harness: MakeHarness, mark: dict[str, object]) -> None:
    """A soft delete keeps the object readable with a mark: read by id, it is a 404; in a
    list, it is left out. Unmarked objects, and marks saying it is not deleted, stand."""
    from operator_iac.errors import NotFoundError

    kept = {"id": "conv_1", "agent_id": "ca_1@v0", "status": "completed", **mark}
    live = {"id": "conv_2", "agent_id": "ca_1@v0", "status": "completed", "deleted": False,
            "deleted_at": None}
    h = harness(sequence(json_response(200, kept), json_response(200, live),
                         json_response(200, {"data": [kept, live], "cursor": None})))
    with pytest.raises(NotFoundError):
        h.client.conversations.get("conv_1")
    assert h.client.conversations.get("conv_2").id == "conv_2"
    assert [c.id for c in h.client.conversations.list()] == ["conv_2"]
