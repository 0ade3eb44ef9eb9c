"""``operator-iac transcript``: show a conversation as a readable transcript."""

from __future__ import annotations

import click

from operator_iac.api.events import Event
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.options import env_option
from operator_iac.cli.output import info, result


@click.command("transcript")
@click.argument("conversation_id", metavar="CONV_ID")
@env_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--follow", "-f", is_flag=True,
              help="Keep streaming a live conversation until it ends.")
@pass_app
def transcript_command(app: App, conversation_id: str, env: str | None, fmt: str,
                       follow: bool) -> int:
    """Print conversation CONV_ID as a transcript: user and agent turns, tool calls with
    their arguments and results, start and end, server errors, with timestamps.

    \b
    Examples:
      operator-iac transcript conv_8qm9JBCiTe7 --env staging
      operator-iac transcript conv_8qm9JBCiTe7 --follow
      operator-iac transcript conv_8qm9JBCiTe7 --format json
    """
    from operator_iac.api.models import NOT_STARTED_STATUSES
    from operator_iac.render.transcript import (
        TranscriptWriter,
        render_transcript,
        render_transcript_json,
        transcript_header,
    )
    from operator_iac.smoke.collector import read_events

    client = app.standalone_client(env)
    conversation = client.conversations.get(conversation_id)  # a clear 404 before streaming
    if follow and conversation.status in NOT_STARTED_STATUSES:
        info(f"{conversation_id} has not started yet ({conversation.status}); waiting for it "
             "to start and end (Ctrl-C to stop)")
    if follow and fmt == "text":
        writer = TranscriptWriter()
        result(transcript_header([], conversation_id))

        def show(event: Event) -> None:
            for line in writer.lines(event):
                result(line)

        read_events(client, conversation_id, follow=True, on_event=show)
        return 0
    events = read_events(client, conversation_id, follow=follow)
    if fmt == "json":
        result(render_transcript_json(events, conversation_id))
    else:
        result(render_transcript(events, conversation_id=conversation_id))
    return 0
