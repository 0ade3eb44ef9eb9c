"""The global options, accepted before the command and after it.

People type ``operator-iac plan --no-color`` as often as ``operator-iac --no-color plan``. The
group declares each global option once, with its environment variable; ``accept_after`` gives
every command a hidden copy of the ones it does not define itself, and a copy given after the
command replaces what the group read (a flag given later wins, as on any command line).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click

from operator_iac.cli.app import App
from operator_iac.cli.completion import PROJECT_FILE_META, complete_environments
from operator_iac.cli.logs import log_for
from operator_iac.settings import (
    API_URL_VARIABLE,
    DEBUG_VARIABLE,
    EMULATOR_COMPAT_VARIABLE,
    EMULATOR_VARIABLE,
    ENV_VARIABLE,
    LOG_VARIABLE,
    NO_CACHE_VARIABLE,
    PROJECT_FILE_VARIABLE,
    QUIET_VARIABLE,
)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class GlobalOption:
    """One global option: its flag, the ``Settings`` field it fills, and click's settings."""

    flag: str
    setting: str
    envvar: str | None
    help: str
    extra: tuple[tuple[str, Any], ...] = ()

    def for_group(self) -> Callable[[F], F]:
        return click.option(self.flag, self.setting, envvar=self.envvar, help=self.help,
                            **dict(self.extra))

    def for_command(self) -> click.Option:
        # No environment variable: the group has read it; only an explicit flag overrides.
        return click.Option([self.flag, self.setting], hidden=True, expose_value=False,
                            callback=_override(self.setting), **dict(self.extra))


FLAG = (("is_flag", True),)
OPTIONS: tuple[GlobalOption, ...] = (
    GlobalOption("--env", "env", ENV_VARIABLE,
                 f"Environment from the project file to work on. [env: {ENV_VARIABLE}]",
                 (("metavar", "NAME"), ("shell_complete", complete_environments))),
    GlobalOption("--project-file", "project_file", PROJECT_FILE_VARIABLE,
                 "Project file to use (default: the nearest operator-iac.yaml).",
                 (("type", click.Path(path_type=Path, dir_okay=False)),)),
    GlobalOption("--api-url", "api_url", API_URL_VARIABLE,
                 "Override the api_url of every environment the command uses (each keeps "
                 f"its own API key). [env: {API_URL_VARIABLE}]",
                 (("metavar", "URL"),)),
    GlobalOption("--emulator", "emulator", EMULATOR_VARIABLE,
                 "Start an in-process Operator emulator and point every call at it: an "
                 "account per API-key variable of the project's environments.", FLAG),
    GlobalOption("--emulator-compat", "emulator_compat", EMULATOR_COMPAT_VARIABLE,
                 "The platform --emulator plays: compatibility modes separated by commas, "
                 f"or random:SEED. [env: {EMULATOR_COMPAT_VARIABLE}]", (("metavar", "MODES"),)),
    # NO_COLOR is read where colour is decided (cli/output.py): any non-empty value counts,
    # which a click boolean environment variable would reject.
    GlobalOption("--no-color", "no_color", None,
                 "Never use colour (NO_COLOR is honoured too).", FLAG),
    GlobalOption("--quiet", "quiet", QUIET_VARIABLE,
                 "No progress lines (for CI logs): only results, warnings and errors. "
                 f"[env: {QUIET_VARIABLE}]", FLAG),
    GlobalOption("--no-cache", "no_cache", NO_CACHE_VARIABLE,
                 "Read every revision from the platform, not from the local cache of released "
                 f"revisions. [env: {NO_CACHE_VARIABLE}]", FLAG),
    # No variable of its own: OPERATOR_IAC_LOG names a level, which a flag cannot.
    GlobalOption("--verbose", "verbose", None,
                 "Log every request and decision (retries, waits) on stderr. "
                 f"[env: {LOG_VARIABLE}=debug|info]", FLAG),
    GlobalOption("--debug", "debug", DEBUG_VARIABLE, "Show tracebacks for errors.", FLAG),
)

AFTER_THE_COMMAND = ("Global options work before or after the command: "
                     f"{', '.join(option.flag for option in OPTIONS)}.")


def global_options(func: F) -> F:
    """Declare the global options on the group."""
    for option in reversed(OPTIONS):
        func = option.for_group()(func)
    return func


def accept_after(command: click.Command) -> click.Command:
    """Give ``command`` hidden copies of the global options it does not define itself, once."""
    if getattr(command, "_operator_iac_globals", False):
        return command
    taken = {opt for param in command.params for opt in param.opts}
    command.params.extend(option.for_command() for option in OPTIONS
                          if option.flag not in taken)
    command.epilog = f"{command.epilog}\n\n{AFTER_THE_COMMAND}" if command.epilog \
        else AFTER_THE_COMMAND
    command._operator_iac_globals = True  # type: ignore[attr-defined]
    return command


def _override(setting: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is None or value is False:
            return
        if setting == "project_file":  # completion has no App to read it from
            ctx.meta[PROJECT_FILE_META] = value
        app = ctx.find_object(App)
        if app is not None:
            app.settings = replace(app.settings, **{setting: value})
            log_for(app.settings)
    return callback
