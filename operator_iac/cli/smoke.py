"""``operator-iac smoke``: run the declared smoke tests against an environment's agents."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import click

from operator_iac.cli.app import App, pass_app
from operator_iac.cli.ci import append_step_summary
from operator_iac.cli.completion import (
    complete_agent_keys,
    complete_environments,
    complete_smoke_version,
)
from operator_iac.cli.json_report import report_json
from operator_iac.cli.options import format_option, parallelism_option
from operator_iac.cli.output import info, result, warn, write_file
from operator_iac.errors import UsageError

if TYPE_CHECKING:
    from operator_iac.services.smoke import Replay
    from operator_iac.smoke.results import SmokeReport
    from operator_iac.smoke.shard import Shard


@click.command("smoke")
@click.argument("keys", nargs=-1, metavar="[KEY]...", shell_complete=complete_agent_keys)
@click.option("--env", "env", metavar="NAME", shell_complete=complete_environments,
              help="Environment to test (overrides the global --env).")
@click.option("--version", "version", default="released", show_default=True,
              shell_complete=complete_smoke_version,
              metavar="released|draft|vN", help="Which revision of each agent to test.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write the results as JUnit XML to FILE.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Also write the report as JSON to FILE (what --merge reads).")
@format_option("text", "json", "markdown")
@parallelism_option(help="How many test conversations run at once (at most the "
                         "environment's max_concurrent_conversations).")
@click.option("--keep-conversations", is_flag=True,
              help="Keep the test conversations instead of deleting them.")
@click.option("--replay", "replay", metavar="CONV_ID",
              help="Drive the user turns of conversation CONV_ID against the revision of KEY "
                   "(one agent) and report how the new run differs.")
@click.option("--compare", "compare", metavar="released|vN",
              help="Compare every test with this revision: conversations on both, "
                   "interleaved, until a statistical test says regressed, no regression, "
                   "improved or inconclusive.")
@click.option("--max-conversations", type=click.IntRange(2), metavar="N",
              help="At most N conversations per compared test (both revisions together).")
@click.option("--shard", "shard", metavar="K/N",
              help="Run only shard K of N of the conversations (one CI job of N); merge the "
                   "JSON reports of all N with --merge.")
@click.option("--merge", "merge", multiple=True, metavar="REPORT",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Merge the JSON reports of every shard of a run into one report and "
                   "verdict (repeat for each report); runs no conversation.")
@pass_app
def smoke_command(app: App, keys: tuple[str, ...], env: str | None, version: str,
                  junit: Path | None, json_file: Path | None, fmt: str, parallelism: int,
                  keep_conversations: bool, replay: str | None, compare: str | None,
                  max_conversations: int | None, shard: str | None,
                  merge: tuple[Path, ...]) -> int:
    """Run the smoke tests of the declared agents (all of them, or each KEY).

    Each test is a testmode chat conversation with the exact revision under test, judged on
    its event stream: passed, flaky (its pass_rule held, not every attempt passed), failed,
    incomplete (a timeout, an assertion nothing could judge) or error (the platform failed);
    quarantined tests never change the exit code. A compared test (--compare, compare:
    released, a gate) runs beside the compared revision: regressed, no regression, improved
    or inconclusive. Failing attempts come with their transcript.

    \b
    Exit codes:
      0  every test passed (flaky ones too, with a warning); a shard's run always
      1  the platform failed, or an agent is not deployed: nothing could be concluded
      4  a test failed, or a compared test regressed
      6  a test was incomplete or inconclusive (and none failed)

    \b
    Examples:
      operator-iac smoke --env staging --junit smoke.xml --format json
      operator-iac smoke support-triage --replay conv_8qm9JBCiTe7 --version draft
      operator-iac smoke --version draft --compare released --shard 2/4 --format json
      operator-iac smoke --merge shard-1.json --merge shard-2.json --junit smoke.xml
    """
    from operator_iac.services.smoke import Comparing, parse_version, smoke_project

    if merge:
        return _merge(merge, fmt, Files(junit, json_file))
    selector, files = parse_version(version), Files(junit, json_file)  # usage errors first
    if replay is not None:
        return _replay(app, keys, env, selector, replay, fmt, files, keep_conversations)
    report = smoke_project(app.target(env), app.client(), keys=keys, version=selector,
                           parallelism=parallelism, keep_conversations=keep_conversations,
                           feedback=app.feedback(),
                           comparing=Comparing(compare, max_conversations, _shard(shard)))
    return show_report(report, fmt, files)


class Files(NamedTuple):
    """The report files asked for besides stdout."""

    junit: Path | None = None
    json: Path | None = None


def _shard(text: str | None) -> Shard | None:
    from operator_iac.smoke.shard import Shard

    return Shard.parse(text) if text is not None else None


def _merge(paths: tuple[Path, ...], fmt: str, files: Files) -> int:
    from operator_iac.services.smoke import merge_smoke_reports

    report = merge_smoke_reports(paths)
    info(f"merged {len(paths)} shard report(s)")
    return show_report(report, fmt, files)


def _replay(app: App, keys: tuple[str, ...], env: str | None, version: str, conversation: str,
            fmt: str, files: Files, keep_conversations: bool) -> int:
    from operator_iac.services.smoke import replay_conversation

    if len(keys) != 1:
        raise UsageError("--replay needs exactly one KEY: the agent to replay the "
                         "conversation against")
    replayed = replay_conversation(app.target(env), app.client(), keys[0], conversation,
                                   version=version, keep_conversations=keep_conversations,
                                   feedback=app.feedback())
    return show_report(replayed.report, fmt, files, replayed)


def show_report(report: SmokeReport, fmt: str, files: Files | None = None,
                replay: Replay | None = None) -> int:
    """Write the report (stdout, the JUnit and JSON files, the CI job summary) and warn
    about flaky tests; the exit code."""
    from operator_iac.render.junit import render_junit
    from operator_iac.render.smoke_json import smoke_json
    from operator_iac.render.smoke_report import (
        render_replay_text,
        render_smoke_json,
        render_smoke_markdown,
        render_smoke_text,
    )

    junit, json_file = files or Files()
    if junit is not None:
        write_file(junit, render_junit(report), "JUnit report")
        info(f"JUnit report written to {junit}")
    replayed = (replay.conversation_id, replay.differences) if replay is not None else None
    if json_file is not None:
        write_file(json_file, render_smoke_json(report, replayed), "JSON report")
        info(f"JSON report written to {json_file}")
    if fmt == "json":
        report_json(smoke_json(report, replayed))
    elif fmt == "markdown":
        result(render_smoke_markdown(report))
    else:
        text = render_smoke_text(report)
        result(text if replayed is None else f"{text}\n{render_replay_text(*replayed)}")
    for line in report.warnings():
        warn(line)
    append_step_summary(lambda: render_smoke_markdown(report))
    return report.exit_code()
