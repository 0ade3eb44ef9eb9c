"""``operator-iac apply``: write drafts, smoke-test them, release them."""

from __future__ import annotations

from pathlib import Path

import click

from operator_iac.cli import output
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.ci import append_step_summary
from operator_iac.cli.options import (
    env_option,
    format_option,
    parallelism_option,
    selection_options,
)
from operator_iac.cli.progress import activity
from operator_iac.errors import UsageError


@click.command("apply")
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@env_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@selection_options
@click.option("--overwrite-draft", is_flag=True,
              help="Replace unreleased drafts that operator-iac did not write.")
@click.option("--no-smoke", is_flag=True, help="Skip the smoke tests.")
@click.option("--no-rollback", is_flag=True,
              help="Keep a release whose smoke tests failed instead of rolling it back.")
@click.option("--keep-conversations", is_flag=True,
              help="Keep the smoke tests' conversations on the platform for inspection.")
@format_option("text", "json", "markdown")
@parallelism_option
@pass_app
def apply_command(app: App, plan_file: Path | None, env: str | None, yes: bool,
                  targets: tuple[str, ...], excludes: tuple[str, ...], prune: bool, adopt: bool,
                  allow_delete: bool, overwrite_draft: bool, no_smoke: bool, no_rollback: bool,
                  keep_conversations: bool, fmt: str, parallelism: int) -> int:
    """Apply the declarations (or a saved plan) to the platform.

    Each changed agent gets a draft, which is read back, smoke-tested, released and
    smoke-tested again; a failure after release re-releases the previous revision. Without a
    terminal, apply needs --yes or a saved plan file.

    \b
    Examples:
      operator-iac apply --env staging --yes
      operator-iac apply plan.json --env staging
      operator-iac --emulator apply --yes
      operator-iac apply --env staging --target call-summary --no-smoke --yes
    """
    from operator_iac.apply import ApplyOptions
    from operator_iac.plan.model import PlanOptions
    from operator_iac.render.apply_report import (
        render_apply_json,
        render_apply_markdown,
        render_apply_text,
    )
    from operator_iac.render.plan_text import render_plan_text
    from operator_iac.workflow import apply, load_saved_plan, make_plan

    target = app.target(env)
    environment = target.environment
    if environment is not None and environment.promote_from and not app.promoting:
        raise UsageError(
            f"environment {target.env_name!r} only receives promotions: run "
            f"operator-iac promote --from {environment.promote_from} --to {target.env_name}")
    client = app.client()
    if plan_file is not None:
        if targets or excludes or prune or adopt or allow_delete:
            raise UsageError("a saved plan is applied exactly as it was made: give --target, "
                             "--exclude, --prune, --adopt and --allow-delete to `plan`")
        planned = load_saved_plan(plan_file, target, smoke=not no_smoke)
        overwrite_draft = overwrite_draft or planned.plan.options.overwrite_draft
    else:
        options = PlanOptions(adopt=adopt, prune=prune, allow_delete=allow_delete,
                              overwrite_draft=overwrite_draft, targets=targets,
                              excludes=excludes)
        with activity() as say:
            say(f"Reading agents from {target.api_url} ...")
            planned = make_plan(target, client, options=options, parallelism=parallelism,
                                smoke=not no_smoke)
    plan = planned.plan
    if fmt == "text":
        color = output.colour_enabled(app.settings.no_color)
        output.result(render_plan_text(plan, color=color).rstrip("\n"))
    if not plan.has_changes:
        output.info("No changes: the platform already matches the declarations.")
        return 0
    if not (yes or plan_file is not None):
        output.confirm("Apply these changes?", "apply needs --yes, or a saved plan file, when "
                       "it is not run from a terminal")
    gate = None if no_smoke else app.smoke_gate(planned.desired, parallelism=parallelism,
                                                keep_conversations=keep_conversations)
    report = apply(planned, client,
                   options=ApplyOptions(overwrite_draft=overwrite_draft, smoke=not no_smoke,
                                        rollback=not no_rollback, parallelism=parallelism),
                   smoke_gate=gate, progress=output.info)
    rendered = {"json": render_apply_json, "markdown": render_apply_markdown,
                "text": render_apply_text}[fmt](report)
    output.result(rendered.rstrip("\n"))
    append_step_summary(render_apply_markdown(report))
    return report.exit_code()

