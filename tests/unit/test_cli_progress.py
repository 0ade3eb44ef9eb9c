"""Progress a person can see: on a terminal the live display of smoke conversations moves at
least every second (asserted on its frames, under a fake clock); in CI a plain line comes every
ten seconds per long operation and per conversation."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from rich.console import Console

from operator_iac.cli.progress import (
    HEARTBEAT_S,
    REFRESHES_PER_S,
    ConversationLines,
    LiveBoard,
    StepHeartbeat,
    live_allowed,
)
from operator_iac.smoke.progress import ConversationBoard


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_live_display_moves_every_second_of_a_conversation() -> None:
    assert REFRESHES_PER_S >= 1
    clock = Clock()
    board = ConversationBoard(clock=clock)
    screen = io.StringIO()
    display = LiveBoard(board, Console(file=screen, force_terminal=True, width=100),
                        auto_refresh=False)
    tracker = board.start("appointment-booking: books a cleaning", turns=2)
    display.changed()
    frames = []
    for second, (doing, turn) in enumerate([("waiting for the greeting", 0),
                                            ("waiting for the reply", 1),
                                            ("waiting for the reply", 1),
                                            ("waiting for the reply", 2)]):
        clock.now = float(second)
        tracker.moved(doing, turn)
        drawn = len(screen.getvalue())
        display.refresh()
        frames.append(screen.getvalue()[drawn:])
    tracker.done()
    display.changed()
    # Each second's frame shows that second: the row moves even while a turn waits.
    for second, frame in enumerate(frames):
        assert f"{second:4d} s" in frame and "books a cleaning" in frame
    text = screen.getvalue()
    assert "greeting, waiting for the greeting" in text and "turn 2/2, waiting for the reply" \
        in text
    assert "appointment-booking: books a cleaning" in text
    assert display.frame() is not None and board.running() == ()


def test_every_running_conversation_has_a_row() -> None:
    clock = Clock()
    board = ConversationBoard(clock=clock)
    board.start("a: one", 1)
    board.start("b: two", 3).moved("waiting for the reply", 3)
    clock.now = 7.0
    screen = io.StringIO()
    Console(file=screen, width=100).print(LiveBoard(board).frame())
    lines = screen.getvalue().splitlines()
    assert len(lines) == 2 and "a: one" in lines[0] and "turn 3/3" in lines[1]
    assert all(line.rstrip().endswith("7 s") for line in lines)


def test_in_ci_each_conversation_gets_a_line_every_ten_seconds() -> None:
    clock = Clock()
    board = ConversationBoard(clock=clock)
    said: list[str] = []
    lines = ConversationLines(board.running, said.append)
    board.start("booking: greets", 1).moved("waiting for the reply", 1)
    for now in (1.0, 9.9, 10.0, 10.5, 15.0, 20.0, 21.0):
        clock.now = now
        lines.tick()
    assert said == ["booking: greets: turn 1/1, waiting for the reply (10 s)",
                    "booking: greets: turn 1/1, waiting for the reply (20 s)"]
    assert HEARTBEAT_S == 10.0


def test_in_ci_a_long_step_is_said_again_every_ten_seconds() -> None:
    clock = Clock()
    said: list[str] = []
    heartbeat = StepHeartbeat(said.append, clock=clock)
    heartbeat.tick()
    heartbeat.step("Reading agents from https://api.operator.xyz ...")
    for now in (5.0, 10.0, 12.0, 20.0):
        clock.now = now
        heartbeat.tick()
    heartbeat.step("Comparing")
    clock.now = 25.0
    heartbeat.tick()
    assert said == ["Reading agents from https://api.operator.xyz ...",
                    "still reading agents from https://api.operator.xyz (10 s)",
                    "still reading agents from https://api.operator.xyz (20 s)",
                    "Comparing"]


@pytest.mark.parametrize(("terminal", "ci", "allowed"), [
    (True, None, True), (True, "true", False), (False, None, False), (True, "false", True)])
def test_ci_gets_plain_lines_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                                terminal: bool, ci: str | None,
                                                allowed: bool) -> None:
    if ci is not None:
        monkeypatch.setenv("CI", ci)
    assert live_allowed(Terminal() if terminal else io.StringIO()) is allowed
