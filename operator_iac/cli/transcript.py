"""``operator-iac transcript``: show a conversation as a readable transcript."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from operator_iac.cli.app import App, pass_app
from operator_iac.cli.options import env_option
from operator_iac.cli.output import result

if TYPE_CHECKING:
    from operator_iac.api.events import Event


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
    from operator_iac.render.transcript import (
        TranscriptWriter,
        render_transcript,
        render_transcript_json,
        transcript_header,
    )
    from operator_iac.services.transcript import read_transcript

    client = app.standalone_client(env)
    if follow and fmt == "text":
        writer = TranscriptWriter()
        result(transcript_header([], conversation_id))

        def show(event: Event) -> None:
            for line in writer.lines(event):
                result(line)

        read_transcript(client, conversation_id, follow=True, on_event=show,
                        feedback=app.feedback())
        return 0
    events = read_transcript(client, conversation_id, follow=follow, feedback=app.feedback())
    if fmt == "json":
        result(render_transcript_json(events, conversation_id))
    else:
        result(render_transcript(events, conversation_id=conversation_id))
    return 0
