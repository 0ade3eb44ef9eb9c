"""``operator-iac smoke``: run the declared smoke tests against an environment's agents."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from operator_iac.cli.app import App, pass_app
from operator_iac.cli.ci import append_step_summary
from operator_iac.cli.completion import (
    complete_agent_keys,
    complete_environments,
    complete_smoke_version,
)
from operator_iac.cli.json_report import report_json
from operator_iac.cli.options import format_option
from operator_iac.cli.output import info, result, warn, write_file
from operator_iac.errors import UsageError

if TYPE_CHECKING:
    from operator_iac.services.smoke import Replay
    from operator_iac.smoke.results import SmokeReport


@click.command("smoke")
@click.argument("keys", nargs=-1, metavar="[KEY]...", shell_complete=complete_agent_keys)
@click.option("--env", "env", metavar="NAME", shell_complete=complete_environments,
              help="Environment to test (overrides the global --env).")
@click.option("--version", "version", default="released", show_default=True,
              shell_complete=complete_smoke_version,
              metavar="released|draft|vN", help="Which revision of each agent to test.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write the results as JUnit XML to FILE.")
@format_option("text", "json")
@click.option("--parallelism", type=click.IntRange(1, 64), default=4, show_default=True,
              help="How many test conversations run at once.")
@click.option("--keep-conversations", is_flag=True,
              help="Keep the test conversations instead of deleting them.")
@click.option("--replay", "replay", metavar="CONV_ID",
              help="Drive the user turns of conversation CONV_ID against the revision of KEY "
                   "(one agent) and report how the new run differs.")
@pass_app
def smoke_command(app: App, keys: tuple[str, ...], env: str | None, version: str,
                  junit: Path | None, fmt: str, parallelism: int,
                  keep_conversations: bool, replay: str | None) -> int:
    """Run the smoke tests of the declared agents (all of them, or each KEY).

    Each test is a testmode chat conversation with the exact revision under test; its
    assertions are judged on the conversation's event stream. Each test ends passed, flaky
    (its pass_rule held but not every attempt passed), failed, incomplete (a timeout, or an
    assertion nothing could judge) or error (the platform failed); quarantined tests are
    reported but never change the exit code. The report shows the failing attempt's
    transcript.

    \b
    Exit codes:
      0  every test passed (flaky ones too, with a warning)
      1  the platform failed, or an agent is not deployed: nothing could be concluded
      4  a test failed
      6  a test was incomplete (and none failed)

    \b
    Examples:
      operator-iac smoke --env staging
      operator-iac smoke appointment-booking --version draft
      operator-iac smoke --env staging --junit smoke.xml --format json
      operator-iac smoke support-triage --replay conv_8qm9JBCiTe7 --version draft
    """
    from operator_iac.services.smoke import parse_version, smoke_project

    selector = parse_version(version)  # a usage error before anything is read
    if replay is not None:
        return _replay(app, keys, env, selector, replay, fmt, junit, keep_conversations)
    report = smoke_project(app.target(env), app.client(), keys=keys, version=selector,
                           parallelism=parallelism, keep_conversations=keep_conversations,
                           feedback=app.feedback())
    return show_report(report, fmt, junit)


def _replay(app: App, keys: tuple[str, ...], env: str | None, version: str, conversation: str,
            fmt: str, junit: Path | None, keep_conversations: bool) -> int:
    from operator_iac.services.smoke import replay_conversation

    if len(keys) != 1:
        raise UsageError("--replay needs exactly one KEY: the agent to replay the "
                         "conversation against")
    replayed = replay_conversation(app.target(env), app.client(), keys[0], conversation,
                                   version=version, keep_conversations=keep_conversations,
                                   feedback=app.feedback())
    return show_report(replayed.report, fmt, junit, replayed)


def show_report(report: SmokeReport, fmt: str, junit: Path | None,
                replay: Replay | None = None) -> int:
    """Write the report (stdout, the JUnit file, the CI job summary) and warn about flaky
    tests; the exit code."""
    from operator_iac.render.junit import render_junit
    from operator_iac.render.smoke_json import smoke_json
    from operator_iac.render.smoke_report import (
        render_replay_text,
        render_smoke_markdown,
        render_smoke_text,
    )

    if junit is not None:
        write_file(junit, render_junit(report), "JUnit report")
        info(f"JUnit report written to {junit}")
    replayed = (replay.conversation_id, replay.differences) if replay is not None else None
    if fmt == "json":
        report_json(smoke_json(report, replayed))
    else:
        text = render_smoke_text(report)
        result(text if replayed is None else f"{text}\n{render_replay_text(*replayed)}")
    for line in report.warnings():
        warn(line)
    append_step_summary(render_smoke_markdown(report))
    return report.exit_code()
