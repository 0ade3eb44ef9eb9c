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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac.errors import UsageError

if TYPE_CHECKING:
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


def compat_modes() -> dict[str, str]:
    """Every compatibility mode the emulator offers, with what it changes."""
    from operator_iac.emulator.faults import COMPAT_MODES

    return dict(COMPAT_MODES)


def build_server(request: ServeRequest) -> EmulatorServer:
    """An emulator configured as asked (not started); unknown modes are usage errors."""
    from operator_iac.emulator.faults import FaultSettings
    from operator_iac.emulator.rules import load_rules
    from operator_iac.emulator.server import EmulatorServer

    unknown = sorted(set(request.compat) - set(compat_modes()))
    if unknown:
        raise UsageError(f"--compat: unknown mode {unknown[0]!r} (choose from "
                         f"{', '.join(sorted(compat_modes()))})")
    faults = FaultSettings.model_validate({
        "latency_ms": request.latency_ms, "error_rate": request.error_rate,
        "seed": request.seed, "rate_limit_rps": request.rate_limit_rps,
        "drop_sse_after": request.drop_sse_after, "compat": list(request.compat),
        "list_lag": request.list_lag, "versions_lag": request.versions_lag})
    return EmulatorServer(request.host, request.port, list(request.api_keys), request.db,
                          log_level="info", access_log=True,
                          rules=load_rules(request.rules) if request.rules else None,
                          silent=request.silent, keepalive_s=request.keepalive_s,
                          faults=faults)


def serve(request: ServeRequest, on_ready: Callable[[EmulatorServer], None]) -> None:
    """Run the emulator in the foreground until Ctrl-C (the normal way to stop it)."""
    server = build_server(request)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(on_ready=on_ready)


def emulator_accounts(keys: Sequence[str], project_file: Path | None) -> list[Account]:
    """The accounts ``operator-iac emulator`` serves, with what to export for each: every
    key given (a single one is what every environment of the project reads, as one account);
    with none, one account per API-key variable of the project in the working directory; and
    without a readable project file (the emulator runs without one, so a broken file is no
    error here), the default key under ``OPERATOR_API_KEY``."""
    from operator_iac.spec.project_file import DEFAULT_API_KEY_ENV

    spec = _project_spec(project_file)
    if len(keys) > 1:
        return [Account(key) for key in dict.fromkeys(keys)]
    if spec is None or not spec.environments:
        return [Account(keys[0] if keys else DEFAULT_API_KEY, DEFAULT_API_KEY_ENV)]
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


def start_in_process(api_keys: Sequence[str] = (DEFAULT_API_KEY,)) -> EmulatorServer:
    """A started emulator on a free loopback port with one account per key, for one command;
    the caller stops it."""
    from operator_iac.emulator.server import start_in_process as start

    return start(list(api_keys))
