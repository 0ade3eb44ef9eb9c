"""``transcript`` as a service: one conversation's events, read once or followed live.

The conversation is looked up first, so that a wrong id is a clear 404 before any stream is
opened, and a conversation that has not started yet is said to be waited for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from operator_iac.services.feedback import QUIET, Feedback

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.events import Event
    from operator_iac.smoke.collector import OnEvent


def read_transcript(client: OperatorClient, conversation_id: str, *, follow: bool = False,
                    on_event: OnEvent | None = None, feedback: Feedback = QUIET) -> list[Event]:
    """The conversation's events; with ``follow``, until it ends, each also handed to
    ``on_event`` as it arrives."""
    from operator_iac.api.models import NOT_STARTED_STATUSES
    from operator_iac.smoke.collector import read_events

    conversation = client.conversations.get(conversation_id)
    if follow and conversation.status in NOT_STARTED_STATUSES:
        feedback.info(f"{conversation_id} has not started yet ({conversation.status}); waiting "
                      "for it to start and end (Ctrl-C to stop)")
    events = read_events(client, conversation_id, follow=follow, on_event=on_event)
    return _with_final_status(client, conversation_id, events)


def _with_final_status(client: OperatorClient, conversation_id: str,
                       events: list[Event]) -> list[Event]:
    """Where ``conversation.ended`` carries no status (some platforms send none), the
    conversation's own final status is shown in its place."""
    from operator_iac.api.events import CONVERSATION_ENDED

    ended = next((i for i, e in enumerate(events) if e.type == CONVERSATION_ENDED), None)
    if ended is None or events[ended].payload.get("status"):
        return events
    status = client.conversations.get(conversation_id).status
    if not status:
        return events
    event = events[ended]
    filled = event.model_copy(update={"payload": {**event.payload, "status": status}})
    return [*events[:ended], filled, *events[ended + 1:]]
