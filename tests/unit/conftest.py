"""Fixtures for unit tests that need a client: one over ``httpx.MockTransport``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from operator_iac.api.client import OperatorClient

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def mock_client() -> Iterator[Callable[[Handler], OperatorClient]]:
    """``mock_client(handler)``: a client whose every request goes to ``handler``, with no
    retry and no pause (a failure is the handler's answer, as it gave it)."""
    clients: list[OperatorClient] = []

    def make(handler: Handler) -> OperatorClient:
        client = OperatorClient("https://api.example.test", "op_test_key",
                                transport=httpx.MockTransport(handler),
                                sleep=lambda _s: None, max_retries=0)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
