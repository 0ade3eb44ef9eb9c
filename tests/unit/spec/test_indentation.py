"""A mis-indented line is reported at the line that is wrong, with what indentation means,
instead of the parser's "mapping values are not allowed" on the line after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_iac.errors import DeclarationError, Diagnostic
from operator_iac.spec.loader import parse_yaml

REPO = Path(__file__).resolve().parents[3]
INIT_AGENT = REPO / "operator_iac" / "services" / "init_files" / "agents" / "front-desk.yaml"
AGENT = """\
kind: conversational_agent
name: Front desk
config:
  runtime:
    model: openai/gpt-4o
    prompt:
      type: fixed
      text: |
        You are Alex.
          Greet the customer.
    variables:
      - name: customer
        description: The customer's name.
        default_value: there
"""


def _error(text: str) -> Diagnostic:
    with pytest.raises(DeclarationError) as caught:
        parse_yaml(text, Path("agent.yaml"))
    [diagnostic] = caught.value.diagnostics
    return diagnostic


def _moved(text: str, line: int, spaces: int) -> str:
    lines = text.split("\n")
    lines[line - 1] = " " * spaces + lines[line - 1].lstrip(" ")
    return "\n".join(lines)


@pytest.mark.parametrize(("line", "spaces", "column"), [
    (5, 3, 5),   # under-indented: the parser fails on line 6, "mapping values not allowed"
    (5, 5, 5),   # over-indented: the parser fails on line 6, "did not find expected key"
    (2, 1, 1),   # read as the continuation of kind's value
    (13, 9, 9),  # a key of a list item's mapping
    (11, 5, 5),  # a key after a block scalar
])
def test_the_wrong_line_is_named_with_the_column_it_belongs_in(line: int, spaces: int,
                                                               column: int) -> None:
    found = _error(_moved(AGENT, line, spaces))
    assert (found.line, found.column) == (line, spaces + 1)
    assert found.message.startswith("wrong indentation: ")
    assert f"it belongs in column {column}" in found.message
    assert "YAML reads the structure from indentation" in found.message
    assert "mapping values" not in found.message


def test_the_message_names_the_key_and_a_line_that_is_right() -> None:
    found = _error(_moved(AGENT, 5, 3))
    assert found.message.startswith("wrong indentation: 'model' starts in column 4; it belongs "
                                    "in column 5 (like line 6).")


def test_other_syntax_errors_keep_their_own_message() -> None:
    found = _error("kind: conversational_agent\nname: [unclosed\n")
    assert not found.message.startswith("wrong indentation")
    assert _error("a: 1\n\tb: 2\n").message.startswith("tab character in indentation")


def test_most_single_line_mistakes_in_a_real_agent_file_are_blamed_on_their_line() -> None:
    """Every structural line of the agent file ``init`` writes, moved one or two columns
    either way: where that breaks the YAML, the message names the moved line far more often
    than not, and another line only rarely (a guess is still a guess: the two lines of a
    two-key mapping cannot tell which one moved)."""
    text = INIT_AGENT.read_text(encoding="utf-8")
    right = wrong = broken = 0
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        for spaces in {max(indent - 2, 0), max(indent - 1, 0), indent + 1, indent + 2} - {indent}:
            try:
                parse_yaml(_moved(text, number, spaces), Path("agent.yaml"))
            except DeclarationError as exc:
                found = exc.diagnostics[0]
                broken += 1
                if found.message.startswith("wrong indentation"):
                    right += found.line == number
                    wrong += found.line != number
    assert broken > 100
    assert right / broken >= 0.8 and wrong / broken <= 0.05, (right, wrong, broken)
