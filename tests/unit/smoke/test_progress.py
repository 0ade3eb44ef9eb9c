"""The board of running smoke conversations: rows that move, and a watcher told when the first
starts and the last ends (so a display runs only while there is something to show)."""

from __future__ import annotations

from dataclasses import dataclass, field

from operator_iac.smoke.progress import ConversationBoard


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Watcher:
    calls: list[bool] = field(default_factory=list)

    def __call__(self, running: bool) -> None:
        self.calls.append(running)


def test_a_row_moves_through_its_turns_and_ages() -> None:
    clock = Clock()
    board = ConversationBoard(clock=clock)
    tracker = board.start("booking: books a cleaning", turns=2)
    [row] = board.running()
    assert (row.label, row.turn, row.turns, row.elapsed_s) == ("booking: books a cleaning", 0,
                                                                2, 0.0)
    clock.now += 1.5
    tracker.moved("waiting for the reply", 1)
    tracker.moved("still waiting")  # the turn stays when it is not given
    [row] = board.running()
    assert (row.turn, row.doing, row.elapsed_s) == (1, "still waiting", 1.5)


def test_the_watcher_hears_of_the_first_start_and_the_last_end() -> None:
    watcher = Watcher()
    board = ConversationBoard(clock=Clock(), watcher=watcher)
    first = board.start("a", 1)
    second = board.start("b", 1)
    assert [r.label for r in board.running()] == ["a", "b"]
    first.done()
    first.done()  # twice is harmless
    assert watcher.calls == [True]
    second.done()
    assert watcher.calls == [True, False] and board.running() == ()
    board.start("c", 1)
    assert watcher.calls == [True, False, True]


def test_runs_with_one_label_stay_apart() -> None:
    board = ConversationBoard(clock=Clock())
    board.start("booking: greets", 1).done()
    board.start("booking: greets", 1)
    [row] = board.running()
    assert row.number == 1
