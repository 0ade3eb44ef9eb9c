"""The one exception hierarchy of operator-iac; every class carries the exit code it maps to.

Errors are raised where the problem is understood and translated once, at the CLI boundary,
into a one-line message on stderr and the process exit code (DESIGN.md section 3)::

    OperatorIacError (1)
    ├── InvalidInputError (3)
    │   ├── DeclarationError          agent files: carries every Diagnostic found
    │   ├── ProjectFileError          operator-iac.yaml
    │   ├── PlanFileError             a saved plan that cannot be read or was edited
    │   ├── ConfigurationError        settings: unknown environment, unset key variable, ...
    │   └── UsageError                command-line usage
    ├── OperationError (1)
    │   ├── ApiError                  the platform answered with an error status
    │   │   ├── BadRequestError (400, 422)
    │   │   ├── AuthenticationError (401)
    │   │   ├── PermissionDeniedError (403)
    │   │   ├── NotFoundError (404)
    │   │   ├── ApiConflictError (409)
    │   │   ├── RateLimitedError (429)
    │   │   └── ServerError (5xx)
    │   ├── TransportError            no usable answer: connection refused or reset, timeout
    │   │   ├── RequestTimeoutError
    │   │   └── AmbiguousWriteError   a create failed and may still have been applied
    │   └── StreamError               the SSE stream or the chat session broke
    ├── SmokeTestFailedError (4)
    ├── ConflictError (5)
    │   ├── StalePlanError            a saved plan no longer matches declarations or remote
    │   ├── RemoteChangedError        someone wrote the agent between check and write
    │   ├── ForeignDraftError         an unreleased draft this tool did not write
    │   └── PromotionRefusedError     the source environment does not hold what would be promoted
    ├── SmokeIncompleteError (6)      a smoke test could not conclude: timeout, unjudgeable
    └── SmokeRecordError (7)          applied and tested, but the verdict promote needs was not kept

Messages never contain secrets: API keys are held as ``pydantic.SecretStr`` and bodies of
requests are never echoed into an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a declaration, pointing at a file position (1-based line and column)."""

    file: str
    line: int
    column: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {prefix}{self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
        }


class OperatorIacError(Exception):
    """Base of every error operator-iac raises on purpose."""

    exit_code: ClassVar[int] = 1


# ---- invalid input (3) -------------------------------------------------------------------


class InvalidInputError(OperatorIacError):
    """The input (files, flags, settings) is wrong; nothing was sent to the platform."""

    exit_code = 3


class DeclarationError(InvalidInputError):
    """One or more agent declarations are invalid; ``diagnostics`` holds all of them."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        first = str(errors[0]) if errors else "invalid declarations"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)


class ProjectFileError(InvalidInputError):
    """The project file ``operator-iac.yaml`` is missing or invalid."""


class PlanFileError(InvalidInputError):
    """A saved plan file cannot be read, is truncated, or was edited by hand."""


class ConfigurationError(InvalidInputError):
    """Settings do not add up: unknown environment, unset API key variable, missing var."""


class UsageError(InvalidInputError):
    """The command line asks for something that cannot be done."""


# ---- operation failed (1) ----------------------------------------------------------------


class OperationError(OperatorIacError):
    """An operation against the platform failed."""

    exit_code = 1


class ApiError(OperationError):
    """The platform answered with an error status."""

    status_code: ClassVar[int | None] = None

    def __init__(self, status: int, method: str, path: str, message: str = "") -> None:
        self.status = status
        self.method = method
        self.path = path
        self.server_message = message
        detail = f": {message}" if message else ""
        super().__init__(f"{method} {path} failed with HTTP {status}{detail}")


class BadRequestError(ApiError):
    """400 or 422: the platform rejected the request's content."""


class AuthenticationError(ApiError):
    """401: the API key is missing, wrong, or expired."""


class PermissionDeniedError(ApiError):
    """403: the API key lacks permission for this operation."""


class NotFoundError(ApiError):
    """404: the resource does not exist."""


class ApiConflictError(ApiError):
    """409: the resource's state does not allow the operation."""


class RateLimitedError(ApiError):
    """429: too many requests, and retries ran out."""


class ServerError(ApiError):
    """5xx: the platform failed, and retries ran out."""


class TransportError(OperationError):
    """No usable answer from the platform: connection refused or reset, protocol error."""


class RequestTimeoutError(TransportError):
    """The platform did not answer in time."""


class AmbiguousWriteError(TransportError):
    """A create (non-idempotent POST) failed in a way that may still have applied it.

    It was not retried: the API has no idempotency keys, so a blind retry could create a
    duplicate. Look for the resource (for example by its marker) before trying again.
    ``status`` is the HTTP status when one arrived, else None (connection lost, timeout).
    """

    def __init__(self, method: str, path: str, status: int | None, detail: str) -> None:
        self.method = method
        self.path = path
        self.status = status
        super().__init__(
            f"{method} {path}: {detail}; the request may or may not have been applied "
            "(not retried, to avoid a duplicate)"
        )


class StreamError(OperationError):
    """The event stream or the chat session broke in a way that could not be recovered."""


# ---- smoke test failed (4) ---------------------------------------------------------------


class SmokeTestFailedError(OperatorIacError):
    """A smoke test's assertions failed."""

    exit_code = 4


# ---- conflict (5) ------------------------------------------------------------------------


class ConflictError(OperatorIacError):
    """The remote state moved under us; nothing unsafe was written."""

    exit_code = 5


class StalePlanError(ConflictError):
    """A saved plan no longer matches the declarations or the remote revisions."""


class RemoteChangedError(ConflictError):
    """Someone else wrote the agent between our check and our write."""


class ForeignDraftError(ConflictError):
    """An unreleased draft that this tool did not write would be overwritten."""


class PromotionRefusedError(ConflictError):
    """A promotion would carry content that was not released and smoke-tested in the source
    environment; the message lists every agent and why."""


# ---- smoke test incomplete (6) -------------------------------------------------------------


class SmokeIncompleteError(OperatorIacError):
    """A smoke test could not conclude: the agent or a procedure did not finish in time, or an
    assertion found nothing it could be judged on. Never a pass."""

    exit_code = 6


# ---- evidence not recorded (7) -------------------------------------------------------------


class SmokeRecordError(OperatorIacError):
    """Everything was applied and the smoke tests passed, but their verdict could not be kept
    on the platform (or not read back), so ``promote`` from this environment will refuse
    until a passing run is recorded (``operator-iac smoke --env E KEY`` records one)."""

    exit_code = 7


_API_ERRORS_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ApiConflictError,
    422: BadRequestError,
    429: RateLimitedError,
}


def api_error_for(status: int, method: str, path: str, message: str = "") -> ApiError:
    """The ApiError subclass for an HTTP status (5xx share ServerError)."""
    if status >= 500:
        return ServerError(status, method, path, message)
    cls = _API_ERRORS_BY_STATUS.get(status, ApiError)
    return cls(status, method, path, message)
