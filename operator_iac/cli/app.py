"""The application object every command receives: settings plus lazily built services.

Commands stay thin: they take what they need from here (the project, the target environment,
the API client), call one service, render, and return an exit code. Services are built on
first use so that commands that need no platform never read an API key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from operator_iac.settings import Settings

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.emulator.server import EmulatorServer
    from operator_iac.services.emulator import Platform
    from operator_iac.services.feedback import Feedback
    from operator_iac.services.read_ahead import ReadAhead
    from operator_iac.services.target import Target
    from operator_iac.smoke.progress import ConversationBoard
    from operator_iac.spec.project import Project

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    """What every command receives: the settings and, built on first use, the project, the
    target, the API client (and an in-process emulator with ``--emulator``)."""

    settings: Settings
    # Cleanup callbacks (emulator shutdown, client close) run when the command ends.
    closers: list[Callable[[], None]] = field(default_factory=list)
    _project: Project | None = None
    _target: Target | None = None
    _client: OperatorClient | None = None
    # The reads begun before the declarations loaded (``read_ahead``), and their client.
    _reading: ReadAhead | None = None
    _board: ConversationBoard | None = None
    # With --emulator: the one in-process emulator (an account per environment's key
    # variable), each environment's key on it, and the environments announced so far.
    _emulator: EmulatorServer | None = None
    _emulator_keys: dict[str, str] = field(default_factory=dict)
    _announced: set[str | None] = field(default_factory=set)
    _platform: Platform | None = None  # what it plays (--emulator-compat)

    def close(self) -> None:
        while self.closers:
            self.closers.pop()()

    def project(self) -> Project:
        if self._project is None:
            from operator_iac.spec.project import load_project

            self._project = load_project(self.settings.project_file)
        return self._project

    def target(self, env: str | None = None) -> Target:
        """The environment to work on (``env`` overrides ``--env``), its URL and API key.

        With ``--emulator`` an in-process emulator is started and every call goes to it, on
        the environment's own account.
        """
        if self._target is None or (env is not None and env != self._target.env_name):
            from operator_iac.services.target import choose_environment

            requested = env or self.settings.env
            name = choose_environment(self.project(), requested,
                                      fallback_to_first=self.settings.emulator)
            self._target = self._build_target(name, self.settings.api_url,
                                              picked=requested is None)
            self._client = None
        return self._target

    def standalone_client(self, env: str | None = None) -> OperatorClient:
        """A client for commands that need the platform but no declarations (``transcript``):
        the project's environment when there is a project file, otherwise ``--api-url`` (or
        the platform's URL) with ``OPERATOR_API_KEY``."""
        if self.settings.emulator or self.settings.find_project_file() is not None:
            self.target(env)
            return self.client()
        from operator_iac.services.target import client_without_project

        client = client_without_project(self.settings.api_url)
        self.closers.append(client.close)
        return client

    def client(self) -> OperatorClient:
        if self._client is None:
            target, reading = self.target(), self._reading
            if reading is not None and reading.reaches(target):
                self._client = reading.client  # closed with the read-ahead
            else:
                client = target.client()
                self.closers.append(client.close)
                self._client = client
        return self._client

    def read_ahead(self, env: str | None = None, *, parallelism: int,
                   everything: bool = False, writes: bool = False) -> ReadAhead | None:
        """Begin reading the platform for ``env`` before the declarations load, when that
        can be done safely (``services.read_ahead``); the command hands the reads to its
        service, which uses them only if they are the ones its target needs. None with
        ``--emulator`` (started with the declarations) and once the target is built."""
        if self.settings.emulator or self._target is not None or self._reading is not None:
            return None
        from operator_iac.services.read_ahead import begin_read_ahead
        from operator_iac.spec.loader import parsed_ahead

        # What the read-ahead parses of the declarations, the loading then takes as parsed.
        handing_over = contextlib.ExitStack()
        handing_over.enter_context(parsed_ahead())
        self.closers.append(handing_over.close)

        reading = begin_read_ahead(self.settings.project_file, env or self.settings.env,
                                   api_url=self.settings.api_url,
                                   cache=not self.settings.no_cache, parallelism=parallelism,
                                   everything=everything, writes=writes)
        if reading is not None:
            self.closers.append(reading.close)
            self._reading = reading
        return reading

    def other_environment(self, env: str) -> tuple[Target, OperatorClient]:
        """Another environment's target and client, beside the main one: ``promote`` reads
        the source while it writes the destination. ``--api-url`` (or
        ``OPERATOR_IAC_API_URL``) points every environment of the run at that platform, each
        with its own key; with ``--emulator`` it is the environment's account on the same
        in-process emulator."""
        self.project().environment(env)  # unknown names fail before anything
        target = self._build_target(env, self.settings.api_url)
        client = target.client()
        self.closers.append(client.close)
        return target, client

    def feedback(self) -> Feedback:
        """Where services send their messages: stderr, with a spinner on a terminal. With
        --quiet only warnings; decided here, as services may call ``info`` from threads that
        know no click context."""
        from operator_iac.cli.output import info, warn
        from operator_iac.cli.progress import activity
        from operator_iac.services.feedback import Feedback, quiet_activity, silent

        if self.settings.quiet:
            return Feedback(info=silent, warn=warn, activity=quiet_activity)
        return Feedback(info=info, warn=warn, activity=activity, board=self._conversations())

    def _conversations(self) -> ConversationBoard | None:
        """The board where this command's smoke conversations show where they are, its
        display stopped when the command ends."""
        if self._board is None:
            from operator_iac.cli.progress import conversation_board

            self._board, stop = conversation_board()
            self.closers.append(stop)
        return self._board

    def _build_target(self, env: str | None, api_url: str | None, *,
                      picked: bool = False) -> Target:
        """The target for ``env`` at ``api_url``; with ``--emulator``, on the environment's
        account of the in-process emulator (``picked``: the environment was not asked for,
        so say how to ask)."""
        from operator_iac.services.target import build_target

        if not self.settings.emulator:
            return build_target(self.project(), env, api_url=api_url,
                                cache=not self.settings.no_cache)
        # An in-process emulator is a new, empty platform every time: nothing to cache.
        server = self._in_process_emulator()
        self._announce(server, env, picked)
        key = self._emulator_keys.get(env or "", server.api_key)
        return build_target(self.project(), env, api_url=server.url, api_key=key,
                            ws_url=server.ws_url, cache=False)

    def _in_process_emulator(self) -> EmulatorServer:
        """The in-process emulator, started on first use with an account per API-key
        variable of the project's environments (``services.emulator.project_accounts``)."""
        if self._emulator is None:
            from operator_iac.services.emulator import (
                parse_compat,
                project_accounts,
                start_in_process,
            )

            accounts = project_accounts(self.project().spec)
            self._platform = parse_compat(self.settings.emulator_compat)
            self._emulator = start_in_process([a.key for a in accounts], self._platform)
            self.closers.append(self._emulator.stop)
            self._emulator_keys = {env: a.key for a in accounts for env in a.environments}
        return self._emulator

    def _announce(self, server: EmulatorServer, env: str | None, picked: bool) -> None:
        """Say once per environment where its calls go."""
        from operator_iac.cli.output import info

        if env in self._announced:
            return
        key = self._emulator_keys.get(env or "")
        sharing = sorted(e for e in self._announced if e and self._emulator_keys.get(e) == key)
        first = not self._announced
        self._announced.add(env)
        if not first:
            info(f"Environment {env} is on the in-process emulator too, " +
                 (f"on the account of {', '.join(sharing)} (the same API-key variable)"
                  if sharing else "on an account of its own"))
            return
        line = f"Started an in-process Operator emulator at {server.url}"
        platform = self._platform
        if platform is not None and (platform.modes or platform.seed is not None):
            line = f"{line} ({platform.describe()})"
        others = [name for name in self.project().spec.environments if name != env]
        if env is not None:
            line += f" for environment {env}"
        if env is not None and picked and others:
            line += (f" (the first in {self.project().file.name}; pick another with --env "
                     f"{' or --env '.join(others)})")
        info(line)


def pass_app(func: F) -> F:
    """Decorator handing the command the ``App`` built by the top-level group."""
    return click.make_pass_decorator(App)(func)  # type: ignore[return-value]
