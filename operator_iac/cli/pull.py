"""``operator-iac pull KEY...``: take the platform's content of agents into their files."""

from __future__ import annotations

import click

from operator_iac.cli import output
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.completion import complete_agent_keys
from operator_iac.cli.options import env_option, format_option, parallelism_option


@click.command("pull")
@click.argument("keys", nargs=-1, required=True, metavar="KEY...",
                shell_complete=complete_agent_keys)
@env_option
@click.option("--draft", is_flag=True,
              help="Take the agent's unreleased draft instead of its released revision.")
@click.option("--dry-run", is_flag=True, help="Print the diff only; write nothing.")
@format_option("text", "json")
@parallelism_option
@pass_app
def pull_command(app: App, keys: tuple[str, ...], env: str | None, draft: bool,
                 dry_run: bool, fmt: str, parallelism: int) -> int:
    """Write what the platform holds for the agents KEY... into their files.

    A dashboard edit becomes a change of the YAML that can be reviewed and committed: the
    released revision (--draft: the unreleased draft) is written into the agent file and its
    prompt file, for the fields the files declare, and the diff is printed. Comments, key
    order and ${var:...}/${env:...} references stay wherever their value still matches. A
    secret is never written: a field holding ${env:...} keeps its reference, and is listed
    as not pulled when the platform's value differs. Values set by the environment's
    overrides, by a base file or owned by the dashboard are listed, not written. Nothing is
    written unless every file still reads as valid declarations (exit 3 otherwise).

    \b
    Examples:
      operator-iac pull support-triage --env staging
      operator-iac pull support-triage --env staging --dry-run
      operator-iac pull support-triage appointment-booking --env production --draft
    """
    from operator_iac.render.pull import render_pull_json, render_pull_text
    from operator_iac.services.pull import PullRequest, pull

    request = PullRequest(keys, draft=draft, dry_run=dry_run, parallelism=parallelism)
    report = pull(app.target(env), app.client(), request, feedback=app.feedback())
    output.result(render_pull_json(report) if fmt == "json" else render_pull_text(report))
    return 0
