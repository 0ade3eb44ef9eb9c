"""The conversation driver: one run of one smoke test against one agent revision.

::

    POST /conversations (testmode, chat_realtime, ca_x@vN, the test's context)
    ├── thread: read the SSE stream until conversation.ended      (the evidence)
    └── WebSocket: conversation.start, wait for the greeting,
                   per turn: user.message.send, wait for the reply  (per-turn timeout)
                   conversation.end
    wait for the SSE stream to deliver conversation.ended
    poll the conversation's procedures (only when a ``procedure`` assertion waits for them)
    run the test's judge, if it has one (POST /procedures, then poll its run)
    judge every assertion on the SSE events
    DELETE the conversation (unless asked to keep it)

A turn is complete when the agent's ``agent.message.completed`` arrives without pending tool
calls. A refused conversation or a broken session is an ``error``; a reply that does not
come in time is a ``timeout``; the conversation is deleted in every case.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from operator_iac.api.events import (
    AGENT_MESSAGE_COMPLETED,
    AGENT_MESSAGE_DELTA,
    CONVERSATION_ENDED,
    Event,
)
from operator_iac.api.models import ConversationCreated, Procedure
from operator_iac.errors import OperatorIacError, StreamError
from operator_iac.smoke.assertions import Evidence, evaluate_test, procedure_agents
from operator_iac.smoke.collector import EventCollector
from operator_iac.smoke.judge import judge_context, run_judge
from operator_iac.smoke.procedure_check import is_final, procedures_of
from operator_iac.smoke.results import AssertionResult, Outcome, RunResult
from operator_iac.spec.models import SmokeTest
from operator_iac.spec.smoke_rules import JudgeSpec

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.session import ChatSession

CATCH_UP_S = 2.0


@dataclass(frozen=True)
class RunSettings:
    """What every run of a suite shares."""

    keep_conversations: bool = False
    # Procedural agent key -> platform id and key -> output_schema (``procedure`` checks).
    agent_ids: Mapping[str, str] = field(default_factory=dict)
    output_schemas: Mapping[str, Any] = field(default_factory=dict)
    # How long to wait for the SSE stream to deliver conversation.ended after the end.
    end_grace_s: float = 10.0
    poll_interval_s: float = 0.2
    sleep: Callable[[float], None] = time.sleep


class TurnTimeout(Exception):
    """Internal: the agent did not complete a turn in time."""


class EndedEarly(Exception):
    """Internal: the conversation ended before every turn was sent."""


def conversation_context(test: SmokeTest) -> dict[str, Any]:
    """The conversation context a test declares, in the API's shape (with its judge's
    rubric, when it has a judge)."""
    return {**test.context.model_dump(by_alias=True, exclude_none=True),
            **judge_context(test.judge)}


def run_once(client: OperatorClient, test: SmokeTest, version_id: str, *, attempt: int = 1,
             settings: RunSettings | None = None) -> RunResult:
    """One run of ``test`` against ``version_id`` (``ca_x@vN``, or ``ca_x`` for released)."""
    settings = settings or RunSettings()
    started = time.monotonic()
    try:
        created = client.conversations.create(version_id, "chat_realtime", livemode=False,
                                              context=conversation_context(test))
    except OperatorIacError as exc:
        return RunResult(attempt, "error", error="the platform refused the test conversation: "
                         f"{exc}", duration_ms=_since(started))
    run = _Run(client, test, created, settings, attempt, started)
    try:
        result = run.execute()
    finally:
        run.clean_up()
    return replace(result, notes=tuple(run.notes))


def _since(started: float) -> float:
    return (time.monotonic() - started) * 1000


class _Run:
    """The state of one run: the conversation, the collector, and what went wrong."""

    def __init__(self, client: OperatorClient, test: SmokeTest, created: ConversationCreated,
                 settings: RunSettings, attempt: int, started: float) -> None:
        self.client, self.test, self.created = client, test, created
        self.settings, self.attempt, self.started = settings, attempt, started
        self.notes: list[str] = []
        self.last_ws_event: str | None = None
        # Event id -> when the session delivered it (monotonic ms), often before the stream.
        self.ws_arrivals: dict[str, float] = {}
        self.collector = EventCollector(client, created.id, token=created.channel.token,
                                        deadline_s=test.timeout_s)
        self.deleted = False

    def remaining(self) -> float:
        return max(0.0, self.test.timeout_s - (time.monotonic() - self.started))

    def execute(self) -> RunResult:
        self.collector.start()
        failure = self._converse()
        if failure is None and not self.collector.wait_ended(
                min(self.settings.end_grace_s, self.remaining())):
            failure = ("error", self.collector.error or "the event stream did not deliver "
                       f"{CONVERSATION_ENDED} after the conversation was ended")
        elif failure is not None and self.last_ws_event:
            # Give the stream a moment to catch up, so the transcript shows what happened.
            self.collector.wait_for(self.last_ws_event, min(CATCH_UP_S, self.remaining()))
        evidence = self._evidence(wait_for_procedures=failure is None)
        self.collector.close()
        verdicts: tuple[AssertionResult, ...] = ()
        if failure is None and self.test.judge is not None:
            try:
                verdicts = (self._judge(self.test.judge),)
            except OperatorIacError as exc:
                failure = ("error", f"the judge could not be run: {exc}")
        return self._result(failure, evidence, verdicts)

    def _judge(self, judge: JudgeSpec) -> AssertionResult:
        return run_judge(self.client, judge, self.created.id,
                         self.settings.agent_ids.get(judge.agent), remaining=self.remaining,
                         poll_interval_s=self.settings.poll_interval_s,
                         sleep=self.settings.sleep)

    # ---- the conversation ----------------------------------------------------------------

    def _converse(self) -> tuple[Outcome, str] | None:
        try:
            with self.client.open_session(self.created,
                                          recv_timeout=self.test.turn_timeout_s) as session:
                self._talk(session)
        except TurnTimeout as exc:
            return "timeout", str(exc)
        except EndedEarly as exc:
            return "failed", str(exc)
        except OperatorIacError as exc:
            return "error", str(exc)
        return None

    def _talk(self, session: ChatSession) -> None:
        session.start()
        try:
            self._await_turn(session, 0)
            user_turns = [t for t in self.test.turns if t.user is not None]
            for number, turn in enumerate(user_turns, start=1):
                assert turn.user is not None
                session.send_message(turn.user)
                self._await_turn(session, number)
        except TurnTimeout:
            self._end_quietly(session)
            raise
        session.end()
        self._drain(session)

    def _await_turn(self, session: ChatSession, turn: int) -> None:
        """Receive until the agent completes its reply (no tool calls pending)."""
        limit = self.test.turn_timeout_s
        until = time.monotonic() + limit
        while True:
            event = self._receive(session, until, turn, limit)
            if event is None or event.type == CONVERSATION_ENDED:
                raise EndedEarly(f"the conversation ended during turn {turn}, before the "
                                 "test finished")
            if event.type == AGENT_MESSAGE_COMPLETED and not event.payload.get("has_tool_calls"):
                return

    def _receive(self, session: ChatSession, until: float, turn: int,
                 limit: float) -> Event | None:
        try:
            event = session.recv(max(0.01, until - time.monotonic()))
        except StreamError as exc:
            if isinstance(exc.__cause__, TimeoutError):
                what = "the greeting" if turn == 0 else "its reply"
                raise TurnTimeout(f"turn {turn}: the agent did not finish {what} within "
                                  f"{limit:g}s") from exc
            raise
        if event is not None:
            self._note(event)
        return event

    def _note(self, event: Event) -> None:
        """Remember the newest event the session delivered (the stream should have it too)."""
        if event.id and event.type != AGENT_MESSAGE_DELTA:
            self.last_ws_event = event.id
            self.ws_arrivals.setdefault(event.id, time.monotonic() * 1000)

    def _end_quietly(self, session: ChatSession) -> None:
        """End a conversation that went wrong, so it does not stay open on the platform."""
        try:
            session.end()
            self._drain(session)
        except OperatorIacError as exc:
            self.notes.append(f"ending the conversation failed: {exc}")

    def _drain(self, session: ChatSession) -> None:
        """Read until the server closes the session after ``conversation.ended``."""
        try:
            for event in session.events(timeout=min(self.test.turn_timeout_s, 10.0)):
                self._note(event)
        except StreamError as exc:
            self.notes.append(f"after conversation.end: {exc}")

    # ---- evidence and verdict ------------------------------------------------------------

    def _evidence(self, wait_for_procedures: bool) -> Evidence:
        agents = procedure_agents(self.test)
        procedures: list[Procedure] = []
        timed_out, waited = False, None
        if agents and wait_for_procedures:
            began = time.monotonic()
            procedures, timed_out = self._await_procedures(agents)
            waited = round(time.monotonic() - began, 1)
        arrivals = self.collector.arrivals()
        for event_id, at in self.ws_arrivals.items():
            arrivals[event_id] = min(at, arrivals.get(event_id, at))
        return Evidence(events=self.collector.events(), arrivals=arrivals,
                        procedures=procedures,
                        agent_ids=self.settings.agent_ids,
                        output_schemas=self.settings.output_schemas,
                        procedure_wait_s=waited, procedures_timed_out=timed_out)

    def _await_procedures(self, agents: list[str]) -> tuple[list[Procedure], bool]:
        """Poll the conversation's procedures until every awaited agent's run finished."""
        ids = self.settings.agent_ids
        while True:
            procedures = list(self.client.procedures.list_for_conversation(self.created.id))
            runs = [procedures_of(a, ids.get(a), procedures) for a in agents]
            if all(r and is_final(r[-1]) for r in runs):
                return procedures, False
            if self.remaining() <= self.settings.poll_interval_s:
                return procedures, True
            self.settings.sleep(self.settings.poll_interval_s)

    def _result(self, failure: tuple[Outcome, str] | None, evidence: Evidence,
                verdicts: tuple[AssertionResult, ...] = ()) -> RunResult:
        if self.collector.reconnects:
            self.notes.append(f"the event stream reconnected {self.collector.reconnects} "
                              "time(s)")
        assertions: tuple[AssertionResult, ...] = ()
        outcome: Outcome
        error = ""
        if failure is not None:
            outcome, error = failure
        else:
            assertions = (*evaluate_test(self.test, evidence), *verdicts)
            outcome = _judged(assertions, evidence)
        return RunResult(self.attempt, outcome, self.created.id, assertions,
                         tuple(evidence.events), error, _since(self.started),
                         tuple(self.notes))

    def clean_up(self) -> None:
        self.collector.close()
        if self.settings.keep_conversations:
            return
        try:
            self.client.conversations.delete(self.created.id)
        except OperatorIacError as exc:
            self.notes.append(f"the test conversation was not deleted: {exc}")


def _judged(assertions: tuple[AssertionResult, ...], evidence: Evidence) -> Outcome:
    """A failed assertion decides; else one that could not be judged leaves the run
    incomplete (a procedure that did not finish in time: a timeout)."""
    failed = [a for a in assertions if not a.passed]
    if not failed:
        return "passed"
    if evidence.procedures_timed_out and all(a.kind == "procedure" for a in failed):
        return "timeout"
    if all(not a.evaluable for a in failed):
        return "incomplete"
    return "failed"
