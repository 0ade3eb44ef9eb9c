"""``GET /conversations/{id}/events``: the conversation's events as Server-Sent Events.

The stream first replays what exists (after ``Last-Event-ID`` when given), then follows
new events live, sends ``: keep-alive`` comments while idle, and stays open after the
conversation ended until the client leaves or the server shuts down. Bearer key or the
conversation's ``?token=`` authorise it. A fault can cut the connection after N events,
in the middle of the next message, to exercise resumption.

Written as a raw ASGI endpoint so that client disconnects and server shutdown are both
noticed promptly.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection

from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from operator_iac.emulator import compat
from operator_iac.emulator.events import BATCH, Envelope
from operator_iac.emulator.http_helpers import bearer_key
from operator_iac.emulator.problems import Problem, ResetConnection, not_found, problem_response
from operator_iac.emulator.state import EmulatorState

KEEP_ALIVE = b": keep-alive\n\n"
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


def format_event(envelope: Envelope, modes: Collection[str]) -> bytes:
    """One SSE message: ``id:`` (unless disabled) and the envelope in ``data:`` line(s)."""
    envelope = compat.without_empties(envelope) if "omit_empty" in modes else envelope
    lines = [] if "no_sse_ids" in modes else [f"id: {envelope['id']}"]
    if "multiline_sse" in modes:
        text = json.dumps(envelope, indent=1)
    else:
        text = json.dumps(envelope, separators=(",", ":"))
    lines.extend(f"data: {line}" for line in text.splitlines())
    return ("\n".join(lines) + "\n\n").encode()


class EventStreamEndpoint:
    """The ASGI endpoint; one ``_Stream`` per connection."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        conversation_id = str(request.path_params["conversation_id"])
        try:
            self._authorize(request, conversation_id)
            after = self._resume_after(request, conversation_id)
        except Problem as problem:
            plain = self._state.faults.has("plain_errors")
            await problem_response(problem, plain)(scope, receive, send)
            return
        await _Stream(self._state, conversation_id, send, receive).run(after)

    def _authorize(self, request: Request, conversation_id: str) -> None:
        conversations = self._state.conversations
        if self._state.key_matches(bearer_key(request.headers)):
            if not conversations.exists(conversation_id):
                raise not_found("conversation", conversation_id)
            return
        if not conversations.token_allows(conversation_id, request.query_params.get("token")):
            raise Problem(401, "unauthorized", "A valid API key or a current token of this "
                          "conversation is required.", {"WWW-Authenticate": "Bearer"})

    def _resume_after(self, request: Request, conversation_id: str) -> int:
        last_id = request.headers.get("last-event-id")
        if not last_id or self._state.faults.has("no_sse_ids"):
            return 0
        return self._state.events.seq_of(conversation_id, last_id.strip()) or 0


class _Stream:
    def __init__(self, state: EmulatorState, conversation_id: str, send: Send,
                 receive: Receive) -> None:
        self._state = state
        self._conversation_id = conversation_id
        self._send = send
        self._receive = receive
        self._waiter = state.broker.subscribe(conversation_id)
        self._gone = False
        self._sent = 0

    async def run(self, after: int) -> None:
        await self._send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        watcher = asyncio.create_task(self._watch_disconnect())
        try:
            await self._pump(after)
        finally:
            watcher.cancel()
            self._state.broker.unsubscribe(self._conversation_id, self._waiter)
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _pump(self, last: int) -> None:
        settings = self._state.faults.settings
        modes, drop_after = frozenset(settings.compat), settings.drop_sse_after
        while not self._gone and not self._state.broker.closed:
            self._waiter.clear()
            batch = self._state.events.after(self._conversation_id, last)
            for seq, envelope in batch:
                message = format_event(envelope, modes)
                if drop_after is not None and self._sent >= drop_after:
                    await self._chunk(message[: len(message) // 2])
                    raise ResetConnection("SSE stream cut (fault injected)")
                await self._chunk(message)
                self._sent += 1
                last = seq
            if drop_after is not None and self._sent >= drop_after:
                raise ResetConnection("SSE stream cut (fault injected)")
            if len(batch) == BATCH:
                continue
            if not batch and not self._state.conversations.exists(self._conversation_id):
                return
            await self._idle()

    async def _idle(self) -> None:
        try:
            await asyncio.wait_for(self._waiter.wait(), self._state.options.keepalive_s)
        except TimeoutError:
            if not self._state.faults.has("no_sse_keepalive"):
                await self._chunk(KEEP_ALIVE)

    async def _chunk(self, data: bytes) -> None:
        await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def _watch_disconnect(self) -> None:
        while True:
            message: Message = await self._receive()
            if message["type"] == "http.disconnect":
                self._gone = True
                self._waiter.set()
                return
