"""A pure, incremental decoder for ``text/event-stream`` (the WHATWG server-sent events format).

Feed it bytes as they arrive, in chunks of any size (a chunk may end mid-line, mid-UTF-8
character, or between the CR and LF of a CRLF); it returns the messages completed so far.
It does no I/O, so it is tested on literal byte fixtures. Rules implemented:

- lines end with CRLF, LF or CR; a leading byte-order mark is dropped;
- ``data:`` lines of one message are joined with newlines; a blank line dispatches it;
- ``id:`` sets the last event id, which persists across messages (ids with NUL are ignored);
- ``retry:`` takes ASCII digits only; ``event:`` names the message type;
- lines starting with ``:`` are comments (keep-alives); unknown fields are ignored;
- a message with no data is not dispatched, and an unterminated message at the end of the
  stream is discarded by ``close``, so a cut connection never yields a torn event;
- the bytes are always UTF-8, whatever charset the content type names.

Why not ``httpx-sse``: it was weighed for reading the stream and handles CRLF, lone CR,
multi-line data and a torn last message as this decoder does, but it adds no robustness and
loses some. It decodes with the charset of the content type (a ``charset=iso-8859-1``
header garbles UTF-8 text) and keeps a leading byte-order mark (the first field is then
unknown and the first event lost); once an ``id:`` has been seen it dispatches an empty
message at every blank line, so each keep-alive comment becomes a message; and it accepts
``retry: -1``, a negative reconnection delay. Its iterator also yields only messages, never
control: a stream that the server keeps open with keep-alives alone would never let the
reader check its deadline, whereas ``EventStream`` feeds this decoder chunk by chunk and
checks after each one. Reconnecting with ``Last-Event-ID`` and de-duplicating by event id
stay ``EventStream``'s job either way.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SSEMessage:
    """One dispatched message. ``id`` is the last event id in force when it was dispatched."""

    data: str
    event: str = "message"
    id: str = ""
    retry: int | None = None
    # How many ``data:`` lines carried it (how, not what: not part of equality).
    lines: int = field(default=1, compare=False)


class SSEDecoder:
    """Incremental bytes-to-messages decoder; one instance per connection."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""  # the current unterminated line
        self._skip_lf = False  # the last chunk ended with CR; drop a LF that starts the next
        self._started = False
        self._data: list[str] = []
        self._event = ""
        self._retry: int | None = None
        self.last_event_id = ""
        self.retry: int | None = None  # the latest reconnection delay the server asked for (ms)
        self.comments = 0  # comment lines seen (keep-alives), for a platform check

    def feed(self, chunk: bytes) -> list[SSEMessage]:
        """Decode ``chunk`` and return the messages it completed."""
        text = self._text.decode(chunk)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        return self._feed_text(text)

    def close(self) -> list[SSEMessage]:
        """End of stream: whatever message is still open was torn and is discarded."""
        messages = self._feed_text(self._text.decode(b"", final=True))
        self._pending, self._skip_lf = "", False
        self._data, self._event, self._retry = [], "", None
        return messages

    def _feed_text(self, text: str) -> list[SSEMessage]:
        if self._skip_lf and text:
            # The previous chunk ended with a CR: a LF now is the second half of a CRLF.
            self._skip_lf = False
            text = text.removeprefix("\n")
        text = self._pending + text
        if "\r" in text:
            self._skip_lf = text.endswith("\r")
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        self._pending = lines.pop()
        messages: list[SSEMessage] = []
        for line in lines:
            message = self._line(line)
            if message is not None:
                messages.append(message)
        return messages

    def _line(self, line: str) -> SSEMessage | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            self.comments += 1
            return None
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "event":
            self._event = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = self.retry = int(value)
        return None

    def _dispatch(self) -> SSEMessage | None:
        data, event, retry = self._data, self._event, self._retry
        self._data, self._event, self._retry = [], "", None
        if not data:
            return None
        return SSEMessage("\n".join(data), event or "message", self.last_event_id, retry,
                          len(data))
