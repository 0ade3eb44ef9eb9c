"""Reads sent before the client is built (``api.early``): the client's first attempt at the
same request takes the answer, once, and handles it as it handles any attempt's (retries,
errors, encodings); nothing is sent early through a proxy; the modules that send them load
before pydantic."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from operator_iac.api.client import Attempt, OperatorClient
from operator_iac.api.connection import http_client
from operator_iac.api.constants import AGENT_LISTS, API_VERSION
from operator_iac.api.early import EarlyReads, begin_early_reads

from .conftest import SECRET_KEY, FakeTime

BASE = "https://api.example.test/v1"
AGENT = {"id": "pa_1", "name": "Digest", "description": "", "version_id": "pa_1@v1"}


class Network:
    """A stand-in for the network: answers with ``answer(request, n)`` (n counts the calls of
    that path from 1) and records every request it was sent."""

    def __init__(self, answer: Callable[[httpx.Request, int], httpx.Response]) -> None:
        self.answer, self.sent = answer, list[httpx.Request]()
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.sent.append(request)
            n = sum(1 for r in self.sent if r.url.path == request.url.path)
        return self.answer(request, n)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.sent]


def listing(_request: httpx.Request, _n: int) -> httpx.Response:
    return httpx.Response(200, json={"data": [AGENT]})


def client_over(early: EarlyReads, fake_time: FakeTime,
                attempts: list[Attempt] | None = None) -> OperatorClient:
    client = OperatorClient(BASE, SECRET_KEY, transport=early, sleep=fake_time.sleep,
                            clock=fake_time.clock, rng=lambda: 0.5)
    if attempts is not None:
        client.add_listener(attempts.append)
    return client


def sent_early(network: Network, *paths: str) -> EarlyReads:
    early = EarlyReads(httpx.MockTransport(network))
    recipe = http_client(BASE, SECRET_KEY, transport=early)
    early.send([recipe.build_request("GET", path) for path in paths])
    return early


def test_the_first_attempt_takes_the_answer_sent_early_and_later_ones_go_to_the_network(
        fake_time: FakeTime) -> None:
    network = Network(listing)
    early = sent_early(network, *AGENT_LISTS)
    with client_over(early, fake_time) as client:
        first = [agent.id for agent in client.procedural_agents.list()]
        assert network.paths().count("/v1/procedural_agents") == 1
        again = [agent.id for agent in client.procedural_agents.list()]
        others = [agent.id for agent in client.conversational_agents.list()]

    assert first == again == others == ["pa_1"]
    # Each list sent once early; only the repeated one went out again.
    assert sorted(network.paths()) == ["/v1/conversational_agents", "/v1/procedural_agents",
                                       "/v1/procedural_agents"]


def test_early_requests_are_the_clients_own(fake_time: FakeTime) -> None:
    network = Network(listing)
    with client_over(sent_early(network, "/procedural_agents"), fake_time) as client:
        list(client.procedural_agents.list())
        list(client.procedural_agents.list())
    early, own = network.sent
    assert early.url == own.url
    assert dict(early.headers) == dict(own.headers)
    assert early.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert early.headers["operator-version"] == API_VERSION


def test_a_failed_early_answer_is_retried_like_any_attempt(fake_time: FakeTime) -> None:
    def busy_first(_request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            return httpx.Response(503, headers={"Retry-After": "2"})
        return listing(_request, n)

    network, attempts = Network(busy_first), list[Attempt]()
    with client_over(sent_early(network, "/procedural_agents"), fake_time, attempts) as client:
        listed = [agent.id for agent in client.procedural_agents.list()]

    assert listed == ["pa_1"]
    assert [(a.number, a.status) for a in attempts] == [(1, 503), (2, 200)]
    assert fake_time.sleeps == [2.0]
    assert network.paths() == ["/v1/procedural_agents"] * 2


def test_a_connection_that_failed_early_is_retried_like_any_attempt(
        fake_time: FakeTime) -> None:
    def refused_first(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return listing(request, n)

    network, attempts = Network(refused_first), list[Attempt]()
    with client_over(sent_early(network, "/procedural_agents"), fake_time, attempts) as client:
        listed = [agent.id for agent in client.procedural_agents.list()]

    assert listed == ["pa_1"]
    assert [(a.number, a.exc_kind) for a in attempts] == [(1, "connect"), (2, None)]


def test_an_encoded_early_answer_is_decoded_once(fake_time: FakeTime) -> None:
    body = gzip.compress(json.dumps({"data": [AGENT]}).encode())

    def compressed(_request: httpx.Request, _n: int) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip",
                                            "Content-Type": "application/json"}, content=body)

    with client_over(sent_early(Network(compressed), "/procedural_agents"),
                     fake_time) as client:
        assert [agent.name for agent in client.procedural_agents.list()] == ["Digest"]


def test_an_answer_nobody_took_is_dropped_when_the_client_closes(fake_time: FakeTime) -> None:
    network = Network(listing)
    early = sent_early(network, *AGENT_LISTS)
    client_over(early, fake_time).close()
    assert sorted(network.paths()) == ["/v1/conversational_agents", "/v1/procedural_agents"]
    assert not any(thread.is_alive() for thread in threading.enumerate()
                   if thread.name == "operator-iac-early")


def test_nothing_is_sent_early_where_the_environment_names_a_proxy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    assert begin_early_reads(BASE, SECRET_KEY, AGENT_LISTS) is None


def test_what_sends_the_first_requests_loads_before_pydantic() -> None:
    modules = ("operator_iac.cli.main", "operator_iac.cli.options",
               "operator_iac.services.read_ahead", "operator_iac.services.target",
               "operator_iac.api.credentials", "operator_iac.api.early")
    code = (f"import sys; {'; '.join(f'import {m}' for m in modules)}; "
            "print('pydantic' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_closing_waits_for_the_requests_under_way_once_not_once_each() -> None:
    answer = threading.Event()

    def hanging(request: httpx.Request, n: int) -> httpx.Response:
        answer.wait(timeout=10)
        return listing(request, n)

    early = sent_early(Network(hanging), *AGENT_LISTS)
    started = time.monotonic()
    early.close(wait=0.5)
    waited = time.monotonic() - started
    answer.set()
    for thread in threading.enumerate():  # let them end, for the tests that follow
        if thread.name == "operator-iac-early":
            thread.join(timeout=5)
    assert 0.45 <= waited < 0.8  # one wait for both requests (0.5 s), not one each (1 s)
