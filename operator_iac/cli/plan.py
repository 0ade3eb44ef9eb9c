"""``operator-iac plan``: show what apply would change, for review."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from operator_iac.cli import output
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.ci import append_step_summary
from operator_iac.cli.json_report import report_json
from operator_iac.cli.options import (
    env_option,
    format_option,
    parallelism_option,
    selection_options,
)

if TYPE_CHECKING:
    from operator_iac.cli.options import Selection
    from operator_iac.plan.model import Plan

CHANGES_PENDING_EXIT_CODE = 2


@click.command("plan")
@env_option
@format_option("text", "json", "markdown")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Save the plan as JSON for a later `operator-iac apply PLAN_FILE`.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when there are changes, 0 when there are none.")
@selection_options
@click.option("--overwrite-draft", is_flag=True,
              help="Record that apply may replace drafts operator-iac did not write.")
@parallelism_option
@pass_app
def plan_command(app: App, env: str | None, fmt: str, out: Path | None, detailed_exitcode: bool,
                 selection: Selection, overwrite_draft: bool, parallelism: int) -> int:
    """Compare the declarations with the platform and show the changes.

    Nothing is written to the platform. The plan lists, per agent, the action (create,
    update, release, adopt, delete) and the field changes, flags risky changes and edits made
    outside operator-iac, and can be saved with --out to apply exactly that later.

    \b
    Examples:
      operator-iac plan --env staging
      operator-iac plan --env staging --format markdown > plan.md
      operator-iac plan --env staging --out plan.json --detailed-exitcode
      operator-iac plan --env staging --target appointment-booking
    """
    reading = app.read_ahead(env, parallelism=parallelism, everything=selection.prune)
    from operator_iac.render.plan_json import plan_json
    from operator_iac.services.plan import make_plan

    options = selection.plan_options(overwrite_draft=overwrite_draft)
    plan = make_plan(app.target(env), app.client(), options=options, parallelism=parallelism,
                     feedback=app.feedback(), reading=reading).plan
    if fmt == "json":
        report_json(plan_json(plan))
    else:
        output.result(_render(app, plan, fmt))
    append_step_summary(lambda: _markdown(plan))
    if out is not None:
        output.write_file(out, plan.to_json(), "plan file")
        output.info(f"Saved the plan to {out}; apply it with: operator-iac apply {out}")
    return CHANGES_PENDING_EXIT_CODE if detailed_exitcode and plan.has_changes else 0


def _markdown(plan: Plan) -> str:
    """The plan as Markdown, its renderer loaded only when a summary or the format asks."""
    from operator_iac.render.plan_markdown import render_plan_markdown

    return render_plan_markdown(plan)


def _render(app: App, plan: Plan, fmt: str) -> str:
    from operator_iac.render.plan_text import render_plan_text

    if fmt == "markdown":
        return _markdown(plan).rstrip("\n")
    color = output.colour_enabled(app.settings.no_color)
    return render_plan_text(plan, color=color).rstrip("\n")
