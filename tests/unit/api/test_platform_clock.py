"""The platform's clock as the client hears it (``api.platform_clock``): from the answers'
``Date``, moved on by the time passed here, never ahead of the platform."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from operator_iac.api.client import OperatorClient
from operator_iac.api.platform_clock import PlatformClock


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_nothing_heard_reads_no_time_and_an_unreadable_date_changes_nothing() -> None:
    clock = PlatformClock(Ticks())
    clock.heard(None)
    clock.heard("not a date")
    assert clock.now() is None


def test_the_latest_date_moves_on_with_the_time_passed_here() -> None:
    ticks = Ticks()
    clock = PlatformClock(ticks)
    clock.heard("Mon, 07 Dec 2026 09:00:00 GMT")
    ticks.now += 2.5
    assert clock.now() == datetime(2026, 12, 7, 9, 0, 2, 500000, tzinfo=UTC)


def test_an_answer_that_reads_earlier_than_the_reading_kept_does_not_move_it_back() -> None:
    """A slow answer stamped before a faster one arrives after it: the later reading
    stands, and one that reads later than the kept one replaces it."""
    ticks = Ticks()
    clock = PlatformClock(ticks)
    clock.heard("Mon, 07 Dec 2026 09:00:05 GMT")
    ticks.now += 1.0
    clock.heard("Mon, 07 Dec 2026 09:00:03 GMT")
    assert clock.now() == datetime(2026, 12, 7, 9, 0, 6, tzinfo=UTC)
    clock.heard("Mon, 07 Dec 2026 09:00:09 GMT")
    assert clock.now() == datetime(2026, 12, 7, 9, 0, 9, tzinfo=UTC)


def test_the_client_hears_every_answer_s_date() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": []},
                              headers={"date": "Mon, 07 Dec 2026 09:00:00 GMT"})

    with OperatorClient("https://api.example.test", "op_test_key",
                        transport=httpx.MockTransport(answer)) as client:
        assert client.platform_clock.now() is None
        client.request_json("GET", "/conversational_agents")
        heard = client.platform_clock.now()
    assert heard is not None and \
        datetime(2026, 12, 7, 9, tzinfo=UTC) <= heard < datetime(2026, 12, 7, 9, 1, tzinfo=UTC)
