"""Output helpers: results go to stdout, progress and messages to stderr (never mixed), and
every secret of the run is masked by value on both streams and in every file written
(``operator_iac.spec.secrets``).

``--quiet`` silences ``info`` (progress and messages for the person watching) and nothing else:
results, warnings, errors and the details of a failure (``problem``) always show.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from operator_iac.errors import UsageError
from operator_iac.spec.secrets import SECRETS


class _MaskingStream(io.TextIOBase):
    """A text stream that masks the run's secrets in whatever passes through it."""

    def __init__(self, inner: object) -> None:
        super().__init__()
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(SECRETS.mask(text))  # type: ignore[attr-defined]
        return len(text)

    def flush(self) -> None:
        self._inner.flush()  # type: ignore[attr-defined]

    def isatty(self) -> bool:
        return on_terminal(self._inner)

    def fileno(self) -> int:
        return int(self._inner.fileno())  # type: ignore[attr-defined]

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._inner, "encoding", None) or "utf-8"

    @property
    def buffer(self) -> _MaskingBytes:
        """The binary side (click writes bytes there), masked the same way."""
        inner = getattr(self._inner, "buffer", None)
        if inner is None:
            raise AttributeError("buffer")
        return _MaskingBytes(inner, self.encoding)

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._inner, "errors", None)


class _MaskingBytes(io.RawIOBase):
    """The binary stream under a ``_MaskingStream``: bytes are masked as text."""

    def __init__(self, inner: object, encoding: str) -> None:
        super().__init__()
        self._inner, self._encoding = inner, encoding

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        text = bytes(data).decode(self._encoding, errors="surrogateescape")
        self._inner.write(SECRETS.mask(text).encode(self._encoding,  # type: ignore[attr-defined]
                                                    errors="surrogateescape"))
        return len(data)

    def flush(self) -> None:
        self._inner.flush()  # type: ignore[attr-defined]


@contextlib.contextmanager
def masked_streams() -> Iterator[None]:
    """For one command: a fresh set of secrets, masked on stdout and stderr."""
    with SECRETS.scope():
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _MaskingStream(saved[0]), _MaskingStream(saved[1])
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved


def on_terminal(stream: object) -> bool:
    """Whether ``stream`` is an interactive terminal."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def colour_enabled(no_color: bool = False, stream: object = None) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set or ``--no-color`` given."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return on_terminal(stream if stream is not None else sys.stdout)


class Declined(Exception):
    """The answer at a confirmation was no: nothing was written, and that is not a failure."""


def confirm(question: str, without_terminal: str) -> None:
    """Ask ``question`` on a terminal; "no" ends the command with ``Declined`` (exit 0,
    nothing applied). Without a terminal nobody can answer, so the command stops with
    ``without_terminal``, which says what to pass instead."""
    if not on_terminal(sys.stdin):
        raise UsageError(without_terminal)
    if not click.confirm(question, err=True):
        raise Declined("Nothing applied: the answer was no.")


def quiet() -> bool:
    """Whether ``--quiet`` (or ``OPERATOR_IAC_QUIET``) asked for no progress lines."""
    ctx = click.get_current_context(silent=True)
    settings = getattr(ctx.find_root().obj, "settings", None) if ctx is not None else None
    return bool(getattr(settings, "quiet", False))


def write_file(path: Path, text: str, what: str) -> None:
    """Write a file the user named (``--out``); a path that cannot be written is a usage error,
    not an internal one."""
    try:
        path.write_text(SECRETS.mask(text), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the {what} ({exc.strerror or exc})") from exc


def result(text: str) -> None:
    """Write a command's result to stdout."""
    click.echo(text)


def message(text: str) -> None:
    """Write a line to stderr as it is at this moment: while a live display runs, that is the
    display's proxy, which prints the line above it. (``click.echo(err=True)`` would reach
    around the proxy to the terminal underneath and tear the display.)"""
    click.echo(text, file=sys.stderr)


def info(text: str) -> None:
    """A progress line or message for the person watching, on stderr (not with --quiet)."""
    if not quiet():
        message(text)


def problem(text: str) -> None:
    """Details of a failure on stderr (a diagnostic, a failing transcript), even with
    --quiet."""
    message(text)


def warn(text: str) -> None:
    message(f"warning: {text}")


def error(text: str) -> None:
    message(f"error: {text}")
