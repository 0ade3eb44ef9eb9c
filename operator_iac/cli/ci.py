"""Life in CI: GitHub Actions annotations and step summaries, detected from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import click

from operator_iac.errors import Diagnostic


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def annotate(diagnostics: Iterable[Diagnostic], *, err: bool = False) -> None:
    """Diagnostics as ``::error file=...,line=...::`` workflow commands, under GitHub Actions
    only. They go to stdout, where GitHub documents that the runner reads them; ``err`` sends
    them to stderr instead, for commands whose stdout must stay machine-readable (the runner
    reads workflow commands from both streams)."""
    if not in_github_actions():
        return
    for diagnostic in diagnostics:
        click.echo(workflow_command(diagnostic), err=err)


def workflow_command(d: Diagnostic) -> str:
    """One diagnostic as an ``::error`` or ``::warning`` workflow command."""
    level = "error" if d.severity == "error" else "warning"
    where = f"file={_escape_property(d.file)}"
    if d.line:
        where += f",line={d.line},col={d.column}"
    return f"::{level} {where}::{_escape(d.message)}"


def append_step_summary(render: Callable[[], str]) -> None:
    """Append a report to ``$GITHUB_STEP_SUMMARY`` when running under GitHub Actions.
    ``render`` builds the report's Markdown: only then, since nobody reads it otherwise."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    from operator_iac.spec.secrets import SECRETS

    markdown = render()

    with open(path, "a", encoding="utf-8") as summary:
        summary.write(SECRETS.mask(markdown if markdown.endswith("\n") else markdown + "\n"))


def _escape(message: str) -> str:
    # Workflow commands end at a newline; GitHub documents these escapes.
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    # Properties are separated by "," and end at "::", so those characters are escaped too.
    return _escape(value).replace(":", "%3A").replace(",", "%2C")
