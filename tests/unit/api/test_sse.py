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


def test_crlf_stream_with_comments_and_ids() -> None:
    stream = b": hello\r\nid: ev_1\r\ndata: a\r\ndata: b\r\n\r\n: ping\r\n\r\ndata: c\r\n\r\n"
    assert decode_all(stream) == [SSEMessage("a\nb", id="ev_1"), SSEMessage("c", id="ev_1")]


def test_lone_cr_stream_with_comments_and_ids() -> None:
    stream = b": hello\rid: ev_1\rdata: a\rdata: b\r\r: ping\r\rdata: c\r\r"
    assert decode_all(stream) == [SSEMessage("a\nb", id="ev_1"), SSEMessage("c", id="ev_1")]


def test_line_endings_may_change_within_a_stream() -> None:
    stream = b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r"
    assert decode_all(stream) == [SSEMessage("a\nb\nc"), SSEMessage("d")]


@pytest.mark.parametrize("size", [1, 2, 3])
def test_a_byte_order_mark_split_across_chunks_is_dropped(size: int) -> None:
    stream = b"\xef\xbb\xbfid: ev_1\r\ndata: x\r\n\r\n"
    chunks = [stream[i:i + size] for i in range(0, len(stream), size)]
    assert decode_all(*chunks) == [SSEMessage("x", id="ev_1")]


def test_only_a_leading_byte_order_mark_is_dropped() -> None:
    # Later in the stream it is part of the line: a field named "\ufeffdata" is unknown.
    assert decode_all(b"data: x\n\n\xef\xbb\xbfdata: y\n\ndata: z\n\n") == [
        SSEMessage("x"), SSEMessage("z")]


def test_a_stream_without_ids_gives_messages_without_ids() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\n: keep-alive\n\ndata: b\n\n") == [
        SSEMessage("a"), SSEMessage("b")]
    assert decoder.last_event_id == ""


def test_keep_alives_after_an_id_dispatch_nothing() -> None:
    assert decode_all(b"id: ev_1\ndata: a\n\n: ping\n\n: ping\n\n\n\n") == [
        SSEMessage("a", id="ev_1")]


@pytest.mark.parametrize("value", [b"-1", b"+5", b"  5", b"1_000", b"1.5",
                                   "\u0661\u0662".encode()])
def test_retry_takes_ascii_digits_only(value: bytes) -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"retry:" + value + b"\ndata: d\n\n") == [SSEMessage("d")]
    assert decoder.retry is None
