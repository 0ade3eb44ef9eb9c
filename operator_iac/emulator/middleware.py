"""ASGI middleware around the routes: authentication and version checks, then faults.

``AuthMiddleware`` demands the bearer key on every REST and admin request and the
``Operator-Version`` header on REST requests; the SSE and WebSocket endpoints authorise
themselves because they also accept the conversation token. ``FaultMiddleware`` (outermost)
records each request and applies the decision of ``FaultState``: latency, an error status,
a reset connection, or a performed request whose response is lost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from operator_iac.emulator import compat
from operator_iac.emulator.faults import Decision
from operator_iac.emulator.http_helpers import bearer_key
from operator_iac.emulator.problems import Problem, ResetConnection, problem_response
from operator_iac.emulator.state import EmulatorState

API_VERSION = "2025-06-19"
ADMIN_PREFIX = "/_emulator"
_SSE_PATH = re.compile(r"^/conversations/[^/]+/events/?$")

_FAULT_CODES = {
    408: ("request_timeout", "The request took too long (fault injected)."),
    429: ("rate_limited", "Too many requests; retry later."),
    500: ("internal_error", "The server failed (fault injected)."),
    502: ("bad_gateway", "Bad gateway (fault injected)."),
    503: ("service_unavailable", "Service unavailable (fault injected)."),
    504: ("gateway_timeout", "Gateway timeout (fault injected)."),
}
_HTML = ("<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center>"
         "<hr><center>proxy</center></body></html>")


class AuthMiddleware:
    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _SSE_PATH.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        problem = self._check(Headers(scope=scope), scope["path"])
        if problem is None:
            await self.app(scope, receive, send)
            return
        plain = self._state.faults.has("plain_errors")
        await problem_response(problem, plain)(scope, receive, send)

    def _check(self, headers: Headers, path: str) -> Problem | None:
        if not self._state.key_matches(bearer_key(headers)):
            return Problem(401, "unauthorized", "Invalid or missing API key.",
                           {"WWW-Authenticate": "Bearer"})
        if path.startswith(ADMIN_PREFIX):
            return None
        version = headers.get("operator-version")
        if version is None:
            return Problem(400, "missing_version_header",
                           f"The Operator-Version header is required (use {API_VERSION}).")
        if version.strip() != API_VERSION:
            return Problem(400, "unsupported_version",
                           f"Unsupported Operator-Version {version!r} (use {API_VERSION}).")
        return None


class SlashMiddleware:
    """The ``slash_redirects`` mode: a platform whose paths end with a slash answers a path
    without one with a ``307`` to it (keeping the query), and serves it there. Streams'
    WebSocket upgrades and the emulator's own admin paths are left alone."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX) or path == "/" or \
                not self._state.faults.has("slash_redirects"):
            await self.app(scope, receive, send)
            return
        if path.endswith("/"):
            served = path.rstrip("/")
            await self.app({**scope, "path": served, "raw_path": served.encode()}, receive,
                           send)
            return
        query = scope.get("query_string", b"").decode()
        location = f"{path}/" + (f"?{query}" if query else "")
        await Response(status_code=307, headers={"location": location})(scope, receive, send)


class FaultMiddleware:
    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        recorded = False

        def note(status: int) -> None:
            # Recorded before the client can see the answer, so that a test counting
            # attempts right after its call returns finds every one of them.
            nonlocal recorded
            if not recorded:
                recorded = True
                self._state.record(scope["method"], scope["path"], status)

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                note(int(message["status"]))
                message = {**message, "headers": self._dated(message.get("headers", []))}
            await send(message)

        async def reset() -> None:
            note(0)
            await reset_connection(send)

        try:
            await self._apply(scope, receive, recording_send, reset)
        except ClientDisconnect:
            # The client left before its request's body arrived (a killed run, say): there is
            # nobody to answer, and a server says nothing of it (uvicorn sees the
            # disconnection and sends nothing either).
            pass
        finally:
            note(0)  # no answer was started (the client left, or the server stopped)

    def _dated(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """``headers`` with the ``Date`` of the account's clock, the one that stamps
        ``created_at`` and ``updated_at`` (as one platform's clocks agree), so that a client
        comparing the two compares one clock even after a test moved it."""
        moment = datetime.fromtimestamp(self._state.clock.now(), UTC)
        kept = [(name, value) for name, value in headers if name.lower() != b"date"]
        return [*kept, (b"date", format_datetime(moment, usegmt=True).encode())]

    async def _apply(self, scope: Scope, receive: Receive, send: Send,
                     reset: Callable[[], Awaitable[None]]) -> None:
        faults = self._state.faults
        latency_ms = faults.settings.latency_ms
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        decision = faults.decide(scope["method"], scope["path"], time.monotonic())
        if decision.action == "pass":
            await self.app(scope, receive, send)
        elif decision.action == "respond":
            if decision.status == 429 and faults.has("throttle_503"):
                # A gateway in front of the platform answers its rate limit so.
                decision = dataclasses.replace(decision, status=503)
            await self._error_response(decision)(scope, receive, send)
        elif decision.action == "reset":
            await reset()
        else:
            await self.app(scope, receive, _discard)
            if decision.lose_mode == "reset":
                await reset()
            else:
                await self._error_response(Decision("respond", 502))(scope, receive, send)

    def _error_response(self, decision: Decision) -> Response:
        code, message = _FAULT_CODES.get(decision.status, ("injected_fault", "Injected fault."))
        headers = {}
        if decision.retry_after is not None:
            headers["Retry-After"] = compat.retry_after_date(decision.retry_after, time.time()) \
                if self._state.faults.has("retry_after_date") else str(decision.retry_after)
        if decision.body == "json" and not self._state.faults.has("plain_errors"):
            return problem_response(Problem(decision.status, code, message, headers))
        if decision.body in ("json", "text"):
            return Response(message, decision.status, headers, media_type="text/plain")
        if decision.body == "html":
            page = _HTML.format(status=decision.status)
            return Response(page, decision.status, headers, media_type="text/html")
        return Response(b"", decision.status, headers)


async def _discard(message: Message) -> None:
    """Swallow a response whose loss is being simulated."""


async def reset_connection(send: Send) -> None:
    """Close the connection without any answer.

    ASGI has no "abort"; uvicorn (h11) closes the socket when an application fails after
    starting a response, and h11 refuses this header name before writing anything. So the
    client sees a connection closed with no response, like a reset.
    """
    try:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"invalid header", b"reset")]})
    except Exception as exc:
        raise ResetConnection("connection reset (fault injected)") from exc
    raise ResetConnection("connection reset (fault injected)")


