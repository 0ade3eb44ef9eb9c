"""How the client reaches the platform: its headers, timeouts, and network transport.

``OperatorClient`` builds its ``httpx.Client`` here, and so do the reads sent before the
client exists (``api.early``), so that those requests are exactly the client's own: the same
base URL, headers and timeouts, over the same transport and connection pool. Like
``api.early``, this module imports httpx and the standard library only, never the models:
it is loaded before them.
"""

from __future__ import annotations

import httpx

from operator_iac import defaults
from operator_iac.api.constants import API_VERSION, USER_AGENT
from operator_iac.api.tls import tls_context

MAX_CONNECTIONS = 32
"""Connections the client keeps open to the platform: more than any pool of parallel reads
uses (``defaults.PARALLELISM``, ``--parallelism``), so a read never waits for one."""


def default_headers(api_key: str) -> dict[str, str]:
    """The headers of every request: the bearer key, the API version, who is asking."""
    return {
        "Authorization": f"Bearer {api_key}",
        "Operator-Version": API_VERSION,
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
    }


def timeouts(timeout: float | httpx.Timeout = defaults.REQUEST_TIMEOUT_S) -> httpx.Timeout:
    """A request's timeouts: ``timeout`` for each phase, connecting capped at
    ``defaults.CONNECT_TIMEOUT_S`` (an ``httpx.Timeout`` is taken as it is)."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(timeout, connect=min(timeout, defaults.CONNECT_TIMEOUT_S))


def limits(max_connections: int = MAX_CONNECTIONS) -> httpx.Limits:
    return httpx.Limits(max_connections=max_connections,
                        max_keepalive_connections=max_connections)


def network_transport(max_connections: int = MAX_CONNECTIONS) -> httpx.HTTPTransport:
    """The transport that goes to the network: the process's TLS context (``api.tls``) and a
    pool of ``max_connections``."""
    return httpx.HTTPTransport(verify=tls_context(), limits=limits(max_connections))


def http_client(base_url: str, api_key: str, *, transport: httpx.BaseTransport,
                timeout: float | httpx.Timeout = defaults.REQUEST_TIMEOUT_S,
                max_connections: int = MAX_CONNECTIONS) -> httpx.Client:
    """The ``httpx.Client`` of a client of the platform at ``base_url``, sending through
    ``transport``. The TLS context and limits are given too, for the proxies the environment
    may name (httpx builds a transport of its own for each)."""
    return httpx.Client(
        base_url=base_url,
        headers=default_headers(api_key),
        timeout=timeouts(timeout),
        limits=limits(max_connections),
        transport=transport,
        # A redirect would carry the API key to wherever the answer points: only those on
        # the platform's own origin are followed, by ``OperatorClient._send``.
        follow_redirects=False,
        verify=tls_context(),
    )
