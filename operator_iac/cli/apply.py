"""``operator-iac apply``: write drafts, smoke-test them, release them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from operator_iac.cli.app import App, pass_app
from operator_iac.cli.ci import append_step_summary
from operator_iac.cli.options import (
    env_option,
    format_option,
    parallelism_option,
    selection_options,
)
from operator_iac.cli.reports import confirmer, plan_shower, show_apply, show_no_changes

if TYPE_CHECKING:
    from operator_iac.apply.report import ApplyOptions
    from operator_iac.cli.options import Selection


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
@click.option("--no-release", is_flag=True,
              help="Write and check the drafts, release nothing and run no smoke test (test "
                   "the drafts with smoke --version draft, then apply again to release).")
@format_option("text", "json", "markdown")
@parallelism_option
@pass_app
def apply_command(app: App, plan_file: Path | None, env: str | None, yes: bool,
                  selection: Selection, overwrite_draft: bool, no_smoke: bool,
                  no_rollback: bool, keep_conversations: bool, no_release: bool, fmt: str,
                  parallelism: int) -> int:
    """Apply the declarations (or a saved plan) to the platform.

    Each changed agent gets a draft, which is read back, smoke-tested, released and
    smoke-tested again; a failure after release re-releases the previous revision. A saved
    plan is applied only while it still holds (else exit 5). Without a terminal, apply needs
    --yes or a saved plan file.

    \b
    Examples:
      operator-iac apply --env staging --yes
      operator-iac apply plan.json --env staging
      operator-iac --emulator apply --yes
      operator-iac apply --env staging --target call-summary --no-smoke --yes
    """
    # A saved plan is read from its file: only a plan made here reads the platform ahead.
    reading = app.read_ahead(env, parallelism=parallelism, everything=selection.prune,
                             writes=True) if plan_file is None else None
    from operator_iac.render.apply_report import render_apply_markdown
    from operator_iac.services.apply import ApplyRequest, apply_declarations

    request = ApplyRequest(
        plan_file=plan_file, keep_conversations=keep_conversations,
        plan_options=selection.plan_options(overwrite_draft=overwrite_draft),
        options=_options(overwrite_draft, no_smoke, no_rollback, no_release, parallelism))
    confirm = confirmer(yes or plan_file is not None, "apply needs --yes, or a saved plan "
                        "file, when it is not run from a terminal")
    run = apply_declarations(app.target(env), app.client(), request, feedback=app.feedback(),
                             show_plan=plan_shower(app, fmt), confirm=confirm, reading=reading)
    if run.report is None:
        return show_no_changes(run.planned.plan, fmt,
                               "No changes: the platform already matches the declarations.")
    show_apply(report := run.report, fmt)
    append_step_summary(lambda: render_apply_markdown(report))
    return report.exit_code()


def _options(overwrite_draft: bool, no_smoke: bool, no_rollback: bool, no_release: bool,
             parallelism: int) -> ApplyOptions:
    from operator_iac.apply.report import ApplyOptions

    # Drafts left unreleased are tested elsewhere (smoke --version draft), not here.
    return ApplyOptions(overwrite_draft=overwrite_draft, smoke=not (no_smoke or no_release),
                        rollback=not no_rollback, parallelism=parallelism,
                        release=not no_release)
