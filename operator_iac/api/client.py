"""``OperatorClient``: the one HTTP client of a run, through which every request goes.

It owns a single ``httpx.Client`` (base URL, bearer key, ``Operator-Version``, user agent,
timeouts, a connection pool sized for parallel reads: built by ``api.connection``, which the
reads sent before a client exists share, ``api.early``), runs every request through the retry
policy of ``operator_iac.api.retry``, and translates failures at this boundary into the
errors of ``operator_iac.errors``. Typed resources hang off it (``client.conversations`` ...).

Every attempt is logged at debug level, and every decision (a retry and why, giving up) the
moment it is taken (``logging``, logger ``operator_iac.api.client``): paths only, never a query
string (it may hold a conversation token), never a key. Failures say what to fix: a refused
key names where the key came from (``key_source``), a list that answers 404 shows the full URL,
and a host name that does not resolve fails at once instead of being retried.

Test seams: ``transport`` replaces the network (``httpx.MockTransport``); ``sleep``,
``clock`` and ``rng`` make retry timing deterministic. Listeners see every attempt, which is
how the worker pool learns about 429s and how tests count attempts.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from operator_iac import defaults
from operator_iac.api import retry
from operator_iac.api.connection import MAX_CONNECTIONS, http_client, network_transport
from operator_iac.api.constants import (
    CONVERSATIONAL_AGENTS,
    DEFAULT_WS_URL,
    PROCEDURAL_AGENTS,
)
from operator_iac.api.credentials import as_secret
from operator_iac.api.failures import (
    is_collection,
    refused_key_hint,
    scrub_secrets,
    server_message,
    unknown_host,
    unknown_host_reason,
    wrong_url_hint,
)
from operator_iac.api.platform_clock import PlatformClock
from operator_iac.api.resources import (
    AgentsResource,
    ConversationsResource,
    CustomersResource,
    ProceduresResource,
)
from operator_iac.api.tolerance import Notices, marked_deleted
from operator_iac.api.transport import Params, decode_json
from operator_iac.errors import (
    AmbiguousWriteError,
    ApiError,
    EndpointNotFoundError,
    OperationError,
    OperatorIacError,
    RequestTimeoutError,
    StreamError,
    TransportError,
    UnknownHostError,
    api_error_for,
)

# The chat session (websockets) and the event stream load when a conversation is run: a
# plan, a status or an apply without smoke tests never imports them.
if TYPE_CHECKING:
    from operator_iac.api.event_stream import EventStream, StopWhen
    from operator_iac.api.models import ConversationCreated
    from operator_iac.api.session import ChatSession

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt as listeners see it: ``status`` or ``exc_kind`` says how it went."""

    method: str
    path: str
    number: int  # 1 for the first try of a request, 2 for its first retry, ...
    status: int | None
    exc_kind: retry.ExcKind | None
    throttled: bool = False
    """The platform asked to slow down: 429, or 503 with ``Retry-After`` (how a gateway in
    front of a platform may answer a rate limit)."""


AttemptListener = Callable[[Attempt], None]


def derive_ws_url(base_url: str) -> str:
    """The WebSocket base URL that goes with a REST base URL.

    A local emulator (loopback host or plain http) serves both on one origin; anything else
    is taken to be the real platform, whose sessions live on their own host.
    """
    parts = urlsplit(base_url)
    if parts.hostname in LOOPBACK_HOSTS or parts.scheme == "http":
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    return DEFAULT_WS_URL


def _exc_kind(exc: httpx.HTTPError) -> retry.ExcKind | None:
    """Classify an httpx failure; None means retrying cannot help (bad URL, unknown host,
    protocol)."""
    if unknown_host(exc):
        return None
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return "connect"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        return "network"
    return None


class OperatorClient:
    """A synchronous, thread-safe client for the Operator REST API (an ``ApiTransport``).

    Endpoints are typed resources on it: ``conversational_agents`` and ``procedural_agents``
    (``AgentsResource``), ``conversations``, ``procedures`` and ``customers``. ``events``
    reads a conversation's SSE stream and ``open_session`` connects its chat session;
    ``request`` and ``stream`` are the raw requests underneath. Close it, or use ``with``.
    """

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr | str,
        *,
        ws_url: str | None = None,
        timeout: float | httpx.Timeout = defaults.REQUEST_TIMEOUT_S,
        max_retries: int = defaults.MAX_RETRIES,
        deadline: float = defaults.RETRY_DEADLINE_S,
        max_connections: int = MAX_CONNECTIONS,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        key_source: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # Where the key came from ("OPERATOR_API_KEY (environment staging)"), so that a
        # refused key is reported with the variable to fix.
        self.key_source = key_source
        self.ws_url = (ws_url or derive_ws_url(self.base_url)).rstrip("/")
        self.policy = retry.RetryPolicy(max_retries=max_retries, deadline=deadline)
        self._key = as_secret(api_key)
        self._sleep, self._clock, self._rng = sleep, clock, rng
        self._listeners: list[AttemptListener] = []
        self._lock = threading.Lock()
        self.attempts = 0
        # The platform variations this client's reads adapted to (doctor reports them).
        self.notices = Notices()
        # The platform's time, from the answers' ``Date`` (a writer says when it wrote).
        self.platform_clock = PlatformClock(clock)
        self._http = http_client(
            self.base_url, self._key.get_secret_value(), timeout=timeout,
            max_connections=max_connections,
            transport=transport or network_transport(max_connections))
        self._origin = _origin(self._http.base_url)
        self.conversational_agents = AgentsResource(self, CONVERSATIONAL_AGENTS)
        self.procedural_agents = AgentsResource(self, PROCEDURAL_AGENTS)
        self.conversations = ConversationsResource(self)
        self.procedures = ProceduresResource(self)
        self.customers = CustomersResource(self)

    def __repr__(self) -> str:
        return f"OperatorClient(base_url={self.base_url!r})"


    # ---- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OperatorClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def add_listener(self, listener: AttemptListener) -> None:
        """Call ``listener`` after every HTTP attempt (from the thread that made it)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: AttemptListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def session_url(self, conversation_id: str, token: str) -> str:
        """The WebSocket chat session URL, for when the platform did not return one."""
        from operator_iac.api.session import session_url_for

        return session_url_for(self.ws_url, conversation_id, token)

    def open_session(self, created: ConversationCreated, *,
                     recv_timeout: float = defaults.SESSION_RECV_TIMEOUT_S,
                     open_timeout: float = defaults.SESSION_OPEN_TIMEOUT_S) -> ChatSession:
        """Connect to the chat session of a conversation just created (its ``session_url``,
        made absolute by the conversations resource)."""
        url = created.channel.session_url
        if not url:
            url = self.session_url(created.id, created.channel.token or self._token(created.id))
        from operator_iac.api.session import ChatSession

        return ChatSession.connect(url, recv_timeout=recv_timeout, open_timeout=open_timeout,
                                   notices=self.notices)

    def _token(self, conversation_id: str) -> str:
        """A token for a conversation whose create response carried none (its shape is
        documented for phone calls only): asked of the token refresh endpoint [doc]."""
        log.info("conversation %s: the create response carried no session token; asking "
                  "the token refresh endpoint for one", conversation_id)
        token = self.conversations.refresh_token(conversation_id).token
        if not token:
            raise StreamError(f"conversation {conversation_id}: the platform returned neither "
                              "a session URL nor a token, and its token refresh gave none")
        return token

    def events(self, conversation_id: str, *, token: str | None = None,
               stop: StopWhen | None = None, max_reconnects: int = defaults.EVENTS_MAX_RECONNECTS,
               idle_timeout: float = defaults.EVENTS_IDLE_TIMEOUT_S,
               deadline: float | None = None) -> EventStream:
        """The conversation's events over SSE (see ``operator_iac.api.event_stream``);
        ``stop`` ends the stream at the first event it accepts (None: at the conversation's
        end)."""
        from operator_iac.api.event_stream import EventStream, never

        return EventStream(self, conversation_id, token=token, stop=stop or never,
                           max_reconnects=max_reconnects, idle_timeout=idle_timeout,
                           deadline=deadline, sleep=self._sleep, clock=self._clock,
                           notices=self.notices)

    # ---- requests ------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Params | None = None,
                json: Any = None, idempotent: bool = False) -> httpx.Response:
        """Send one logical request (retried per the policy) and return a 2xx response.

        ``idempotent`` marks a POST that is safe to repeat (release); other POSTs are
        creates, retried only when they provably never reached the server.
        """
        method = method.upper()

        def build() -> httpx.Request:
            return self._http.build_request(method, path, params=_clean(params), json=json)

        return self._send(build, method, path, idempotent=idempotent, stream=False)[0]

    def post_repeatable(self, path: str, *, json: Any = None) -> tuple[Any, bool]:
        """A POST whose duplicate is harmless and can be found and removed afterwards (a
        testmode conversation, a procedure run): retried like an idempotent request.

        Returns the decoded body and whether an earlier attempt may also have been carried
        out (it failed after the request may have reached the server).
        """
        def build() -> httpx.Request:
            return self._http.build_request("POST", path, json=json)

        response, maybe_applied = self._send(build, "POST", path, idempotent=True,
                                             stream=False)
        return decode_json(response, "POST", path), maybe_applied

    def send_once(self, method: str, path: str, *, params: Params | None = None,
                  drop_headers: tuple[str, ...] = ()) -> httpx.Response:
        """One attempt, no retry, any status returned as it came (the body read): how a
        platform check looks at what the platform does with an unusual request. A redirect
        on the platform's own origin is followed, as by every request (``_send``). Raises
        ``TransportError`` when no answer came."""
        request = self._http.build_request(method.upper(), path, params=_clean(params))
        for name in drop_headers:
            request.headers.pop(name, None)
        hops = 0
        while True:
            response, error, kind = self._attempt(request, stream=False)
            if response is None:
                raise self._transport_failure(method.upper(), path, error, kind, 1) from error
            moved = self._redirect(response, method.upper())
            if moved is None or hops == defaults.MAX_REDIRECTS:
                return response
            self._moved(response, method.upper(), path, moved)
            request, hops = _moved_request(request, moved), hops + 1

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` before reading again (the ``sleep`` the client was given)."""
        self._sleep(seconds)

    def request_json(self, method: str, path: str, *, params: Params | None = None,
                     json: Any = None, idempotent: bool = False) -> Any:
        """``request`` and decode the JSON body; an empty body (202, 204) decodes to {}."""
        response = self.request(method, path, params=params, json=json, idempotent=idempotent)
        data = decode_json(response, method.upper(), path)
        if method.upper() == "GET" and marked_deleted(data):
            # Some platforms answer a read of a deleted object with a stub of it (200,
            # ``{id, deleted: true}``), or with the object kept and marked deleted, where
            # others answer 404: either way it is gone.
            log.info("GET %s answered an object marked deleted: read as gone", path)
            raise api_error_for(404, "GET", path, "deleted (the platform answered it marked "
                                                  "so)")
        return data

    @staticmethod
    def decode_json(response: httpx.Response, method: str, path: str) -> Any:
        """The JSON body of a response this client returned (``transport.decode_json``)."""
        return decode_json(response, method, path)

    @contextmanager
    def stream(self, path: str, *, params: Params | None = None,
               headers: Mapping[str, str] | None = None, bearer: bool = True,
               read_timeout: float | None = None) -> Iterator[httpx.Response]:
        """Open a streaming GET (retried like any GET until the headers arrive).

        ``bearer=False`` drops the API key, for endpoints reached with a ``?token=``.
        """
        timeout = self._http.timeout
        if read_timeout is not None:
            timeout = httpx.Timeout(timeout.connect, read=read_timeout, write=timeout.write,
                                    pool=timeout.pool)

        def build() -> httpx.Request:
            request = self._http.build_request("GET", path, params=_clean(params),
                                               headers=headers, timeout=timeout)
            if not bearer:
                del request.headers["Authorization"]
            return request

        response = self._send(build, "GET", path, idempotent=True, stream=True)[0]
        try:
            yield response
        finally:
            response.close()

    def _send(self, build: Callable[[], httpx.Request], method: str, path: str, *,
              idempotent: bool, stream: bool) -> tuple[httpx.Response, bool]:
        """The successful response, and whether an earlier failed attempt may have been
        carried out too."""
        started = self._clock()
        maybe_applied = False
        number = hops = 0
        while True:
            number += 1
            sent = self._clock()
            response, error, kind = self._attempt(build(), stream)
            status = response.status_code if response is not None else None
            if response is not None:
                self.platform_clock.heard(response.headers.get("date"))
            outcome = self._outcome(status, error)
            log.debug("%s %s: %s (%.0f ms)", method, path, outcome,
                      (self._clock() - sent) * 1000)
            self._notify(Attempt(method, path, number, status, kind,
                                 retry.is_throttle(status, response.headers if response
                                                   is not None else None)))
            if response is not None and (response.is_success or _gone_after_retry(
                    method, status, maybe_applied)):
                return response, maybe_applied
            moved = self._redirect(response, method) if hops < defaults.MAX_REDIRECTS \
                else None
            if moved is not None and response is not None:
                self._moved(response, method, path, moved)
                build, hops, number = _retargeted(build, moved), hops + 1, number - 1
                continue
            delay = self._next_delay(method, response, kind, number, idempotent, started)
            if delay is None:
                failure = self._failure(method, path, response, error, kind, number,
                                        idempotent)
                if number > 1 or kind is not None:
                    log.info("giving up on %s %s after %d attempt(s): %s", method, path,
                             number, outcome)
                if isinstance(failure, AmbiguousWriteError) and response is not None and \
                        retry.is_throttle(status, response.headers):
                    self._come_back_later(method, path, response)
                raise failure from error
            maybe_applied = maybe_applied or _may_have_applied(status, kind)
            if response is not None:
                response.close()
            log.warning("retrying %s %s in %.1f s: %s", method, path, delay, outcome)
            self._sleep(delay)

    def _come_back_later(self, method: str, path: str, response: httpx.Response) -> None:
        """A create answered as a throttle (a 503 saying when to come back) is not sent
        again here (it may have been applied: ``AmbiguousWriteError``), but the caller looks
        for what it made and may send it again: the time asked for is waited first, as for
        any other request, so the look and the next create come when the platform asked."""
        after = retry.retry_after_seconds(response.headers.get("Retry-After"),
                                          datetime.now(UTC))
        if after:
            wait = min(after, self.policy.deadline)
            log.warning("%s %s was answered HTTP %d, to come back in %.1f s: waiting that "
                        "long before looking for what it may have made", method, path,
                        response.status_code, wait)
            self._sleep(wait)

    def _moved(self, response: httpx.Response, method: str, path: str,
               moved: httpx.URL) -> None:
        """Note and log a redirect about to be followed, and close its answer."""
        # A platform that moves a path (a trailing slash added, say) on its own origin: the
        # key goes where it went already, so the request is made again there.
        log.info("%s %s: HTTP %d to %s on the same origin: following", method, path,
                 response.status_code, moved.copy_with(query=None))
        self.notices.add("paths", f"HTTP {response.status_code} to another path on the same "
                                  "origin")
        response.close()

    def _redirect(self, response: httpx.Response | None, method: str) -> httpx.URL | None:
        """Where a redirect on the platform's own origin points, when it may be followed: a
        307 or 308 for any request (the method and body are kept), another redirect for a
        GET. None for anything else, which fails with the redirect named
        (``_response_failure``): the key never goes to another origin."""
        if response is None or not response.is_redirect or "location" not in response.headers:
            return None
        if response.status_code not in (307, 308) and method != "GET":
            return None
        target = response.request.url.join(response.headers["location"])
        return target if _origin(target) == self._origin else None

    def _outcome(self, status: int | None, error: httpx.HTTPError | None) -> str:
        """An attempt's outcome in a few words, for the log: ``HTTP 503``, or the failure
        (with the key masked, should a library ever repeat it)."""
        if status is not None:
            return f"HTTP {status}"
        reason = str(error) or type(error).__name__
        return scrub_secrets(reason, self._key.get_secret_value())

    def _attempt(self, request: httpx.Request, stream: bool) -> tuple[
            httpx.Response | None, httpx.HTTPError | None, retry.ExcKind | None]:
        if _origin(request.url) != self._origin:
            # Only an absolute URL taken from an answer could get here: the key stays home.
            raise OperationError(
                f"{request.method} {request.url.copy_with(query=None)}: not sent, because "
                f"it is not on the platform's origin {self.base_url} (the API key goes only "
                "there)")
        with self._lock:
            self.attempts += 1
        try:
            return self._http.send(request, stream=stream), None, None
        except httpx.HTTPError as exc:
            return None, exc, _exc_kind(exc)

    def _next_delay(self, method: str, response: httpx.Response | None,
                    kind: retry.ExcKind | None, number: int, idempotent: bool,
                    started: float) -> float | None:
        """Seconds to wait before retrying, or None when this failure is final."""
        status = response.status_code if response is not None else None
        if response is None and kind is None:
            return None
        if not retry.is_retryable(method, status, kind, idempotent):
            return None
        header = response.headers.get("Retry-After") if response is not None else None
        after = retry.retry_after_seconds(header, datetime.now(UTC))
        delay = retry.retry_delay(number, after, self.policy, self._rng)
        if not retry.may_retry(number, self._clock() - started, delay, self.policy):
            return None
        return delay

    def _notify(self, attempt: Attempt) -> None:
        for listener in list(self._listeners):
            listener(attempt)

    def _failure(self, method: str, path: str, response: httpx.Response | None,
                 error: httpx.HTTPError | None, kind: retry.ExcKind | None, number: int,
                 idempotent: bool) -> OperatorIacError:
        """The error for a final failure: an ApiError, a TransportError, or an ambiguity."""
        status = response.status_code if response is not None else None
        detail: ApiError | TransportError
        if response is not None:
            detail = self._response_failure(method, path, response)
        else:
            detail = self._transport_failure(method, path, error, kind, number)
        if retry.is_ambiguous(method, status, kind, idempotent):
            return AmbiguousWriteError(method, path, status, _ambiguity_reason(detail, kind))
        return detail

    def _response_failure(self, method: str, path: str, response: httpx.Response) -> ApiError:
        body = response.read()
        response.close()
        message = scrub_secrets(server_message(response.headers.get("content-type", ""), body),
                         self._key.get_secret_value())
        if response.is_redirect:
            message = (f"redirected to {response.headers.get('location', '(no location)')}, "
                       "which operator-iac does not follow: the API key goes only to "
                       f"{self.base_url} (point api_url at the platform's final URL)")
        status = response.status_code
        if status == 404 and method == "GET" and is_collection(path):
            url = str(response.request.url.copy_with(query=None))
            return EndpointNotFoundError(status, method, path, message,
                                         wrong_url_hint(url, self.base_url))
        # A request sent with a conversation token instead of the key is no fault of the key.
        sent_key = "Authorization" in response.request.headers
        hint = refused_key_hint(status, self.key_source, self.base_url) if sent_key else ""
        return api_error_for(status, method, path, message, hint)

    def _transport_failure(self, method: str, path: str, error: httpx.HTTPError | None,
                           kind: retry.ExcKind | None, number: int) -> TransportError:
        tries = f" after {number} attempts" if number > 1 else ""
        reason = scrub_secrets(str(error) or type(error).__name__, self._key.get_secret_value())
        if error is not None and unknown_host(error):
            return UnknownHostError(f"{method} {path}: {unknown_host_reason(self.base_url)} "
                                    f"({reason}): is api_url right? (it is {self.base_url})")
        if kind == "timeout" or isinstance(error, httpx.TimeoutException):
            return RequestTimeoutError(f"{method} {path}: no answer in time{tries} ({reason})")
        what = "could not connect" if kind == "connect" else "connection failed"
        return TransportError(f"{method} {path}: {what}{tries} ({reason})")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port: what decides where a request, and its key, goes."""
    return url.scheme, url.host, url.port


def _may_have_applied(status: int | None, kind: retry.ExcKind | None) -> bool:
    """Whether a failed attempt may have reached the server and taken effect."""
    if kind is not None:
        return kind != "connect"
    return status is not None and status >= 500


def _ambiguity_reason(detail: OperatorIacError, kind: retry.ExcKind | None) -> str:
    if isinstance(detail, ApiError):
        message = f": {detail.server_message}" if detail.server_message else ""
        return f"HTTP {detail.status}{message}"
    return "no answer in time" if kind == "timeout" else "the connection broke"


def _retargeted(build: Callable[[], httpx.Request], url: httpx.URL
                ) -> Callable[[], httpx.Request]:
    """``build`` made to send its request to ``url`` (a redirect followed)."""
    return lambda: _moved_request(build(), url)


def _moved_request(request: httpx.Request, url: httpx.URL) -> httpx.Request:
    """``request`` sent to ``url`` instead: the same method, headers and body."""
    return httpx.Request(request.method, url, headers=request.headers, content=request.content,
                         extensions=request.extensions)


def _gone_after_retry(method: str, status: int | None, maybe_applied: bool) -> bool:
    """A retried DELETE that finds nothing was most likely applied by an earlier attempt."""
    return method == "DELETE" and status in (404, 410) and maybe_applied


def _clean(params: Params | None) -> dict[str, str | int | float | bool] | None:
    """Query parameters without the unset ones."""
    if not params:
        return None
    return {key: value for key, value in params.items() if value is not None}
