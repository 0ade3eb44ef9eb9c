"""``operator-iac init [DIR]``: scaffold a new project that validates and applies as it is."""

from __future__ import annotations

from pathlib import Path

import click

from operator_iac.cli import output
from operator_iac.services.init import CI_CHOICES


@click.command("init")
@click.argument("folder", required=False, default=".", metavar="[DIR]",
                type=click.Path(path_type=Path, file_okay=False))
@click.option("--project", metavar="NAME",
              help="The project's name (default: from the folder's name).")
@click.option("--ci", type=click.Choice(CI_CHOICES), default="github", show_default=True,
              help="The CI workflow to add (.github/workflows/operator-iac.yml), or none.")
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
def init_command(folder: Path, project: str | None, ci: str, force: bool) -> int:
    """Create a new project in DIR (default: the current folder).

    Writes operator-iac.yaml (staging, and production that receives only promotions), a
    conversational agent with a smoke test and its prompt file, a procedural agent that
    summarises each conversation, and a GitHub Actions workflow (plan on pull requests,
    apply on main, manual promotion). The project validates and applies as it is, against
    the emulator too. Nothing is written when one of these files exists, unless --force.

    \b
    Examples:
      operator-iac init my-agents
      operator-iac init --project acme-support --ci none
      operator-iac init my-agents --force
    """
    from operator_iac.render.init_report import render_init_text
    from operator_iac.services.init import InitRequest, init_project

    made = init_project(InitRequest(folder, project, ci, force))
    output.result(render_init_text(made.project, made.folder, made.written, made.overwritten))
    return 0
