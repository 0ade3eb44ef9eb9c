"""``operator-iac promote``: apply to one environment exactly what passed in another."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from operator_iac.cli import output
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.ci import append_step_summary
from operator_iac.cli.completion import complete_agent_keys, complete_environments
from operator_iac.cli.options import format_option, parallelism_option
from operator_iac.cli.reports import confirmer, plan_shower, show_apply, show_no_changes
from operator_iac.errors import UsageError

if TYPE_CHECKING:
    from operator_iac.services.promote import PromoteRequest, PromoteRun


@click.command("promote")
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--from", "source", metavar="ENV", shell_complete=complete_environments,
              help="Environment to promote from (default: the destination's promote_from).")
@click.option("--to", "destination", metavar="ENV", shell_complete=complete_environments,
              help="Environment to promote to (default: the global --env).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Check and save the destination plan as JSON instead of applying it "
                   "(always written, empty when there is nothing to promote); apply it "
                   "later with `operator-iac promote PLAN_FILE`.")
@click.option("--target", "targets", multiple=True, metavar="KEY",
              shell_complete=complete_agent_keys,
              help="Only this agent (repeatable); agents it needs are included.")
@click.option("--exclude", "excludes", multiple=True, metavar="KEY",
              shell_complete=complete_agent_keys,
              help="Leave this agent out (repeatable).")
@click.option("--adopt", is_flag=True,
              help="Take over unmanaged destination agents whose name matches a declaration.")
@click.option("--prune", is_flag=True,
              help="Delete destination agents of this project that the declarations no "
                   "longer declare and the source no longer has.")
@click.option("--allow-delete", is_flag=True,
              help="Confirm deletions in a protected destination (with --prune).")
@click.option("--no-smoke", is_flag=True,
              help="Skip the smoke tests in the destination (the source must still have "
                   "passed its own).")
@click.option("--no-rollback", is_flag=True,
              help="Keep a release whose smoke tests failed instead of rolling it back.")
@format_option("text", "json", "markdown")
@parallelism_option
@pass_app
def promote_command(app: App, plan_file: Path | None, source: str | None,
                    destination: str | None, yes: bool, out: Path | None, no_smoke: bool,
                    no_rollback: bool, fmt: str, parallelism: int, **selection: Any) -> int:
    """Promote the declarations from one environment to another.

    The destination is planned from the declarations (with its own vars and overrides).
    Every agent the plan changes must be released in the source environment exactly as the
    declarations produce it there (the content hashes in the markers are compared), with no
    unreleased draft of operator-iac's on top, and, when it has smoke tests, its last
    recorded smoke run there must have passed. Otherwise nothing is written and the command
    exits 5, listing every agent and reason. Then the plan is applied to the destination with
    the usual gates: confirmation (--yes without a terminal), smoke tests, rollback.
    --prune deletes agents the declarations no longer declare once the source no longer has
    them (apply --prune there first); a protected destination also needs --allow-delete.

    An environment with promote_from in the project file receives changes only this way.
    --api-url moves both environments (each keeps its key); --emulator: one account each.

    \b
    Examples:
      operator-iac promote --from staging --to production
      operator-iac promote --to production --yes
      operator-iac promote --from staging --to production --out promotion.json
      operator-iac promote promotion.json --to production
      operator-iac promote --to production --prune --allow-delete --yes
    """
    from operator_iac.services.promote import promote_environment

    destination = destination or app.settings.env
    if destination is None:
        raise UsageError("name the environment to promote to with --to")
    request = _request(destination, source, plan_file, out, no_smoke, no_rollback,
                       parallelism, **selection)
    run = promote_environment(
        app.project(), request, open_destination=lambda env: (app.target(env), app.client()),
        open_source=app.other_environment, feedback=app.feedback(),
        show_plan=plan_shower(app, fmt),
        confirm=confirmer(yes or plan_file is not None, "promote needs --yes, or a saved "
                          "plan file, when it is not run from a terminal"))
    return _report(run, out, destination, fmt)


def _request(destination: str, source: str | None, plan_file: Path | None, out: Path | None,
             no_smoke: bool, no_rollback: bool, parallelism: int,
             **selection: Any) -> PromoteRequest:
    """The request; ``selection``: the plan options (--target, --exclude, --adopt, --prune,
    --allow-delete)."""
    from operator_iac.apply.report import ApplyOptions
    from operator_iac.plan.options import PlanOptions
    from operator_iac.services.promote import PromoteRequest

    return PromoteRequest(
        destination, source, plan_file, check_only=out is not None,
        plan_options=PlanOptions(**selection),
        options=ApplyOptions(smoke=not no_smoke, rollback=not no_rollback,
                             parallelism=parallelism))


def _report(run: PromoteRun, out: Path | None, destination: str, fmt: str) -> int:
    from operator_iac.render.apply_report import render_apply_markdown

    plan = run.promotion.planned.plan
    if out is not None:
        # Always a file, so that a job applying the saved promotion finds one.
        output.write_file(out, plan.to_json(), "plan")
        nothing = "" if plan.has_changes else " (nothing to promote)"
        output.info(f"Saved the plan{nothing} to {out}; apply it with: operator-iac promote "
                    f"{out} --to {destination}")
        return 0
    if run.report is None and not plan.has_changes:
        return show_no_changes(plan, fmt, f"No changes: {destination} already holds the "
                               "declarations.")
    assert run.report is not None, "a promotion with changes is applied or saved"
    show_apply(report := run.report, fmt)
    append_step_summary(lambda: f"Promotion from {run.source} to {destination}\n\n"
                        + render_apply_markdown(report))
    return run.report.exit_code()
