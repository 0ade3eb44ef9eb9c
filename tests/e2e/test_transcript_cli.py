"""``operator-iac transcript`` against the emulator: finished and live conversations, text and
JSON, ``--follow``, a dropped stream, and an unknown id."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.api.models import ConversationCreated
from operator_iac.emulator.server import EmulatorServer

from .conftest import REPO, Cli, Result

MINIMAL_PROJECT = REPO / "examples" / "minimal" / "operator-iac.yaml"


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[OperatorClient]:
    with OperatorClient(emulator.url, emulator.api_key) as api:
        yield api


@pytest.fixture
def transcript(cli: Cli, emulator: EmulatorServer,
               monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``operator-iac transcript ARGS`` on the minimal example project and the emulator."""
    monkeypatch.setenv("OPERATOR_API_KEY", emulator.api_key)

    def run(*args: str) -> Result:
        return cli("--project-file", str(MINIMAL_PROJECT), "--api-url", emulator.url,
                   "transcript", *args)

    return run


@pytest.fixture
def new_conversation(client: OperatorClient) -> Callable[[], ConversationCreated]:
    """A queued testmode chat with a released agent that can check the time."""
    agent = client.conversational_agents.create("Hello", "", {
        "personas": [{"name": "Robin"}],
        "runtime": {"model": "openai/gpt-4o-mini", "prompt": {"type": "fixed", "text": "Hi"}},
        "tool": {"tools": [{"ns": "syscall", "name": "current_time"}]}})

    def create() -> ConversationCreated:
        return client.conversations.create(f"{agent.id}@v0", livemode=False)

    return create


def talk(client: OperatorClient, created: ConversationCreated) -> None:
    """Greeting, one message that calls a tool, then the end."""
    with client.open_session(created, recv_timeout=5) as session:
        session.start()
        session.until(lambda e: e.type == "agent.message.completed")
        session.send_message("What is the current_time?")
        session.until(lambda e: e.type == "agent.message.completed")
        session.end()
        list(session.events())


def test_a_finished_conversation_as_text(transcript: Callable[..., Result],
                                         client: OperatorClient,
                                         new_conversation: Callable[[], ConversationCreated]
                                         ) -> None:
    created = new_conversation()
    talk(client, created)
    result = transcript(created.id)
    assert result.exit_code == 0, result.stderr
    lines = [line.split("] ", 1)[-1] for line in result.stdout.splitlines()]
    assert lines[0].startswith(f"Conversation {created.id} with ca_")
    assert lines[1:] == [
        "Conversation set up (chat_realtime, inbound)",
        "Conversation started",
        "Agent: Hi, this is Robin. How can I help you today?",
        "--- turn 1 ---",
        "User: What is the current_time?",
        'Tool call current_time({"text": "What is the current_time?"})',
        '  -> current_time returned {"ok": true}',
        'Agent: I used current_time and it worked. You said: "What is the current_time?".',
        "Conversation ended (completed)",
    ]


def test_json_survives_a_dropped_stream(transcript: Callable[..., Result],
                                        client: OperatorClient, emulator: EmulatorServer,
                                        new_conversation: Callable[[], ConversationCreated]
                                        ) -> None:
    created = new_conversation()
    talk(client, created)
    emulator.set_faults(drop_sse_after=12)
    result = transcript(created.id, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["conversation_id"] == created.id
    kinds = [e["type"] for e in data["entries"]]
    assert kinds == ["conversation.setup", "conversation.started", "message", "message",
                     "tool_call", "message", "conversation.ended"]
    assert data["entries"][4]["result"] == '{"ok": true}'


def talk_once_followed(emulator: EmulatorServer, client: OperatorClient,
                       created: ConversationCreated) -> None:
    """``talk`` as soon as someone reads the conversation's event stream."""
    events = f"/conversations/{created.id}/events"
    deadline = time.monotonic() + 10
    while not any(r.path == events for r in emulator.requests) and time.monotonic() < deadline:
        time.sleep(0.01)
    talk(client, created)


def test_follow_streams_a_live_conversation_until_it_ends(
        transcript: Callable[..., Result], client: OperatorClient, emulator: EmulatorServer,
        new_conversation: Callable[[], ConversationCreated]) -> None:
    created = new_conversation()
    chat = threading.Thread(target=talk_once_followed, args=(emulator, client, created))
    chat.start()
    result = transcript(created.id, "--follow")
    chat.join(10)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Conversation {created.id}"
    assert result.stdout.rstrip().endswith("Conversation ended (completed)")
    assert "User: What is the current_time?" in result.stdout
    assert f"{created.id} has not started yet (queued); waiting" in result.stderr


def test_without_follow_a_live_conversation_shows_what_exists(
        transcript: Callable[..., Result],
        new_conversation: Callable[[], ConversationCreated]) -> None:
    created = new_conversation()
    started = time.monotonic()
    result = transcript(created.id)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].endswith("Conversation set up (chat_realtime, inbound)")
    assert time.monotonic() - started < 5


def test_an_unknown_conversation(transcript: Callable[..., Result]) -> None:
    result = transcript("conv_doesnotexist")
    assert result.exit_code == 1
    assert "GET /conversations/conv_doesnotexist failed with HTTP 404" in result.stderr


def test_a_platform_that_leaves_false_out_still_shows_a_testmode_transcript(
        transcript: Callable[..., Result], client: OperatorClient, emulator: EmulatorServer,
        new_conversation: Callable[[], ConversationCreated]) -> None:
    # no `livemode: false`, `interrupted: false` or `has_tool_calls: false` in any event
    emulator.set_compat("omit_empty")
    created = new_conversation()
    talk(client, created)
    text = transcript(created.id)
    assert text.exit_code == 0, text.stderr
    assert "(testmode)" in text.stdout.splitlines()[0]
    assert "  -> current_time returned" in text.stdout
    data = json.loads(transcript(created.id, "--format", "json").stdout)
    assert data["livemode"] is False
    assert [e["type"] for e in data["entries"]][-1] == "conversation.ended"
