"""What a platform check reads off raw answers and streams: the shape of an error body, and
how SSE messages came (comments, several data: lines)."""

from __future__ import annotations

import pytest

from operator_iac.api.probe import RawAnswer
from operator_iac.api.sse import SSEDecoder


@pytest.mark.parametrize(("content_type", "body", "shape"), [
    ("application/json", b'{"error": {"code": "not_found", "message": "no"}}', "error object"),
    ("application/json", b'{"detail": "no"}', "other JSON"),
    ("text/plain", b"Not found", "plain text"),
    ("text/html", b"<html><title>404</title></html>", "HTML"),
    ("", b"<h1>404</h1>", "HTML"),
    ("application/json", b"  ", "empty"),
])
def test_error_body_shapes(content_type: str, body: bytes, shape: str) -> None:
    assert RawAnswer(404, content_type, body).shape == shape


def test_the_decoder_counts_comments_and_data_lines() -> None:
    decoder = SSEDecoder()
    messages = decoder.feed(b": keep-alive\n\ndata: {\"a\":\ndata: 1}\n\n: again\ndata: {}\n\n")
    assert decoder.comments == 2
    assert [m.lines for m in messages] == [2, 1]
    assert messages[0].data == '{"a":\n1}'
