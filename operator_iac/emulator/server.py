"""Running the emulator: ``EmulatorServer`` serves the app with uvicorn, either in a
background thread (tests, the global ``--emulator`` option) or in the foreground (the
``operator-iac emulator`` command).

The listening socket is bound here before uvicorn starts, so port 0 yields a free port that
is known at once. Shutdown first finishes open SSE streams, so stopping is quick.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import uvicorn

from operator_iac.emulator import admin
from operator_iac.emulator.accounts import open_accounts
from operator_iac.emulator.agents import Revision
from operator_iac.emulator.app import build_app
from operator_iac.emulator.brain import Brain
from operator_iac.emulator.faults import BodyShape, FaultState
from operator_iac.emulator.problems import ResetConnection
from operator_iac.emulator.rules import RuleSet
from operator_iac.emulator.state import (
    DEFAULT_API_KEY,
    EmulatorOptions,
    EmulatorState,
    RequestRecord,
)
from operator_iac.errors import OperationError

START_TIMEOUT_S = 10.0


class _Uvicorn(uvicorn.Server):
    """uvicorn, tuned so that a test can start and stop an emulator in milliseconds.

    The stock server polls for exit every 100 ms and pauses another 100 ms while shutting
    down; here a stop request wakes the main loop at once, the emulator's streams are
    finished first, and connections are polled briefly until they are gone.
    """

    def __init__(self, config: uvicorn.Config, state: EmulatorState) -> None:
        super().__init__(config)
        self._state = state
        self._stop_requested: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def request_stop(self) -> None:
        """Ask the server to exit (from any thread)."""
        self.should_exit = True
        loop, event = self._loop, self._stop_requested
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
                loop.call_soon_threadsafe(event.set)

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._state.begin_shutdown()
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        await self._wait_for_connections(float(self.config.timeout_graceful_shutdown or 3))
        for task in self.server_state.tasks:
            task.cancel()
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _wait_for_connections(self, limit: float) -> None:
        deadline = time.monotonic() + limit
        while (self.server_state.connections or self.server_state.tasks) and (
                time.monotonic() < deadline and not self.force_exit):
            await asyncio.sleep(0.005)


class _QuietResets(logging.Filter):
    """Faults reset connections on purpose; uvicorn need not log those as crashes."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not _is_reset(error)


def _is_reset(error: BaseException | None) -> bool:
    if isinstance(error, ResetConnection):
        return True
    if isinstance(error, BaseExceptionGroup):
        return all(_is_reset(inner) for inner in error.exceptions)
    return False


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietResets) for f in logger.filters):
        logger.addFilter(_QuietResets())


class EmulatorServer:
    """One emulator on ``host:port``; ``port=0`` picks a free port.

    ``api_key`` is one key, or several: one account per key, each with its own agents and
    conversations (``emulator.accounts``); the test controls act on the whole server.
    Extra keyword arguments are ``EmulatorOptions`` fields (``page_size``, ``token_ttl_s``,
    ``keepalive_s``, ``procedure_step_s``, ``rules``, ``silent``, ``faults``).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 api_key: str | Sequence[str] = DEFAULT_API_KEY,
                 db: str | Path | None = None, *, log_level: str = "error",
                 access_log: bool = False, **options: Any) -> None:
        self.host = host
        self.requested_port = port
        keys = [api_key] if isinstance(api_key, str) else list(dict.fromkeys(api_key))
        self._keys = keys or [DEFAULT_API_KEY]
        self._options = EmulatorOptions(api_key=self._keys[0], db=db, **options)
        self._log_level = log_level
        self._access_log = access_log
        self._state: EmulatorState | None = None
        self._accounts: list[EmulatorState] = []
        self._server: _Uvicorn | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def __repr__(self) -> str:
        return f"EmulatorServer(url={self.url!r})"

    # ---- addresses -----------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        """The first account's key (the only one, unless several were given)."""
        return self._options.api_key

    @property
    def api_keys(self) -> tuple[str, ...]:
        """Every account's key, in the order given."""
        return tuple(self._keys)

    @property
    def url(self) -> str:
        return f"http://{_host_for_url(self.host)}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{_host_for_url(self.host)}:{self.port}"

    @property
    def state(self) -> EmulatorState:
        """The first account's state; the server's shared parts are reached through it."""
        if self._state is None:
            raise RuntimeError("the emulator is not running")
        return self._state

    def account(self, api_key: str) -> EmulatorState:
        """The state of the account that ``api_key`` opens."""
        found = next((a for a in self._accounts if a.key_matches(api_key)), None)
        if found is None:
            raise KeyError("no account of this emulator has that key")
        return found

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT_S) -> int:
        """Serve in a background thread; return the bound port once requests are accepted."""
        sock = self._prepare()
        assert self._server is not None
        server = self._server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            name=f"operator-iac-emulator:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise OperationError(f"the emulator did not start on {self.url}")
            time.sleep(0.005)
        return self.port

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and release the database (safe to call twice)."""
        if self._server is not None:
            self._server.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._server = None
        for account in self._accounts:
            account.close()
        self._accounts = []
        self._state = None

    def serve_forever(self, on_ready: Callable[[EmulatorServer], None] | None = None) -> None:
        """Serve in this (main) thread until Ctrl-C or SIGTERM; ``on_ready`` runs once
        requests are accepted."""
        sock = self._prepare()
        assert self._server is not None
        server = self._server

        async def main() -> None:
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started and not serving.done():
                await asyncio.sleep(0.01)
            if server.started and on_ready is not None:
                on_ready(self)
            await serving

        try:
            asyncio.run(main())
        finally:
            self.stop()

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _prepare(self) -> socket.socket:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        sock = _bind(self.host, self.requested_port)
        self.port = int(sock.getsockname()[1])
        self._accounts = open_accounts(self._options, self._keys)
        self._state = self._accounts[0]
        config = uvicorn.Config(
            build_app(*self._accounts), log_level=self._log_level, access_log=self._access_log,
            lifespan="on", http="h11", ws=_websocket_implementation(),
            timeout_graceful_shutdown=3, date_header=False,
            log_config=_stderr_log_config() if self._access_log else None)
        _install_log_filter()
        self._server = _Uvicorn(config, self._state)
        return sock

    # ---- test controls -------------------------------------------------------------------

    @property
    def faults(self) -> FaultState:
        """Fault settings and compatibility modes (``update``, ``fail_next`` ...)."""
        return self.state.faults

    def set_faults(self, **settings: Any) -> None:
        self.state.faults.update(**settings)

    def fail_next(self, count: int, status: int, method: str = ".*", path: str = ".*",
                  retry_after: int | None = None, body: BodyShape = "json") -> None:
        """Answer the next ``count`` matching requests with ``status`` (0 = reset)."""
        self.state.faults.fail_next(count, status, method, path, retry_after, body)

    def lose_next_response(self, method: str = "POST", path: str = ".*", count: int = 1,
                           mode: Literal["502", "reset"] = "502") -> None:
        """Perform the next ``count`` matching requests but answer 502 or reset."""
        self.state.faults.lose_next_response(method, path, count, mode)

    def set_compat(self, *modes: str) -> None:
        self.state.faults.set_compat(*modes)

    def reset_faults(self) -> None:
        self.state.faults.reset()

    def advance_clock(self, seconds: float) -> None:
        self.state.clock.advance(seconds)

    def seed_conversations(self, count: int, *, span_s: float = 0.0,
                           agent_id: str = admin.SEEDED_AGENT) -> None:
        """``count`` past conversations, created evenly over the last ``span_s`` seconds."""
        admin.seed_conversations(self.state, count, span_s, agent_id)

    @property
    def requests(self) -> list[RequestRecord]:
        return list(self.state.requests)

    def clear_requests(self) -> None:
        self.state.requests.clear()

    def set_brain(self, *, silent: bool = False, rules: RuleSet | None = None) -> None:
        self.state.brain = Brain(rules or RuleSet(), silent, self.state.dice)

    def edit_revision(self, version_id: str, **fields: Any) -> Revision:
        """Change a revision in place, as a dashboard user could (even a released one)."""
        agent_id = version_id.partition("@")[0]
        return admin.edit_revision(self._holder(lambda a: a.agents.exists(agent_id)),
                                   version_id, fields)

    def inject_events(self, conversation_id: str, payloads: list[dict[str, Any]]) -> int:
        account = self._holder(lambda a: a.conversations.exists(conversation_id))
        return len(admin.inject_events(account, conversation_id, payloads))

    def _holder(self, holds: Callable[[EmulatorState], bool]) -> EmulatorState:
        """The account that holds something (the first one when none does: it answers
        "not found")."""
        return next((a for a in self._accounts if holds(a)), self.state)


def start_in_process(api_key: str | Sequence[str] = DEFAULT_API_KEY,
                     **options: Any) -> EmulatorServer:
    """A started emulator on a free loopback port (for the global ``--emulator`` option);
    the caller stops it."""
    server = EmulatorServer("127.0.0.1", 0, api_key, **options)
    server.start()
    return server


def _websocket_implementation() -> str:
    """uvicorn's sans-I/O binding of ``websockets`` where it exists (it avoids the library's
    deprecated legacy API), else the classic one."""
    known = getattr(uvicorn.config, "WS_PROTOCOLS", {})
    return "websockets-sansio" if "websockets-sansio" in known else "websockets"


def _stderr_log_config() -> dict[str, Any]:
    """uvicorn's log format, but every line on stderr: stdout carries the command's result."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    for handler in config["handlers"].values():
        handler["stream"] = "ext://sys.stderr"
    return config


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        raise OperationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
