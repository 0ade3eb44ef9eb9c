"""Shared fixtures: a hermetic environment for every test and a CLI runner."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from operator_iac.cli.main import run


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test depends on the shell it was started from."""
    import os

    for name in list(os.environ):
        if name.startswith(("OPERATOR_IAC_", "OPERATOR_API_KEY", "GITHUB_")) or name in (
            "NO_COLOR", "CI", "FORCE_COLOR"):
            monkeypatch.delenv(name, raising=False)
    yield


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
