"""``operator-iac --help`` lists the commands without importing them: their one-line summaries
come from ``cli.main.SUMMARIES``, kept equal to each command's own help here."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from operator_iac.cli.main import COMMANDS, SUMMARIES, cli, short_help


def test_every_command_has_a_summary() -> None:
    assert sorted(SUMMARIES) == sorted(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_summary_is_the_commands_own(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    for limit in (45, 100):
        assert short_help(name, limit) == command.get_short_help_str(limit)


def test_help_imports_no_command() -> None:
    probe = ("import sys\nfrom operator_iac.cli.main import run\n"
             "code = run(['--help'])\n"
             "loaded = [m for m in sys.modules if m.startswith(('operator_iac.cli.',"
             " 'operator_iac.services', 'pydantic', 'httpx'))]\n"
             "print(code, sorted(loaded), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    code, _, loaded = done.stderr.strip().partition(" ")
    assert code == "0" and "Commands:" in done.stdout and "validate" in done.stdout
    modules = set(eval(loaded))  # a list of module names printed by the probe
    commands = {target.partition(":")[0] for target in COMMANDS.values()}
    assert not modules & commands, modules & commands
    assert not {m for m in modules if not m.startswith("operator_iac.cli.")}, modules


def test_every_parallelism_option_reads_the_same_variable_and_default() -> None:
    """``OPERATOR_IAC_PARALLELISM`` set once in CI reaches every command that works in
    parallel, smoke's conversations included, and no command has a default of its own."""
    from operator_iac.defaults import PARALLELISM
    from operator_iac.settings import PARALLELISM_VARIABLE

    found = {}
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        commands = [command, *getattr(command, "commands", {}).values()]
        for each in commands:
            for param in each.params:
                if "--parallelism" in getattr(param, "opts", ()):
                    found[each.name] = (param.envvar, param.default)
    assert "smoke" in found and "apply" in found, found
    assert set(found.values()) == {(PARALLELISM_VARIABLE, PARALLELISM)}, found
