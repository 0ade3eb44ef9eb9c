"""The seam between ``OperatorClient`` and what hangs off it: resources and the event stream.

The typed resources and the SSE reader need five things from the client: sending a request
(with the retry policy and the error mapping), sending one and decoding its JSON, sending a
POST whose duplicate is harmless, opening a streaming GET, and the rules for paths and query
parameters. ``ApiTransport`` names the first four; ``segment``, ``Params`` and
``decode_json`` are the rest. ``OperatorClient`` implements the protocol, and ``resources``
and ``event_stream`` import this module only, never ``client``, so the client can build them
without an import cycle.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from operator_iac.api.tolerance import Notices
from operator_iac.errors import OperationError

Params = Mapping[str, str | int | float | bool | None]


def segment(value: str) -> str:
    """One path segment; ``@`` stays readable because version ids use it."""
    return quote(value, safe="@")


def decode_json(response: httpx.Response, method: str, path: str) -> Any:
    """The JSON body of a successful response; no body at all decodes to an empty object."""
    if not response.content.strip():
        return {}
    try:
        return jsonlib.loads(response.content)
    except ValueError as exc:
        raise OperationError(
            f"{method} {path}: the platform answered HTTP {response.status_code} "
            "with a body that is not JSON"
        ) from exc


class ApiTransport(Protocol):
    """What resources and the event stream send their requests through (``OperatorClient``).

    Every method retries per the client's policy and raises the errors of
    ``operator_iac.errors``; a response it returns is a success (2xx), except a DELETE's 404
    after a retry, which means an earlier attempt already deleted the resource. ``notices``
    collects the platform variations its reads adapted to; ``base_url`` is the REST base URL
    that relative URLs in answers are resolved against.
    """

    notices: Notices
    base_url: str

    def session_url(self, conversation_id: str, token: str) -> str:
        """The chat session URL built from the WebSocket base URL and a token."""
        ...

    def request(self, method: str, path: str, *, params: Params | None = None,
                json: Any = None, idempotent: bool = False) -> httpx.Response:
        """Send one logical request; ``idempotent`` marks a POST that is safe to repeat."""
        ...

    def request_json(self, method: str, path: str, *, params: Params | None = None,
                     json: Any = None, idempotent: bool = False) -> Any:
        """``request``, and the decoded JSON body ({} for an empty one)."""
        ...

    def post_repeatable(self, path: str, *, json: Any = None) -> tuple[Any, bool]:
        """A POST whose duplicate is harmless, retried like an idempotent request: the decoded
        body, and whether an earlier attempt may also have been carried out."""
        ...

    def stream(self, path: str, *, params: Params | None = None,
               headers: Mapping[str, str] | None = None, bearer: bool = True,
               read_timeout: float | None = None) -> AbstractContextManager[httpx.Response]:
        """Open a streaming GET; ``bearer=False`` drops the API key (a ``?token=`` instead)."""
        ...

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` before reading again, on the client's clock (tests make it
        instant)."""
        ...
