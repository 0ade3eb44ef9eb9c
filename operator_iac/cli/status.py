"""``operator-iac status``: what an environment holds, and whether it matches the declarations."""

from __future__ import annotations

import click

from operator_iac.cli import output
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.ci import append_step_summary
from operator_iac.cli.json_report import report_json
from operator_iac.cli.options import env_option, format_option, parallelism_option


@click.command("status")
@env_option
@format_option("text", "json", "markdown")
@parallelism_option
@pass_app
def status_command(app: App, env: str | None, fmt: str, parallelism: int) -> int:
    """Show, per agent, the released and draft revisions, the commit they came from, whether
    they match the declarations, and whether they were changed outside operator-iac.

    Exits 2 when any agent was changed outside operator-iac (drift) or does not match the
    declarations (not applied yet, a different release, an unreleased draft of the declared
    content, or an owned agent whose file was removed); 0 when everything is in sync. Run it
    on a schedule to notice dashboard edits.

    \b
    Examples:
      operator-iac status --env production
      operator-iac status --env production --format markdown >> "$GITHUB_STEP_SUMMARY"
      operator-iac status --env staging --format json
    """
    reading = app.read_ahead(env, parallelism=parallelism)
    from operator_iac.render.status import (
        render_status_markdown,
        render_status_text,
        status_json,
    )
    from operator_iac.services.status import fetch_status

    report = fetch_status(app.target(env), app.client(), parallelism=parallelism,
                          feedback=app.feedback(), reading=reading)
    if fmt == "json":
        report_json(status_json(report))
    else:
        render = render_status_markdown if fmt == "markdown" else render_status_text
        output.result(render(report).rstrip("\n"))
    append_step_summary(lambda: render_status_markdown(report))
    return report.exit_code()
