"""``operator-iac history KEY``: every revision of one agent, with what its marker says."""

from __future__ import annotations

import click

from operator_iac.cli import output
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.completion import complete_agent_keys
from operator_iac.cli.options import env_option, format_option, parallelism_option


@click.command("history")
@click.argument("key", shell_complete=complete_agent_keys)
@env_option
@format_option("text", "json")
@parallelism_option
@pass_app
def history_command(app: App, key: str, env: str | None, fmt: str, parallelism: int) -> int:
    """List the revisions of the agent KEY, newest first: status (released, draft, archived),
    created and updated dates, and the commit and content hash from each revision's
    operator-iac marker ("no marker" for revisions made outside operator-iac).

    \b
    Examples:
      operator-iac history appointment-booking --env production
      operator-iac history call-summary --env staging --format json
    """
    from operator_iac.render.history import render_history_json, render_history_text
    from operator_iac.services.history import read_history

    history = read_history(app.target(env), app.client(), key, parallelism=parallelism,
                           feedback=app.feedback())
    render = render_history_json if fmt == "json" else render_history_text
    output.result(render(history).rstrip("\n"))
    return 0
