"""``--format json`` on the command line: exactly one envelope on stdout per run, also when
the command fails (``operator_iac.render.envelope``, ``docs/json-output.md``).

A command offers JSON through the shared ``format_option`` (``cli/options.py``), whose
callback records here that this run asked for it and which command it is. The command hands
its result to ``report_json`` instead of printing it; the error boundary (``cli/main.py``)
prints the envelope once the run is over, with the run's real exit code and the error that
ended it, if any. So a new command gets the contract by declaring ``format_option("text",
"json")`` and calling ``report_json``: the failure envelope, the exit code and the errors
come by construction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

import click

from operator_iac.render.envelope import (
    DECLINED_CODE,
    INTERRUPTED_CODE,
    USAGE_CODE,
    JsonObject,
    JsonReport,
    envelope,
    error_entry,
    exception_entries,
    render_envelope,
)


@dataclass
class JsonRun:
    """What one run of the CLI asked for and reported, for the envelope printed at its end."""

    command: str | None = None
    """The command whose ``--format json`` was given; None while no JSON was asked for."""
    report: JsonReport | None = None
    """The command's result; None until ``report_json`` (and for a command that failed)."""

    def finish(self, exit_code: int, ended_by: BaseException | None = None) -> None:
        """Print the envelope, when JSON was asked for: the data reported, and the error that
        ended the run."""
        if self.command is None:
            return
        from operator_iac.cli.output import result

        report = self.report or _NO_RESULT
        errors = [*report.errors, *(_entries(ended_by) if ended_by is not None else ())]
        result(render_envelope(envelope(
            self.command, exit_code, summary=report.summary, data=report.data, errors=errors,
            format_version=report.format_version)))


# A command that stopped before it had a result: the envelope alone.
_NO_RESULT = JsonReport(data={}, summary={})

_CURRENT: ContextVar[JsonRun | None] = ContextVar("operator_iac_json_run", default=None)


@contextlib.contextmanager
def json_run() -> Iterator[JsonRun]:
    """The JSON state of one run of the CLI."""
    run = JsonRun()
    token = _CURRENT.set(run)
    try:
        yield run
    finally:
        _CURRENT.reset(token)


def ask_for_json(command: str) -> None:
    """Record that ``command`` was asked for ``--format json`` (the format option's callback)."""
    run = _CURRENT.get()
    if run is not None:
        run.command = command


def report_json(report: JsonReport) -> None:
    """Hand the command's JSON result over: printed in the envelope when the run ends."""
    run = _CURRENT.get()
    if run is None:
        raise RuntimeError("report_json is called by a command run through cli.main.run")
    run.report = report


def requested(args: Sequence[str],
              command_named: Callable[[str], click.Command | None]) -> str | None:
    """The command of ``args`` when they ask for ``--format json`` and it offers JSON: for a
    command line that click refused before it read any option (an unknown option), so the
    format option's callback never ran."""
    asked = any(a == "--format=json" or (a == "--format" and b == "json")
                for a, b in zip(args, [*args[1:], ""], strict=True))
    for arg in args if asked else ():
        command = command_named(arg)
        if command is not None:
            return arg if offers_json(command) else None
    return None


def offers_json(command: click.Command) -> bool:
    """Whether ``command`` has a ``--format`` with a ``json`` choice."""
    return any("--format" in p.opts and "json" in getattr(p.type, "choices", ())
               for p in command.params)


def _entries(exc: BaseException) -> list[JsonObject]:
    from operator_iac.cli.output import Declined

    if isinstance(exc, click.ClickException):
        return [error_entry(USAGE_CODE, exc.format_message())]
    if isinstance(exc, Declined):
        return [error_entry(DECLINED_CODE, str(exc))]
    if isinstance(exc, KeyboardInterrupt | click.exceptions.Abort):
        return [error_entry(INTERRUPTED_CODE, "interrupted")]
    return exception_entries(exc)
