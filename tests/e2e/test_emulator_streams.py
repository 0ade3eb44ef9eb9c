"""The emulator's event stream (SSE) and chat session (WebSocket) over real loopback
connections: replay and live delivery, ids and resumption, keep-alive, token rules, the
full session flow, and its error paths."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from operator_iac.emulator.rules import parse_rules
from operator_iac.emulator.server import EmulatorServer

from .raw_http import VERSION, raw_client

OUTPUT_SCHEMA = {"type": "object", "properties": {"booked": {"type": "boolean"},
                                                  "day": {"enum": ["tuesday", "friday"]}},
                 "required": ["booked", "day"]}


@dataclass
class SseMessage:
    data: dict[str, Any]
    id: str | None = None


class SseReader:
    """Messages and comments read from one SSE response, as far as the test wants."""

    def __init__(self, response: httpx.Response) -> None:
        self.messages: list[SseMessage] = []
        self.comments: list[str] = []
        self._lines = response.iter_lines()

    def read(self, until: Callable[[SseReader], bool]) -> SseReader:
        event_id, data = None, []
        for line in self._lines:
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
            elif line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif not line and data:
                self.messages.append(SseMessage(json.loads("\n".join(data)), event_id))
                event_id, data = None, []
            if until(self):
                break
        return self

    def rest(self) -> list[str]:
        return list(self._lines)

    def types(self) -> list[str]:
        return [m.data["payload"]["type"] for m in self.messages]


@pytest.fixture
def api(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with raw_client(emulator) as client:
        yield client


def client_for(server: EmulatorServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.api_key}", "Operator-Version": VERSION}
    return httpx.Client(base_url=server.url, headers=headers, timeout=5)


def create_conversation(api: httpx.Client, channel: str = "chat_realtime",
                        **config: Any) -> dict[str, Any]:
    """A released agent (Amanda, with one tool and a post-processor) and a conversation."""
    pa = api.post("/procedural_agents", json={"name": "summary", "description": "d", "config": {
        "output": {"output_schema": OUTPUT_SCHEMA}}}).json()["id"]
    api.post(f"/procedural_agents/{pa}/release")
    agent_config = {"personas": [{"name": "Amanda"}],
                    "tool": {"tools": [{"ns": "syscall", "name": "check_availability"}]},
                    **config}
    ca = api.post("/conversational_agents", json={"name": "Booking", "description": "d",
                                                  "config": agent_config,
                                                  "postprocess_agents": [pa]}).json()["id"]
    api.post(f"/conversational_agents/{ca}/release")
    body = {"agent_id": ca, "channel": {"type": channel}, "livemode": False}
    if channel == "phone":
        body["channel"]["callee_no"] = "+15550100"
    response = api.post("/conversations", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
def conversation(api: httpx.Client) -> dict[str, Any]:
    return create_conversation(api)


class Chat:
    """A WebSocket chat session driven by the test."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._n = 0

    def send(self, kind: str, **fields: Any) -> None:
        self._n += 1
        self.ws.send(json.dumps({"id": f"m{self._n}", "payload": {"type": kind, **fields}}))

    def until(self, kind: str, timeout: float = 5.0) -> list[dict[str, Any]]:
        received = []
        while True:
            envelope = json.loads(self.ws.recv(timeout=timeout))
            received.append(envelope)
            if envelope["payload"]["type"] == kind:
                return received


@pytest.fixture
def chat(conversation: dict[str, Any]) -> Iterator[Chat]:
    with connect(conversation["channel"]["session_url"], open_timeout=5) as ws:
        yield Chat(ws)


def payload_types(envelopes: list[dict[str, Any]]) -> list[str]:
    return [e["payload"]["type"] for e in envelopes]


# ---- WebSocket session ----------------------------------------------------------------------


def test_full_session_flow(api: httpx.Client, conversation: dict[str, Any], chat: Chat) -> None:
    chat.send("conversation.start")
    greeting = chat.until("agent.message.completed")
    assert payload_types(greeting)[0] == "conversation.started"
    assert set(payload_types(greeting)[1:-1]) == {"agent.message.delta"}
    completed = greeting[-1]["payload"]
    assert "Amanda" in completed["text"]
    deltas = "".join(e["payload"]["text_delta"] for e in greeting[1:-1])
    assert deltas == completed["text"]
    assert {e["payload"]["generation_id"] for e in greeting[1:]} == {completed["generation_id"]}

    chat.send("user.message.send", text="Can you check availability for Tuesday?")
    turn = chat.until("agent.message.completed")
    kinds = payload_types(turn)
    assert kinds[:3] == ["user.message.received", "agent.tool_call.created",
                         "agent.tool_call.returned"]
    created, returned = turn[1]["payload"], turn[2]["payload"]
    assert created["call_id"] == returned["call_id"] and created["name"] == "check_availability"
    assert json.loads(created["arguments"]) == {"text": "Can you check availability for Tuesday?"}
    assert json.loads(returned["result"]) == {"ok": True}
    final = turn[-1]["payload"]
    assert final["has_tool_calls"] is False and final["interrupted"] is False
    assert kinds.count("agent.message.completed") == 1

    chat.send("conversation.context.update", context={"verified": True})
    (updated,) = chat.until("conversation.context.updated")
    assert updated["payload"]["context"] == {"verified": True}

    chat.send("conversation.end")
    (ended,) = chat.until("conversation.ended")
    assert ended["payload"]["status"] == "completed"
    assert ended["agent_id"].endswith("@v0") and ended["livemode"] is False
    with pytest.raises(ConnectionClosed) as closed:
        chat.ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000

    got = api.get(f"/conversations/{conversation['id']}").json()
    assert got["status"] == "completed"
    assert got["started_at"] and got["completed_at"] and got["duration_sec"] is not None


def test_session_events_are_also_on_the_stream(emulator: EmulatorServer, api: httpx.Client,
                                               conversation: dict[str, Any], chat: Chat) -> None:
    chat.send("conversation.start")
    chat.send("user.message.send", text="hello")
    chat.until("user.message.received")
    sent = chat.until("agent.message.completed")
    chat.send("conversation.end")
    chat.until("conversation.ended")
    url = conversation["channel"]["events_url"]
    with httpx.Client(timeout=5) as raw, raw.stream(
            "GET", url, params={"token": conversation["channel"]["token"]}) as response:
        stream = SseReader(response).read(lambda r: "conversation.ended" in r.types())
    assert stream.types()[0] == "conversation.setup"
    ids = [m.id for m in stream.messages]
    assert ids == [m.data["id"] for m in stream.messages] and len(set(ids)) == len(ids)
    assert [e["id"] for e in sent] == ids[-len(sent) - 1:-1]
    procedures = f"/conversations/{conversation['id']}/procedures"
    deadline = time.monotonic() + 5
    while not (done := [p for p in api.get(procedures).json()["page"]
                        if p["status"] == "success"]) and time.monotonic() < deadline:
        time.sleep(0.01)
    jsonschema.validate(done[0]["output"], OUTPUT_SCHEMA)


@pytest.mark.parametrize(("message", "error"), [
    ("not json", "JSON"),
    (json.dumps({"payload": {"type": "conversation.start"}}), "id"),
    (json.dumps({"id": "1", "payload": {"type": "dance"}}), "unknown message type"),
    (json.dumps({"id": "1", "payload": {"type": "user.message.send", "text": "hi"}}),
     "conversation.start"),
    (json.dumps({"id": "1", "payload": {"type": "conversation.context.update",
                                        "context": 5}}), "context object"),
])
def test_client_mistakes_become_server_errors(chat: Chat, message: str, error: str) -> None:
    chat.ws.send(message)
    (event,) = chat.until("server.error")
    assert error in event["payload"]["error"]
    chat.send("conversation.start")
    assert "conversation.started" in payload_types(chat.until("agent.message.completed"))


def test_duplicate_ids_and_double_start_are_errors(chat: Chat) -> None:
    chat.ws.send(json.dumps({"id": "same", "payload": {"type": "conversation.start"}}))
    chat.until("agent.message.completed")
    chat.ws.send(json.dumps({"id": "same", "payload": {"type": "conversation.start"}}))
    assert "duplicate" in chat.until("server.error")[-1]["payload"]["error"]
    chat.send("conversation.start")
    assert "already started" in chat.until("server.error")[-1]["payload"]["error"]


def test_bad_tokens_are_refused_at_the_handshake(api: httpx.Client, emulator: EmulatorServer,
                                                 conversation: dict[str, Any]) -> None:
    other = create_conversation(api)
    base = f"{emulator.ws_url}/conversations/{conversation['id']}/session"
    for token in ("nonsense", other["channel"]["token"]):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{base}?token={token}", open_timeout=5)
        assert refused.value.response.status_code == 401


def test_ended_and_phone_conversations_have_no_session(api: httpx.Client,
                                                       conversation: dict[str, Any],
                                                       chat: Chat) -> None:
    chat.send("conversation.end")
    chat.until("conversation.ended")
    with pytest.raises(InvalidStatus) as ended:
        connect(conversation["channel"]["session_url"], open_timeout=5)
    assert ended.value.response.status_code == 409
    phone = create_conversation(api, channel="phone")
    url = phone["channel"]["events_url"].replace("http", "ws", 1).replace("/events", "/session")
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{url}?token={phone['channel']['token']}", open_timeout=5)
    assert refused.value.response.status_code == 409


def test_silent_brain_never_answers(emulator: EmulatorServer, chat: Chat) -> None:
    emulator.set_brain(silent=True)
    chat.send("conversation.start")
    assert payload_types(chat.until("conversation.started")) == ["conversation.started"]
    chat.send("user.message.send", text="anyone there?")
    chat.until("user.message.received")
    with pytest.raises(TimeoutError):
        chat.ws.recv(timeout=0.2)


def test_rules_script_tool_errors_and_server_errors(
        emulator_factory: Callable[..., EmulatorServer]) -> None:
    rules = parse_rules([{"match": "(?i)order", "reply": "Sorry, that failed.",
                          "tool": {"name": "check_availability", "error": "service down"},
                          "server_error": "upstream failure"}])
    server = emulator_factory(rules=rules)
    with client_for(server) as api:
        created = create_conversation(api)
    with connect(created["channel"]["session_url"], open_timeout=5) as ws:
        chat = Chat(ws)
        chat.send("conversation.start")
        chat.until("agent.message.completed")
        chat.send("user.message.send", text="where is my order?")
        turn = chat.until("agent.message.completed")
    by_type = {e["payload"]["type"]: e["payload"] for e in turn}
    assert by_type["agent.tool_call.returned"]["error"] == "service down"
    assert "result" not in by_type["agent.tool_call.returned"]
    assert by_type["server.error"]["error"] == "upstream failure"
    assert by_type["agent.message.completed"]["text"] == "Sorry, that failed."


def test_reply_delay_and_ws_drop_faults(emulator: EmulatorServer, chat: Chat) -> None:
    emulator.set_faults(reply_delay_ms=150)
    chat.send("conversation.start")
    chat.until("conversation.started")
    began = time.monotonic()
    chat.until("agent.message.completed")
    assert time.monotonic() - began >= 0.14
    emulator.set_faults(reply_delay_ms=0, drop_ws_after=2)
    chat.send("user.message.send", text="hello")
    with pytest.raises(ConnectionClosed) as closed:
        chat.until("agent.message.completed")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011


# ---- SSE ------------------------------------------------------------------------------------


def events_url(server: EmulatorServer, conversation_id: str) -> str:
    return f"{server.url}/conversations/{conversation_id}/events"


def test_stream_replays_then_follows_live(emulator: EmulatorServer, api: httpx.Client,
                                          conversation: dict[str, Any]) -> None:
    conversation_id = conversation["id"]

    def later() -> None:
        time.sleep(0.1)
        api.post(f"/conversations/{conversation_id}/context", json={"context": {"n": 1}})

    writer = threading.Thread(target=later, daemon=True)
    with api.stream("GET", events_url(emulator, conversation_id)) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        writer.start()
        stream = SseReader(response).read(lambda r: len(r.messages) == 2)
    writer.join(5)
    assert stream.types() == ["conversation.setup", "conversation.context.updated"]
    first = stream.messages[0].data
    assert set(first) == {"id", "created_at", "agent_id", "livemode", "conversation_id",
                          "payload", "experimental"}
    assert first["payload"]["channel"]["type"] == "chat_realtime"


def test_last_event_id_resumes_after_that_event(emulator: EmulatorServer, api: httpx.Client,
                                                conversation: dict[str, Any]) -> None:
    conversation_id = conversation["id"]
    emulator.inject_events(conversation_id, [{"type": "agent.notice.sent", "text": str(i)}
                                             for i in range(5)])
    url = events_url(emulator, conversation_id)
    with api.stream("GET", url) as response:
        head = SseReader(response).read(lambda r: len(r.messages) == 3)
    resume = {"Last-Event-ID": str(head.messages[-1].id)}
    with api.stream("GET", url, headers=resume) as response:
        tail = SseReader(response).read(lambda r: len(r.messages) == 3)
    texts = [m.data["payload"].get("text") for m in head.messages + tail.messages]
    assert texts == [None, "0", "1", "2", "3", "4"]


def test_keep_alive_comments_and_stream_stays_open_after_the_end(
        emulator_factory: Callable[..., EmulatorServer]) -> None:
    server = emulator_factory(keepalive_s=0.05)
    with client_for(server) as api:
        created = create_conversation(api)
        with connect(created["channel"]["session_url"], open_timeout=5) as ws:
            chat = Chat(ws)
            chat.send("conversation.end")
            chat.until("conversation.ended")
        with api.stream("GET", events_url(server, created["id"])) as response:
            stream = SseReader(response).read(lambda r: len(r.comments) >= 2)
    assert stream.comments[:2] == ["keep-alive", "keep-alive"]
    assert stream.types()[-1] == "conversation.ended"


def test_stream_auth_rules(emulator: EmulatorServer, api: httpx.Client,
                           conversation: dict[str, Any]) -> None:
    other = create_conversation(api)
    url = events_url(emulator, conversation["id"])
    token = conversation["channel"]["token"]
    with httpx.Client(timeout=5) as raw:
        assert raw.get(url).status_code == 401
        assert raw.get(url, params={"token": other["channel"]["token"]}).status_code == 401
        assert raw.get(events_url(emulator, "conv_none"),
                       headers={"Authorization": f"Bearer {emulator.api_key}"}
                       ).status_code == 404
        with raw.stream("GET", url, params={"token": token}) as response:
            assert response.status_code == 200
        emulator.advance_clock(3 * 3600 + 1)
        expired = raw.get(url, params={"token": token})
        assert expired.status_code == 401
        assert expired.json()["error"]["code"] == "unauthorized"


def test_stream_ends_for_deleted_conversations_and_on_disconnect(
        emulator: EmulatorServer, api: httpx.Client, conversation: dict[str, Any]) -> None:
    broker = emulator.state.broker
    with api.stream("GET", events_url(emulator, conversation["id"])) as response:
        reader = SseReader(response).read(lambda r: len(r.messages) == 1)
        api.delete(f"/conversations/{conversation['id']}")
        remainder = reader.rest()
    assert all(not line.startswith("data:") for line in remainder)
    deadline = time.monotonic() + 5
    while broker._waiters and time.monotonic() < deadline:
        time.sleep(0.01)
    assert broker._waiters == {}


def test_stop_is_quick_with_open_streams(emulator_factory: Callable[..., EmulatorServer]) -> None:
    server = emulator_factory()
    with client_for(server) as api:
        created = create_conversation(api)
        opened = threading.Event()

        def listen() -> None:
            with api.stream("GET", events_url(server, created["id"])) as response:
                reader = SseReader(response).read(lambda r: bool(r.messages))
                opened.set()
                reader.rest()

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert opened.wait(5)
        began = time.monotonic()
        server.stop()
        listener.join(5)
    assert time.monotonic() - began < 1.5
    assert not listener.is_alive()
