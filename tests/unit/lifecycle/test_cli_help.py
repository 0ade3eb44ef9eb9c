"""Each lifecycle command is registered and its ``--help`` carries examples."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(("command", "example"), [
    ("promote", "operator-iac promote --from staging --to production"),
    ("rollback", "operator-iac rollback appointment-booking --env production"),
    ("history", "operator-iac history appointment-booking --env production"),
    ("status", "operator-iac status --env production"),
])
def test_help_shows_examples(cli: Any, command: str, example: str) -> None:
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout and example in result.stdout
