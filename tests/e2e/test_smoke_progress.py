"""A smoke run moves its conversations on the board as they go, turn by turn, against the real
emulator, compared ones on both revisions too; the board is empty again when the run ends."""

from __future__ import annotations

from operator_iac.services.feedback import Feedback
from operator_iac.services.smoke import Comparing, smoke_project
from operator_iac.smoke.progress import ConversationBoard, Tracker

from .conftest import ProjectCopy


class RecordingBoard(ConversationBoard):
    """A board that keeps every move, to see the path each conversation took."""

    def __init__(self) -> None:
        super().__init__(watcher=self._heard)
        self.moves: list[tuple[int, str, int | None]] = []
        self.heard: list[bool] = []
        self.labels: list[str] = []

    def start(self, label: str, turns: int) -> Tracker:
        self.labels.append(label)
        return super().start(label, turns)

    def _heard(self, running: bool) -> None:
        self.heard.append(running)

    def _move(self, key: int, doing: str, turn: int | None) -> None:
        self.moves.append((key, doing, turn))
        super()._move(key, doing, turn)


def test_each_conversation_moves_turn_by_turn(applied: ProjectCopy) -> None:
    board = RecordingBoard()
    with applied.target().client() as client:
        report = smoke_project(applied.target(), client, keys=["appointment-booking"],
                               feedback=Feedback(board=board))
    assert report.passed and len(report.tests) == 2
    runs = sorted({key for key, _, _ in board.moves})
    assert len(runs) == 2 and board.running() == ()
    assert board.heard[0] is True and board.heard[-1] is False
    for run in runs:
        path = [(doing, turn) for key, doing, turn in board.moves if key == run]
        turns = [turn for _, turn in path if turn is not None]
        assert turns == sorted(turns) and turns[-1] >= 1  # forward, through the user turns
        assert path[0][0] == "opening the chat session"
        assert path[-1][0] == "deleting the conversation"


def test_compared_conversations_show_on_the_board_on_both_revisions(
        applied: ProjectCopy) -> None:
    board = RecordingBoard()
    with applied.target().client() as client:
        report = smoke_project(applied.target(), client, keys=["appointment-booking"],
                               feedback=Feedback(board=board),
                               comparing=Comparing("released", max_conversations=4))
    compared = [t for t in report.tests if t.comparison is not None]
    assert len(compared) == 2  # two pairs each: too few for a verdict, which is not the point
    labels = {f"appointment-booking: {t.test_name} (pair {n}, {side})" for t in compared
              for n in (1, 2) for side in ("candidate", "baseline")}
    assert sorted(board.labels) == sorted(labels)
    assert len({key for key, _, _ in board.moves}) == 8 and board.running() == ()
    assert board.heard[-1] is False
