"""The application object every command receives: settings plus lazily built services.

Commands stay thin: they take what they need from here (the project, the environment, the
API client), call one service, render, and return an exit code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from operator_iac.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    settings: Settings
    # Cleanup callbacks (emulator shutdown, client close) run when the command ends.
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        while self.closers:
            self.closers.pop()()


def pass_app(func: F) -> F:
    """Decorator handing the command the ``App`` built by the top-level group."""
    return click.make_pass_decorator(App)(func)  # type: ignore[return-value]
