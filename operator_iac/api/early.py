"""Reads that leave before the client that uses their answers is built.

A command's first reads (the agent lists, ``services.read_ahead``) need only the platform's
URL and key, yet the client that reads them needs its models first, and building those is
most of a command's start-up. ``begin_early_reads`` sends such GETs at once and hands back a
transport for that client: the client's first attempt at one of them (same method and URL)
is answered with what came back, waiting for it if it is still in flight, once; every other
attempt, a retry of that one included, goes to the network. The client handles the answer
as any attempt's (retry policy, 429 back-off, listeners, errors: a failure met early is
retried as though it had just happened), and the requests are built by the client's own
recipe (``api.connection``), so the answer is the one its own request would have had, a
little sooner. Sending a GET sooner changes nothing on the platform.

Nothing is sent early where the environment names a proxy: the client's requests go through
the proxy's transport, never this one. Answers nobody asked for are dropped when the client
closes.

A transport is the layer where "answer this request" can be served from elsewhere without
the client knowing; written here because httpx has no way to prime a client with answers.
This module imports httpx and the standard library only, never the models: it is loaded
before them so that the requests leave first.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import Future

import httpx

from operator_iac import defaults
from operator_iac.api.connection import MAX_CONNECTIONS, http_client, network_transport

log = logging.getLogger(__name__)

_Key = tuple[str, str]


def _key(request: httpx.Request) -> _Key:
    return request.method, str(request.url)


class EarlyReads(httpx.BaseTransport):
    """The client's transport when some of its reads were sent before it was built: the
    answers of those, once each, then the network (``network``)."""

    def __init__(self, network: httpx.BaseTransport) -> None:
        self._network = network
        self._lock = threading.Lock()
        self._answers: dict[_Key, Future[httpx.Response]] = {}
        self._threads: list[threading.Thread] = []

    def send(self, requests: Sequence[httpx.Request]) -> None:
        """Send ``requests`` now, each in a thread of its own."""
        for request in requests:
            answer: Future[httpx.Response] = Future()
            with self._lock:
                self._answers[_key(request)] = answer
            thread = threading.Thread(target=self._fetch, args=(request, answer),
                                      name="operator-iac-early", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _fetch(self, request: httpx.Request, answer: Future[httpx.Response]) -> None:
        try:
            response = self._network.handle_request(request)
            try:
                # The body as it came (still encoded), from the stream itself: the client
                # decodes it as it would have decoded the network's own answer.
                raw = b"".join(response.stream)  # type: ignore[arg-type]
            finally:
                response.close()
        except Exception as exc:  # the failure of the attempt that takes this answer
            answer.set_exception(exc)
            return
        answer.set_result(httpx.Response(
            response.status_code, headers=response.headers, stream=httpx.ByteStream(raw),
            extensions={name: value for name, value in response.extensions.items()
                        if name in ("http_version", "reason_phrase")}))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            answer = self._answers.pop(_key(request), None)
        if answer is None:
            return self._network.handle_request(request)
        log.debug("%s %s: answered by the request sent before the client was built",
                  request.method, request.url.path)
        response = answer.result()
        response.request = request
        return response

    def close(self, wait: float = defaults.READ_AHEAD_CLOSE_WAIT_S) -> None:
        """Drop the answers nobody took and close the network transport, once the requests
        still under way have ended, all of them within ``wait`` seconds (closing the pool
        under a request would fail it)."""
        with self._lock:
            self._answers.clear()
        deadline = time.monotonic() + wait
        for thread in self._threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0))
        self._network.close()


def begin_early_reads(base_url: str, api_key: str, paths: Sequence[str], *,
                      max_connections: int = MAX_CONNECTIONS) -> EarlyReads | None:
    """Send a GET of each of ``paths`` on the platform at ``base_url`` now, and return the
    transport that hands their answers to the client built next with it
    (``OperatorClient(..., transport=...)``, same URL, key and ``max_connections``); None
    where the environment names a proxy (see the module docstring)."""
    if urllib.request.getproxies():
        log.debug("nothing read early: the environment names a proxy")
        return None
    early = EarlyReads(network_transport(max_connections))
    recipe = http_client(base_url, api_key, transport=early, max_connections=max_connections)
    early.send([recipe.build_request("GET", path) for path in paths])
    return early
