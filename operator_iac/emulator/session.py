"""``/conversations/{id}/session?token=...``: the real-time chat session over WebSocket.

Follows the [decided] flow of operator-api.md 6.4: ``conversation.start`` -> started, a
scripted notice if any, and a streamed greeting; ``user.message.send`` -> received, tool call
pairs, scripted notice and context update, streamed reply; ``conversation.context.update``
-> context updated; ``conversation.end`` -> ended, close 1000, then post-processing. Every
event is stored (so SSE carries it too) before it is sent. Client mistakes become
``server.error`` events; the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from operator_iac.emulator import compat, ids
from operator_iac.emulator.brain import AgentView, Turn
from operator_iac.emulator.conversations import (
    COMPLETED,
    IN_PROGRESS,
    QUEUED,
    Conversation,
    refuse_unless_in_progress,
)
from operator_iac.emulator.problems import Problem, conflict, problem_response
from operator_iac.emulator.state import EmulatorState

Handler = Callable[[dict[str, Any]], Awaitable[bool]]
PING_INTERVAL_S = 0.2


class SessionDropped(Exception):
    """The server closed the socket on purpose (a fault)."""


def session_endpoint(state: EmulatorState) -> Callable[[WebSocket], Awaitable[None]]:
    async def endpoint(websocket: WebSocket) -> None:
        try:
            conversation, agent = _admit(state, websocket)
        except Problem as problem:
            await _deny(websocket, problem, state.faults.has("plain_errors"))
            return
        await websocket.accept()
        await ChatSession(state, websocket, conversation, agent).run()

    return endpoint


def _admit(state: EmulatorState, websocket: WebSocket) -> tuple[Conversation, AgentView]:
    conversation_id = str(websocket.path_params["conversation_id"])
    conversations = state.conversations
    if not conversations.token_allows(conversation_id, websocket.query_params.get("token")):
        raise Problem(401, "unauthorized", "A current token of this conversation is required.")
    conversation = conversations.get(conversation_id)
    if conversation.channel_type == "phone":
        raise conflict("wrong_channel", "phone conversations have no chat session")
    if conversation.status not in (QUEUED, IN_PROGRESS):
        raise conflict("conversation_ended", f"conversation {conversation_id} has ended")
    revision = conversations.revision_of(conversation)
    return conversation, AgentView.from_config(revision.name,
                                               conversations.effective_config(conversation))


async def _deny(websocket: WebSocket, problem: Problem, plain: bool) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(problem_response(problem, plain))
    else:
        await websocket.close(code=1008, reason=problem.message[:120])


class ChatSession:
    """One connected client of one conversation."""

    def __init__(self, state: EmulatorState, websocket: WebSocket, conversation: Conversation,
                 agent: AgentView) -> None:
        self._state = state
        self._ws = websocket
        self._conversation = conversation
        self._agent = agent
        self._seen: set[str] = set()
        self._sent = 0
        self._pinger: asyncio.Future[None] | None = None
        self._handlers: dict[str, Handler] = {
            "conversation.start": self._on_start,
            "user.message.send": self._on_message,
            "conversation.context.update": self._on_context,
            "conversation.end": self._on_end,
        }

    async def run(self) -> None:
        try:
            while await self._handle(await self._ws.receive_text()):
                pass
        except (WebSocketDisconnect, SessionDropped):
            return
        except Problem as problem:  # the conversation vanished under the session
            await self._ws.close(code=1011, reason=problem.message[:120])
        finally:
            if self._pinger is not None:
                self._pinger.cancel()

    async def _handle(self, text: str) -> bool:
        """Process one client message; False once the session is over."""
        payload, problem = self._parse(text)
        if problem:
            await self._error(problem)
            return True
        handler = self._handlers.get(str(payload.get("type")))
        if handler is None:
            await self._error(f"unknown message type {payload.get('type')!r}")
            return True
        return await handler(payload)

    def _parse(self, text: str) -> tuple[dict[str, Any], str | None]:
        try:
            message = json.loads(text)
        except ValueError:
            return {}, "messages must be JSON objects"
        if not isinstance(message, dict) or not isinstance(message.get("payload"), dict):
            return {}, "a message needs a payload object"
        message_id = message.get("id")
        if not isinstance(message_id, str) or not message_id:
            return {}, "a message needs a string id"
        if message_id in self._seen:
            return {}, f"duplicate message id {message_id!r}"
        self._seen.add(message_id)
        return message["payload"], None

    # ---- handlers ------------------------------------------------------------------------

    async def _on_start(self, payload: dict[str, Any]) -> bool:
        if self._current().status != QUEUED:
            await self._error("the conversation has already started")
            return True
        self._conversation = self._state.conversations.mark_started(self._conversation.id)
        await self._emit({"type": "conversation.started"})
        notice = self._state.brain.rules.start_notice
        if notice is not None:
            await self._emit({"type": "agent.notice.sent", "text": notice})
        greeting = self._state.brain.greet(self._agent)
        if greeting is not None and not self._has("no_greeting"):
            await self._think()
            await self._speak(greeting)
        return True

    async def _on_message(self, payload: dict[str, Any]) -> bool:
        text = payload.get("text")
        if self._current().status != IN_PROGRESS:
            await self._error("send conversation.start before user messages")
        elif not isinstance(text, str) or not text.strip():
            await self._error("user.message.send needs a non-empty text")
        else:
            await self._emit({"type": "user.message.received", "text": text})
            await self._act(self._state.brain.respond(self._agent, text))
        return True

    async def _on_context(self, payload: dict[str, Any]) -> bool:
        context = payload.get("context")
        if not isinstance(context, dict):
            await self._error("conversation.context.update needs a context object")
            return True
        try:
            if self._has("context_in_progress_only"):
                refuse_unless_in_progress(self._current())
            event = self._state.conversations.update_context(
                self._conversation.id, context, bare=self._has("bare_context_event"))
        except Problem as problem:
            await self._error(problem.message)
            return True
        await self._deliver(event)
        return True

    async def _on_end(self, payload: dict[str, Any]) -> bool:
        if self._current().status not in (QUEUED, IN_PROGRESS):
            await self._error("the conversation has already ended")
            return True
        conversations = self._state.conversations
        self._conversation = conversations.mark_ended(self._conversation.id, COMPLETED)
        ended: dict[str, Any] = {"type": "conversation.ended"}
        if not self._has("ended_without_status"):
            ended["status"] = COMPLETED
        await self._emit(ended)
        if self._conversation.livemode or not self._has("no_testmode_postprocessing"):
            self._state.procedures.after_conversation(self._conversation)
        if self._has("ws_stays_open"):
            self._pinger = asyncio.ensure_future(self._ping())
            return True
        await self._ws.close(code=1000)
        return False

    async def _ping(self) -> None:
        """Application-level pings on a socket left open after the end (a compatibility
        mode): a client that waits for the close waits forever."""
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(PING_INTERVAL_S)
                await self._ws.send_text(json.dumps({"type": "ping"}))

    # ---- speaking ------------------------------------------------------------------------

    async def _act(self, turn: Turn) -> None:
        await self._think()
        for call in turn.tool_calls:
            call_id = ids.new_id(ids.TOOL_CALL)
            base = {"call_id": call_id, "name": call.name, "arguments": call.arguments}
            await self._emit({"type": "agent.tool_call.created", **base})
            outcome = {"error": call.error} if call.error is not None else {"result": call.result}
            await self._emit({"type": "agent.tool_call.returned", **base, **outcome})
        if turn.notice is not None:
            await self._emit({"type": "agent.notice.sent", "text": turn.notice})
        if turn.context is not None:
            await self._deliver(self._state.conversations.update_context(
                self._conversation.id, turn.context))
        if turn.server_error:
            await self._error(turn.server_error)
        if turn.reply is not None:
            await self._speak(turn.reply, interrupted=turn.interrupted,
                              used_tools=bool(turn.tool_calls))

    async def _speak(self, text: str, interrupted: bool = False,
                     used_tools: bool = False) -> None:
        generation_id = ids.new_id(ids.GENERATION)
        for piece in re.findall(r"\S+\s*", text) or [text]:
            await self._emit({"type": "agent.message.delta", "text_delta": piece,
                              "generation_id": generation_id})
        await self._emit({"type": "agent.message.completed", "text": text,
                          "generation_id": generation_id, "interrupted": interrupted,
                          "has_tool_calls": used_tools and self._has("tool_flag_on_reply")})

    async def _think(self) -> None:
        delay_ms = self._state.faults.settings.reply_delay_ms
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)

    async def _error(self, message: str) -> None:
        await self._emit({"type": "server.error", "error": message})

    async def _emit(self, payload: dict[str, Any]) -> None:
        await self._deliver(self._state.conversations.append_event(self._conversation, payload))

    async def _deliver(self, envelope: dict[str, Any]) -> None:
        if self._has("agent_events_only_ws") and not _agents_own(envelope):
            return  # stored, so the SSE stream carries it; the session does not
        drop_after = self._state.faults.settings.drop_ws_after
        if drop_after is not None and self._sent >= drop_after:
            await self._ws.close(code=1011, reason="connection dropped (fault injected)")
            raise SessionDropped
        if self._has("omit_empty"):
            envelope = compat.without_empties(envelope)
        await self._ws.send_text(json.dumps(envelope))
        self._sent += 1

    def _has(self, mode: str) -> bool:
        return self._state.faults.has(mode)

    def _current(self) -> Conversation:
        self._conversation = self._state.conversations.get(self._conversation.id)
        return self._conversation


def _agents_own(envelope: dict[str, Any]) -> bool:
    """An event of the agent itself (``agent.*``) or a ``server.error``: all a session carries
    on a platform whose sessions leave the rest to the SSE stream."""
    kind = str((envelope.get("payload") or {}).get("type", ""))
    return kind.startswith("agent.") or kind == "server.error"
