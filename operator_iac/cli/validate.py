"""``operator-iac validate``: check agent files offline and report every problem found."""

from __future__ import annotations

from pathlib import Path

import click

from operator_iac.cli.app import App, pass_app
from operator_iac.cli.ci import annotate
from operator_iac.cli.json_report import report_json
from operator_iac.cli.options import format_option
from operator_iac.cli.output import result
from operator_iac.errors import InvalidInputError


@click.command("validate")
@click.argument("paths", nargs=-1, metavar="[PATH]...",
                type=click.Path(exists=True, path_type=Path))
@format_option("text", "json")
@pass_app
def validate_command(app: App, paths: tuple[Path, ...], fmt: str) -> int:
    """Validate agent files without contacting the platform.

    PATH may be an agent file, a directory of agent files, or a project (a directory with
    operator-iac.yaml). Without PATH, the project's agents directory is validated. The
    *.yaml and *.yml files of a directory and its folders are agent files, except hidden
    ones and those under a folder named prompts or fragments; other files, such as prompt
    .md files, are ignored. Exits 0 when valid, 3 when any error is found.

    \b
    Examples:
      operator-iac validate
      operator-iac validate agents/appointment-booking.yaml
      operator-iac validate examples/minimal --format json
    """
    from operator_iac.render.validation import render_validation_text, validation_json
    from operator_iac.services.validate import validate_paths

    report = validate_paths(list(paths), app.settings.project_file)
    if fmt == "json":
        report_json(validation_json(report))
    else:
        result(render_validation_text(report))
    # Under GitHub Actions every diagnostic also becomes an annotation on the file and line.
    annotate(report.diagnostics, err=fmt == "json")
    return 0 if report.ok else InvalidInputError.exit_code
