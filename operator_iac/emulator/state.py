"""Everything one running emulator holds: options, store, services, faults, brain, and the
background tasks it started. One instance per server; no module-level state.
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

from operator_iac.emulator.agents import AgentService, Lags, Revision
from operator_iac.emulator.brain import Brain, Dice
from operator_iac.emulator.broker import EventBroker
from operator_iac.emulator.clock import Clock
from operator_iac.emulator.conversations import DEFAULT_TOKEN_TTL_S, ConversationService
from operator_iac.emulator.events import EventLog
from operator_iac.emulator.faults import FaultSettings, FaultState
from operator_iac.emulator.procedures import ProcedureService
from operator_iac.emulator.rules import Outcome, RuleSet
from operator_iac.emulator.store import Store

DEFAULT_API_KEY = "op_test_emulator"
REQUEST_LOG_SIZE = 10_000

log = logging.getLogger("operator_iac.emulator")


@dataclass
class EmulatorOptions:
    """How to run an emulator. ``api_key`` is never shown in a repr."""

    api_key: str = field(default=DEFAULT_API_KEY, repr=False)
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


class EmulatorState:
    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        self.clock = Clock()
        self.store = Store(options.db)
        self.broker = EventBroker()
        self.faults = FaultState(options.faults)
        self.dice = Dice(lambda: self.faults.settings.seed)
        self.brain = Brain(options.rules or RuleSet(), options.silent, self.dice)
        self.events = EventLog(self.store, self.clock, self.broker.publish,
                               whole_seconds=lambda: self.faults.has("whole_seconds"))
        self.agents = AgentService(self.store, self.clock, lags=self._lags)
        self.conversations = ConversationService(self.store, self.clock, self.agents,
                                                 self.events, options.token_ttl_s)
        self.procedures = ProcedureService(
            self.store, self.clock, self.agents, self.conversations, self.events,
            spawn=self.spawn, outcome_for=self._outcome_for,
            step_delay_s=options.procedure_step_s, modes=self.faults.modes)
        self.requests: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_SIZE)
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the event loop that serves requests (at application start-up)."""
        self._loop = loop
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
        if loop is not None:
            self._track(loop.create_task(self._guard(work)))
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(lambda: self._track(
                asyncio.get_running_loop().create_task(self._guard(work))))
        else:
            work.close()

    def begin_shutdown(self) -> None:
        """Finish open streams and stop background work (called on the server's loop)."""
        self.broker.close()
        for task in list(self._tasks):
            task.cancel()

    def record(self, method: str, path: str, status: int) -> None:
        self.requests.append(RequestRecord(method, path, status))

    def close(self) -> None:
        self.store.close()

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # background work must never take the server down
            log.exception("background task failed")

    def _lags(self) -> Lags:
        settings = self.faults.settings
        return Lags(settings.list_lag, settings.versions_lag)

    def _outcome_for(self, revision: Revision, transcript: str) -> tuple[Outcome, Any]:
        """The scripted outcome (and output, None: generated) of a procedure run."""
        script = self.brain.procedure_script(revision.agent_id, revision.name, transcript)
        if script is None:
            return self.faults.settings.procedure_outcome, None
        return script.outcome, script.output
