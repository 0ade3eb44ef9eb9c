"""The CLI's error boundary: exit codes and one-line messages, never tracebacks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from operator_iac import __version__


def test_version_prints_the_package_version(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_unknown_command_is_a_usage_error_with_exit_3(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("no-such-command")
    assert result.exit_code == 3
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr


def test_any_no_color_value_is_accepted(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from operator_iac.cli.output import colour_enabled

    monkeypatch.setenv("NO_COLOR", "please")
    result = cli("--help")
    assert result.exit_code == 0, result.stderr
    assert colour_enabled(stream=type("Tty", (), {"isatty": lambda self: True})()) is False


def test_debug_variable_is_read_as_click_reads_it(
        cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = str(tmp_path / "operator-iac.yaml")
    monkeypatch.setenv("OPERATOR_IAC_DEBUG", "false")
    quiet = cli("--project-file", missing, "validate")
    assert quiet.exit_code == 3
    assert "Traceback" not in quiet.stderr
    monkeypatch.setenv("OPERATOR_IAC_DEBUG", "yes")
    loud = cli("--project-file", missing, "validate")
    assert loud.exit_code == 3
    assert "Traceback" in loud.stderr
