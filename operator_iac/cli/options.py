"""Options shared by several commands, defined once so that they read the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from operator_iac.cli.completion import complete_agent_keys, complete_environments
from operator_iac.settings import PARALLELISM_VARIABLE

F = TypeVar("F", bound=Callable[..., Any])


def env_option(func: F) -> F:
    """``--env`` on the command itself (the global ``--env`` works too)."""
    return click.option("--env", "env", metavar="NAME", shell_complete=complete_environments,
                        help="Environment from the project file (overrides the global --env).",
                        )(func)


def format_option(*choices: str) -> Callable[[F], F]:
    """``--format``, the first choice by default. With ``json`` among the choices, the command
    reports through ``cli.json_report.report_json`` and the run prints one envelope, also on
    failure; read eagerly, so that a mistake in another option is reported in JSON too."""
    def decorate(func: F) -> F:
        return click.option("--format", "fmt", type=click.Choice(list(choices)),
                            default=choices[0], show_default=True, is_eager=True,
                            callback=_remember_format, help="Output format.")(func)
    return decorate


def _remember_format(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if value == "json" and ctx.info_name:
        from operator_iac.cli.json_report import ask_for_json

        ask_for_json(ctx.info_name)
    return value


def parallelism_option(func: F) -> F:
    return click.option("--parallelism", type=click.IntRange(1, 64), default=8,
                        show_default=True, envvar=PARALLELISM_VARIABLE,
                        help="Requests or agents handled at once.")(func)


def selection_options(func: F) -> F:
    """``--target``, ``--exclude``, ``--prune``, ``--adopt``, ``--allow-delete``."""
    options = [
        click.option("--target", "targets", multiple=True, metavar="KEY",
                     shell_complete=complete_agent_keys,
                     help="Only this agent (repeatable); agents it needs are included."),
        click.option("--exclude", "excludes", multiple=True, metavar="KEY",
                     shell_complete=complete_agent_keys,
                     help="Leave this agent out (repeatable)."),
        click.option("--prune", is_flag=True,
                     help="Delete agents this project owns whose file is gone."),
        click.option("--adopt", is_flag=True,
                     help="Take over unmanaged agents whose name matches a declaration."),
        click.option("--allow-delete", is_flag=True,
                     help="Allow deletions in a protected environment."),
    ]
    for option in reversed(options):
        func = option(func)
    return func
