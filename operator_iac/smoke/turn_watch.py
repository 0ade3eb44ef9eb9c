"""When has the agent finished a turn? Judged from the chat session's events as they arrive.

A turn is over when the agent's ``agent.message.completed`` ends it. ``has_tool_calls`` is not
documented precisely, and platforms use it in two ways: true on a message that *precedes* tool
calls (more is coming), or true on the reply that *used* tools (nothing more is coming). Both
are read correctly by looking at what came before the message:

- ``has_tool_calls`` false or absent: the turn is over;
- true after this turn's tool calls all returned: the reply that used them, the turn is over;
- true with no tool call yet: a message before tool calls; the turn goes on. If no tool call
  follows before the turn's time runs out, the message was the reply after all
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
    TOOL_CALL_RETURNED,
    USER_MESSAGE_RECEIVED,
    Event,
)


class TurnWatch:
    """Follows one turn: ``turn`` 0 is the greeting, a user turn waits for its message."""

    def __init__(self, turn: int) -> None:
        self.turn = turn
        self._heard = turn == 0
        self._open_calls: set[str] = set()
        self._calls = 0
        self.tentative = False  # a flagged message with no tool call after it, so far
        self.spoke = False  # the agent said anything in this turn (a delta is enough)

    def see(self, event: Event) -> bool:
        """Take the next event; True when it ends the turn."""
        if not self._heard:
            self._heard = event.type == USER_MESSAGE_RECEIVED
            return False
        self.spoke = self.spoke or event.type in (AGENT_MESSAGE_DELTA, AGENT_MESSAGE_COMPLETED)
        if event.type == TOOL_CALL_CREATED:
            self._calls += 1
            self.tentative = False
            call_id = event.payload.get("call_id")
            if isinstance(call_id, str):
                self._open_calls.add(call_id)
        elif event.type == TOOL_CALL_RETURNED:
            self._open_calls.discard(str(event.payload.get("call_id")))
        elif event.type == AGENT_MESSAGE_COMPLETED:
            return self._completed(event)
        return False

    def _completed(self, event: Event) -> bool:
        if event.payload.get("has_tool_calls") is not True:
            return True
        if self._calls and not self._open_calls:
            return True  # the reply that used this turn's tools
        self.tentative = self._calls == 0
        return False
