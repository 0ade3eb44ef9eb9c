"""``operator-iac history KEY``: every revision of one agent, with what its marker says."""

from __future__ import annotations

import click

from operator_iac.cli import output
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.completion import complete_agent_keys
from operator_iac.cli.json_report import report_json
from operator_iac.cli.options import env_option, format_option, parallelism_option
from operator_iac.errors import UsageError


@click.command("history")
@click.argument("key", required=False, shell_complete=complete_agent_keys)
@env_option
@click.option("--all", "everything", is_flag=True,
              help="List the commits revisions of the project were written from instead.")
@format_option("text", "json")
@parallelism_option
@pass_app
def history_command(app: App, key: str | None, env: str | None, everything: bool, fmt: str,
                    parallelism: int) -> int:
    """List the revisions of the agent KEY, newest first: status (released, draft, archived),
    created and updated dates, and the commit and content hash from each revision's
    operator-iac marker ("no marker" for revisions made outside operator-iac).

    --all lists instead every commit the project's revisions were written from, newest
    first, with the agents written from it: the commits rollback --all --to-commit takes.

    \b
    Examples:
      operator-iac history appointment-booking --env production
      operator-iac history call-summary --env staging --format json
      operator-iac history --all --env production
    """
    from operator_iac.render.history import history_json, render_history_text
    from operator_iac.services.history import read_history

    if everything or key is None:
        return _commits(app, key, env, everything, fmt, parallelism)
    history = read_history(app.target(env), app.client(), key, parallelism=parallelism,
                           feedback=app.feedback())
    if fmt == "json":
        report_json(history_json(history))
    else:
        output.result(render_history_text(history).rstrip("\n"))
    return 0


def _commits(app: App, key: str | None, env: str | None, everything: bool, fmt: str,
             parallelism: int) -> int:
    from operator_iac.render.commit_rollback import commits_json, render_commits_text
    from operator_iac.services.commit_rollback import read_commits

    if not everything:
        raise UsageError("name the agent KEY, or pass --all for the commits of every agent")
    if key is not None:
        raise UsageError("--all lists the commits of every agent: leave out KEY")
    commits = read_commits(app.target(env), app.client(), parallelism=parallelism,
                           feedback=app.feedback())
    if fmt == "json":
        report_json(commits_json(commits))
    else:
        output.result(render_commits_text(commits).rstrip("\n"))
    return 0
