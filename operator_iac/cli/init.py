"""``operator-iac init [DIR]``: scaffold a new project that validates and applies as it is."""

from __future__ import annotations

import sys
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
@click.option("--gitignore/--no-gitignore", default=True, show_default=True,
              help="Write a .gitignore (to an existing one, add the lines it lacks).")
@click.option("--schema/--no-schema", default=True, show_default=True,
              help="Write the JSON Schemas to .schemas/ and start each YAML file with a "
                   "yaml-language-server modeline naming its schema (editor completion).")
@click.option("--git/--no-git", default=None,
              help="Run git init in DIR. Without either flag: asked on a terminal when DIR is "
                   "not in a git repository; not done without a terminal.")
def init_command(folder: Path, project: str | None, ci: str, force: bool, gitignore: bool,
                 schema: bool, git: bool | None) -> int:
    """Create a new project in DIR (default: the current folder).

    Writes operator-iac.yaml (staging, and production that receives only promotions), a
    conversational agent with a smoke test and its prompt file, a procedural agent that
    summarises each conversation, a GitHub Actions workflow (plan on pull requests, apply
    on main, manual promotion), the JSON Schemas for editors and a .gitignore; offers git
    init. The project validates and applies as it is, against the emulator too. Nothing is
    written when one of these files exists, unless --force.

    \b
    Examples:
      operator-iac init my-agents
      operator-iac init --project acme-support --ci none
      operator-iac init my-agents --git
      operator-iac init my-agents --no-git --no-gitignore --no-schema --force
    """
    from operator_iac.render.init_report import render_init_text
    from operator_iac.services.init import InitRequest, init_project, inside_git_work_tree

    if git is None:
        git = (output.on_terminal(sys.stdin) and not inside_git_work_tree(folder)
               and click.confirm("Run git init in it too?", default=True, err=True))
    made = init_project(InitRequest(folder, project, ci, force, gitignore, schema, git))
    output.result(render_init_text(made.project, made.folder, made.written, made.overwritten,
                                   git=made.git_initialised))
    return 0
