"""Output helpers: results go to stdout, progress and messages to stderr (never mixed)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from operator_iac.errors import UsageError


def on_terminal(stream: object) -> bool:
    """Whether ``stream`` is an interactive terminal."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def colour_enabled(no_color: bool = False, stream: object = None) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set or ``--no-color`` given."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return on_terminal(stream if stream is not None else sys.stdout)


def confirm(question: str, without_terminal: str) -> None:
    """Ask ``question`` on a terminal (no aborts the command); without one nobody can answer,
    so the command stops with ``without_terminal``, which says what to pass instead."""
    if not on_terminal(sys.stdin):
        raise UsageError(without_terminal)
    click.confirm(question, abort=True, err=True)


def write_file(path: Path, text: str, what: str) -> None:
    """Write a file the user named (``--out``); a path that cannot be written is a usage error,
    not an internal one."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the {what} ({exc.strerror or exc})") from exc


def result(text: str) -> None:
    """Write a command's result to stdout."""
    click.echo(text)


def info(text: str) -> None:
    """A progress line or message for the person watching, on stderr."""
    click.echo(text, err=True)


def warn(text: str) -> None:
    click.echo(f"warning: {text}", err=True)


def error(text: str) -> None:
    click.echo(f"error: {text}", err=True)
