"""Shared fixtures: a hermetic environment for every test and a CLI runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from operator_iac.cli.main import run

if TYPE_CHECKING:
    from operator_iac.emulator.server import EmulatorServer


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``pytest -n N``, deal the tests out like cards into N runs of equal length, each
    with its end-to-end tests first.

    The worker pool hands each worker one contiguous run of the collected order and lets an
    idle worker take the tail of another's: in collection order the end-to-end tests (a few
    slow ones each up to a minute: random platforms, kills, races) fill the first runs and the
    quick unit tests the rest, so a few workers would hold every slow test and end last.
    Dealt, every run holds its share of both, starts with its slow share, and what an idle
    worker takes from its tail is quick. Tests that share a module-scoped fixture stay
    together, so that it is built once per run that holds them."""
    workers = getattr(config, "workerinput", {}).get("workercount", 0)
    if workers < 2:
        return
    groups: dict[str, list[pytest.Item]] = {}
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        shared = info is not None and any(
            definition.scope == "module"
            for definitions in info.name2fixturedefs.values() for definition in definitions)
        groups.setdefault(item.module.__name__ if shared and item.module else item.nodeid,
                          []).append(item)
    runs: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for n, group in enumerate(groups.values()):
        runs[n % workers].extend(group)
    items[:] = [item for run in runs for item in sorted(
        run, key=lambda item: "/e2e/" not in item.nodeid.replace("\\", "/"))]


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch,
                          tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test depends on the shell it was started from, nor writes into the user's home:
    each test has a revision cache of its own."""
    import os

    from operator_iac.settings import CACHE_DIR_VARIABLE

    for name in list(os.environ):
        if name.startswith(("OPERATOR_IAC_", "OPERATOR_API_KEY", "GITHUB_")) or name in (
            "NO_COLOR", "CI", "FORCE_COLOR"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path_factory.mktemp("revision-cache")))
    yield
    # Each test's runs end with it: their journal lock files would stay open otherwise, one
    # per test's cache folder, for as long as the worker lives.
    from operator_iac.state.journal import end_leases

    end_leases()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``operator-iac`` in-process through its real error boundary."""

    def invoke(*args: str) -> CliResult:
        capsys.readouterr()
        code = run(list(args))
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return invoke


# ---- the Operator emulator ---------------------------------------------------------------

# Procedures step fast in tests; everything else keeps the emulator's defaults.
_EMULATOR_TEST_OPTIONS: dict[str, Any] = {"procedure_step_s": 0.01}


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., EmulatorServer]]:
    """Start emulators (``EmulatorServer`` options as keyword arguments) on free loopback
    ports; all of them are stopped after the test."""
    from operator_iac.emulator.server import EmulatorServer

    started: list[EmulatorServer] = []

    def start(**options: Any) -> EmulatorServer:
        server = EmulatorServer("127.0.0.1", 0, **{**_EMULATOR_TEST_OPTIONS, **options})
        server.start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def emulator(emulator_factory: Callable[..., EmulatorServer]) -> EmulatorServer:
    """A running emulator with in-memory state: ``.url``, ``.ws_url``, ``.api_key``, and
    fault / compatibility controls (``fail_next``, ``set_faults``, ``set_compat`` ...)."""
    return emulator_factory()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without the waits between them, for tests about how a run of failures ends,
    not how long it takes (``Retry-After: 0`` falls back to backoff)."""
    monkeypatch.setattr("operator_iac.api.retry.backoff_delay", lambda *_: 0.0)
