"""``operator-iac rollback KEY``: release an earlier revision again, then smoke-test it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from operator_iac.cli import output
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.completion import complete_agent_keys
from operator_iac.cli.json_report import report_json
from operator_iac.cli.options import env_option, format_option, parallelism_option
from operator_iac.cli.reports import confirmer
from operator_iac.errors import UsageError
from operator_iac.render.history import SmokeSummary, rollback_json

if TYPE_CHECKING:
    from operator_iac.plan.rollback import RollbackPlan
    from operator_iac.services.rollback import RollbackRun
    from operator_iac.smoke.gate import SmokeVerdict


@click.command("rollback")
@click.argument("key", required=False, shell_complete=complete_agent_keys)
@env_option
@click.option("--to", "to", metavar="vN", help="The revision to release again (vN or ID@vN).")
@click.option("--steps", type=click.IntRange(min=1), metavar="N",
              help="Go N released revisions back from the current one.  [default: 1]")
@click.option("--all", "everything", is_flag=True,
              help="Every agent of the project (with --to-commit).")
@click.option("--to-commit", metavar="SHA",
              help="With --all: release, for every agent, its revision written from this "
                   "commit (history --all lists them).")
@click.option("--delete-created", is_flag=True,
              help="With --all: delete the agents created after the commit.")
@click.option("--allow-delete", is_flag=True,
              help="Confirm --delete-created in a protected environment.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--no-smoke", is_flag=True, help="Do not run the smoke tests afterwards.")
@click.option("--keep-conversations", is_flag=True,
              help="Keep the smoke tests' conversations on the platform for inspection.")
@format_option("text", "json")
@parallelism_option
@pass_app
def rollback_command(app: App, key: str | None, env: str | None, to: str | None,
                     steps: int | None, everything: bool, to_commit: str | None,
                     yes: bool, fmt: str, **options: Any) -> int:
    """Release an earlier revision of the agent KEY again, or of every agent (--all).

    Shows what changes between the released revision and the chosen one, asks on a terminal
    (without one it needs --yes), releases it, and runs the agent's smoke tests on it. If they
    fail, the command exits 4 and the rollback stays: nothing is released again
    automatically. An agent with no earlier released revision is an error (exit 3).
    --all --to-commit SHA does this for every agent: its newest revision written from that
    commit (or, if the commit did not change it, the one it had then); agents created after
    the commit are listed and left alone unless --delete-created.

    \b
    Examples:
      operator-iac rollback appointment-booking --env production
      operator-iac rollback appointment-booking --env production --to v3 --yes
      operator-iac rollback call-summary --env staging --steps 2 --yes --no-smoke
      operator-iac rollback --all --to-commit 9a1b2c3 --env production
    """
    if everything or to_commit is not None:
        from operator_iac.cli.rollback_all import rollback_all

        return rollback_all(app, key, env, to, steps, to_commit, yes, fmt,
                            {**options, "everything": everything})
    if key is None:
        raise UsageError("name the agent to roll back, or pass --all --to-commit SHA")
    return _rollback_one(app, key, env, to, steps, yes, fmt, **options)


def _rollback_one(app: App, key: str, env: str | None, to: str | None, steps: int | None,
                  yes: bool, fmt: str, *, no_smoke: bool, keep_conversations: bool,
                  parallelism: int, delete_created: bool, allow_delete: bool) -> int:
    from operator_iac.services.rollback import RollbackRequest, rollback_agent

    if delete_created or allow_delete:
        raise UsageError("--delete-created and --allow-delete go with --all --to-commit")
    request = RollbackRequest(key, to, steps, smoke=not no_smoke,
                              keep_conversations=keep_conversations, parallelism=parallelism)
    run = rollback_agent(app.target(env), app.client(), request, feedback=app.feedback(),
                         show_plan=lambda plan: _preview(plan, fmt),
                         confirm=confirmer(yes, "rollback needs --yes when it is not run "
                                           "from a terminal"))
    if run.released is None:
        if fmt == "json":
            report_json(rollback_json(run.plan, released=run.plan.target))
        return 0
    _report(run, fmt)
    return run.exit_code()


def _preview(plan: RollbackPlan, fmt: str) -> None:
    """The change a rollback makes: the result in text, a message beside a JSON result."""
    from operator_iac.render.history import render_rollback_text

    (output.result if fmt == "text" else output.info)(render_rollback_text(plan).rstrip("\n"))


def _report(run: RollbackRun, fmt: str) -> None:
    smoke = run.verdict
    released = run.released or run.plan.target
    smoke_data = SmokeSummary(passed=smoke.passed, summary=smoke.summary) if smoke else None
    if fmt == "json":
        report_json(rollback_json(run.plan, released=released, smoke=smoke_data))
    else:
        output.result(_summary(run.plan, released, smoke))
    if smoke is not None and not smoke.passed:
        _show_failure(smoke)


def _summary(plan: RollbackPlan, released: str, smoke: SmokeVerdict | None) -> str:
    line = f"Rolled back {plan.key}: {released} is released (was {plan.current or 'nothing'})."
    if smoke is None:
        return line + " No smoke tests ran."
    if smoke.passed:
        return line + f" Smoke tests passed ({smoke.summary})."
    return (f"{line}\nSMOKE TESTS FAILED on {released}: {smoke.summary}\nThe rollback stays; "
            f"to go forward again: operator-iac rollback {plan.key} --to {plan.current}")


def _show_failure(smoke: SmokeVerdict) -> None:
    from operator_iac.render.smoke_report import render_smoke_failures
    from operator_iac.smoke.results import SmokeReport

    if isinstance(smoke.report, SmokeReport):
        output.problem(render_smoke_failures(smoke.report).rstrip("\n"))

