"""``operator-iac import``: write agent files for agents that already exist on the platform."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from operator_iac.cli import output
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.ci import annotate
from operator_iac.cli.json_report import report_json
from operator_iac.cli.options import env_option, format_option, parallelism_option
from operator_iac.cli.progress import activity
from operator_iac.errors import InvalidInputError

if TYPE_CHECKING:
    from operator_iac.importing.results import ImportReport
    from operator_iac.spec.validation import ValidationReport


@click.command("import")
@click.argument("ids", nargs=-1, metavar="[ID]...")
@env_option
@click.option("--all", "everything", is_flag=True,
              help="Import every agent that no agent file stands for yet.")
@click.option("--force", is_flag=True, help="Overwrite agent and prompt files that exist.")
@click.option("--dry-run", is_flag=True, help="Print the files instead of writing them.")
@format_option("text", "json")
@parallelism_option
@pass_app
def import_command(app: App, ids: tuple[str, ...], env: str | None, everything: bool,
                   force: bool, dry_run: bool, fmt: str, parallelism: int) -> int:
    """Write agent files for agents that exist on the platform (built in the dashboard).

    Each agent is written from its released revision (its newest one when none was
    released; ID@vN names another) to <agents_dir>/<key>.yaml, the key derived from its
    name. Long prompts go to
    prompts/<key>.md, references between agents become keys, and fields operator-iac does
    not model are kept under config.extra. Procedural agents that an imported agent runs
    after its conversations are imported with it. Existing files are never overwritten
    without --force. The next `plan --adopt` shows the agents as adoptions without changes.
    Values that look like credentials (a token in a URL, a key) are written as the platform
    holds them, with a warning naming each one: replace them with ${env:NAME}.

    \b
    Examples:
      operator-iac import --env staging --all
      operator-iac import --env staging ca_8qm9JBCiTe7
      operator-iac import --env production ca_8qm9JBCiTe7@v3 --force
      operator-iac import --env staging --all --dry-run
      operator-iac import --env staging --all --format json
    """
    from operator_iac.importing.results import ImportOptions
    from operator_iac.services.import_ import ensure_agents_dir, import_agents

    ensure_agents_dir(app.settings.project_file)
    target = app.target(env)
    options = ImportOptions(ids=ids, everything=everything, force=force, dry_run=dry_run,
                            parallelism=parallelism)
    with activity() as say:
        report = import_agents(app.project(), app.client(), options, progress=say)
    _show(report, fmt, target.env_name)
    return _check_validation(report.validation, quiet=fmt == "json")


def _show(report: ImportReport, fmt: str, env: str | None) -> None:
    """The warnings about credentials on stderr, the report (and the files of a dry run)."""
    from operator_iac.importing.report import (
        credential_warnings,
        import_json,
        render_dry_run,
        render_import_text,
    )

    for warning in credential_warnings(report):
        output.warn(warning)
    if fmt == "json":
        report_json(import_json(report, env=env))
        return
    if not report.written and report.imported:
        output.result(render_dry_run(report))
    output.result(render_import_text(report, env=env))


def _check_validation(validation: ValidationReport | None, *, quiet: bool = False) -> int:
    """Show what validating the written project found; exit 3 when it does not validate.
    ``quiet``: the JSON report holds the diagnostics, and stdout holds only it."""
    if validation is None:
        return 0
    if not quiet:
        for diagnostic in validation.diagnostics:
            output.problem(str(diagnostic))
    annotate(validation.diagnostics, err=quiet)
    if not validation.ok:
        output.error("the imported files do not validate; fix the problems above before "
                     "running plan")
        return InvalidInputError.exit_code
    return 0
