"""The conversation driver: one run of one smoke test against one agent revision.

::

    POST /conversations (testmode, chat_realtime, ca_x@vN, the test's context; retried)
    ├── thread: read the SSE stream until conversation.ended   (the evidence, and the turns)
    └── WebSocket: conversation.start, wait for the greeting (only if turn 0 asserts on it),
                   per turn: user.message.send, wait for the reply  (per-turn timeout)
                   conversation.end, wait for conversation.ended on the SSE stream
    poll the conversation's procedures (only when a ``procedure`` assertion waits for them),
         starting a run with POST /procedures only where the platform will not
         (``operator_iac.smoke.postprocessing``)
    run the test's judge, if it has one (POST /procedures, then poll its run)
    judge every assertion on the SSE events
    DELETE the conversation (unless asked to keep it)

The WebSocket session only sends: it is read in the background (an event arriving there
first dates it, for latencies), and the progress of every turn is followed on the SSE stream,
the platform's own record, which carries every event where a session may carry only the
agent's. When a turn is complete is ``operator_iac.smoke.turn_watch``'s question. Every wait
is bounded by the test's ``turn_timeout_s`` and by what is left of its ``timeout_s``, so a
socket the server never closes, or a stream that only sends keep-alives, cannot hold a run
longer than its test allows. A refused conversation or a broken session is an ``error`` (the
platform failed); a reply that does not come in time is a ``timeout`` (nothing can be
concluded yet); the conversation is deleted in every case. Each step moves the run's
``Tracker`` (``operator_iac.smoke.progress``), so that a person sees where it is.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from operator_iac.api.events import (
    AGENT_MESSAGE_DELTA,
    CONVERSATION_ENDED,
    Event,
)
from operator_iac.api.models import ConversationCreated, Procedure
from operator_iac.errors import ApiError, OperatorIacError, StreamError
from operator_iac.smoke.assertions import Evidence, evaluate_test, procedure_agents
from operator_iac.smoke.collector import EventCollector
from operator_iac.smoke.judge import judge_context, run_judge, verdict_of_run
from operator_iac.smoke.orphans import OrphanLedger, orphan_window
from operator_iac.smoke.postprocessing import Habits, ProcedureWait
from operator_iac.smoke.procedure_check import procedures_of
from operator_iac.smoke.progress import UNWATCHED, Tracker
from operator_iac.smoke.results import AssertionResult, Outcome, RunResult
from operator_iac.smoke.turn_watch import TurnWatch
from operator_iac.spec.models import SmokeTest
from operator_iac.spec.smoke_rules import JudgeSpec

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.session import ChatSession

CATCH_UP_S = 2.0
# How often a wait for the next event looks whether the session or the stream broke.
POLL_S = 0.1


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
    orphans: OrphanLedger = field(default_factory=OrphanLedger, compare=False)
    habits: Habits = field(default_factory=Habits, compare=False)


class TurnTimeout(Exception):
    """Internal: the agent did not complete a turn in time."""


class EndedEarly(Exception):
    """Internal: the conversation ended before every turn was sent."""


def conversation_context(test: SmokeTest) -> dict[str, Any]:
    """The conversation context a test declares, in the API's shape (with its judge's
    rubric, when it has a judge)."""
    return {**test.context.model_dump(by_alias=True, exclude_none=True),
            **judge_context(test.judge)}


def asserts_greeting(test: SmokeTest) -> bool:
    """Whether the test expects something of turn 0, the agent's greeting: only then is the
    greeting waited for (agents on some platforms do not speak first)."""
    return bool(test.turns and test.turns[0].user is None and test.turns[0].expect)


def run_once(client: OperatorClient, test: SmokeTest, version_id: str, *, attempt: int = 1,
             settings: RunSettings | None = None, tracker: Tracker = UNWATCHED) -> RunResult:
    """One run of ``test`` against ``version_id`` (``ca_x@vN``, or ``ca_x`` for released);
    ``tracker`` follows where it is."""
    settings = settings or RunSettings()
    started = time.monotonic()
    try:
        created, retried = client.conversations.create_test(
            version_id, "chat_realtime", context=conversation_context(test))
    except OperatorIacError as exc:
        status = exc.status if isinstance(exc, ApiError) else None
        return RunResult(attempt, "error", error="the platform refused the test conversation: "
                         f"{exc}", duration_ms=_since(started), refused_status=status)
    settings.orphans.created(created.id)
    if retried:
        settings.orphans.retried(orphan_window(client, version_id, created.id,
                                               time.monotonic() - started))
    run = _Run(client, test, created, version_id, settings, attempt, started, tracker)
    try:
        result = run.execute()
    finally:
        run.clean_up()
    return replace(result, notes=tuple(run.notes), conversation_deleted=run.deleted)


def _since(started: float) -> float:
    return (time.monotonic() - started) * 1000


class _Run:
    """The state of one run: the conversation, the collector, and what went wrong."""

    def __init__(self, client: OperatorClient, test: SmokeTest, created: ConversationCreated,
                 version_id: str, settings: RunSettings, attempt: int, started: float,
                 tracker: Tracker = UNWATCHED) -> None:
        self.client, self.test, self.created = client, test, created
        self.version_id = version_id
        self.procedure_wait: ProcedureWait | None = None  # the runs it waits for (if any)
        self.settings, self.attempt, self.started = settings, attempt, started
        self.tracker = tracker
        self.notes: list[str] = []
        self.last_ws_event: str | None = None
        # Event id -> when the session delivered it (monotonic ms), often before the stream.
        self.ws_arrivals: dict[str, float] = {}
        # The stream's events in order, as they arrive: the turns are followed on them.
        self.arriving: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.collector = EventCollector(client, created.id, token=created.channel.token,
                                        deadline_s=test.timeout_s, on_event=self.arriving.put)
        self.deleted = False

    def remaining(self) -> float:
        return max(0.0, self.test.timeout_s - (time.monotonic() - self.started))

    def execute(self) -> RunResult:
        self.tracker.moved("opening the chat session")
        self.collector.start()
        failure = self._converse()
        if failure is not None and self.last_ws_event:
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
        """The judge's verdict. A judge agent the platform may run itself (one the revision
        post-processes with: ``smoke.postprocessing``) is not started again: its run is
        waited for, and judged."""
        self.tracker.moved("waiting for the judge")
        agent_id = self.settings.agent_ids.get(judge.agent)
        wait = self._procedure_wait()
        if agent_id is not None and not wait.platform_will_not_run(agent_id):
            procedures, _ = wait.await_runs([judge.agent], self.remaining,
                                            self.settings.poll_interval_s, self.settings.sleep)
            runs = procedures_of(judge.agent, agent_id, procedures)
            return verdict_of_run(judge, runs[-1] if runs else None)
        return run_judge(self.client, judge, self.created.id, agent_id,
                         remaining=self.remaining,
                         poll_interval_s=self.settings.poll_interval_s,
                         sleep=self.settings.sleep)

    def _procedure_wait(self) -> ProcedureWait:
        if self.procedure_wait is None:
            self.procedure_wait = ProcedureWait(self.client, self.created.id, self.version_id,
                                                self.settings.agent_ids, self.settings.habits,
                                                self.notes)
        return self.procedure_wait

    # ---- the conversation ----------------------------------------------------------------

    def _converse(self) -> tuple[Outcome, str] | None:
        try:
            with self.client.open_session(self.created,
                                          recv_timeout=self.test.turn_timeout_s) as session:
                session.read_in_background(self._note)
                self._talk(session)
                return self._await_end(session)
        except TurnTimeout as exc:
            return "timeout", str(exc)
        except EndedEarly as exc:
            return "failed", str(exc)
        except OperatorIacError as exc:
            return "error", str(exc)

    def _talk(self, session: ChatSession) -> None:
        session.start()
        try:
            if asserts_greeting(self.test):
                self.tracker.moved("waiting for the greeting", 0)
                self._await_turn(session, TurnWatch(0))
            user_turns = [t for t in self.test.turns if t.user is not None]
            for number, turn in enumerate(user_turns, start=1):
                assert turn.user is not None
                session.send_message(turn.user)
                self.tracker.moved("waiting for the reply", number)
                self._await_turn(session, TurnWatch(number))
        except TurnTimeout:
            self._end_quietly(session)
            raise
        self.tracker.moved("ending the conversation")
        session.end()

    def _await_end(self, session: ChatSession) -> tuple[Outcome, str] | None:
        """Wait for the stream to deliver ``conversation.ended`` (the session stays open
        meanwhile: some servers stop what they do for a conversation when it closes)."""
        if self.collector.wait_ended(min(self.settings.end_grace_s, self.remaining())):
            return None
        return ("error" if self.remaining() > 0 else "timeout",
                self.collector.error or (str(session.failure) if session.failure else
                                         "the event stream did not deliver "
                                         f"{CONVERSATION_ENDED} after the conversation was "
                                         "ended"))

    def _limit(self) -> float:
        """The time one wait may take: the turn's budget, within what the test has left."""
        return min(self.test.turn_timeout_s, self.remaining())

    def _await_turn(self, session: ChatSession, watch: TurnWatch) -> None:
        """Receive until the agent has finished the turn (``TurnWatch``)."""
        limit = self._limit()
        until = time.monotonic() + limit
        while True:
            try:
                event = self._receive(session, until)
            except TurnTimeout:
                if watch.tentative:
                    self.notes.append(f"turn {watch.turn}: the agent's message was flagged "
                                      "has_tool_calls, but no tool call followed")
                    return
                if watch.turn == 0 and not watch.spoke:
                    self.notes.append(NO_GREETING_NOTE)
                raise TurnTimeout(_timeout_message(watch.turn, limit)) from None
            if event.type == CONVERSATION_ENDED:
                raise EndedEarly(f"the conversation ended during turn {watch.turn}, before "
                                 "the test finished")
            if watch.see(event):
                return

    def _receive(self, session: ChatSession, until: float) -> Event:
        """The stream's next event; ``TurnTimeout`` past ``until``, ``StreamError`` when the
        session or the stream broke meanwhile."""
        while True:
            try:
                return self.arriving.get(timeout=max(0.0, min(POLL_S,
                                                              until - time.monotonic())))
            except queue.Empty:
                pass
            if session.failure is not None:
                raise session.failure
            if self.collector.finished and self.arriving.empty():
                raise StreamError(self.collector.error or "the event stream ended before the "
                                  "conversation did")
            if time.monotonic() >= until:
                raise TurnTimeout("no event in time")

    def _note(self, event: Event) -> None:
        """Remember the newest event the session delivered (the stream should have it too)."""
        if event.id and event.type != AGENT_MESSAGE_DELTA:
            self.last_ws_event = event.id
            self.ws_arrivals.setdefault(event.id, time.monotonic() * 1000)

    def _end_quietly(self, session: ChatSession) -> None:
        """End a conversation that went wrong, so it does not stay open on the platform."""
        try:
            session.end()
            self.collector.wait_ended(min(CATCH_UP_S, self.remaining()))
        except OperatorIacError as exc:
            self.notes.append(f"ending the conversation failed: {exc}")

    # ---- evidence and verdict ------------------------------------------------------------

    def _evidence(self, wait_for_procedures: bool) -> Evidence:
        agents = procedure_agents(self.test)
        procedures: list[Procedure] = []
        timed_out, waited = False, None
        if agents and wait_for_procedures:
            self.tracker.moved("waiting for procedures to finish")
            began = time.monotonic()
            wait = self._procedure_wait()
            procedures, timed_out = wait.await_runs(agents, self.remaining,
                                                    self.settings.poll_interval_s,
                                                    self.settings.sleep)
            waited = round(time.monotonic() - began, 1)
        arrivals = self.collector.arrivals()
        for event_id, at in self.ws_arrivals.items():
            arrivals[event_id] = min(at, arrivals.get(event_id, at))
        events = self.collector.events()
        return Evidence(events=events, arrivals=arrivals, procedures=procedures,
                        agent_ids=self.settings.agent_ids,
                        output_schemas=self.settings.output_schemas,
                        procedure_wait_s=waited, procedures_timed_out=timed_out)

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
        self.tracker.moved("deleting the conversation")
        try:
            self.client.conversations.delete(self.created.id)
            self.deleted = True
        except OperatorIacError as exc:
            self.notes.append(f"the test conversation was not deleted: {exc}")


def _timeout_message(turn: int, limit: float) -> str:
    what = "the greeting" if turn == 0 else "its reply"
    return f"turn {turn}: the agent did not finish {what} within {limit:g}s"


NO_GREETING_NOTE = ("no greeting came: agents on some platforms do not speak first; a test "
                    "that expects nothing of turn 0 does not wait for a greeting")


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
