"""The SSE decoder on literal byte fixtures."""

from __future__ import annotations

import pytest

from operator_iac.api.sse import SSEDecoder, SSEMessage

STREAM = (
    b": keep-alive\n"
    b"id: ev_1\n"
    b"data: {\"a\":\n"
    b"data:  1}\n"
    b"\n"
    b"event: update\n"
    b"data: second\n"
    b"retry: 2500\n"
    b"\n"
)


def decode_all(*chunks: bytes) -> list[SSEMessage]:
    decoder = SSEDecoder()
    messages = [m for chunk in chunks for m in decoder.feed(chunk)]
    return messages + decoder.close()


def test_multi_line_data_ids_comments_and_retry() -> None:
    assert decode_all(STREAM) == [
        SSEMessage('{"a":\n 1}', "message", "ev_1", None),
        SSEMessage("second", "update", "ev_1", 2500),
    ]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 13])
def test_any_chunking_gives_the_same_messages(size: int) -> None:
    chunks = [STREAM[i:i + size] for i in range(0, len(STREAM), size)]
    assert decode_all(*chunks) == decode_all(STREAM)


@pytest.mark.parametrize("newline", [b"\r\n", b"\r", b"\n"])
def test_every_line_ending(newline: bytes) -> None:
    stream = STREAM.replace(b"\n", newline)
    assert decode_all(stream) == decode_all(STREAM)


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    assert decoder.feed(b"\n\r") == [SSEMessage("x")]
    assert decoder.feed(b"\ndata: y\r\n\r\n") == [SSEMessage("y")]


def test_cr_terminated_message_is_dispatched_without_waiting() -> None:
    assert SSEDecoder().feed(b"data: x\r\r") == [SSEMessage("x")]


def test_event_split_across_chunks_and_utf8_characters() -> None:
    text = 'data: {"text": "caf\u00e9 \u2615"}\n\n'.encode()
    cut = text.index(b"\xe2") + 1  # in the middle of the cup's three bytes
    decoder = SSEDecoder()
    assert decoder.feed(text[:cut]) == []
    assert decoder.feed(text[cut:]) == [SSEMessage('{"text": "caf\u00e9 \u2615"}')]


def test_torn_message_at_end_of_stream_is_discarded() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: ev_1\ndata: {\"complete\": true}\n\nid: ev_2\ndata: {\"tor") == [
        SSEMessage('{"complete": true}', id="ev_1")]
    assert decoder.close() == []
    assert decoder.last_event_id == "ev_2"


def test_message_without_data_is_not_dispatched_but_its_id_counts() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: ev_7\n\n: ping\n\n") == []
    assert decoder.last_event_id == "ev_7"


@pytest.mark.parametrize(("line", "expected"), [
    (b"data:no-space", "no-space"), (b"data:  two", " two"), (b"data", ""),
    (b"data: a:b: c", "a:b: c")])
def test_field_value_parsing(line: bytes, expected: str) -> None:
    assert decode_all(line + b"\n\n") == [SSEMessage(expected)]


def test_unknown_fields_bad_retry_and_nul_ids_are_ignored() -> None:
    decoder = SSEDecoder()
    messages = decoder.feed(b"id: ok\n\nfoo: bar\nretry: 10x\nid: a\x00b\ndata: d\n\n")
    assert messages == [SSEMessage("d", id="ok")]
    assert decoder.retry is None


def test_leading_byte_order_mark_is_dropped() -> None:
    assert decode_all(b"\xef\xbb\xbfdata: x\n\n") == [SSEMessage("x")]


def test_empty_data_line_keeps_the_message() -> None:
    assert decode_all(b"data:\ndata:\n\n") == [SSEMessage("\n")]
