"""Write order (``state.write_order``): another apply's state that a read-back shows is
placed against this run's write by the platform's clock, and ``read_written`` reads on to
this run's write, once that read has seen the reads trail, for a state placed before it or
about when it was answered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

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


@pytest.mark.parametrize(("first", "updated_at"), [
    ("found", at(0)),  # about when, but no read was seen to trail: a consistent platform
    ("found", at(-5)),  # before, likewise (a platform that does not move updated_at)
    ("missing", at(5)),  # clearly after this run's write
])
def test_a_state_that_cannot_trail_this_runs_write_stands_at_once(
        mock_client: Callable[..., OperatorClient], first: str, updated_at: str) -> None:
    theirs = httpx.Response(200, json=_agent("theirs " + MARKER, updated_at))
    answers = [theirs] if first == "found" else [
        httpx.Response(404, json={"error": {"message": "not found"}}), theirs]
    client, paths = _reads(mock_client, [*answers,
                                         httpx.Response(200, json=_agent("mine " + MARKER,
                                                                         at(0)))])
    shown = read_written(client, "conversational_agent", "ca_1@v1", "draft", (), order())
    assert shown.description == "theirs " + MARKER
    assert len(paths) == len(answers)


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
