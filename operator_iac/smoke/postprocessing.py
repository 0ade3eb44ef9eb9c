"""Waiting for the post-processing a ``procedure`` assertion judges, and the one rule of who
starts it: the platform, or operator-iac.

A conversational agent's revision names the procedural agents the platform runs after each of
its conversations ends (``postprocess_agents``). Some platforms do not run them for testmode
conversations, and a client may then start them itself (``POST /procedures``). But a run may
post to Slack or a webhook, and a platform that does post-process may only be slow (a queue):
a run started because none had appeared *yet* would then run twice. So operator-iac starts a
run only where it knows the platform will not start one:

- the procedural agent is not among the ``postprocess_agents`` of the revision the
  conversation was held with (the platform runs those only): read from the platform, once;
- the environment declares ``testmode_postprocessing: false``, a fact of the platform (which
  ``doctor --write-check`` observes).

Everywhere else it waits for the platform's run, for as long as the test allows. A run the
platform started by itself teaches the rest of the command that it post-processes testmode
conversations (``Habits``), so no later run of the command starts one, whatever was declared.
A wait that ends without a run says what would decide.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from operator_iac.api.models import Procedure, agent_id_of
from operator_iac.errors import OperatorIacError
from operator_iac.smoke.procedure_check import is_final, procedures_of

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.spec.desired import DesiredAgent

log = logging.getLogger(__name__)

UNDECIDED_NOTE = (
    "operator-iac did not start {agent} itself: the platform may only be slow to post-process, "
    "and a run may post to Slack or a webhook, so it would run twice; where this platform "
    "never post-processes testmode conversations, declare `testmode_postprocessing: false` on "
    "the environment (`operator-iac doctor --write-check` observes it), and operator-iac "
    "starts the run at once")


class Habits:
    """What is known about the platform's post-processing of testmode conversations, shared
    by the runs of a suite and the suites of one command: declared by the environment, or
    learnt from a run the platform started by itself."""

    def __init__(self, testmode_postprocessing: bool | None = None) -> None:
        self.testmode_postprocessing = testmode_postprocessing
        """True: the platform post-processes testmode conversations (never start a run it
        would start); False: it never does (start at once); None: not known (wait)."""

    @classmethod
    def declared(cls, desired: Mapping[str, DesiredAgent]) -> Habits:
        """What the environment of ``desired`` declares (``testmode_postprocessing``)."""
        told = {a.testmode_postprocessing for a in desired.values()} - {None}
        return cls(told.pop() if len(told) == 1 else None)

    def learn_platform_runs(self, agent: str) -> None:
        if self.testmode_postprocessing is not True:
            log.info("the platform post-processed a testmode conversation by itself (%s): no "
                     "run it would start is started by operator-iac", agent)
        self.testmode_postprocessing = True


@dataclass
class ProcedureWait:
    """One conversation's wait for the runs of the procedural agents its test judges."""

    client: OperatorClient
    conversation_id: str
    version_id: str
    """The revision the conversation was held with (``ca_x@vN``; bare: the released one)."""
    agent_ids: Mapping[str, str]
    """Procedural agent key -> platform id."""
    habits: Habits
    notes: list[str]
    started: set[str] = field(default_factory=set)
    """The agents whose run this wait started."""
    _post_processed: frozenset[str] | None = None

    def await_runs(self, agents: Sequence[str], remaining: Callable[[], float],
                   poll_interval_s: float,
                   sleep: Callable[[float], None] = time.sleep) -> tuple[list[Procedure], bool]:
        """Poll until every agent's newest run is final: (the conversation's procedures,
        whether the wait ran out first)."""
        while True:
            procedures = list(self.client.procedures.list_for_conversation(self.conversation_id))
            runs = {a: procedures_of(a, self.agent_ids.get(a), procedures) for a in agents}
            for agent, ran in runs.items():
                if ran and agent not in self.started:
                    self.habits.learn_platform_runs(agent)
            if all(ran and is_final(ran[-1]) for ran in runs.values()):
                return procedures, False
            self._start_what_the_platform_will_not(
                [a for a, ran in runs.items() if not ran and a not in self.started])
            if remaining() <= poll_interval_s:
                self._say_why_none_ran([a for a, ran in runs.items()
                                        if not ran and a not in self.started])
                return procedures, True
            sleep(poll_interval_s)

    def _start_what_the_platform_will_not(self, missing: list[str]) -> None:
        for agent in missing:
            agent_id = self.agent_ids.get(agent) or agent
            if agent_id.startswith("pa_") and self.platform_will_not_run(agent_id):
                self._start(agent, agent_id)

    def platform_will_not_run(self, agent_id: str) -> bool:
        """Whether it is known that the platform will not run ``agent_id`` on this
        conversation (the module's rule)."""
        if self.habits.testmode_postprocessing is False:
            return True
        post_processed = self._post_processed_by_revision()
        return post_processed is not None and agent_id_of(agent_id) not in post_processed

    def _post_processed_by_revision(self) -> frozenset[str] | None:
        """The procedural agents the conversation's revision names (bare ids), read once;
        None when it cannot be read (then nothing is known, and nothing is started)."""
        if self._post_processed is None:
            try:
                held = self.version_id
                if "@" not in held:  # the released revision then: the conversation names it
                    held = self.client.conversations.get(self.conversation_id).agent_id or held
                revision = self.client.conversational_agents.get(held)
            except OperatorIacError as exc:
                log.info("the revision %s could not be read to learn what it post-processes "
                         "with: %s", self.version_id, exc)
                return None
            self._post_processed = frozenset(agent_id_of(i) for i in
                                             revision.postprocess_agents or ())
        return self._post_processed

    def _start(self, agent: str, agent_id: str) -> None:
        self.started.add(agent)
        try:
            self.client.procedures.create(agent_id, self.conversation_id, livemode=False)
        except OperatorIacError as exc:
            self.notes.append(f"starting {agent} with POST /procedures failed: {exc}")
            return
        why = ("the environment declares that the platform does not post-process testmode "
               "conversations" if self.habits.testmode_postprocessing is False else
               "the revision does not name it among its postprocess_agents")
        self.notes.append(f"started {agent} with POST /procedures: {why}")

    def _say_why_none_ran(self, never_ran: list[str]) -> None:
        if self.habits.testmode_postprocessing is None:
            self.notes.extend(UNDECIDED_NOTE.format(agent=a) for a in never_ran)
