"""Progress for long operations: a spinner on a terminal, plain lines everywhere else.

CI logs and pipes get one line per step (a spinner's redraws would fill a log with control
characters); a person at a terminal gets a rich status line that disappears when the step ends.
Either way it goes to stderr, so stdout keeps only results; with ``--quiet`` there is none.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from operator_iac.cli.output import info, on_terminal, quiet
from operator_iac.services.feedback import silent


@contextlib.contextmanager
def activity() -> Iterator[Callable[[str], None]]:
    """A ``say(line)`` for the duration of an operation: on a terminal each line replaces the
    spinner's text; otherwise each line is printed as it comes."""
    if quiet():
        yield silent
        return
    if not on_terminal(sys.stderr):
        yield info
        return
    from rich.console import Console

    with Console(stderr=True).status("") as status:
        yield lambda line: status.update(line)
