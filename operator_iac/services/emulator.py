"""``emulator`` as a service: the local Operator emulator, run in the foreground for a person
(``serve``) or in-process for one command (``start_in_process``, the global ``--emulator``).

The emulator itself lives in ``operator_iac.emulator`` and shares no code with the client; this
module only turns the command's options into its settings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac.errors import UsageError

if TYPE_CHECKING:
    from operator_iac.emulator.server import EmulatorServer

DEFAULT_PORT = 8765
DEFAULT_API_KEY = "op_test_emulator"


@dataclass(frozen=True)
class ServeRequest:
    """Where the emulator listens, what it keeps, and the faults and compatibility modes it
    shows (see ``operator-iac emulator --help``)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    db: Path | None = None
    api_key: str = DEFAULT_API_KEY
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
    return EmulatorServer(request.host, request.port, request.api_key, request.db,
                          log_level="info", access_log=True,
                          rules=load_rules(request.rules) if request.rules else None,
                          silent=request.silent, keepalive_s=request.keepalive_s,
                          faults=faults)


def serve(request: ServeRequest, on_ready: Callable[[EmulatorServer], None]) -> None:
    """Run the emulator in the foreground until Ctrl-C (the normal way to stop it)."""
    server = build_server(request)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(on_ready=on_ready)


def key_variables(project_file: Path | None) -> list[tuple[str | None, str]]:
    """(environment, variable) for every API-key variable the project's environments read,
    so the emulator can say what to export; ``(None, OPERATOR_API_KEY)`` without a readable
    project file (the emulator runs without one, so a broken file is no error here)."""
    from operator_iac.settings import Settings
    from operator_iac.spec.project import read_project_file
    from operator_iac.spec.project_file import DEFAULT_API_KEY_ENV

    file = Settings(project_file=project_file).find_project_file()
    spec = read_project_file(file)[0] if file is not None and file.is_file() else None
    if spec is None or not spec.environments:
        return [(None, DEFAULT_API_KEY_ENV)]
    return [(name, env.api_key_env) for name, env in spec.environments.items()]


def start_in_process() -> EmulatorServer:
    """A started emulator on a free loopback port, for one command; the caller stops it."""
    from operator_iac.emulator.server import start_in_process as start

    return start()
