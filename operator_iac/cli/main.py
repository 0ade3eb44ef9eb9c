"""The ``operator-iac`` entry point: global options, lazy command loading, and the single
error boundary that turns exceptions into one-line messages and exit codes.

Commands are imported only when invoked, so ``--version`` and ``--help`` stay fast.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import traceback
from typing import Any

import click

from operator_iac import __version__
from operator_iac.cli.app import App
from operator_iac.cli.global_options import accept_after, global_options
from operator_iac.cli.logs import log_for
from operator_iac.cli.output import Declined
from operator_iac.errors import OperatorIacError
from operator_iac.settings import DEBUG_VARIABLE, Settings

# command name -> "module:attribute"; each module defines one click command.
COMMANDS: dict[str, str] = {
    "apply": "operator_iac.cli.apply:apply_command",
    "plan": "operator_iac.cli.plan:plan_command",
    "doctor": "operator_iac.cli.doctor:doctor_command",
    "emulator": "operator_iac.cli.emulator:command",
    "history": "operator_iac.cli.history:history_command",
    "import": "operator_iac.cli.import_:import_command",
    "lint": "operator_iac.cli.lint:lint_command",
    "init": "operator_iac.cli.init:init_command",
    "promote": "operator_iac.cli.promote:promote_command",
    "pull": "operator_iac.cli.pull:pull_command",
    "rollback": "operator_iac.cli.rollback:rollback_command",
    "schema": "operator_iac.cli.schema:schema_command",
    "smoke": "operator_iac.cli.smoke:smoke_command",
    "status": "operator_iac.cli.status:status_command",
    "transcript": "operator_iac.cli.transcript:transcript_command",
    "validate": "operator_iac.cli.validate:validate_command",
}

# command name -> the first sentence of its help: what ``--help`` lists without importing the
# command (and everything it needs); a test keeps it equal to the command's own.
SUMMARIES: dict[str, str] = {
    "apply": "Apply the declarations (or a saved plan) to the platform.",
    "plan": "Compare the declarations with the platform and show the changes.",
    "doctor": "Check that the platform behaves as operator-iac relies on, and name every "
              "undocumented behaviour it adapts to that this platform shows "
              "(docs/platform-behaviours.md).",
    "emulator": "Run the local Operator emulator (REST, SSE and WebSocket) until Ctrl-C.",
    "history": "List the revisions of the agent KEY, newest first: status (released, draft, "
               "archived), created and updated dates, and the commit and content hash from "
               "each revision's operator-iac marker (\"no marker\" for revisions made outside "
               "operator-iac).",
    "import": "Write agent files for agents that exist on the platform (built in the "
              "dashboard).",
    "init": "Create a new project in DIR (default: the current folder).",
    "lint": "Check agent declarations against the team's policies, without contacting the "
            "platform.",
    "promote": "Promote the declarations from one environment to another.",
    "pull": "Write what the platform holds for the agents KEY... into their files.",
    "rollback": "Release an earlier revision of the agent KEY again, or of every agent "
                "(--all).",
    "schema": "Print the JSON Schema of agent files (default) or of operator-iac.yaml.",
    "smoke": "Run the smoke tests of the declared agents (all of them, or each KEY).",
    "status": "Show, per agent, the released and draft revisions, the commit they came from, "
              "whether they match the declarations, and whether they were changed outside "
              "operator-iac.",
    "transcript": "Print conversation CONV_ID as a transcript: user and agent turns, tool "
                  "calls with their arguments and results, start and end, server errors, "
                  "with timestamps.",
    "validate": "Validate agent files without contacting the platform.",
}

# The commands that never talk to the platform: no TLS context is begun for them.
OFFLINE_COMMANDS = frozenset({"emulator", "init", "lint", "schema", "validate"})

USAGE_EXIT_CODE = 3


def short_help(name: str, limit: int) -> str:
    """The summary of command ``name`` shortened as click shortens a command's own help."""
    return click.Command(name, help=SUMMARIES[name]).get_short_help_str(limit)


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use; ``--help`` lists them from
    ``SUMMARIES``, so it starts as fast as ``--version``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        with formatter.section("Commands"):
            formatter.write_dl([(name, short_help(name, limit)) for name in names])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, imported now."""
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return accept_after(command)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="operator-iac")
@global_options
@click.pass_context
def cli(ctx: click.Context, **given: Any) -> None:
    """Manage Operator agents as code: validate, plan, apply, smoke-test, promote.

    \b
    Examples:
      operator-iac validate
      operator-iac plan --env staging --format markdown
      operator-iac --emulator apply --yes
      operator-iac plan --env staging --no-color --quiet

    Global options work before or after the command.
    """
    app = App(settings=Settings(**given))
    log_for(app.settings)
    if ctx.invoked_subcommand not in OFFLINE_COMMANDS:
        # The command is known before its options are read and its declarations load: the
        # certificate authorities load meanwhile, mostly outside Python's lock.
        from operator_iac.api.tls import prepare_tls_context

        prepare_tls_context()
    ctx.obj = app
    ctx.call_on_close(app.close)


def _command_named(name: str) -> click.Command | None:
    return cli.get_command(click.Context(cli), name) if name in COMMANDS else None


def _debug_requested(argv: list[str]) -> bool:
    """``--debug``, read again here: the failed command's context is gone. The variable is read
    as click reads it for the flag, so ``false`` or ``no`` mean no."""
    if "--debug" in argv:
        return True
    try:
        return bool(click.BOOL.convert(os.environ.get(DEBUG_VARIABLE, ""), None, None))
    except click.BadParameter:
        return False


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with the code of DESIGN.md section 3."""
    # httpx imports its own command-line client (click, rich and pygments: about 70 ms of
    # every command that talks to the platform) whenever those are installed, and this
    # process never runs it. A None entry makes that import fail as httpx expects when they
    # are missing: it then defines a stand-in ``httpx.main``. Set by the entry point alone,
    # so a program that imports operator_iac keeps httpx as it is.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    args = list(sys.argv[1:] if argv is None else argv)
    code = run(args)
    # Every object the run made is about to go with the process. Left to the collector, the
    # interpreter's last collection walks all of them (the models, schemas and modules the
    # command loaded: about 60 ms of a plan); frozen, they are freed by the exit itself.
    # Files and streams are closed by the command, and the interpreter still flushes stdout.
    gc.freeze()
    sys.exit(code)


def run(args: list[str]) -> int:
    """The error boundary: everything the user can cause ends as a message and an exit code,
    a ``--format json`` run prints its envelope also when it fails, and no secret of the run
    reaches either stream."""
    from operator_iac.cli.json_report import json_run, requested
    from operator_iac.cli.logs import logging_to_stderr
    from operator_iac.cli.output import masked_streams

    with masked_streams(), json_run() as reporting, logging_to_stderr():
        code, ended_by = _run(args)
        if reporting.command is None and isinstance(ended_by, click.ClickException):
            reporting.command = requested(args, _command_named)
        reporting.finish(code, ended_by)
        return code


def _run(args: list[str]) -> tuple[int, BaseException | None]:
    """The exit code, and the exception that ended the command (None when it returned)."""
    try:
        rv: Any = cli.main(args=args, prog_name="operator-iac", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code), None
    except Declined as exc:
        click.echo(str(exc), err=True)
        return 0, exc
    except click.exceptions.Abort as exc:
        click.echo("Aborted.", err=True)
        return 130, exc
    except click.ClickException as exc:
        exc.show()
        return (USAGE_EXIT_CODE if isinstance(exc, click.UsageError) else 1), exc
    except OperatorIacError as exc:
        if _debug_requested(args):
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code, exc
    except KeyboardInterrupt as exc:
        click.echo("Interrupted.", err=True)
        return 130, exc
    except Exception as exc:  # the last line of defence: never a bare traceback
        if _debug_requested(args):
            traceback.print_exc()
        click.echo(f"internal error: {type(exc).__name__}: {exc} "
                   "(run with --debug for the traceback)", err=True)
        return 1, exc
    return (rv if isinstance(rv, int) else 0), None
