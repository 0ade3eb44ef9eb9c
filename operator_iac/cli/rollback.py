"""``operator-iac rollback KEY``: release an earlier revision again, then smoke-test it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import click

from operator_iac.cli import output
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.options import env_option, format_option, parallelism_option
from operator_iac.cli.progress import activity
from operator_iac.errors import SmokeTestFailedError, UsageError

if TYPE_CHECKING:
    from operator_iac.apply import SmokeVerdict
    from operator_iac.rollback import RollbackPlan

PLACEHOLDER = "(not needed for a rollback)"


@click.command("rollback")
@click.argument("key")
@env_option
@click.option("--to", "to", metavar="vN", help="The revision to release again (vN or ID@vN).")
@click.option("--steps", type=click.IntRange(min=1), metavar="N",
              help="Go N released revisions back from the current one.  [default: 1]")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--no-smoke", is_flag=True, help="Do not run the smoke tests afterwards.")
@click.option("--keep-conversations", is_flag=True,
              help="Keep the smoke tests' conversations on the platform for inspection.")
@format_option("text", "json")
@parallelism_option
@pass_app
def rollback_command(app: App, key: str, env: str | None, to: str | None, steps: int | None,
                     yes: bool, no_smoke: bool, keep_conversations: bool, fmt: str,
                     parallelism: int) -> int:
    """Release an earlier revision of the agent KEY again.

    Shows what changes between the released revision and the chosen one, asks on a terminal
    (without one it needs --yes), releases it, and runs the agent's smoke tests on it. If they
    fail, the command exits 4 and the rollback stays: nothing is released again
    automatically. An agent with no earlier released revision is an error (exit 3).

    \b
    Examples:
      operator-iac rollback appointment-booking --env production
      operator-iac rollback appointment-booking --env production --to v3 --yes
      operator-iac rollback call-summary --env staging --steps 2 --yes --no-smoke
    """
    from operator_iac.render.history import render_rollback_text, rollback_data
    from operator_iac.rollback import choose_revision, execute_rollback, load_agent, plan_rollback
    from operator_iac.state.fetch import read_revision

    if to is not None and steps is not None:
        raise UsageError("--to and --steps exclude each other")
    target = app.target(env)
    client = app.client()
    project = target.project.name
    with activity() as say:
        say(f"Reading agents from {target.api_url} ...")
        loaded = load_agent(client, project, key, parallelism=parallelism)
    version = choose_revision(loaded.agent, key, to=to, steps=steps or 1)
    desired = target.desired(_SecretsNotNeeded(os.environ))
    revision = read_revision(client, loaded.agent.kind, version.version_id, version.status)
    plan = plan_rollback(loaded, revision, desired.get(key), project=project)
    preview = render_rollback_text(plan).rstrip("\n")
    (output.result if fmt == "text" else output.info)(preview)
    if plan.already_released:
        if fmt == "json":
            output.result(_json(rollback_data(plan, released=plan.target)))
        return 0
    if not yes:
        output.confirm(f"Release {plan.target} again?",
                       "rollback needs --yes when it is not run from a terminal")
    released = execute_rollback(client, plan)
    output.info(f"{key}: released {released} again")
    verdict = None
    if not no_smoke:
        from operator_iac.rollback import smoke_after_rollback

        gate = app.smoke_gate(desired, parallelism=parallelism,
                              keep_conversations=keep_conversations)
        verdict = smoke_after_rollback(gate, plan, desired.get(key), loaded.ids)
    return _report(plan, released, verdict, fmt)


def _report(plan: RollbackPlan, released: str, smoke: SmokeVerdict | None, fmt: str) -> int:
    from operator_iac.render.history import rollback_data

    smoke_data = {"passed": smoke.passed, "summary": smoke.summary} if smoke else None
    if fmt == "json":
        output.result(_json(rollback_data(plan, released=released, smoke=smoke_data)))
    else:
        output.result(_summary(plan, released, smoke))
    if smoke is None or smoke.passed:
        return 0
    _show_failure(smoke)
    return 1 if smoke.platform_error else SmokeTestFailedError.exit_code


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
        output.info(render_smoke_failures(smoke.report).rstrip("\n"))


def _json(data: object) -> str:
    return json.dumps(data, indent=2)


class _SecretsNotNeeded(Mapping[str, str]):
    """The process environment, where an unset variable reads as a placeholder: a rollback
    needs the declarations for their smoke tests and for where secrets sit (to hide them in
    the diff), never for secret values, and must not fail for want of one."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def __getitem__(self, name: str) -> str:
        return self._environ.get(name, PLACEHOLDER)

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)

