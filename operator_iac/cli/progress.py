"""Progress for long operations: something moves on a terminal, plain lines everywhere else.

A person at a terminal gets rich's live displays: a status line that disappears when the step
ends, and while smoke conversations run, a row per conversation with its turn, what it waits
for and its elapsed time, redrawn several times a second. CI logs and pipes (no terminal, or
``CI=true``) get plain lines instead, since redraws would fill a log with control characters:
one per step, and while a step or a conversation lasts, another every ``HEARTBEAT_S`` seconds,
so a log never stands still for long. Everything goes to stderr, so stdout keeps only results;
with ``--quiet`` there is none.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from operator_iac.cli.output import info, on_terminal, quiet
from operator_iac.services.feedback import silent
from operator_iac.smoke.progress import ConversationBoard, RunningConversation

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

HEARTBEAT_S = 10.0
"""In CI, how often a line says that a long operation or a conversation is still running."""
TICK_S = 1.0
"""How often the CI heartbeat looks whether a line is due."""
REFRESHES_PER_S = 4
"""How often a terminal's live display of smoke conversations is redrawn."""


def live_allowed(stream: object = None) -> bool:
    """Whether a live display may be drawn: on a terminal, and not in CI (``CI=true``), whose
    logs keep every redraw even when they emulate a terminal."""
    terminal = on_terminal(stream if stream is not None else sys.stderr)
    return terminal and os.environ.get("CI", "").strip().lower() != "true"


class Ticker:
    """Calls ``tick`` every ``period`` seconds on a daemon thread until ``stop``."""

    def __init__(self, tick: Callable[[], None], period: float = TICK_S) -> None:
        self._tick, self._period = tick, period
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="operator-iac-heartbeat",
                                        daemon=True)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stopped.wait(self._period):
            self._tick()


class StepHeartbeat:
    """In CI: the step being done, said again every ``every`` seconds it lasts."""

    def __init__(self, say: Callable[[str], None], *, every: float = HEARTBEAT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._say, self._every, self._clock = say, every, clock
        self._line, self._since, self._last = "", clock(), clock()

    def step(self, line: str) -> None:
        self._say(line)
        self._line, self._since = line, self._clock()
        self._last = self._since

    def tick(self) -> None:
        now = self._clock()
        if self._line and now - self._last >= self._every:
            self._last = now
            self._say(f"still {_lowered(self._line.rstrip(' .'))} ({now - self._since:.0f} s)")


class ConversationLines:
    """In CI: a line per running smoke conversation for every ``every`` seconds it runs."""

    def __init__(self, running: Callable[[], Sequence[RunningConversation]],
                 say: Callable[[str], None], *, every: float = HEARTBEAT_S) -> None:
        self._running, self._say, self._every = running, say, every
        self._said: dict[int, int] = {}  # run number -> the last multiple of ``every`` said

    def tick(self) -> None:
        for run in self._running():
            due = int(run.elapsed_s // self._every)
            if due >= 1 and self._said.get(run.number) != due:
                self._said[run.number] = due
                self._say(f"{run.label}: {where(run)} ({run.elapsed_s:.0f} s)")


def where(run: RunningConversation) -> str:
    """The conversation's turn and what it waits for: ``turn 2/3, waiting for the reply``."""
    turn = "greeting" if run.turn == 0 else f"turn {run.turn}/{run.turns}"
    return f"{turn}, {run.doing}"


def render_board(running: Sequence[RunningConversation]) -> RenderableType:
    """One frame of the live display: a row per running conversation."""
    from rich.spinner import Spinner
    from rich.table import Table

    # The time and the turn keep their room on a narrow terminal; the names give way.
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(no_wrap=True, width=1)
    table.add_column(no_wrap=True, overflow="ellipsis", ratio=3)
    table.add_column(no_wrap=True, overflow="ellipsis", ratio=2)
    table.add_column(no_wrap=True, justify="right", width=6)
    for run in running:
        table.add_row(Spinner("dots"), run.label, f"[dim]{where(run)}[/dim]",
                      f"{run.elapsed_s:4.0f} s")
    return table


class LiveBoard:
    """On a terminal: rich's live display of the board, shown while conversations run."""

    def __init__(self, board: ConversationBoard, console: Console | None = None, *,
                 auto_refresh: bool = True) -> None:
        self._board, self._console, self._auto = board, console, auto_refresh
        self._lock = threading.Lock()
        self._live: Live | None = None

    def changed(self, _running: bool = True) -> None:
        """Start or stop the display, as conversations start and end (from any thread)."""
        with self._lock:
            wanted = bool(self._board.running())
            if wanted and self._live is None:
                self._live = self._start()
            elif not wanted and self._live is not None:
                self._live.stop()
                self._live = None

    def frame(self) -> RenderableType:
        return render_board(self._board.running())

    def refresh(self) -> None:
        """Draw a frame now (the display redraws by itself ``REFRESHES_PER_S`` a second)."""
        with self._lock:
            if self._live is not None:
                self._live.refresh()

    def _start(self) -> Live | None:
        from rich.console import Console
        from rich.errors import LiveError
        from rich.live import Live

        live = Live(get_renderable=self.frame, console=self._console or Console(stderr=True),
                    auto_refresh=self._auto, refresh_per_second=REFRESHES_PER_S,
                    transient=True)
        try:
            live.start()
        except LiveError:  # another live display (a spinner) holds the terminal: its turn
            return None
        return live

    def stop(self) -> None:
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None


class PlainBoard:
    """In CI: ``ConversationLines`` on a heartbeat, while conversations run."""

    def __init__(self, board: ConversationBoard) -> None:
        self._lines = ConversationLines(board.running, info)
        self._board = board
        self._lock = threading.Lock()
        self._ticker: Ticker | None = None

    def changed(self, _running: bool = True) -> None:
        with self._lock:
            wanted = bool(self._board.running())
            if wanted and self._ticker is None:
                self._ticker = Ticker(self._lines.tick).start()
            elif not wanted and self._ticker is not None:
                self._ticker.stop()
                self._ticker = None

    def stop(self) -> None:
        with self._lock:
            if self._ticker is not None:
                self._ticker.stop()
                self._ticker = None


def conversation_board() -> tuple[ConversationBoard, Callable[[], None]]:
    """The board of a command's smoke conversations with its display attached (live on a
    terminal, plain lines in CI), and what stops the display when the command ends."""
    displays: list[LiveBoard | PlainBoard] = []
    board = ConversationBoard(watcher=lambda running: displays[0].changed(running))
    displays.append(LiveBoard(board) if live_allowed() else PlainBoard(board))
    return board, displays[0].stop


@contextlib.contextmanager
def activity() -> Iterator[Callable[[str], None]]:
    """A ``say(line)`` for the duration of an operation: on a terminal each line replaces the
    spinner's text; otherwise each line is printed as it comes, and again every
    ``HEARTBEAT_S`` seconds the step lasts."""
    if quiet():
        yield silent
        return
    if not live_allowed():
        heartbeat = StepHeartbeat(info)
        ticker = Ticker(heartbeat.tick).start()
        try:
            yield heartbeat.step
        finally:
            ticker.stop()
        return
    from rich.console import Console

    with Console(stderr=True).status("") as status:
        yield lambda line: status.update(line)


def _lowered(line: str) -> str:
    """``Reading agents ...`` as it reads after "still": ``reading agents``."""
    return line[:1].lower() + line[1:] if line[1:2].islower() else line
