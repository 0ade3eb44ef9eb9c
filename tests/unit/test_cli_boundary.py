"""The CLI's error boundary: exit codes and one-line messages, never tracebacks."""

from __future__ import annotations

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
