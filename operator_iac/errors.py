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
    │   │   ├── AuthenticationError (401; exit 3: the key is wrong)
    │   │   ├── PermissionDeniedError (403; exit 3: the key may not do this)
    │   │   ├── NotFoundError (404)
    │   │   │   └── EndpointNotFoundError (exit 3)  a list answered 404: api_url is wrong
    │   │   ├── MethodNotAllowedError (405)
    │   │   ├── ApiConflictError (409)
    │   │   ├── RateLimitedError (429)
    │   │   └── ServerError (5xx)
    │   ├── TransportError            no usable answer: connection refused or reset, timeout
    │   │   ├── UnknownHostError (exit 3)  api_url names a host that does not resolve
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

Each class also carries a stable ``code``, the name a script reads in the ``errors`` of a
``--format json`` report (``docs/json-output.md``); a subclass that defines none shares its
parent's.

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
    code: ClassVar[str] = "error"

    def findings(self) -> list[Diagnostic]:
        """The problems with a file position behind this error (none for most errors)."""
        return []


# ---- invalid input (3) -------------------------------------------------------------------


class InvalidInputError(OperatorIacError):
    """The input (files, flags, settings) is wrong; nothing was sent to the platform."""

    exit_code = 3
    code = "invalid_input"


class DeclarationError(InvalidInputError):
    """One or more agent declarations are invalid; ``diagnostics`` holds all of them."""

    code = "invalid_declaration"

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        first = str(errors[0]) if errors else "invalid declarations"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)

    def findings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


class ProjectFileError(InvalidInputError):
    """The project file ``operator-iac.yaml`` is missing or invalid; ``diagnostics`` holds the
    problems found in it, when it could be read."""

    code = "invalid_project_file"

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        self.diagnostics = list(diagnostics or [])
        super().__init__(message)

    def findings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


class PlanFileError(InvalidInputError):
    """A saved plan file cannot be read, is truncated, or was edited by hand."""

    code = "invalid_plan_file"


class ConfigurationError(InvalidInputError):
    """Settings do not add up: unknown environment, unset API key variable, missing var."""

    code = "configuration"


class UsageError(InvalidInputError):
    """The command line asks for something that cannot be done."""

    code = "usage"


# ---- operation failed (1) ----------------------------------------------------------------


class OperationError(OperatorIacError):
    """An operation against the platform failed."""

    exit_code = 1
    code = "operation_failed"


class ApiError(OperationError):
    """The platform answered with an error status."""

    code = "api_error"
    status_code: ClassVar[int | None] = None

    def __init__(self, status: int, method: str, path: str, message: str = "",
                 hint: str = "") -> None:
        self.status = status
        self.method = method
        self.path = path
        self.server_message = message
        detail = f": {message}" if message else ""
        fix = f"; {hint}" if hint else ""
        super().__init__(f"{method} {path} failed with HTTP {status}{detail}{fix}")


class BadRequestError(ApiError):
    """400 or 422: the platform rejected the request's content."""

    code = "bad_request"


class AuthenticationError(ApiError):
    """401: the API key is missing, wrong, or expired. Exit 3: the fix is in the input (the
    key's variable), and the message names it."""

    exit_code = 3
    code = "authentication_failed"


class PermissionDeniedError(ApiError):
    """403: the API key lacks permission for this operation. Exit 3, as a wrong key."""

    exit_code = 3
    code = "permission_denied"


class NotFoundError(ApiError):
    """404 (or 410 Gone, which some platforms answer for a deleted resource): the resource
    does not exist."""

    code = "not_found"


class EndpointNotFoundError(NotFoundError):
    """404 on a list of resources, which exists on any account: the URL is wrong, not the
    resource missing. Exit 3: the fix is ``api_url``; the message shows the full URL."""

    exit_code = 3
    code = "endpoint_not_found"


class MethodNotAllowedError(ApiError):
    """405: the platform does not take this method at this address (a write addressed to a
    revision, on a platform that takes writes to the bare id only)."""

    code = "method_not_allowed"


class ApiConflictError(ApiError):
    """409: the resource's state does not allow the operation."""

    code = "api_conflict"


class RateLimitedError(ApiError):
    """429: too many requests, and retries ran out."""

    code = "rate_limited"


class ServerError(ApiError):
    """5xx: the platform failed, and retries ran out."""

    code = "server_error"


class TransportError(OperationError):
    """No usable answer from the platform: connection refused or reset, protocol error."""

    code = "connection_failed"


class UnknownHostError(TransportError):
    """The host name of the API URL does not resolve. Not retried (it will not start to
    resolve in the next seconds) and exit 3: the fix is ``api_url``."""

    exit_code = 3
    code = "unknown_host"


class RequestTimeoutError(TransportError):
    """The platform did not answer in time."""

    code = "timeout"


class AmbiguousWriteError(TransportError):
    """A create (non-idempotent POST) failed in a way that may still have applied it.

    It was not retried: the API has no idempotency keys, so a blind retry could create a
    duplicate. Look for the resource (for example by its marker) before trying again.
    ``status`` is the HTTP status when one arrived, else None (connection lost, timeout).
    """

    code = "ambiguous_write"

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

    code = "stream_broken"


# ---- smoke test failed (4) ---------------------------------------------------------------


class SmokeTestFailedError(OperatorIacError):
    """A smoke test's assertions failed."""

    exit_code = 4
    code = "smoke_test_failed"


# ---- conflict (5) ------------------------------------------------------------------------


class ConflictError(OperatorIacError):
    """The remote state moved under us; nothing unsafe was written."""

    exit_code = 5
    code = "conflict"


class StalePlanError(ConflictError):
    """A saved plan no longer matches the declarations or the remote revisions."""

    code = "stale_plan"


class RemoteChangedError(ConflictError):
    """Someone else wrote the agent between our check and our write."""

    code = "remote_changed"


class ForeignDraftError(ConflictError):
    """An unreleased draft that this tool did not write would be overwritten."""

    code = "foreign_draft"


class PromotionRefusedError(ConflictError):
    """A promotion would carry content that was not released and smoke-tested in the source
    environment; the message lists every agent and why."""

    code = "promotion_refused"


# ---- smoke test incomplete (6) -------------------------------------------------------------


class SmokeIncompleteError(OperatorIacError):
    """A smoke test could not conclude: the agent or a procedure did not finish in time, or an
    assertion found nothing it could be judged on. Never a pass."""

    exit_code = 6
    code = "smoke_incomplete"


# ---- evidence not recorded (7) -------------------------------------------------------------


class SmokeRecordError(OperatorIacError):
    """Everything was applied and the smoke tests passed, but their verdict could not be kept
    on the platform (or not read back), so ``promote`` from this environment will refuse
    until a passing run is recorded (``operator-iac smoke --env E KEY`` records one)."""

    exit_code = 7
    code = "smoke_not_recorded"


_API_ERRORS_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    410: NotFoundError,
    409: ApiConflictError,
    422: BadRequestError,
    429: RateLimitedError,
}


def api_error_for(status: int, method: str, path: str, message: str = "",
                  hint: str = "") -> ApiError:
    """The ApiError subclass for an HTTP status (5xx share ServerError); ``hint`` says what
    to fix."""
    if status >= 500:
        return ServerError(status, method, path, message, hint)
    cls = _API_ERRORS_BY_STATUS.get(status, ApiError)
    return cls(status, method, path, message, hint)
