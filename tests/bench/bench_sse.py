"""Benchmark: SSE decoding throughput and memory over a long event stream.

Run ``python tests/bench/bench_sse.py [EVENTS]``. It decodes a generated stream of event
envelopes (each spread over several ``data:`` lines, with ``id:`` lines and keep-alive
comments, cut into 4 KiB chunks) and reports events per second for the decoder alone and for
decoding plus parsing into ``Event`` models, then the peak traced memory for a tenth of the
stream and for all of it: flat memory means the two peaks are about the same. It also times
the whole reader (``EventStream`` over a mock HTTP transport, with de-duplication).
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from collections.abc import Iterator

import httpx

from operator_iac.api.client import OperatorClient
from operator_iac.api.event_stream import EventStream
from operator_iac.api.events import parse_event
from operator_iac.api.sse import SSEDecoder

CHUNK = 4096
TARGET_RATE = 20_000


def _template() -> bytes:
    envelope = {"id": "ev_%08d", "created_at": "2025-06-19T00:00:00Z",
                "agent_id": "ca_8qm9JBCiTe7@v2", "livemode": False,
                "conversation_id": "conv_8qm9JBCiTe7", "experimental": False,
                "payload": {"type": "agent.message.delta", "text_delta": "word %08d ",
                            "generation_id": "gen_1"}}
    data = json.dumps(envelope, indent=1).splitlines()
    lines = b"".join(b"data: " + line.encode() + b"\n" for line in data)
    return b"id: ev_%08d\n" + lines + b"\n"


# One rendering, filled per event: the generator itself must not allocate per event.
TEMPLATE = _template()


def event_bytes(n: int) -> bytes:
    keep_alive = b": keep-alive\n" if n % 100 == 0 else b""
    return keep_alive + TEMPLATE % (n, n, n)


def chunks(count: int) -> Iterator[bytes]:
    """The stream for ``count`` events, generated lazily in fixed-size chunks."""
    buffer = b""
    for n in range(count):
        buffer += event_bytes(n)
        while len(buffer) >= CHUNK:
            yield buffer[:CHUNK]
            buffer = buffer[CHUNK:]
    yield buffer


def decode(count: int, parse: bool) -> int:
    decoder = SSEDecoder()
    seen = 0
    for chunk in chunks(count):
        for message in decoder.feed(chunk):
            if parse and parse_event(message.data) is None:
                raise AssertionError("an event did not parse")
            seen += 1
    return seen + len(decoder.close())


def rate(count: int, parse: bool) -> float:
    payload = list(chunks(count))  # generate up front: time only the decoding
    decoder = SSEDecoder()
    started = time.perf_counter()
    seen = 0
    for chunk in payload:
        for message in decoder.feed(chunk):
            if parse:
                parse_event(message.data)
            seen += 1
    elapsed = time.perf_counter() - started
    assert seen == count, (seen, count)
    return count / elapsed


class _Body(httpx.SyncByteStream):
    def __init__(self, payload: list[bytes]) -> None:
        self.payload = payload

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.payload)


def stream_rate(count: int) -> float:
    """Events per second through the whole reader: HTTP response, decoder, parse, dedupe."""
    payload = list(chunks(count))
    last = f"ev_{count - 1:08d}"

    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              stream=_Body(payload))

    with OperatorClient("http://127.0.0.1:9", "bench-key",
                        transport=httpx.MockTransport(serve)) as client:
        reader = EventStream(client, "conv_1", stop=lambda event: event.id == last)
        started = time.perf_counter()
        seen = sum(1 for _ in reader)
        elapsed = time.perf_counter() - started
    assert seen == count, (seen, count)
    return count / elapsed


def peak_memory(count: int) -> int:
    tracemalloc.start()
    try:
        assert decode(count, parse=True) == count
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(count: int) -> int:
    decode_rate = rate(count, parse=False)
    parse_rate = rate(count, parse=True)
    full_rate = stream_rate(count)
    small, large = peak_memory(count // 10), peak_memory(count)
    print(f"events:                 {count:,}")
    print(f"decode only:            {decode_rate:,.0f} events/s")
    print(f"decode + Event parsing: {parse_rate:,.0f} events/s "
          f"({parse_rate / TARGET_RATE:.1f}x the {TARGET_RATE:,}/s target)")
    print(f"EventStream end to end: {full_rate:,.0f} events/s (with de-duplication)")
    print(f"peak memory, {count // 10:,} events: {small / 1024:,.0f} KiB")
    print(f"peak memory, {count:,} events: {large / 1024:,.0f} KiB "
          f"(ratio {large / small:.2f}; about 1 means flat)")
    return 0 if parse_rate >= TARGET_RATE else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
