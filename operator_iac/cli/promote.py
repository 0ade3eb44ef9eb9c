"""``operator-iac promote``: apply to one environment exactly what passed in another."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from operator_iac.cli import output
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.ci import append_step_summary
from operator_iac.cli.options import format_option, parallelism_option
from operator_iac.cli.progress import activity
from operator_iac.errors import UsageError

if TYPE_CHECKING:
    from operator_iac.plan.model import PlanOptions
    from operator_iac.promote import Promotion


@click.command("promote")
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--from", "source", metavar="ENV",
              help="Environment to promote from (default: the destination's promote_from).")
@click.option("--to", "destination", metavar="ENV",
              help="Environment to promote to (default: the global --env).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Check and save the destination plan as JSON instead of applying it; "
                   "apply it later with `operator-iac promote PLAN_FILE`.")
@click.option("--target", "targets", multiple=True, metavar="KEY",
              help="Only this agent (repeatable); agents it needs are included.")
@click.option("--exclude", "excludes", multiple=True, metavar="KEY",
              help="Leave this agent out (repeatable).")
@click.option("--adopt", is_flag=True,
              help="Take over unmanaged destination agents whose name matches a declaration.")
@click.option("--no-smoke", is_flag=True,
              help="Skip the smoke tests in the destination (the source must still have "
                   "passed its own).")
@click.option("--no-rollback", is_flag=True,
              help="Keep a release whose smoke tests failed instead of rolling it back.")
@format_option("text", "json", "markdown")
@parallelism_option
@pass_app
def promote_command(app: App, plan_file: Path | None, source: str | None,
                    destination: str | None, yes: bool, out: Path | None,
                    targets: tuple[str, ...], excludes: tuple[str, ...], adopt: bool,
                    no_smoke: bool, no_rollback: bool, fmt: str, parallelism: int) -> int:
    """Promote the declarations from one environment to another.

    The destination is planned from the declarations (with its own vars and overrides).
    Every agent the plan changes must be released in the source environment exactly as the
    declarations produce it there (the content hashes in the markers are compared), with no
    unreleased draft of operator-iac's on top, and, when it has smoke tests, its last
    recorded smoke run there must have passed. Otherwise nothing is written and the command
    exits 5, listing every agent and reason. Then the plan is applied to the destination with
    the usual gates: confirmation (--yes without a terminal), smoke tests, rollback.

    An environment with promote_from in the project file receives changes only this way.
    --api-url applies to the destination; the source uses its api_url from the project file.

    \b
    Examples:
      operator-iac promote --from staging --to production
      operator-iac promote --to production --yes
      operator-iac promote --from staging --to production --out promotion.json
      operator-iac promote promotion.json --to production
    """
    from operator_iac.plan.model import PlanOptions
    from operator_iac.promote import promotion_route

    destination = destination or app.settings.env
    if destination is None:
        raise UsageError("name the environment to promote to with --to")
    if out is not None and plan_file is not None:
        raise UsageError("--out saves a new plan; it cannot be combined with PLAN_FILE")
    if plan_file is not None and (targets or excludes or adopt):
        raise UsageError("a saved plan is applied exactly as it was made: give --target, "
                         "--exclude and --adopt to `promote --out`")
    source = promotion_route(app.project(), source, destination)
    app.promoting = True
    options = PlanOptions(adopt=adopt, targets=targets, excludes=excludes)
    promotion = _check(app, plan_file, source, destination, options, no_smoke, parallelism)
    plan = promotion.planned.plan
    if fmt == "text":
        from operator_iac.render.plan_text import render_plan_text

        color = output.colour_enabled(app.settings.no_color)
        output.result(render_plan_text(plan, color=color).rstrip("\n"))
    if not plan.has_changes:
        output.info(f"No changes: {destination} already holds the declarations.")
        return 0
    output.info(f"Checked in {source}:")
    output.info("\n".join(promotion.check.lines()))
    promotion.check.raise_if_refused()
    if out is not None:
        output.write_file(out, plan.to_json(), "plan")
        output.info(f"Saved the plan to {out}; apply it with: operator-iac promote {out} "
                    f"--to {destination}")
        return 0
    if not (yes or plan_file is not None):
        output.confirm(f"Promote these changes from {source} to {destination}?",
                       "promote needs --yes, or a saved plan file, when it is not run from a "
                       "terminal")
    return _apply(app, promotion, no_smoke, no_rollback, fmt, parallelism)


def _check(app: App, plan_file: Path | None, source: str, destination: str,
           options: PlanOptions, no_smoke: bool, parallelism: int) -> Promotion:
    from operator_iac.promote import check_saved_promotion, plan_promotion
    from operator_iac.workflow import load_saved_plan

    target = app.target(destination)
    client = app.client()
    source_target, source_client = app.other_environment(source)
    if plan_file is not None:
        planned = load_saved_plan(plan_file, target, smoke=not no_smoke)
        return check_saved_promotion(planned, source_target, source_client,
                                     parallelism=parallelism)
    with activity() as say:
        say(f"Reading agents from {target.api_url} ({destination}) and "
            f"{source_target.api_url} ({source}) ...")
        return plan_promotion(target, client, source_target, source_client, options=options,
                              parallelism=parallelism, smoke=not no_smoke)


def _apply(app: App, promotion: Promotion, no_smoke: bool, no_rollback: bool, fmt: str,
           parallelism: int) -> int:
    from operator_iac.apply import ApplyOptions
    from operator_iac.promote import promote
    from operator_iac.render.apply_report import (
        render_apply_json,
        render_apply_markdown,
        render_apply_text,
    )

    gate = None if no_smoke else app.smoke_gate(promotion.planned.desired,
                                                parallelism=parallelism)
    report = promote(promotion, app.client(),
                     options=ApplyOptions(smoke=not no_smoke, rollback=not no_rollback,
                                          parallelism=parallelism),
                     smoke_gate=gate, progress=output.info)
    rendered = {"json": render_apply_json, "markdown": render_apply_markdown,
                "text": render_apply_text}[fmt](report)
    output.result(rendered.rstrip("\n"))
    check = promotion.check
    append_step_summary(f"Promotion from {check.source} to {check.destination}\n\n"
                        + render_apply_markdown(report))
    return report.exit_code()
