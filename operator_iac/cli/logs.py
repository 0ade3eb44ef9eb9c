"""Logging on the command line: what operator-iac decides (a retry, a wait) shown on stderr.

The library logs through the standard ``logging`` module under the ``operator_iac`` logger
and configures nothing, so a script using the Python API keeps its own configuration. A run
of the CLI adds one handler for its duration, on stderr: warnings by default (a retry is
announced the moment it is decided), every decision with ``OPERATOR_IAC_LOG=info``, and
every request too with ``--verbose`` or ``OPERATOR_IAC_LOG=debug``.

Records go out through click's stderr, so they are masked like every other line (no API key)
and show above a live progress display. Only operator-iac's own loggers are shown: httpx logs
whole URLs, whose query may hold a conversation token, and operator-iac logs paths only.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping

from operator_iac.cli.output import message
from operator_iac.settings import LOG_VARIABLE, Settings

LOGGER = "operator_iac"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
DEFAULT_LEVEL = logging.WARNING


class _StderrHandler(logging.Handler):
    """A handler that writes each record to the stderr of the moment (masked, and above a
    live display)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message(self.format(record))
        except Exception:  # logging must never break the run it reports on
            self.handleError(record)


class _Formatter(logging.Formatter):
    """``warning: retrying ...`` by default; with a time in front at info and debug levels,
    where many lines from several threads are read together."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{record.levelname.lower()}: {record.getMessage()}"
        if logging.getLogger(LOGGER).getEffectiveLevel() < logging.WARNING:
            line = f"{self.formatTime(record, '%H:%M:%S')}.{int(record.msecs):03d} {line}"
        return line


def level_for(settings: Settings, environ: Mapping[str, str]) -> int:
    """The level a run logs at: ``--verbose`` means debug; otherwise ``OPERATOR_IAC_LOG``
    (an unknown value is ignored), else warnings only."""
    if settings.verbose:
        return logging.DEBUG
    return LEVELS.get(environ.get(LOG_VARIABLE, "").strip().lower(), DEFAULT_LEVEL)


def log_for(settings: Settings) -> None:
    """Set the run's level from its settings (read again when a flag after the command
    changes them)."""
    logging.getLogger(LOGGER).setLevel(level_for(settings, os.environ))


@contextlib.contextmanager
def logging_to_stderr() -> Iterator[None]:
    """operator-iac's log records on stderr for the duration of one run of the CLI."""
    logger = logging.getLogger(LOGGER)
    handler = _StderrHandler()
    handler.setFormatter(_Formatter())
    saved = logger.level
    logger.setLevel(level_for(Settings(), os.environ))
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)
