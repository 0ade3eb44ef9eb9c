"""``emulator`` as a service: the local Operator emulator, run in the foreground for a person
(``serve``) or in-process for one command (``start_in_process``, the global ``--emulator``).

One emulator serves a separate account per API key. Which keys: those given (``--api-key``,
repeatable), or else one per API-key variable the project's environments read
(``project_accounts``), so that staging and production are two accounts, as on the platform,
unless they read the same variable (one account, as the platform would have it too).

The emulator itself lives in ``operator_iac.emulator`` and shares no code with the client; this
module only turns the command's options into its settings.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac.errors import UsageError

if TYPE_CHECKING:
    from operator_iac.emulator.faults import FaultSettings
    from operator_iac.emulator.server import EmulatorServer
    from operator_iac.spec.project_file import ProjectFile

DEFAULT_PORT = 8765
DEFAULT_API_KEY = "op_test_emulator"
ACCOUNT_KEY_PREFIX = "op_test_"  # + an environment's name: the key of its account


@dataclass(frozen=True)
class Account:
    """One account of an emulator, as a person points operator-iac at it."""

    # The API key that opens the account.
    key: str
    # The variable the project's environments read the key from (None: not known).
    variable: str | None = None
    # The project's environments that read ``variable``, in the project file's order.
    environments: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServeRequest:
    """Where the emulator listens, what it keeps, and the faults and compatibility modes it
    shows (see ``operator-iac emulator --help``)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    db: Path | None = None
    api_keys: Sequence[str] = (DEFAULT_API_KEY,)
    rules: Path | None = None
    silent: bool = False
    keepalive_s: float = 15.0
    latency_ms: int = 0
    error_rate: float = 0.0
    seed: int | None = None
    rate_limit_rps: float | None = None
    drop_sse_after: int | None = None
    compat: Sequence[str] = field(default_factory=tuple)
    list_lag: float = 0.0
    """Seconds the agents list trails creates and deletes."""
    versions_lag: float = 0.0
    """Seconds the versions lists and status fields trail new revisions and releases."""
    read_lag: float = 0.0
    """Seconds reads of a revision by id trail the writes."""


def compat_modes() -> dict[str, str]:
    """Every compatibility mode the emulator offers, with what it changes."""
    from operator_iac.emulator.faults import COMPAT_MODES

    return dict(COMPAT_MODES)


@dataclass(frozen=True)
class Platform:
    """The platform an emulator plays: compatibility modes and list delays."""

    modes: tuple[str, ...] = ()
    """The compatibility modes it plays."""
    list_lag: float = 0.0
    """Seconds its agents list trails creates and deletes."""
    versions_lag: float = 0.0
    """Seconds its versions lists and status fields trail new revisions and releases."""
    read_lag: float = 0.0
    """Seconds its reads of a revision by id trail the writes."""
    seed: int | None = None
    """The seed a random platform was drawn with (None: the modes were named)."""

    def describe(self) -> str:
        """One line for a person: what this platform does differently."""
        drawn = f"random platform, seed {self.seed}: " if self.seed is not None else ""
        parts = list(self.modes) + [f"{name} {value:g}s" for name, value in
                                    (("list_lag", self.list_lag),
                                     ("versions_lag", self.versions_lag),
                                     ("read_lag", self.read_lag)) if value]
        return drawn + (", ".join(parts) or "the usual behaviours")


def choose_platform(compat: Sequence[str], seed: int | None = None, *, list_lag: float = 0.0,
                    versions_lag: float = 0.0, read_lag: float = 0.0) -> Platform:
    """The modes and delays asked for; ``random`` among them draws a plausible alternative
    for every point of the registry of variations (with ``seed``, or a fresh one), plus
    delays within a bound. Explicit modes and delays are added to what was drawn. Unknown
    modes are usage errors."""
    from operator_iac.emulator.variations import RANDOM, draw

    named = [mode for mode in compat if mode != RANDOM]
    unknown = sorted(set(named) - set(compat_modes()))
    if unknown:
        raise UsageError(f"--compat: unknown mode {unknown[0]!r} (choose from random, "
                         f"{', '.join(sorted(compat_modes()))})")
    if RANDOM not in compat:
        return Platform(tuple(named), list_lag, versions_lag, read_lag)
    chosen = seed if seed is not None else secrets.randbelow(10_000)
    drawn = draw(chosen)
    modes = tuple(dict.fromkeys([*drawn.modes, *named]))
    return Platform(modes, list_lag or drawn.delays.get("list_lag", 0.0),
                    versions_lag or drawn.delays.get("versions_lag", 0.0),
                    read_lag or drawn.delays.get("read_lag", 0.0), chosen)


def parse_compat(text: str | None) -> Platform:
    """The platform ``OPERATOR_IAC_EMULATOR_COMPAT`` (``--emulator-compat``) names: modes
    separated by commas, ``random`` or ``random:SEED`` among them."""
    modes, seed = [], None
    for part in (text or "").replace(" ", "").split(","):
        name, _, number = part.partition(":")
        if not name:
            continue
        if number:
            if name != "random" or not number.isdigit():
                raise UsageError(f"--emulator-compat: {part!r} is not a mode or random:SEED")
            seed = int(number)
        modes.append(name)
    return choose_platform(modes, seed)


def build_server(request: ServeRequest) -> tuple[EmulatorServer, Platform]:
    """An emulator configured as asked (not started), and the platform it plays."""
    from operator_iac.emulator.rules import load_rules
    from operator_iac.emulator.server import EmulatorServer

    platform = choose_platform(request.compat, request.seed, list_lag=request.list_lag,
                               versions_lag=request.versions_lag, read_lag=request.read_lag)
    faults = _faults(platform, latency_ms=request.latency_ms, error_rate=request.error_rate,
                     seed=request.seed if request.seed is not None else platform.seed,
                     rate_limit_rps=request.rate_limit_rps,
                     drop_sse_after=request.drop_sse_after)
    server = EmulatorServer(request.host, request.port, list(request.api_keys), request.db,
                            log_level="info", access_log=True,
                            rules=load_rules(request.rules) if request.rules else None,
                            silent=request.silent, keepalive_s=request.keepalive_s,
                            faults=faults)
    return server, platform


def _faults(platform: Platform, **settings: object) -> FaultSettings:
    from operator_iac.emulator.faults import FaultSettings

    return FaultSettings.model_validate({
        **settings, "compat": list(platform.modes), "list_lag": platform.list_lag,
        "versions_lag": platform.versions_lag, "read_lag": platform.read_lag})


def serve(request: ServeRequest,
          on_ready: Callable[[EmulatorServer, Platform], None]) -> None:
    """Run the emulator in the foreground until Ctrl-C (the normal way to stop it)."""
    server, platform = build_server(request)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(on_ready=lambda running: on_ready(running, platform))


def emulator_accounts(keys: Sequence[str], project_file: Path | None) -> list[Account]:
    """The accounts ``operator-iac emulator`` serves, with what to export for each: every
    key given (a single one is what every environment of the project reads, as one account);
    with none, one account per API-key variable of the project in the working directory; and
    without a readable project file (the emulator runs without one, so a broken file is no
    error here), the default key under ``OPERATOR_API_KEY``."""
    from operator_iac.defaults import API_KEY_ENV

    if len(keys) > 1:
        return [Account(key) for key in dict.fromkeys(keys)]
    spec = _project_spec(project_file)
    if spec is None or not spec.environments:
        return [Account(keys[0] if keys else DEFAULT_API_KEY, API_KEY_ENV)]
    accounts = project_accounts(spec)
    if keys:
        return [Account(keys[0], a.variable, a.environments) for a in accounts]
    return accounts


def project_accounts(spec: ProjectFile) -> list[Account]:
    """One account per API-key variable the project's environments read, its key named
    after the first environment reading it (``op_test_staging``): environments that read one
    variable share an account, as they would on the platform. A project without
    environments gets the default key."""
    readers: dict[str, list[str]] = {}
    for name, env in spec.environments.items():
        readers.setdefault(env.api_key_env, []).append(name)
    if not readers:
        return [Account(DEFAULT_API_KEY)]
    return [Account(ACCOUNT_KEY_PREFIX + re.sub(r"[^A-Za-z0-9_-]", "_", envs[0]), variable,
                    tuple(envs)) for variable, envs in readers.items()]


def _project_spec(project_file: Path | None) -> ProjectFile | None:
    from operator_iac.settings import Settings
    from operator_iac.spec.project import read_project_file

    file = Settings(project_file=project_file).find_project_file()
    return read_project_file(file)[0] if file is not None and file.is_file() else None


def start_in_process(api_keys: Sequence[str] = (DEFAULT_API_KEY,),
                     platform: Platform | None = None) -> EmulatorServer:
    """A started emulator on a free loopback port with one account per key, for one command,
    playing ``platform`` (the usual behaviours by default); the caller stops it."""
    from operator_iac.emulator.server import start_in_process as start

    if platform is None or platform == Platform():
        return start(list(api_keys))
    return start(list(api_keys), faults=_faults(platform, seed=platform.seed))
