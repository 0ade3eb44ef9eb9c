"""Reading ``operator-iac`` command lines out of shell text (CI definitions, the README) and
parsing them against the real click command tree without running anything."""

from __future__ import annotations

import re
import shlex

import click

from operator_iac.cli.main import cli as root_command

_SHELL_OPERATORS = set("();<>|&")
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


# ---- reading CI definitions ------------------------------------------------------------------


def invocations(script: str) -> list[list[str]]:
    """The arguments of every ``operator-iac`` command in a shell script (GitHub expressions
    replaced by a placeholder, each command cut at the first shell operator)."""
    script = _EXPRESSION.sub("EXPRESSION", script).replace("\\\n", " ")
    found = []
    for line in script.splitlines():
        if "operator-iac" not in line:
            continue  # prose may hold unbalanced quotes (apostrophes)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        for index, token in enumerate(tokens):
            if token != "operator-iac" and not token.endswith("/operator-iac"):
                continue
            args = []
            for word in tokens[index + 1:]:
                if set(word) <= _SHELL_OPERATORS:
                    break
                args.append(word)
            found.append(args)
    return found


def parse_invocation(args: list[str]) -> click.Context:
    """Parse ``operator-iac ARGS`` exactly as the CLI would, without running anything; an
    unknown command, option or value raises a click error."""
    group = root_command.make_context("operator-iac", list(args))
    state = vars(group)
    # Click 8.2+ keeps the subcommand in ``_protected_args``; older versions in
    # ``protected_args``; click 9 will leave everything in ``args``.
    rest = [*state.get("_protected_args", state.get("protected_args", [])), *group.args]
    name, command, command_args = root_command.resolve_command(group, rest)
    assert name is not None and command is not None
    return command.make_context(name, command_args, parent=group)
