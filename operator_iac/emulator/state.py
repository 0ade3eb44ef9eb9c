"""Everything one running emulator holds: options and the parts every account shares
(``ServerParts``: clock, faults, brain, request log, background tasks), and per account
(``EmulatorState``, one per API key) its store and the services over it. One instance per
server; no module-level state.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from operator_iac.emulator import consistency
from operator_iac.emulator.agents import AgentService, Lags, Revision
from operator_iac.emulator.brain import Brain, Dice
from operator_iac.emulator.broker import EventBroker
from operator_iac.emulator.clock import Clock, iso
from operator_iac.emulator.conversations import DEFAULT_TOKEN_TTL_S, ConversationService
from operator_iac.emulator.events import EventLog
from operator_iac.emulator.faults import FaultSettings, FaultState
from operator_iac.emulator.problems import Problem
from operator_iac.emulator.procedures import ProcedureService
from operator_iac.emulator.rules import Outcome, RuleSet
from operator_iac.emulator.store import Store

DEFAULT_API_KEY = "op_test_emulator"
REQUEST_LOG_SIZE = 100_000  # a benchmark's run of a 200-agent fleet, every request

log = logging.getLogger("operator_iac.emulator")


@dataclass
class EmulatorOptions:
    """How to run an emulator. The keys are never shown in a repr."""

    # The account's API key: a server with several keys holds one ``EmulatorState`` per key,
    # each with options of its own (``emulator.accounts``).
    api_key: str = field(default=DEFAULT_API_KEY, repr=False)
    # The account's SQLite file; None keeps it in memory.
    db: str | Path | None = None
    page_size: int = 20
    token_ttl_s: float = DEFAULT_TOKEN_TTL_S
    keepalive_s: float = 15.0
    procedure_step_s: float = 0.05
    rules: RuleSet | None = None
    silent: bool = False
    faults: FaultSettings | None = None


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request the emulator answered (admin requests are not recorded)."""

    method: str
    path: str
    status: int


class ServerParts:
    """What every account of one server shares: the clock, faults and compatibility modes,
    the agent brain, the request log, and the background tasks on the server's loop."""

    def __init__(self, options: EmulatorOptions) -> None:
        self.clock = Clock()
        self.faults = FaultState(options.faults)
        self.dice = Dice(lambda: self.faults.settings.seed)
        self.brain = Brain(options.rules or RuleSet(), options.silent, self.dice)
        self.requests: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_SIZE)
        self.tasks: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None


class EmulatorState:
    """One account: its key, store and services, beside the server's shared parts (a new
    set unless ``shared`` is given: the first account's, for every further one)."""

    def __init__(self, options: EmulatorOptions, shared: ServerParts | None = None) -> None:
        self.options = options
        self.shared = shared or ServerParts(options)
        self.store = Store(options.db)
        self.broker = EventBroker()
        self.events = EventLog(self.store, self.clock, self.broker.publish,
                               whole_seconds=lambda: self.faults.has("whole_seconds"),
                               epoch=lambda: self.faults.has("epoch_times"))
        self.agents = AgentService(self.store, self.clock, lags=self._lags)
        self.conversations = ConversationService(self.store, self.clock, self.agents,
                                                 self.events, options.token_ttl_s,
                                                 list_lag=lambda: self._lags().list_s,
                                                 unjoined_end=lambda: self.faults.has(
                                                     "unjoined_end"))
        self.procedures = ProcedureService(
            self.store, self.clock, self.agents, self.conversations, self.events,
            spawn=self.spawn, outcome_for=self._outcome_for,
            step_delay_s=options.procedure_step_s, modes=self.faults.modes)
        self.deleted: set[str] = set()
        """Ids of the agents and conversations deleted (in memory), for ``deleted_stubs``."""
        self.soft_deleted: dict[str, dict[str, Any]] = {}
        """Conversations deleted under ``soft_deletes``, as they were shown then."""

    # The shared parts, as every module reads them from the account it serves.
    @property
    def clock(self) -> Clock:
        return self.shared.clock

    @property
    def faults(self) -> FaultState:
        return self.shared.faults

    @property
    def dice(self) -> Dice:
        return self.shared.dice

    @property
    def brain(self) -> Brain:
        return self.shared.brain

    @brain.setter
    def brain(self, brain: Brain) -> None:
        self.shared.brain = brain

    @property
    def requests(self) -> deque[RequestRecord]:
        return self.shared.requests

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the event loop that serves requests (at application start-up)."""
        self.shared.loop = loop
        self.broker.bind(loop)

    def key_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(
            presented.encode(), self.options.api_key.encode())

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background on the server's loop, tracked for shutdown."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        server_loop = self.shared.loop
        if loop is not None:
            self._track(loop.create_task(self._guard(work)))
        elif server_loop is not None and not server_loop.is_closed():
            server_loop.call_soon_threadsafe(lambda: self._track(
                asyncio.get_running_loop().create_task(self._guard(work))))
        else:
            work.close()

    def begin_shutdown(self) -> None:
        """Finish open streams and stop background work (called on the server's loop)."""
        self.broker.close()
        for task in list(self.shared.tasks):
            task.cancel()

    def stub_of_deleted(self, object_id: str, problem: Problem) -> dict[str, Any]:
        """The answer to a read of ``object_id`` that failed with ``problem``: under
        ``deleted_stubs``, a stub of a deleted object (``{id, deleted: true}``, answered
        with 200); under ``soft_deletes``, a deleted conversation as it was, marked deleted;
        otherwise ``problem`` is raised."""
        if problem.status == 404 and object_id in self.soft_deleted:
            return {**self.soft_deleted[object_id], "status": "deleted",
                    "deleted_at": iso(self.clock.now())}
        if problem.status != 404 or not self.faults.has("deleted_stubs") or \
                object_id not in self.deleted:
            raise problem
        return {"id": object_id, "deleted": True}

    def record(self, method: str, path: str, status: int) -> None:
        self.requests.append(RequestRecord(method, path, status))

    def close(self) -> None:
        self.store.close()

    def _track(self, task: asyncio.Task[None]) -> None:
        self.shared.tasks.add(task)
        task.add_done_callback(self.shared.tasks.discard)

    async def _guard(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # background work must never take the server down
            log.exception("background task failed")

    def _lags(self) -> Lags:
        settings = self.faults.settings
        spread = next((mode for mode in consistency.SPREADS if self.faults.has(mode)), None)
        return Lags(settings.list_lag, settings.versions_lag, settings.read_lag, spread)

    def _outcome_for(self, revision: Revision, transcript: str) -> tuple[Outcome, Any]:
        """The scripted outcome (and output, None: generated) of a procedure run."""
        script = self.brain.procedure_script(revision.agent_id, revision.name, transcript)
        if script is None:
            return self.faults.settings.procedure_outcome, None
        return script.outcome, script.output
