"""The one JSON contract of every report command: the envelope around a command's data.

Whatever the command, ``--format json`` prints one object (``docs/json-output.md``)::

    {"format_version": 1, "command": "status", "exit_code": 2,
     "summary": {...}, ...the command's data..., "errors": [...]}

``exit_code`` is the process's exit code, ``summary`` an object of counts a script can test,
and ``errors`` what made the command fail, each with a stable ``code`` (the error class's, see
``operator_iac.errors``), a ``message``, and ``file``/``line``/``column`` when the problem has
a position. A command that stopped before it had a result prints the envelope alone, with an
empty summary and at least one error. Pure functions; the CLI decides when to print.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from operator_iac.errors import Diagnostic, OperatorIacError

JsonObject = dict[str, Any]
"""A JSON object as Python holds it (what ``json.loads`` returns for ``{...}``)."""

JSON_FORMAT_VERSION = 1
"""The version of the envelope and of every command's data (``plan`` carries its plan file's
``format_version``, also 1). It rises only when a field changes meaning or disappears; new
fields may appear at any time."""

ENVELOPE_KEYS = ("format_version", "command", "exit_code", "summary", "errors")
"""The keys the envelope owns: a command's data never sets them."""

# The codes of ``errors`` besides those of the error classes (``OperatorIacError.code``):
# what ends a run that is not an ``OperatorIacError``, and findings of a report.
USAGE_CODE = "usage"  # click refused the command line (the class UsageError has it too)
INTERNAL_CODE = "internal_error"  # a bug: the message names the exception
INTERRUPTED_CODE = "interrupted"  # Ctrl-C
DECLINED_CODE = "declined"  # "no" at a confirmation: nothing was written (exit 0)
CHECK_FAILED_CODE = "check_failed"  # doctor: something operator-iac relies on does not hold
NOT_RUN_CODE = "not_run"  # smoke: an agent's tests could not run (not deployed, no revision)
LINT_FINDING_CODE = "lint_finding"  # lint: a finding at or above --fail-on, not suppressed


@dataclass(frozen=True)
class JsonReport:
    """A command's part of its envelope, as each report's renderer builds it."""

    data: JsonObject
    """The command's own fields, printed between ``summary`` and ``errors``."""
    summary: JsonObject
    """Counts (and a few flags) a script can test without reading the data."""
    errors: tuple[JsonObject, ...] = field(default=())
    """What the result holds that made the command fail (``error_entry`` objects)."""
    format_version: int = JSON_FORMAT_VERSION
    """The version of this command's JSON format."""


def envelope(command: str, exit_code: int, *, summary: Mapping[str, Any] | None = None,
             data: Mapping[str, Any] | None = None, errors: Iterable[JsonObject] = (),
             format_version: int = JSON_FORMAT_VERSION) -> JsonObject:
    """The envelope for ``command``: its ``data`` between the summary and the errors.

    ``data`` is None when the command stopped before it had a result; keys the envelope owns
    are dropped from it (a renderer that already carried an ``exit_code`` keeps working)."""
    body = {k: v for k, v in (data or {}).items() if k not in ENVELOPE_KEYS}
    return {"format_version": format_version, "command": command, "exit_code": exit_code,
            "summary": dict(summary or {}), **body, "errors": list(errors)}


def render_envelope(report: JsonObject) -> str:
    """The envelope as the text printed on stdout."""
    return json.dumps(report, indent=2, ensure_ascii=False)


def error_entry(code: str, message: str) -> JsonObject:
    """One entry of ``errors`` without a position."""
    return {"code": code, "message": message}


def diagnostic_entry(diagnostic: Diagnostic, code: str) -> JsonObject:
    """One entry of ``errors`` for a finding in a file (line and column when it has them)."""
    entry = {**error_entry(code, diagnostic.message), "file": diagnostic.file}
    if diagnostic.line:
        entry.update(line=diagnostic.line, column=diagnostic.column)
    return entry


def diagnostic_entries(diagnostics: Iterable[Diagnostic], code: str) -> list[JsonObject]:
    """The errors (not the warnings) among ``diagnostics``."""
    return [diagnostic_entry(d, code) for d in diagnostics if d.severity == "error"]


def exception_entries(exc: BaseException) -> list[JsonObject]:
    """What an exception that ended the command puts in ``errors``: one entry per finding
    with a position (an invalid declaration), else one entry with its message."""
    if isinstance(exc, OperatorIacError):
        found = diagnostic_entries(exc.findings(), exc.code)
        return found or [error_entry(exc.code, str(exc))]
    return [error_entry(INTERNAL_CODE, f"{type(exc).__name__}: {exc}")]
