"""Output helpers: results go to stdout, progress and messages to stderr (never mixed)."""

from __future__ import annotations

import os
import sys

import click


def colour_enabled(no_color: bool = False, stream: object = None) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set or ``--no-color`` given."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    stream = stream if stream is not None else sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


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
