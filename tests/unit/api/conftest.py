"""Factories for client tests: a client over ``httpx.MockTransport`` with a fake clock."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from operator_iac.api.client import Attempt, OperatorClient

SECRET_KEY = "op_test_s3cr3t_key_value"
Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Harness:
    client: OperatorClient
    time: FakeTime
    requests: list[httpx.Request]
    attempts: list[Attempt]


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def harness(fake_time: FakeTime) -> Iterator[Callable[..., Harness]]:
    """``harness(handler, **client_options)``: a client whose every request goes to handler."""
    clients: list[OperatorClient] = []

    def make(handler: Handler, **options: Any) -> Harness:
        requests: list[httpx.Request] = []
        attempts: list[Attempt] = []

        def record(request: httpx.Request) -> httpx.Response:
            requests.append(request)
            return handler(request)

        options.setdefault("rng", lambda: 0.5)
        client = OperatorClient("https://api.example.test", SECRET_KEY,
                                transport=httpx.MockTransport(record),
                                sleep=fake_time.sleep, clock=fake_time.clock, **options)
        client.add_listener(attempts.append)
        clients.append(client)
        return Harness(client, fake_time, requests, attempts)

    yield make
    for client in clients:
        client.close()


def json_response(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(),
                          headers={"content-type": "application/json", **headers})


def sequence(*responses: httpx.Response | Exception) -> Handler:
    """A handler answering with each response (or raising each exception) in turn."""
    remaining = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if isinstance(item, Exception):
            raise item
        # A fresh copy each time: the last item repeats, and a response is read only once.
        return httpx.Response(item.status_code, headers=item.headers, content=item.content)

    return handler
