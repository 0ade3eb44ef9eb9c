"""Procedures: asynchronous runs of procedural agents over a conversation.

A run goes ``pending`` -> ``running`` -> ``success`` (or ``failed``; or stays ``running``
when told to hang). Its ``output`` is a deterministic instance of the agent's
``output.output_schema`` (fields a rules file scripts replace generated ones). After a
conversation ends, one run is created per procedural agent
in the revision's ``postprocess_agents`` whose ``filter_statuses`` admit the final status
(``skipped`` when that agent has no released revision).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, replace
from typing import Any

from operator_iac.emulator import ids
from operator_iac.emulator.agents import PROCEDURAL, AgentService, Revision, parse_ref
from operator_iac.emulator.clock import Clock
from operator_iac.emulator.compat import nulls_where_nullable
from operator_iac.emulator.conversations import Conversation, ConversationService
from operator_iac.emulator.events import EventLog
from operator_iac.emulator.problems import Problem, not_found
from operator_iac.emulator.rules import Outcome
from operator_iac.emulator.schema_instance import instance_for
from operator_iac.emulator.store import Store, dumps, loads, newest_first_page
from operator_iac.emulator.validation import ProcedureCreate

PENDING = "pending"
RUNNING = "running"
SUCCESS = "success"
FAILED = "failed"
SKIPPED = "skipped"

# How long after a conversation's end its post-processing starts under ``slow_postprocessing``
# (a platform that queues it): longer than any client should take "not yet" for "never".
SLOW_POSTPROCESSING_S = 3.0

Spawn = Callable[[Coroutine[Any, Any, None]], None]
# (revision, transcript text) -> outcome, and the scripted output (None: generate one)
OutcomeFor = Callable[[Revision, str], tuple[Outcome, Any]]


@dataclass(frozen=True)
class Procedure:
    id: str
    agent_id: str
    agent_version_id: str
    conversation_id: str
    livemode: bool
    name: str
    status: str
    created_at: float
    error: str | None = None
    input: dict[str, Any] | None = None
    output: Any = None
    summary: str | None = None


_COLUMNS = ("id", "agent_id", "agent_version_id", "conversation_id", "status", "created_at")


class ProcedureService:
    """Create, run, and read procedures."""

    def __init__(self, store: Store, clock: Clock, agents: AgentService,
                 conversations: ConversationService, events: EventLog, spawn: Spawn,
                 outcome_for: OutcomeFor, step_delay_s: float = 0.05,
                 modes: Callable[[], frozenset[str]] = frozenset) -> None:
        self._store = store
        self._clock = clock
        self._agents = agents
        self._conversations = conversations
        self._events = events
        self._spawn = spawn
        self._outcome_for = outcome_for
        self.step_delay_s = step_delay_s
        self._modes = modes

    def create(self, body: ProcedureCreate) -> Procedure:
        revision = self._agents.resolve_for_use(PROCEDURAL, body.agent_id)
        conversation = self._conversations.get(body.conversation_id)
        return self._start(revision, conversation.id, body.livemode)

    def after_conversation(self, conversation: Conversation) -> list[Procedure]:
        """The post-processing runs a finished conversation triggers: at once, or under
        ``slow_postprocessing`` ``SLOW_POSTPROCESSING_S`` later (none are returned then)."""
        if "slow_postprocessing" in self._modes():
            self._spawn(self._after_a_while(conversation.id))
            return []
        return self._post_process(conversation)

    async def _after_a_while(self, conversation_id: str) -> None:
        await asyncio.sleep(SLOW_POSTPROCESSING_S)
        try:
            conversation = self._conversations.get(conversation_id)
        except Problem:
            return  # deleted meanwhile: nothing is left to post-process
        self._post_process(conversation)

    def _post_process(self, conversation: Conversation) -> list[Procedure]:
        started = []
        for ref in self._conversations.revision_of(conversation).postprocess_agents or []:
            parsed = parse_ref(PROCEDURAL, ref)
            if parsed.number is None:
                revision = self._agents.released(PROCEDURAL, parsed.agent_id)
            else:
                revision = self._agents.get(PROCEDURAL, ref)
            if revision is None:
                started.append(self._skip(parsed.agent_id, conversation))
            elif _admits(revision, conversation.status):
                started.append(self._start(revision, conversation.id, conversation.livemode))
        return started

    def get(self, procedure_id: str) -> Procedure:
        with self._store.tx() as db:
            row = db.execute("SELECT * FROM procedures WHERE id = ?", (procedure_id,)).fetchone()
        if row is None:
            raise not_found("procedure", procedure_id)
        return _procedure(row)

    def page(self, agent_id: str | None, conversation_id: str | None, cursor: str | None,
             size: int) -> tuple[list[Procedure], str | None]:
        """Newest first; ``agent_id`` may be bare (every revision) or ``pa_x@vN``."""
        conditions: list[tuple[str, object]] = []
        if agent_id:
            column = "agent_version_id" if "@" in agent_id else "agent_id"
            conditions.append((f"{column} = ?", agent_id))
        if conversation_id:
            conditions.append(("conversation_id = ?", conversation_id))
        page, next_cursor = newest_first_page(self._store, "procedures", conditions, cursor,
                                              size)
        return [_procedure(row) for row in page], next_cursor

    def resume_unfinished(self) -> int:
        """Restart runs a previous process left pending or running (a ``--db`` restart)."""
        with self._store.tx() as db:
            rows = db.execute("SELECT id FROM procedures WHERE status IN (?, ?)",
                              (PENDING, RUNNING)).fetchall()
        for row in rows:
            self._spawn(self._run(row["id"]))
        return len(rows)

    # ---- running -------------------------------------------------------------------------

    def _start(self, revision: Revision, conversation_id: str, livemode: bool) -> Procedure:
        procedure = Procedure(
            id=ids.new_id(ids.PROCEDURE), agent_id=revision.agent_id,
            agent_version_id=revision.version_id, conversation_id=conversation_id,
            livemode=livemode, name=revision.name, status=PENDING,
            created_at=self._clock.now())
        with self._store.tx() as db:
            self._insert(db, procedure)
        self._spawn(self._run(procedure.id))
        return procedure

    def _skip(self, agent_id: str, conversation: Conversation) -> Procedure:
        procedure = Procedure(
            id=ids.new_id(ids.PROCEDURE), agent_id=agent_id, agent_version_id=agent_id,
            conversation_id=conversation.id, livemode=conversation.livemode, name=agent_id,
            status=SKIPPED, created_at=self._clock.now(),
            error=f"{agent_id} has no released revision")
        with self._store.tx() as db:
            self._insert(db, procedure)
        return procedure

    async def _run(self, procedure_id: str) -> None:
        await asyncio.sleep(self.step_delay_s)
        procedure = self._save(replace(self.get(procedure_id), status=RUNNING))
        await asyncio.sleep(self.step_delay_s)
        try:
            revision = self._agents.get(PROCEDURAL, procedure.agent_version_id)
        except Problem:
            self._save(replace(procedure, status=FAILED, error="the procedural agent is gone"))
            return
        lines = _transcript(self._events.payloads(procedure.conversation_id))
        outcome, output = self._outcome_for(
            revision, "\n".join(f"{line['role']}: {line['text']}" for line in lines))
        if outcome == "hang":
            return
        if outcome == "fail":
            self._save(replace(procedure, status=FAILED,
                               error="the procedure failed (fault injected by the emulator)"))
            return
        self._save(self._finish(procedure, revision, output))

    def _finish(self, procedure: Procedure, revision: Revision, scripted: Any) -> Procedure:
        transcript = _transcript(self._events.payloads(procedure.conversation_id))
        schema = ((revision.config.get("output") or {}).get("output_schema"))
        output = instance_for(schema, "output") if schema is not None else None
        if "nullable_outputs" in self._modes():
            output = nulls_where_nullable(output, schema)
        if isinstance(scripted, dict) and isinstance(output, dict):
            output = {**output, **scripted}  # the script's fields over a valid instance
        elif scripted is not None:
            output = scripted
        users = sum(1 for line in transcript if line["role"] == "user")
        summary = (f"{revision.name}: conversation {procedure.conversation_id} had {users} "
                   f"user message(s) and {len(transcript) - users} agent message(s).")
        return replace(procedure, status=SUCCESS, output=output, summary=summary,
                       input={"conversation_id": procedure.conversation_id,
                              "transcript": transcript})

    def _save(self, procedure: Procedure) -> Procedure:
        with self._store.tx() as db:
            db.execute("UPDATE procedures SET status = ?, doc = ? WHERE id = ?",
                       (procedure.status, dumps(_doc(procedure)), procedure.id))
        return procedure

    def _insert(self, db: sqlite3.Connection, p: Procedure) -> None:
        db.execute(
            "INSERT INTO procedures (id, agent_id, agent_version_id, conversation_id, status, "
            "created_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (p.id, p.agent_id, p.agent_version_id, p.conversation_id, p.status, p.created_at,
             dumps(_doc(p))))


def _admits(revision: Revision, status: str) -> bool:
    wanted = revision.config.get("filter_statuses")
    return not wanted or status in wanted


def _transcript(payloads: list[dict[str, Any]]) -> list[dict[str, str]]:
    roles = {"user.message.received": "user", "agent.message.completed": "agent"}
    return [{"role": roles[p["type"]], "text": str(p.get("text", ""))}
            for p in payloads if p.get("type") in roles]


def _doc(procedure: Procedure) -> dict[str, Any]:
    return {k: v for k, v in asdict(procedure).items() if k not in _COLUMNS}


def _procedure(row: sqlite3.Row) -> Procedure:
    return Procedure(**{name: row[name] for name in _COLUMNS}, **loads(row["doc"]))
