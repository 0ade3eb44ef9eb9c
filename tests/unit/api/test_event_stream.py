"""Reading events over SSE: reconnects after drops, no duplicates, no gaps, stop on request."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from operator_iac.api.event_stream import EventStream, ended
from operator_iac.errors import AuthenticationError, StreamError

from .conftest import FakeTime, Harness, json_response

MakeHarness = Callable[..., Harness]
Connection = Callable[[httpx.Request], httpx.Response]


class Chunks(httpx.SyncByteStream):
    """A response body sent as ``chunks``, then cut by ``error`` if one is given."""

    def __init__(self, chunks: list[bytes], error: Exception | None = None) -> None:
        self.chunks, self.error = chunks, error

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.error is not None:
            raise self.error


def envelope(n: int, kind: str = "agent.message.delta") -> dict[str, Any]:
    payload = {"type": kind, "status": "completed"} if kind == "conversation.ended" else \
        {"type": kind, "text_delta": f"part {n}", "generation_id": "g"}
    return {"id": f"ev_{n}", "created_at": "2025-06-19T00:00:00Z", "agent_id": "ca_1@v0",
            "livemode": False, "conversation_id": "conv_1", "experimental": False,
            "payload": payload}


@pytest.fixture
def sse_bytes() -> Callable[..., bytes]:
    """``sse_bytes(first, last, ids=True)``: events first..last, the last one ``ended``."""
    def make(first: int, last: int, *, ids: bool = True, end_at: int = 6) -> bytes:
        out = b""
        for n in range(first, last + 1):
            kind = "conversation.ended" if n == end_at else "agent.message.delta"
            data = json.dumps(envelope(n, kind), indent=1).encode()  # spans data: lines
            lines = b"".join(b"data: " + line + b"\n" for line in data.splitlines())
            out += (f"id: ev_{n}\n".encode() if ids else b"") + lines + b"\n"
        return out
    return make


def event_stream(body: Chunks) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)


def connections(*answers: Connection) -> Connection:
    remaining = list(answers)
    return lambda request: remaining.pop(0)(request)


def dropped() -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError("peer closed connection without sending complete body")


def stream(h: Harness, **options: Any) -> EventStream:
    options.setdefault("stop", ended)
    return EventStream(h.client, "conv_1", sleep=h.time.sleep, clock=h.time.clock, **options)


def test_a_stream_cut_mid_event_resumes_without_duplicates_or_gaps(
        harness: MakeHarness, sse_bytes: Callable[..., bytes]) -> None:
    first = sse_bytes(1, 4)
    cut = first.index(b"id: ev_4") + 30  # inside event 4
    h = harness(connections(
        lambda r: event_stream(Chunks([first[:40], first[40:cut]], dropped())),
        # The server ignores Last-Event-ID and replays from the start.
        lambda r: event_stream(Chunks([sse_bytes(1, 6)]))))
    reader = stream(h)
    events = list(reader)
    assert [e.id for e in events] == [f"ev_{n}" for n in range(1, 7)]
    assert events[-1].type == "conversation.ended"
    assert h.requests[1].headers["Last-Event-ID"] == "ev_3"
    assert "Last-Event-ID" not in h.requests[0].headers
    assert reader.reconnects == 1


def test_without_sse_ids_dedupes_by_envelope_id(harness: MakeHarness,
                                                sse_bytes: Callable[..., bytes]) -> None:
    h = harness(connections(
        lambda r: event_stream(Chunks([sse_bytes(1, 3, ids=False)], dropped())),
        lambda r: event_stream(Chunks([sse_bytes(1, 6, ids=False)]))))
    events = list(stream(h))
    assert [e.id for e in events] == [f"ev_{n}" for n in range(1, 7)]
    assert "Last-Event-ID" not in h.requests[1].headers


def test_stops_when_told_without_waiting_for_the_end_of_the_stream(
        harness: MakeHarness, sse_bytes: Callable[..., bytes]) -> None:
    def never_ending() -> Iterator[bytes]:
        yield sse_bytes(1, 6)
        raise AssertionError("the reader waited for more after stop() said enough")

    class Endless(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            return never_ending()

    h = harness(lambda r: event_stream(Endless()))
    assert len(list(stream(h))) == 6


def test_caller_supplied_stop(harness: MakeHarness, sse_bytes: Callable[..., bytes]) -> None:
    h = harness(lambda r: event_stream(Chunks([sse_bytes(1, 6)])))
    events = list(stream(h, stop=lambda e: e.id == "ev_2"))
    assert [e.id for e in events] == ["ev_1", "ev_2"]


def test_token_replaces_the_bearer_key(harness: MakeHarness,
                                       sse_bytes: Callable[..., bytes]) -> None:
    h = harness(lambda r: event_stream(Chunks([sse_bytes(1, 6)])))
    list(stream(h, token="tok_1"))
    request = h.requests[0]
    assert request.url.params["token"] == "tok_1"
    assert "Authorization" not in request.headers
    assert request.headers["Accept"] == "text/event-stream"
    assert request.headers["Operator-Version"] == "2025-06-19"
    assert request.url.path == "/conversations/conv_1/events"


def test_idle_connection_is_reopened(harness: MakeHarness,
                                     sse_bytes: Callable[..., bytes]) -> None:
    h = harness(connections(
        lambda r: event_stream(Chunks([sse_bytes(1, 2)], httpx.ReadTimeout("idle"))),
        lambda r: event_stream(Chunks([sse_bytes(1, 6)]))))
    assert len(list(stream(h, idle_timeout=5.0))) == 6
    assert h.time.sleeps == [0.5]


def test_server_retry_field_sets_the_reconnect_delay(harness: MakeHarness,
                                                     sse_bytes: Callable[..., bytes]) -> None:
    h = harness(connections(
        lambda r: event_stream(Chunks([b"retry: 1500\n\n" + sse_bytes(1, 2)], dropped())),
        lambda r: event_stream(Chunks([sse_bytes(1, 6)]))))
    list(stream(h))
    assert h.time.sleeps == [1.5]


def test_gives_up_after_max_reconnects_without_progress(
        harness: MakeHarness, sse_bytes: Callable[..., bytes]) -> None:
    h = harness(lambda r: event_stream(Chunks([sse_bytes(1, 2)], dropped())))
    reader = stream(h, max_reconnects=3)
    with pytest.raises(StreamError, match="3 reconnects brought no new events") as caught:
        list(reader)
    assert "conv_1" in str(caught.value)
    assert len(h.requests) == 4
    assert h.time.sleeps == [0.5, 1.0, 2.0]


def test_progress_resets_the_reconnect_budget(harness: MakeHarness,
                                              sse_bytes: Callable[..., bytes]) -> None:
    answers = [lambda r, n=n: event_stream(Chunks([sse_bytes(1, n)], dropped()))
               for n in range(1, 6)]
    h = harness(connections(*answers, lambda r: event_stream(Chunks([sse_bytes(1, 6)]))))
    assert len(list(stream(h, max_reconnects=1))) == 6


def test_a_cleanly_ended_stream_is_reopened(harness: MakeHarness,
                                            sse_bytes: Callable[..., bytes]) -> None:
    h = harness(connections(lambda r: event_stream(Chunks([sse_bytes(1, 3)])),
                            lambda r: event_stream(Chunks([sse_bytes(4, 6)]))))
    assert [e.id for e in stream(h)] == [f"ev_{n}" for n in range(1, 7)]


def test_messages_that_are_not_envelopes_are_skipped(harness: MakeHarness,
                                                     sse_bytes: Callable[..., bytes]) -> None:
    h = harness(lambda r: event_stream(Chunks([b"data: ping\n\n" + sse_bytes(1, 6)])))
    reader = stream(h)
    assert len(list(reader)) == 6
    assert reader.skipped == 1


def test_auth_failure_is_not_retried(harness: MakeHarness) -> None:
    h = harness(lambda r: json_response(401, {"error": {"message": "bad token"}}))
    with pytest.raises(AuthenticationError, match="bad token"):
        list(stream(h, token="tok_secret_1"))
    assert len(h.requests) == 1


def test_opening_is_retried_on_503(harness: MakeHarness,
                                   sse_bytes: Callable[..., bytes]) -> None:
    h = harness(connections(lambda r: json_response(503, {}),
                            lambda r: event_stream(Chunks([sse_bytes(1, 6)]))))
    assert len(list(stream(h))) == 6


def test_a_response_that_is_not_an_event_stream_is_an_error(harness: MakeHarness) -> None:
    h = harness(lambda r: json_response(200, {"data": []}))
    with pytest.raises(StreamError, match="expected an event stream, got application/json"):
        list(stream(h))


def test_deadline_bounds_the_whole_read(harness: MakeHarness, fake_time: FakeTime,
                                        sse_bytes: Callable[..., bytes]) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        fake_time.now += 10
        return event_stream(Chunks([sse_bytes(1, 2)]))
    h = harness(slow)
    with pytest.raises(StreamError, match="did not arrive within 15s"):
        list(stream(h, deadline=15.0, max_reconnects=100))


def test_a_stream_kept_open_by_keep_alives_alone_still_meets_its_deadline(
        harness: MakeHarness, fake_time: FakeTime, sse_bytes: Callable[..., bytes]) -> None:
    class KeepAlives(httpx.SyncByteStream):
        """Two events, then a comment every 15 seconds, and the server never closes."""

        def __iter__(self) -> Iterator[bytes]:
            yield sse_bytes(1, 2)
            for _ in range(1000):
                fake_time.now += 15
                yield b": keep-alive\r\n\r\n"
            raise AssertionError("the reader never checked its deadline")

    h = harness(lambda r: event_stream(KeepAlives()))
    received: list[str | None] = []
    with pytest.raises(StreamError, match="did not arrive within 60s"):
        for event in stream(h, deadline=60.0):
            received.append(event.id)
    assert received == ["ev_1", "ev_2"]


def test_crlf_stream_without_ids_resumes_without_duplicates(
        harness: MakeHarness, sse_bytes: Callable[..., bytes]) -> None:
    def crlf(body: bytes) -> bytes:
        return body.replace(b"\n", b"\r\n")

    h = harness(connections(
        lambda r: event_stream(Chunks([crlf(sse_bytes(1, 3, ids=False))], dropped())),
        lambda r: event_stream(Chunks([crlf(sse_bytes(1, 6, ids=False))]))))
    assert [e.id for e in stream(h)] == [f"ev_{n}" for n in range(1, 7)]


def test_the_stream_is_read_as_utf8_whatever_charset_it_names(harness: MakeHarness) -> None:
    body = json.dumps({"id": "ev_1", "payload": {"type": "conversation.ended",
                                                "text": "caf\u00e9"}}, ensure_ascii=False)
    h = harness(lambda r: httpx.Response(
        200, headers={"content-type": "text/event-stream; charset=iso-8859-1"},
        stream=Chunks([b"\xef\xbb\xbfdata: " + body.encode() + b"\n\n"])))
    events = list(stream(h))
    assert [e.payload.get("text") for e in events] == ["caf\u00e9"]
