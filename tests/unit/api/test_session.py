"""The chat session against a scripted WebSocket server on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection, serve

from operator_iac.api import ConversationCreated, OperatorClient
from operator_iac.api.session import ChatSession, session_url_for
from operator_iac.errors import AuthenticationError, StreamError, TransportError

Script = Callable[[ServerConnection], None]


def event(kind: str, n: int, **fields: Any) -> str:
    return json.dumps({"id": f"ev_{n}", "conversation_id": "conv_1", "agent_id": "ca_1@v0",
                       "livemode": False, "payload": {"type": kind, **fields}})


@pytest.fixture
def ws_server() -> Iterator[Callable[..., str]]:
    """``ws_server(script, process_request=None)`` -> a session URL served by ``script``."""
    servers = []

    def start(script: Script, process_request: Any = None) -> str:
        server = serve(script, "127.0.0.1", 0, process_request=process_request)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        port = server.socket.getsockname()[1]
        return session_url_for(f"ws://127.0.0.1:{port}", "conv_1", "tok_secret_9")

    yield start
    for server in servers:
        server.shutdown()


def polite_agent(connection: ServerConnection) -> None:
    """Follows the documented flow."""
    for n, raw in enumerate(connection, start=1):
        message = json.loads(raw)
        kind = message["payload"]["type"]
        if kind == "conversation.start":
            connection.send(event("conversation.started", n))
            connection.send(event("agent.message.completed", n + 100, text="Hello"))
        elif kind == "user.message.send":
            connection.send(event("user.message.received", n, text=message["payload"]["text"]))
            connection.send(event("agent.message.completed", n + 100, text="Sure"))
        elif kind == "conversation.context.update":
            connection.send(event("conversation.context.updated", n,
                                  context=message["payload"]["context"]))
        elif kind == "conversation.end":
            connection.send(event("conversation.ended", n, status="completed"))
            connection.close(1000)
            return


def test_full_conversation_flow(ws_server: Callable[..., str]) -> None:
    url = ws_server(polite_agent)
    with ChatSession.connect(url, recv_timeout=5) as session:
        ids = [session.start()]
        greeting = session.until(lambda e: e.type == "agent.message.completed")
        ids.append(session.send_message("Book me"))
        reply = session.until(lambda e: e.type == "agent.message.completed")
        ids.append(session.update_context({"$variables": {"x": "1"}}))
        updated = session.recv()
        ids.append(session.end())
        rest = list(session.events())
    assert [e.type for e in greeting] == ["conversation.started", "agent.message.completed"]
    assert greeting[-1].payload["text"] == "Hello"
    assert [e.type for e in reply] == ["user.message.received", "agent.message.completed"]
    assert reply[0].payload["text"] == "Book me"
    assert updated is not None and updated.payload["context"] == {"$variables": {"x": "1"}}
    assert [e.type for e in rest] == ["conversation.ended"]
    assert len(set(ids)) == 4


def test_messages_have_unique_ids_and_payloads(ws_server: Callable[..., str]) -> None:
    seen: list[dict[str, Any]] = []

    def recorder(connection: ServerConnection) -> None:
        for raw in connection:
            seen.append(json.loads(raw))
            if len(seen) == 2:
                connection.send(event("conversation.ended", 1, status="completed"))
                connection.close(1000)
                return

    with ChatSession.connect(ws_server(recorder), recv_timeout=5) as session:
        session.send_message("hi")
        session.end()
        assert [e.type for e in session.events()] == ["conversation.ended"]
    assert [m["payload"] for m in seen] == [{"type": "user.message.send", "text": "hi"},
                                            {"type": "conversation.end"}]
    assert seen[0]["id"] != seen[1]["id"]


def test_server_closing_mid_conversation_is_a_clear_error(
        ws_server: Callable[..., str]) -> None:
    def crash(connection: ServerConnection) -> None:
        connection.recv()
        connection.send(event("conversation.started", 1))
        connection.close(1011, "agent crashed")

    with ChatSession.connect(ws_server(crash), recv_timeout=5) as session:
        session.start()
        assert session.recv() is not None
        with pytest.raises(StreamError) as caught:
            session.recv()
    message = str(caught.value)
    assert "code 1011" in message and "agent crashed" in message
    assert "before the conversation ended" in message
    assert "tok_secret_9" not in message


def test_normal_close_before_the_end_is_still_an_error(ws_server: Callable[..., str]) -> None:
    def hang_up(connection: ServerConnection) -> None:
        connection.recv()
        connection.close(1000)

    with ChatSession.connect(ws_server(hang_up), recv_timeout=5) as session:
        session.start()
        with pytest.raises(StreamError, match="code 1000"):
            list(session.events())


def test_silence_times_out(ws_server: Callable[..., str]) -> None:
    release = threading.Event()

    def silent(connection: ServerConnection) -> None:
        release.wait(5)

    with ChatSession.connect(ws_server(silent), recv_timeout=0.2) as session:
        session.start()
        with pytest.raises(StreamError, match=r"no event within 0.2s"):
            session.recv()
    release.set()


def test_rejected_handshake_maps_to_the_api_error(ws_server: Callable[..., str]) -> None:
    def reject(connection: ServerConnection, request: Request) -> Response:
        return connection.respond(401, '{"error": {"message": "token expired"}}')

    url = ws_server(polite_agent, process_request=reject)
    with pytest.raises(AuthenticationError) as caught:
        ChatSession.connect(url)
    assert str(caught.value) == ("GET /conversations/conv_1/session failed with HTTP 401: "
                                 "token expired")


def test_nothing_listening_is_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = session_url_for(f"ws://127.0.0.1:{port}", "conv_1", "tok")
    with pytest.raises(TransportError, match="could not connect"):
        ChatSession.connect(url, open_timeout=2)


def test_session_url_is_built_from_the_websocket_base() -> None:
    assert session_url_for("wss://agent.app.operator.xyz/", "conv_8", "a/b+c") == (
        "wss://agent.app.operator.xyz/conversations/conv_8/session?token=a%2Fb%2Bc")


def test_client_builds_the_session_url_when_none_was_returned(
        ws_server: Callable[..., str]) -> None:
    url = ws_server(polite_agent)
    ws_base = url.split("/conversations/")[0]
    created = ConversationCreated.model_validate(
        {"id": "conv_1", "channel": {"type": "chat_realtime", "token": "tok_secret_9"}})
    with OperatorClient("https://api.example.test", "k", ws_url=ws_base) as client, \
            client.open_session(created, recv_timeout=5) as session:
        session.start()
        assert session.recv() is not None
        assert session.path == "/conversations/conv_1/session"


def test_client_refuses_a_session_without_url_or_token() -> None:
    """No session URL, no token, and a token refresh that gives none: a stream error."""
    created = ConversationCreated.model_validate({"id": "conv_1", "channel": {"type": "x"}})
    refresh = httpx.MockTransport(lambda _request: httpx.Response(200, json={"token": ""}))
    with OperatorClient("https://api.example.test", "k", transport=refresh) as client, \
            pytest.raises(StreamError, match="neither a session URL nor a token"):
        client.open_session(created)
