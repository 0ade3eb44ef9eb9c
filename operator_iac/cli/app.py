"""The application object every command receives: settings plus lazily built services.

Commands stay thin: they take what they need from here (the project, the target environment,
the API client), call one service, render, and return an exit code. Services are built on
first use so that commands that need no platform never read an API key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from operator_iac.settings import Settings

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.services.feedback import Feedback
    from operator_iac.services.target import Target
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

        With ``--emulator`` an in-process emulator is started and every call goes to it.
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
        import os

        from operator_iac.api.client import OperatorClient
        from operator_iac.api.credentials import api_key_from_environ
        from operator_iac.spec.project_file import DEFAULT_API_URL
        from operator_iac.spec.secrets import SECRETS

        key = api_key_from_environ(None, os.environ)
        SECRETS.add(key.get_secret_value())
        client = OperatorClient(self.settings.api_url or DEFAULT_API_URL, key)
        self.closers.append(client.close)
        return client

    def client(self) -> OperatorClient:
        if self._client is None:
            client = self.target().client()
            self.closers.append(client.close)
            self._client = client
        return self._client

    def other_environment(self, env: str) -> tuple[Target, OperatorClient]:
        """Another environment's target and client, beside the main one: ``promote`` reads
        the source while it writes the destination. With ``--emulator`` it gets an emulator of
        its own, as two environments are two platforms. ``--api-url`` (or
        ``OPERATOR_IAC_API_URL``) points the main environment elsewhere, not this one."""
        environment = self.project().environment(env)  # unknown names fail before anything
        target = self._build_target(env, environment.effective_api_url)
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
        return Feedback(info=info, warn=warn, activity=activity)

    def _build_target(self, env: str | None, api_url: str | None, *,
                      picked: bool = False) -> Target:
        """The target for ``env`` at ``api_url``; with ``--emulator``, on a new emulator
        (``picked``: the environment was not asked for, so say how to ask)."""
        from operator_iac.services.target import build_target

        if not self.settings.emulator:
            return build_target(self.project(), env, api_url=api_url,
                                cache=not self.settings.no_cache)
        # An in-process emulator is a new, empty platform every time: nothing to cache.
        server = self._start_emulator(env, picked)
        return build_target(self.project(), env, api_url=server.url, api_key=server.api_key,
                            ws_url=server.ws_url, cache=False)

    def _start_emulator(self, env: str | None, picked: bool) -> Any:
        from operator_iac.cli.output import info
        from operator_iac.services.emulator import parse_compat, start_in_process

        platform = parse_compat(self.settings.emulator_compat)
        server = start_in_process(platform)
        self.closers.append(server.stop)
        line = f"Started an in-process Operator emulator at {server.url}"
        if platform.modes or platform.seed is not None:
            line = f"{line} ({platform.describe()})"
        others = [name for name in self.project().spec.environments if name != env]
        if env is not None:
            line += f" for environment {env}"
        if env is not None and picked and others:
            line += (f" (the first in {self.project().file.name}; pick another with --env "
                     f"{' or --env '.join(others)})")
        info(line)
        return server


def pass_app(func: F) -> F:
    """Decorator handing the command the ``App`` built by the top-level group."""
    return click.make_pass_decorator(App)(func)  # type: ignore[return-value]
