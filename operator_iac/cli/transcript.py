"""``operator-iac transcript``: show a conversation as a readable transcript."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from operator_iac.cli.app import App, pass_app
from operator_iac.cli.json_report import report_json
from operator_iac.cli.options import env_option, format_option
from operator_iac.cli.output import info, result
from operator_iac.errors import UsageError

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.events import Event


@click.command("transcript")
@click.argument("conversation_id", metavar="CONV_ID")
@env_option
@format_option("text", "json")
@click.option("--follow", "-f", is_flag=True,
              help="Keep streaming a live conversation until it ends.")
@click.option("--to-test", is_flag=True,
              help="Print the conversation as a smoke test to review: the user's turns as the "
                   "script, its tool calls, end status and procedure outputs as assertions.")
@click.option("--name", metavar="NAME", help="The name of the test (with --to-test).")
@click.option("--write", is_flag=True,
              help="With --to-test: append the test to the agent's file instead of printing "
                   "it (the rest of the file is kept as it is).")
@pass_app
def transcript_command(app: App, conversation_id: str, env: str | None, fmt: str,
                       follow: bool, to_test: bool, name: str | None, write: bool) -> int:
    """Print conversation CONV_ID as a transcript: user and agent turns, tool calls with
    their arguments and results, start and end, server errors, with timestamps.

    With --to-test, print it as a smoke test instead (or --write it into the agent's file);
    `operator-iac smoke KEY --replay CONV_ID` runs its user turns again.

    \b
    Examples:
      operator-iac transcript conv_8qm9JBCiTe7 --env staging
      operator-iac transcript conv_8qm9JBCiTe7 --follow
      operator-iac transcript conv_8qm9JBCiTe7 --format json
      operator-iac transcript conv_8qm9JBCiTe7 --to-test --name "refund request"
      operator-iac transcript conv_8qm9JBCiTe7 --to-test --write
    """
    if (name or write) and not to_test:
        raise UsageError("--name and --write go with --to-test")
    if to_test and fmt == "json":
        raise UsageError("--to-test prints a smoke test as YAML: leave out --format json")
    if to_test:
        return _to_test(app, conversation_id, env, name, write)
    from operator_iac.render.transcript import render_transcript, transcript_report
    from operator_iac.services.transcript import read_transcript

    client = app.standalone_client(env)
    if follow and fmt == "text":
        return _follow(app, client, conversation_id)
    events = read_transcript(client, conversation_id, follow=follow, feedback=app.feedback())
    if fmt == "json":
        report_json(transcript_report(events, conversation_id))
    else:
        result(render_transcript(events, conversation_id=conversation_id))
    return 0


def _follow(app: App, client: OperatorClient, conversation_id: str) -> int:
    """Print each event of a live conversation as it arrives."""
    from operator_iac.render.transcript import TranscriptWriter, transcript_header
    from operator_iac.services.transcript import read_transcript

    writer = TranscriptWriter()
    result(transcript_header([], conversation_id))

    def show(event: Event) -> None:
        for line in writer.lines(event):
            result(line)

    read_transcript(client, conversation_id, follow=True, on_event=show, feedback=app.feedback())
    return 0


def _to_test(app: App, conversation_id: str, env: str | None, name: str | None,
             write: bool) -> int:
    from operator_iac.services.transcript import conversation_test, write_conversation_test

    has_project = app.settings.emulator or app.settings.find_project_file() is not None
    target = app.target(env) if write or has_project else None
    client = app.client() if target is not None else app.standalone_client(env)
    made = conversation_test(client, conversation_id, name=name, target=target)
    if not write:
        result(made.text.rstrip("\n"))
        return 0
    assert target is not None
    path = write_conversation_test(target, made)
    info(f"Appended smoke test {made.data['name']!r} to {path}; review its assertions")
    return 0
