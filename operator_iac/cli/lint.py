"""``operator-iac lint``: check agent declarations against the team's policies, offline."""

from __future__ import annotations

from pathlib import Path

import click

from operator_iac.cli.app import App, pass_app
from operator_iac.cli.ci import annotate
from operator_iac.cli.options import env_option, format_option
from operator_iac.cli.output import result
from operator_iac.errors import InvalidInputError


@click.command("lint")
@click.argument("paths", nargs=-1, metavar="[PATH]...",
                type=click.Path(exists=True, path_type=Path))
@env_option
@format_option("text", "json", "sarif")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default="error",
              show_default=True,
              help="Exit 3 when a finding of this severity or higher is not suppressed.")
@pass_app
def lint_command(app: App, paths: tuple[Path, ...], env: str | None, fmt: str,
                 fail_on: str) -> int:
    """Check agent declarations against the team's policies, without contacting the platform.

    PATH is taken as by validate (agent files, directories, projects; without PATH, the
    project's agents). Rules run on the effective declarations of every environment (only
    --env's with --env): bases, templates, prompt fragments and overrides applied. Rules,
    severities, approved models and more are set under lint: in operator-iac.yaml; silence
    one finding with "# operator-iac: ignore[ID] reason" on its line. Every rule is
    documented in docs/lint.md.

    Exits 0 when no finding reaches --fail-on, 3 when one does or when declarations are
    invalid (SARIF and JSON still list everything).

    \b
    Examples:
      operator-iac lint
      operator-iac lint --env production --fail-on warning
      operator-iac lint --format sarif > operator-iac.sarif
    """
    from operator_iac.render.lint import finding_diagnostics, render_lint_json, render_lint_text
    from operator_iac.render.lint_sarif import render_lint_sarif
    from operator_iac.services.lint import lint_paths

    report = lint_paths(list(paths), app.settings.project_file, env or app.settings.env,
                        "warning" if fail_on == "warning" else "error")
    render = {"json": render_lint_json, "sarif": render_lint_sarif,
              "text": render_lint_text}[fmt]
    result(render(report))
    # Code scanning annotates the pull request from the SARIF file; workflow annotations
    # would repeat every finding there.
    if fmt != "sarif":
        annotate(finding_diagnostics(report), err=fmt == "json")
    return InvalidInputError.exit_code if report.failed else 0
