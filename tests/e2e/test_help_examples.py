"""Every example in every command's ``--help`` is a command line the CLI accepts."""

from __future__ import annotations

import pytest

from operator_iac.cli.main import COMMANDS, cli

from .cli_lines import invocations, parse_invocation
from .conftest import REPO


def _examples() -> list[tuple[str, list[str]]]:
    found = []
    for name in sorted(COMMANDS):
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None and command.help, name
        assert "Example" in command.help, f"operator-iac {name} --help has no example"
        examples = command.help.split("Example", 1)[1]
        found += [(name, args) for args in invocations(examples)]
    return found


def test_every_command_has_examples() -> None:
    names = {name for name, _ in _examples()}
    assert names == set(COMMANDS)


@pytest.mark.parametrize(("name", "args"), _examples(),
                         ids=lambda value: " ".join(value) if isinstance(value, list) else value)
def test_help_examples_parse(name: str, args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    parse_invocation(args)
