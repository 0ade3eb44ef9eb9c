"""Options shared by several commands, defined once so that they read the same everywhere."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from operator_iac.cli.completion import complete_agent_keys, complete_environments
from operator_iac.defaults import PARALLELISM
from operator_iac.settings import PARALLELISM_VARIABLE

if TYPE_CHECKING:
    from operator_iac.plan.options import PlanOptions

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


def parallelism_option(func: F | None = None, *,
                       help: str = "Requests or agents handled at once.") -> Any:
    """``--parallelism`` (also ``OPERATOR_IAC_PARALLELISM``), the same on every command; used
    bare (``@parallelism_option``) or with a help text of the command's own."""
    option = click.option("--parallelism", type=click.IntRange(1, 64), default=PARALLELISM,
                          show_default=True, envvar=PARALLELISM_VARIABLE, help=help)
    return option(func) if func is not None else option


# The options of ``selection_options``, in the order ``--help`` shows them.
_SELECTION_OPTIONS = (
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
    click.option("--record-environment", is_flag=True,
                 help="Write this environment into the markers of agents whose markers "
                      "name none (written by an older version), so another environment "
                      "on the same account stops claiming them."),
    click.option("--discard-drafts", is_flag=True,
                 help="Discard unreleased drafts operator-iac wrote on agents whose "
                      "released revision already holds the declaration (a change applied "
                      "but never released: failed smoke tests, or another apply's change "
                      "released instead): each is overwritten with the released revision. "
                      "promote refuses while such a draft is there."),
)


@dataclass(frozen=True)
class Selection:
    """What ``selection_options`` read from the command line, before pydantic is loaded (a
    command begins reading the platform first: ``services.read_ahead``)."""

    targets: tuple[str, ...]
    excludes: tuple[str, ...]
    prune: bool
    adopt: bool
    allow_delete: bool
    record_environment: bool
    discard_drafts: bool

    def plan_options(self, **more: Any) -> PlanOptions:
        """The plan's options: these, and ``more`` of them (``overwrite_draft``)."""
        from operator_iac.plan.options import PlanOptions

        return PlanOptions(**asdict(self), **more)


def selection_options(func: F) -> F:
    """``--target``, ``--exclude``, ``--prune``, ``--adopt``, ``--allow-delete``,
    ``--record-environment``, ``--discard-drafts``, handed to the command as one
    ``selection`` (a ``Selection``, whose ``plan_options`` the command completes with
    ``--overwrite-draft``, which plan and apply word differently)."""

    @functools.wraps(func)
    def with_selection(*args: Any, targets: tuple[str, ...], excludes: tuple[str, ...],
                       prune: bool, adopt: bool, allow_delete: bool, record_environment: bool,
                       discard_drafts: bool, **kwargs: Any) -> Any:
        selection = Selection(targets=targets, excludes=excludes, prune=prune, adopt=adopt,
                              allow_delete=allow_delete,
                              record_environment=record_environment,
                              discard_drafts=discard_drafts)
        return func(*args, selection=selection, **kwargs)

    wrapped: Any = with_selection
    for option in reversed(_SELECTION_OPTIONS):
        wrapped = option(wrapped)
    return wrapped
