"""The emulator's ASGI application: routes, error translation, middleware, lifespan.

``build_app(*accounts)`` is the only entry point; everything the app needs lives in the
accounts' states. Each account has its routes and authentication; the request log and the
faults (outermost) are the server's, and requests reach their account through
``accounts.AccountRouter``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, ExceptionHandler

from operator_iac.emulator.accounts import AccountRouter
from operator_iac.emulator.admin import admin_routes
from operator_iac.emulator.middleware import AuthMiddleware, FaultMiddleware, SlashMiddleware
from operator_iac.emulator.problems import Problem, problem_response
from operator_iac.emulator.routes_agents import agent_routes
from operator_iac.emulator.routes_conversations import conversation_routes
from operator_iac.emulator.routes_procedures import procedure_routes
from operator_iac.emulator.session import session_endpoint
from operator_iac.emulator.sse import EventStreamEndpoint
from operator_iac.emulator.state import EmulatorState
from operator_iac.emulator.store import InvalidCursorError

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def build_app(state: EmulatorState, *others: EmulatorState) -> ASGIApp:
    """The complete emulator application: one account per state (``state`` first; the
    others share its server parts), started and stopped together."""
    accounts = (state, *others)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for account in accounts:
            account.bind(asyncio.get_running_loop())
            account.procedures.resume_unfinished()
        yield
        for account in accounts:
            account.begin_shutdown()

    apps = [(account, AuthMiddleware(Starlette(
        routes=_routes(account), exception_handlers=_handlers(account),
        lifespan=lifespan if account is state else None), account)) for account in accounts]
    return FaultMiddleware(SlashMiddleware(AccountRouter(apps), state), state)


def _routes(state: EmulatorState) -> list[BaseRoute]:
    streaming: list[BaseRoute] = [
        Route("/conversations/{conversation_id}/events", EventStreamEndpoint(state),
              methods=["GET"]),
        WebSocketRoute("/conversations/{conversation_id}/session", session_endpoint(state)),
    ]
    return [*streaming, *agent_routes(state), *conversation_routes(state),
            *procedure_routes(state), *admin_routes(state)]


def _handlers(state: EmulatorState) -> dict[Any, ExceptionHandler]:
    def respond(problem: Problem) -> Response:
        return problem_response(problem, state.faults.has("plain_errors"))

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return respond(exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return respond(Problem(exc.status_code, code, exc.detail, exc.headers))

    async def on_cursor(request: Request, exc: Exception) -> Response:
        return respond(Problem(400, "invalid_cursor", str(exc)))

    async def on_crash(request: Request, exc: Exception) -> Response:
        return respond(Problem(500, "internal_error", "The emulator failed unexpectedly."))

    return {Problem: on_problem, HTTPException: on_http, InvalidCursorError: on_cursor,
            Exception: on_crash}
