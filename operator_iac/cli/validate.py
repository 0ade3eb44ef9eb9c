"""``operator-iac validate``: check agent files offline and report every problem found."""

from __future__ import annotations

import json
from pathlib import Path

import click

from operator_iac.cli.app import App, pass_app
from operator_iac.cli.ci import annotate
from operator_iac.cli.options import format_option
from operator_iac.cli.output import result
from operator_iac.errors import InvalidInputError
from operator_iac.spec.validation import ValidationReport, validate_paths


@click.command("validate")
@click.argument("paths", nargs=-1, metavar="[PATH]...",
                type=click.Path(exists=True, path_type=Path))
@format_option("text", "json")
@pass_app
def validate_command(app: App, paths: tuple[Path, ...], fmt: str) -> int:
    """Validate agent files without contacting the platform.

    PATH may be an agent file, a directory of agent files, or a project (a directory with
    operator-iac.yaml). Without PATH, the project's agents directory is validated. Only
    *.yaml and *.yml files directly inside a directory are agent files; other files, such
    as prompt .md files, are ignored. Exits 0 when valid, 3 when any error is found.

    \b
    Examples:
      operator-iac validate
      operator-iac validate agents/appointment-booking.yaml
      operator-iac validate examples/minimal --format json
    """
    report = validate_paths(list(paths), app.settings.project_file)
    if fmt == "json":
        result(render_json(report))
    else:
        result(render_text(report))
    # Under GitHub Actions every diagnostic also becomes an annotation on the file and line.
    annotate(report.diagnostics, err=fmt == "json")
    return 0 if report.ok else InvalidInputError.exit_code


def render_text(report: ValidationReport) -> str:
    """One line per diagnostic, then a summary line."""
    lines = [str(d) for d in report.diagnostics]
    lines.append(summary(report))
    return "\n".join(lines)


def render_json(report: ValidationReport) -> str:
    return json.dumps({
        "valid": report.ok,
        "summary": {"files": report.files, "valid_agents": report.valid_agents,
                    "errors": len(report.errors), "warnings": len(report.warnings)},
        "diagnostics": [d.to_dict() for d in report.diagnostics],
    }, indent=2)


def summary(report: ValidationReport) -> str:
    """``4 agents valid`` or ``2 errors, 1 warning in 3 files``."""
    warnings = _count(len(report.warnings), "warning")
    if report.ok:
        head = _count(report.valid_agents, "agent") + " valid"
        if report.files == 0:
            head = "no agent files found"
        return f"{head}, {warnings}" if report.warnings else head
    files = len({d.file for d in report.diagnostics})
    parts = [_count(len(report.errors), "error")] + ([warnings] if report.warnings else [])
    return f"{', '.join(parts)} in {_count(files, 'file')}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"

