"""Small helpers shared by the route modules: body parsing, query parameters, responses."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from operator_iac.emulator.clock import parse_iso
from operator_iac.emulator.problems import bad_request, invalid
from operator_iac.emulator.state import EmulatorState


async def read_object(request: Request) -> dict[str, Any]:
    """The JSON object in the body (an empty body counts as ``{}``).

    Malformed JSON is a 400; well-formed JSON that is not an object is a 422.
    """
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("invalid_json", f"the request body is not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise invalid("body: must be a JSON object")
    return value


def bearer_key(headers: Headers) -> str | None:
    """The credentials of an ``Authorization: Bearer ...`` header, if there is one."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def ok(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status_code=status, media_type="application/json")


def cursor_of(request: Request) -> str | None:
    return request.query_params.get("cursor") or None


def time_param(request: Request, name: str) -> float | None:
    text = request.query_params.get(name)
    if not text:
        return None
    try:
        return parse_iso(text)
    except ValueError as exc:
        raise bad_request("invalid_parameter",
                          f"{name} must be an ISO-8601 timestamp, got {text!r}") from exc


def base_urls(connection: HTTPConnection) -> tuple[str, str]:
    """The HTTP and WebSocket base URLs the caller reached this server by."""
    url = connection.url
    secure = url.scheme in ("https", "wss")
    host = url.netloc
    return (f"{'https' if secure else 'http'}://{host}", f"{'wss' if secure else 'ws'}://{host}")


def path_param(request: HTTPConnection, name: str) -> str:
    return str(request.path_params[name])


def modes(state: EmulatorState) -> frozenset[str]:
    return state.faults.modes()


# The page size of a platform that pages its lists short (``small_pages``).
SMALL_PAGE_SIZE = 3


def page_size(state: EmulatorState) -> int:
    """How many items a page of any list holds on this platform."""
    return SMALL_PAGE_SIZE if state.faults.has("small_pages") else state.options.page_size

