"""Shell completion (bash, zsh, fish through click's ``_OPERATOR_IAC_COMPLETE``): environment
names and agent keys from the project, for the options and arguments that take them. Choices
(``--format``, ``--ci``, ``schema``'s argument...) complete by themselves.

The project is the one ``--project-file`` names on the line being completed (before or after
the command), else ``OPERATOR_IAC_PROJECT_FILE``, else the nearest ``operator-iac.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.shell_completion import CompletionItem

# Where the hidden ``--project-file`` after a command leaves its value for completion (no
# application object exists while a line is completed).
PROJECT_FILE_META = "operator_iac.project_file"


def complete_environments(ctx: click.Context, _param: click.Parameter,
                          incomplete: str) -> list[CompletionItem]:
    from operator_iac.services.completion import environment_names

    return _matching(environment_names(_project_file(ctx)), incomplete)


def complete_agent_keys(ctx: click.Context, _param: click.Parameter,
                        incomplete: str) -> list[CompletionItem]:
    from operator_iac.services.completion import agent_keys

    return _matching(agent_keys(_project_file(ctx)), incomplete)


def complete_smoke_version(_ctx: click.Context, _param: click.Parameter,
                           incomplete: str) -> list[CompletionItem]:
    return _matching(["released", "draft"], incomplete)


def _matching(values: list[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(value) for value in values if value.startswith(incomplete)]


def _project_file(ctx: click.Context) -> Path | None:
    named = ctx.meta.get(PROJECT_FILE_META)
    if named is not None:
        return Path(named)
    root = ctx.find_root().params.get("project_file")
    return Path(root) if root else None
