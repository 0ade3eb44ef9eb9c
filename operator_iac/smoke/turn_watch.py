"""When has the agent finished a turn? Judged from the conversation's events as they arrive.

A turn is over when the agent's ``agent.message.completed`` ends it. Events arrive in their
canonical form (``operator_iac.api.events``), where ``has_tool_calls`` means "tool calls
follow in this turn":

- ``has_tool_calls`` false: the turn is over;
- true: a message before tool calls; the turn goes on until the reply after them. If no
  tool call follows before the turn's time runs out, the message was the reply after all
  (``tentative``), and the runner ends the turn there instead of reporting a timeout.

A user turn starts when the platform acknowledges the message (``user.message.received``);
a greeting that arrives after the message was sent belongs to turn 0, not to the reply.
Pure: no I/O.
"""

from __future__ import annotations

from operator_iac.api.events import (
    AGENT_MESSAGE_COMPLETED,
    AGENT_MESSAGE_DELTA,
    TOOL_CALL_CREATED,
    USER_MESSAGE_RECEIVED,
    Event,
)


class TurnWatch:
    """Follows one turn: ``turn`` 0 is the greeting, a user turn waits for its message."""

    def __init__(self, turn: int) -> None:
        self.turn = turn
        self._heard = turn == 0
        self.tentative = False  # a flagged message with no tool call after it, so far
        self.spoke = False  # the agent said anything in this turn (a delta is enough)

    def see(self, event: Event) -> bool:
        """Take the next event; True when it ends the turn."""
        if not self._heard:
            self._heard = event.type == USER_MESSAGE_RECEIVED
            return False
        self.spoke = self.spoke or event.type in (AGENT_MESSAGE_DELTA, AGENT_MESSAGE_COMPLETED)
        if event.type == TOOL_CALL_CREATED:
            self.tentative = False
        elif event.type == AGENT_MESSAGE_COMPLETED:
            if event.payload.get("has_tool_calls") is not True:
                return True
            self.tentative = True
        return False
