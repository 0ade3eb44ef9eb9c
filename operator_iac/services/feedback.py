"""How a service talks to the person running it, without knowing whether that is a terminal,
a CI log or a script: progress lines, warnings, and a spinner around long reads.

The CLI fills a ``Feedback`` with its stderr helpers; the Python API's default says nothing.
Questions (confirmations) are not feedback: a service that needs one takes a ``Confirm``
callable, and the CLI decides what happens without a terminal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

from operator_iac.smoke.progress import ConversationBoard

Say = Callable[[str], None]
# Raises (usage error, abort) when the answer is no; returns when the run may go on.
Confirm = Callable[[str], None]


def silent(_line: str) -> None:
    """A ``Say`` that says nothing."""


@contextlib.contextmanager
def quiet_activity() -> Iterator[Say]:
    yield silent


@dataclass(frozen=True)
class Feedback:
    """Where a service's messages go: ``info`` and ``warn`` lines, and ``activity()``, a
    context whose ``say`` shows what a long operation is doing (a spinner on a terminal)."""

    info: Say = silent
    warn: Say = silent
    activity: Callable[[], AbstractContextManager[Say]] = quiet_activity
    # Where running smoke conversations show their turn and elapsed time; None: nowhere.
    board: ConversationBoard | None = None


QUIET = Feedback()
