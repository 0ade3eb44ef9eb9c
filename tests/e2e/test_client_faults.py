"""The client under the emulator's fault injection and compatibility modes, over real loopback.

Retries are observed through the client's attempt listener and the emulator's request log;
waits the client asks for are recorded instead of slept (the clock moves by them), so
``Retry-After`` and deadlines are exact and the tests stay fast.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from operator_iac.api import (
    AmbiguousWriteError,
    Attempt,
    Event,
    OperatorClient,
    WorkPool,
    WriteResult,
    ended,
    transfer_target,
)
from operator_iac.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    StreamError,
)

AGENT_CONFIG: dict[str, Any] = {
    "personas": [{"name": "Amanda", "voice": {"provider": "operator", "id": "Female 1"}}],
    "runtime": {"model": "openai/gpt-4o", "prompt": {"type": "fixed", "text": "Be kind."}},
}


@dataclass
class Probe:
    """A client on the emulator, with every attempt and every requested wait recorded."""

    client: OperatorClient
    attempts: list[Attempt] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def clock(self) -> float:
        return time.monotonic() + sum(self.sleeps)

    def attempts_on(self, path: str) -> list[int | None]:
        return [a.status for a in self.attempts if a.path == path]

    def agent(self, **fields: Any) -> WriteResult:
        body = {"name": f"fault-{uuid.uuid4().hex[:10]}", "description": "d",
                "config": AGENT_CONFIG, **fields}
        return self.client.conversational_agents.create(**body)

    def released(self) -> WriteResult:
        created = self.agent()
        return self.client.conversational_agents.release(created.version_id or "")

    def chat(self, agent_id: str, *messages: str) -> str:
        created = self.client.conversations.create(agent_id, livemode=False)
        with self.client.open_session(created, recv_timeout=10) as session:
            session.start()
            session.until(lambda e: e.type == "agent.message.completed")
            for text in messages:
                session.send_message(text)
                session.until(lambda e: e.type == "agent.message.completed")
            session.end()
            list(session.events())
        return created.id


@pytest.fixture
def probe(emulator: Any) -> Iterator[Callable[..., Probe]]:
    """``probe(**client_options)``: a recording client on the test's emulator; its waits are
    recorded, not slept, unless ``real_waits=True``."""
    clients: list[OperatorClient] = []

    def make(*, real_waits: bool = False, **options: Any) -> Probe:
        recorder = Probe(client=None)  # type: ignore[arg-type]
        if not real_waits:
            options.update(sleep=recorder.sleep, clock=recorder.clock)
        client = OperatorClient(emulator.url, emulator.api_key, **options)
        client.add_listener(recorder.attempts.append)
        recorder.client = client
        clients.append(client)
        return recorder

    yield make
    for client in clients:
        client.close()


def path_of(agent_id: str) -> str:
    return f"/conversational_agents/{agent_id}"


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def served_statuses(emulator: Any, path: str, expected: int) -> list[int]:
    """The statuses the emulator logged for ``path`` (it logs just after answering)."""
    deadline = time.monotonic() + 2.0
    while True:
        statuses = [r.status for r in emulator.requests if r.path == path]
        if len(statuses) >= expected or time.monotonic() > deadline:
            return statuses
        time.sleep(0.01)


# ---- retries ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504, 429])
def test_retryable_bursts_are_ridden_out(emulator: Any, probe: Callable[..., Probe],
                                         status: int) -> None:
    p = probe()
    agent = p.agent()
    emulator.fail_next(2, status, "GET", f"{path_of(agent.id)}$")
    assert p.client.conversational_agents.get(agent.id).id == agent.id
    assert p.attempts_on(path_of(agent.id)) == [status, status, 200]
    assert served_statuses(emulator, path_of(agent.id), 3) == [status, status, 200]


def test_501_is_final(emulator: Any, probe: Callable[..., Probe]) -> None:
    p = probe()
    agent = p.agent()
    emulator.fail_next(1, 501, "GET")
    with pytest.raises(ServerError):
        p.client.conversational_agents.get(agent.id)
    assert p.attempts_on(path_of(agent.id)) == [501]


def test_connection_reset_is_retried(emulator: Any, probe: Callable[..., Probe]) -> None:
    p = probe()
    agent = p.agent()
    emulator.fail_next(1, 0, "PUT")
    assert p.client.conversational_agents.update(agent.id, name="x").id == agent.id
    kinds = [(a.status, a.exc_kind) for a in p.attempts if a.method == "PUT"]
    assert kinds == [(None, "network"), (200, None)]


def test_retry_after_is_honoured(emulator: Any, probe: Callable[..., Probe]) -> None:
    p = probe()
    emulator.fail_next(1, 429, "GET", retry_after=3)
    list(p.client.conversational_agents.list())
    assert p.sleeps == [3.0]


def test_a_429_storm_ends_at_the_deadline(emulator: Any, probe: Callable[..., Probe]) -> None:
    p = probe(deadline=22.0, max_retries=100)
    emulator.fail_next(1000, 429, "GET", retry_after=4)
    with pytest.raises(RateLimitedError):
        list(p.client.conversational_agents.list())
    assert p.sleeps == [4.0] * 5
    assert len(p.attempts) == 6


def test_random_server_errors_are_absorbed(emulator: Any, probe: Callable[..., Probe]) -> None:
    p = probe(max_retries=8)
    agent = p.agent()
    emulator.set_faults(error_rate=0.4, error_statuses=[502, 503], seed=7)
    for _ in range(15):
        assert p.client.conversational_agents.get(agent.id).id == agent.id
    statuses = p.attempts_on(path_of(agent.id))
    assert statuses.count(200) == 15
    assert len(statuses) > 15


def test_slow_answers_time_out(emulator: Any, probe: Callable[..., Probe]) -> None:
    p = probe(timeout=0.1, max_retries=1)
    emulator.set_faults(latency_ms=400)
    with pytest.raises(RequestTimeoutError, match="no answer in time after 2 attempts"):
        list(p.client.conversational_agents.list())


@pytest.mark.parametrize("throttle", [429, 503])
def test_the_pool_slows_down_under_rate_limiting(emulator: Any, probe: Callable[..., Probe],
                                                 throttle: int) -> None:
    """A rate limit answered 429, or 503 with ``Retry-After`` (a gateway's way)."""
    p = probe(real_waits=True)
    agents = [p.agent().id for _ in range(24)]
    if throttle == 503:
        emulator.set_compat("throttle_503")
    emulator.set_faults(rate_limit_rps=12, retry_after_s=1)
    with WorkPool(p.client, parallelism=8) as pool:
        limits: list[int] = []
        p.client.add_listener(lambda attempt: limits.append(pool.limit.limit))
        read = pool.map(lambda agent_id: p.client.conversational_agents.get(agent_id).id,
                        agents)
    assert read == agents
    assert throttle in [a.status for a in p.attempts]
    assert min(limits) < 8


# ---- writes that may or may not have happened ---------------------------------------------


@pytest.mark.parametrize("mode", ["502", "reset"])
def test_a_lost_create_is_reported_as_ambiguous_and_not_repeated(
        emulator: Any, probe: Callable[..., Probe], mode: str) -> None:
    p = probe()
    emulator.lose_next_response("POST", "^/conversational_agents$", mode=mode)
    name = f"lost-{uuid.uuid4().hex[:8]}"
    with pytest.raises(AmbiguousWriteError) as caught:
        p.agent(name=name)
    assert "may or may not have been applied" in str(caught.value)
    assert [a.method for a in p.attempts] == ["POST"]
    # The caller can look for what it wrote: it exists exactly once.
    assert [a.name for a in p.client.conversational_agents.list()].count(name) == 1


def test_a_create_throttled_with_503_waits_the_time_asked_before_it_is_looked_for(
        emulator: Any, probe: Callable[..., Probe]) -> None:
    # A gateway's rate limit on a create: not sent again (it may have been applied), but
    # the caller that looks for it, and may send it again, comes when the platform asked.
    p = probe()
    emulator.set_compat("throttle_503")
    emulator.fail_next(1, 503, "POST", r"^/conversational_agents$", retry_after=7)
    with pytest.raises(AmbiguousWriteError):
        p.agent()
    assert [a.method for a in p.attempts] == ["POST"]
    assert p.sleeps == [7.0]


def test_a_lost_release_is_retried(emulator: Any, probe: Callable[..., Probe]) -> None:
    p = probe()
    agent = p.agent()
    emulator.lose_next_response("POST", "/release$", mode="reset")
    assert p.client.conversational_agents.release(f"{agent.id}@v0").id == agent.id
    versions = p.client.conversational_agents.list_versions(agent.id)
    assert [v.version_status for v in versions] == ["released"]
    assert len([a for a in p.attempts if a.path.endswith("/release")]) == 2


def test_a_lost_delete_answer_still_counts_as_deleted(emulator: Any,
                                                      probe: Callable[..., Probe]) -> None:
    p = probe()
    agent = p.agent()
    emulator.lose_next_response("DELETE", ".*", mode="502")
    assert p.client.conversational_agents.delete(agent.id).deleted
    assert p.attempts_on(path_of(agent.id)) == [502, 404]


# ---- error bodies -------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "found"), [("html", True), ("text", True), ("empty", False),
                                             ("json", True)])
def test_error_bodies_of_any_shape(emulator: Any, probe: Callable[..., Probe], body: str,
                                   found: bool) -> None:
    p = probe()
    emulator.fail_next(1, 400, "GET", body=body)
    with pytest.raises(BadRequestError) as caught:
        list(p.client.conversational_agents.list())
    message = caught.value.server_message
    assert bool(message) is found
    assert "<" not in message and len(message) <= 300
    assert str(caught.value).startswith("GET /conversational_agents failed with HTTP 400")


def test_plain_text_errors(emulator: Any, probe: Callable[..., Probe]) -> None:
    emulator.set_compat("plain_errors")
    with pytest.raises(NotFoundError) as caught:
        probe().client.conversational_agents.get("ca_missing0")
    assert "ca_missing0" in caught.value.server_message


# ---- compatibility modes ------------------------------------------------------------------


def test_is_released_instead_of_version_status(emulator: Any,
                                               probe: Callable[..., Probe]) -> None:
    emulator.set_compat("is_released")
    agents = probe().client.conversational_agents
    agent = agents.release(agents.create("A", "d", AGENT_CONFIG).version_id or "")
    agents.update(agent.id, name="B")
    assert [v.version_status for v in agents.list_versions(agent.id)] == ["released", "draft"]
    agents.release(f"{agent.id}@v1")
    assert [v.version_status for v in agents.list_versions(agent.id)] == ["archived", "released"]
    assert agents.get(f"{agent.id}@v1").status == "released"


def test_transfers_read_back_with_id(emulator: Any, probe: Callable[..., Probe]) -> None:
    emulator.set_compat("transfer_id")
    p = probe()
    target = p.agent().id
    config = {**AGENT_CONFIG, "tool": {"tools": [], "transfers": [{"entity_id": target}]}}
    agent = p.agent(config=config)
    transfers = p.client.conversational_agents.get(agent.id).config["tool"]["transfers"]
    assert [transfer_target(t) for t in transfers] == [target]


def test_unknown_fields_survive_a_read_modify_write(emulator: Any,
                                                    probe: Callable[..., Probe]) -> None:
    emulator.set_compat("extra_fields")
    p = probe()
    config = {**AGENT_CONFIG, "future_section": {"enabled": True}}
    agent = p.client.conversational_agents.get(p.agent(config=config).id)
    assert agent.model_extra
    agent.config["runtime"]["model"] = "openai/gpt-4.1"
    written = p.client.conversational_agents.update(agent.id, **agent.update_body())
    stored = p.client.conversational_agents.get(written.version_id or "").config
    assert stored["future_section"] == {"enabled": True}
    assert stored["runtime"]["model"] == "openai/gpt-4.1"


def test_enqueued_reads_as_queued(emulator: Any, probe: Callable[..., Probe]) -> None:
    emulator.set_compat("enqueued")
    p = probe()
    created = p.client.conversations.create(p.released().id, livemode=False)
    conversation = p.client.conversations.get(created.id)
    assert conversation.status == "queued"
    assert not conversation.is_started
    assert p.client.notices.seen()["not_started_status"] == "enqueued"


def test_no_session_url_builds_one(emulator: Any, probe: Callable[..., Probe]) -> None:
    emulator.set_compat("no_session_url")
    p = probe()
    created = p.client.conversations.create(p.released().id, livemode=False)
    token = created.channel.token
    assert created.channel.session_url == \
        f"{emulator.ws_url}/conversations/{created.id}/session?token={token}"
    with p.client.open_session(created, recv_timeout=10) as session:
        session.start()
        greeting = session.until(lambda e: e.type == "agent.message.completed")
    assert greeting[0].type == "conversation.started"


# ---- event stream -------------------------------------------------------------------------


def read_all(p: Probe, conversation_id: str, **options: Any) -> list[Event]:
    options.setdefault("deadline", 20)
    return list(p.client.events(conversation_id, stop=ended, **options))


@pytest.mark.parametrize("compat", [[], ["multiline_sse"]])
def test_sse_drops_are_resumed_without_duplicates_or_gaps(
        emulator: Any, probe: Callable[..., Probe], compat: list[str]) -> None:
    p = probe()
    conversation = p.chat(p.released().id, "one", "two")
    reference = read_all(p, conversation)
    emulator.set_compat(*compat)
    emulator.set_faults(drop_sse_after=4)
    resumed = read_all(p, conversation, max_reconnects=2)
    assert [e.id for e in resumed] == [e.id for e in reference]
    assert len(reference) > 12
    cuts = -(-len(reference) // 4) - 1  # the last connection ends at conversation.ended
    assert len(p.sleeps) == cuts


def test_sse_without_ids_is_deduplicated(emulator: Any, probe: Callable[..., Probe]) -> None:
    p = probe()
    conversation = p.chat(p.released().id, "hello")
    emulator.set_compat("no_sse_ids")
    events = read_all(p, conversation)
    assert len({e.id for e in events}) == len(events)
    assert events[-1].type == "conversation.ended"


def test_sse_that_cannot_progress_fails_clearly(emulator: Any,
                                                probe: Callable[..., Probe]) -> None:
    p = probe()
    conversation = p.chat(p.released().id)
    emulator.set_compat("no_sse_ids")  # every reconnect replays from the start ...
    emulator.set_faults(drop_sse_after=3)  # ... and is cut before anything new arrives
    started = time.monotonic()
    with pytest.raises(StreamError, match="reconnects brought no new events"):
        read_all(p, conversation, max_reconnects=3)
    assert time.monotonic() - started < 10


def test_a_refreshed_away_token_is_refused(emulator: Any, probe: Callable[..., Probe]) -> None:
    p = probe()
    created = p.client.conversations.create(p.released().id, livemode=False)
    p.client.conversations.refresh_token(created.id)
    with pytest.raises(AuthenticationError):
        read_all(p, created.id, token=created.channel.token)
    assert p.attempts_on(f"/conversations/{created.id}/events") == [401]


# ---- chat session -------------------------------------------------------------------------


def test_websocket_closed_mid_conversation_is_a_clear_error(
        emulator: Any, probe: Callable[..., Probe]) -> None:
    p = probe()
    created = p.client.conversations.create(p.released().id, livemode=False)
    emulator.set_faults(drop_ws_after=3)
    started = time.monotonic()
    with p.client.open_session(created, recv_timeout=10) as session:
        session.start()
        with pytest.raises(StreamError) as caught:
            session.until(lambda e: e.type == "conversation.ended")
    assert "code 1011" in str(caught.value)
    assert "before the conversation ended" in str(caught.value)
    assert time.monotonic() - started < 5


def test_a_silent_agent_times_out_instead_of_hanging(emulator: Any,
                                                     probe: Callable[..., Probe]) -> None:
    p = probe()
    created = p.client.conversations.create(p.released().id, livemode=False)
    emulator.set_brain(silent=True)
    started = time.monotonic()
    with p.client.open_session(created, recv_timeout=10) as session:
        session.start()
        session.until(lambda e: e.type == "conversation.started", timeout=5)
        with pytest.raises(StreamError, match=r"no event within 0\.3s"):
            session.recv(timeout=0.3)
    assert time.monotonic() - started < 5


def test_readers_can_be_stopped_from_another_thread(probe: Callable[..., Probe]) -> None:
    p = probe()
    created = p.client.conversations.create(p.released().id, livemode=False)
    stream = p.client.events(created.id, idle_timeout=30)
    seen: list[Event] = []
    with p.client.open_session(created, recv_timeout=30) as session:
        followers = [threading.Thread(target=lambda: seen.extend(stream)),
                     threading.Thread(target=lambda: seen.extend(session.events()))]
        for follower in followers:
            follower.start()
        wait_until(lambda: len(seen) >= 1)  # the stream is open and idle
        started = time.monotonic()
        stream.close()
        session.close()
        for follower in followers:
            follower.join(5)
    assert not any(follower.is_alive() for follower in followers)
    assert time.monotonic() - started < 5
    assert [e.type for e in seen] == ["conversation.setup"]
