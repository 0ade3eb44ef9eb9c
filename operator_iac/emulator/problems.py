"""HTTP problems the emulator answers with, and how they are written on the wire.

Domain code raises ``Problem``; the app turns it into the [decided] error body
``{"error": {"code", "message"}}``, or into plain text when the ``plain_errors``
compatibility mode asks for it (so the client's tolerance of other shapes is exercised).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.responses import Response


class Problem(Exception):
    """An error answer: HTTP status, snake_case code, and a one-sentence message."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


class ResetConnection(Exception):
    """Raised to make the server drop the TCP connection on purpose (a fault)."""


def not_found(what: str, identifier: str) -> Problem:
    return Problem(404, "not_found", f"No {what} with id {identifier!r}.")


def invalid(message: str) -> Problem:
    """422: the body parsed but does not satisfy the contract."""
    return Problem(422, "validation_error", message)


def bad_request(code: str, message: str) -> Problem:
    return Problem(400, code, message)


def conflict(code: str, message: str) -> Problem:
    return Problem(409, code, message)


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def problem_response(problem: Problem, plain: bool = False) -> Response:
    """The response for a problem, as JSON or (compatibility mode) as plain text."""
    if plain:
        return Response(problem.message, status_code=problem.status,
                        headers=problem.headers, media_type="text/plain")
    body = json.dumps(error_body(problem.code, problem.message))
    return Response(body, status_code=problem.status, headers=problem.headers,
                    media_type="application/json")
