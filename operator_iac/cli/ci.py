"""Life in CI: GitHub Actions annotations and step summaries, detected from the environment."""

from __future__ import annotations

import os
from collections.abc import Iterable

import click

from operator_iac.errors import Diagnostic


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def annotate(diagnostics: Iterable[Diagnostic]) -> None:
    """Diagnostics as ``::error file=...,line=...::`` workflow commands (on stdout, as the
    runner reads them there)."""
    if not in_github_actions():
        return
    for d in diagnostics:
        level = "error" if d.severity == "error" else "warning"
        where = f"file={d.file}" + (f",line={d.line},col={d.column}" if d.line else "")
        click.echo(f"::{level} {where}::{_escape(d.message)}")


def append_step_summary(markdown: str) -> None:
    """Append a report to ``$GITHUB_STEP_SUMMARY`` when running under GitHub Actions."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as summary:
        summary.write(markdown if markdown.endswith("\n") else markdown + "\n")


def _escape(message: str) -> str:
    # Workflow commands end at a newline; GitHub documents these escapes.
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
