"""Write order (``state.write_order``): another apply's state that a read-back shows is
placed against this run's write by the platform's clock, and ``read_written`` reads on to
this run's write for a state placed before it or about when it was answered: for as long
as a write takes to show once the run has seen its reads trail, else for the seconds the
evidence cannot order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from operator_iac import defaults
from operator_iac.api.client import OperatorClient
from operator_iac.state.fetch import read_written
from operator_iac.state.snapshot import RemoteRevision
from operator_iac.state.write_order import WriteOrder

ANSWERED = datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)
MARKER = "[operator-iac project=acme key=booking hash=0123456789abcdef commit=-]"


def revision(description: str, updated_at: str | None) -> RemoteRevision:
    return RemoteRevision(version_id="ca_1@v1", status="draft", name="A",
                          description=description, config={}, updated_at=updated_at)


def order(answered_at: datetime | None = ANSWERED) -> WriteOrder:
    return WriteOrder(answered_at, lambda shown: shown.description == "mine " + MARKER,
                      lambda shown: MARKER in (shown.description or ""))


def at(seconds: float) -> str:
    return (ANSWERED + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(("description", "updated_at", "answered_at", "placed"), [
    ("mine " + MARKER, at(-9), ANSWERED, None),  # this run's own
    ("a person's edit", at(-9), ANSWERED, None),  # not another apply's: stands
    ("theirs " + MARKER, None, ANSWERED, None),  # no time to place it by
    ("theirs " + MARKER, at(-9), None, None),  # no Date on the answer
    ("theirs " + MARKER, at(-2), ANSWERED, "before"),
    ("theirs " + MARKER, at(0.5), ANSWERED, "unsure"),
    ("theirs " + MARKER, at(3), ANSWERED, "after"),
])
def test_a_state_is_placed_by_the_platforms_clock(
        description: str, updated_at: str | None, answered_at: datetime | None,
        placed: str | None) -> None:
    assert order(answered_at).placed(revision(description, updated_at)) == placed


def _agent(description: str, updated_at: str) -> dict[str, object]:
    return {"id": "ca_1", "version_id": "ca_1@v1", "name": "A", "description": description,
            "version_status": "draft", "config": {}, "updated_at": updated_at}


def _reads(mock_client: Callable[..., OperatorClient],
           answers: list[httpx.Response]) -> tuple[OperatorClient, list[str]]:
    paths: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/versions"):
            return httpx.Response(200, json={"data": []})
        paths.append(request.url.path)
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return mock_client(handle), paths


def test_a_state_written_before_this_runs_write_is_read_past(
        mock_client: Callable[..., OperatorClient]) -> None:
    """Missing, then another apply's write of the same second, then this run's: read on."""
    client, paths = _reads(mock_client, [
        httpx.Response(404, json={"error": {"message": "not found"}}),
        httpx.Response(200, json=_agent("theirs " + MARKER, at(0))),
        httpx.Response(200, json=_agent("mine " + MARKER, at(0)))])
    shown = read_written(client, "conversational_agent", "ca_1@v1", "draft", (), order())
    assert shown.description == "mine " + MARKER and len(paths) == 3


def test_a_state_written_after_this_runs_write_stands_at_once(
        mock_client: Callable[..., OperatorClient]) -> None:
    """Missing, then another apply's write clearly after this run's: a conflict at once."""
    client, paths = _reads(mock_client, [
        httpx.Response(404, json={"error": {"message": "not found"}}),
        httpx.Response(200, json=_agent("theirs " + MARKER, at(5))),
        httpx.Response(200, json=_agent("mine " + MARKER, at(0)))])
    shown = read_written(client, "conversational_agent", "ca_1@v1", "draft", (), order())
    assert shown.description == "theirs " + MARKER and len(paths) == 2


@pytest.mark.parametrize("updated_at", [
    at(0),  # about when the write was answered
    at(-5),  # before it (or a platform that does not move updated_at on a write)
])
def test_a_first_read_back_that_trails_unseen_finds_this_runs_write(
        mock_client: Callable[..., OperatorClient], updated_at: str) -> None:
    """Two applies' first writes of one draft: this run's very first read-back shows the
    other's write (the reads trail, and nothing has shown it yet); read on, it finds its
    own."""
    client, paths = _reads(mock_client, [
        httpx.Response(200, json=_agent("theirs " + MARKER, updated_at)),
        httpx.Response(200, json=_agent("mine " + MARKER, at(0)))])
    shown = read_written(client, "conversational_agent", "ca_1@v1", "draft", (), order())
    assert shown.description == "mine " + MARKER and len(paths) == 2


@pytest.mark.parametrize("updated_at", [at(0), at(-5)])
def test_on_reads_never_seen_to_trail_another_state_stands_after_the_slack(
        updated_at: str) -> None:
    """A consistent platform: the other apply's write came after this run's and stays. It
    stands once the seconds the evidence cannot order have passed, not after the wait for
    a trailing write."""
    pauses: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_agent("theirs " + MARKER, updated_at))

    with OperatorClient("https://api.example.test", "op_test_key",
                        transport=httpx.MockTransport(handle), sleep=pauses.append,
                        max_retries=0) as client:
        shown = read_written(client, "conversational_agent", "ca_1@v1", "draft", (), order())
    assert shown.description == "theirs " + MARKER
    assert defaults.WRITE_ORDER_SLACK_S <= sum(pauses) < defaults.VISIBILITY_TIMEOUT_S / 2


def test_reads_seen_to_trail_earlier_in_the_run_make_a_first_answer_unsure(
        mock_client: Callable[..., OperatorClient]) -> None:
    """A read-back whose first answer already shows another apply's write of about the same
    moment, on a client whose reads trailed before in the run, reads on to its own write."""
    client, paths = _reads(mock_client, [
        httpx.Response(404, json={"error": {"message": "not found"}}),  # an earlier write
        httpx.Response(200, json=_agent("mine " + MARKER, at(0))),
        httpx.Response(200, json=_agent("theirs " + MARKER, at(0))),  # this write's first read
        httpx.Response(200, json=_agent("mine " + MARKER, at(0)))])
    read_written(client, "conversational_agent", "ca_1@v1", "draft", (), order())
    shown = read_written(client, "conversational_agent", "ca_1@v1", "draft", (), order())
    assert shown.description == "mine " + MARKER and len(paths) == 4
