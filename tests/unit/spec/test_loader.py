"""The YAML loader: safe, strict, bounded, and every problem at file:line:column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from operator_iac.errors import DeclarationError, Diagnostic
from operator_iac.spec.loader import MAX_FILE_BYTES, load_yaml, parse_yaml, parsed_ahead

WriteFile = Callable[..., Path]


def only_diagnostic(path: Path) -> Diagnostic:
    with pytest.raises(DeclarationError) as caught:
        load_yaml(path)
    assert len(caught.value.diagnostics) == 1
    return caught.value.diagnostics[0]


def test_positions_of_values_and_keys_are_one_based(agent_file: WriteFile) -> None:
    path = agent_file("name: x\nconfig:\n  runtime:\n    model: gpt\n  tools: [a, b]\n")
    doc = load_yaml(path)
    assert doc.data == {"name": "x", "config": {"runtime": {"model": "gpt"}, "tools": ["a", "b"]}}
    assert (doc.values[("config", "runtime", "model")].line,
            doc.values[("config", "runtime", "model")].column) == (4, 12)
    assert doc.keys[("config", "tools")].line == 5
    assert doc.values[("config", "tools", 1)].column == 14


def test_locate_falls_back_to_the_nearest_existing_parent(agent_file: WriteFile) -> None:
    doc = load_yaml(agent_file("a: 1\nconfig:\n  runtime:\n    model: gpt\n"))
    assert doc.locate(("config", "runtime", "prompt", "text")).line == 3


def test_malformed_yaml_points_at_the_line(agent_file: WriteFile) -> None:
    found = only_diagnostic(agent_file("name: x\ndescription: [unclosed\nconfig: {}\n"))
    assert found.file == "agents/agent.yaml"
    assert found.line == 3
    assert "invalid YAML" in found.message


def test_missing_colon_points_at_the_key_not_the_next_line(agent_file: WriteFile) -> None:
    found = only_diagnostic(agent_file("name: x\ndescription bar\nconfig: {}\n"))
    assert (found.line, found.column) == (2, 1)
    assert "expected ':'" in found.message


def test_tab_indentation_is_reported_as_such(agent_file: WriteFile) -> None:
    found = only_diagnostic(agent_file("name: x\nconfig:\n\truntime: {}\n"))
    assert found.line == 3
    assert "tab character" in found.message and "spaces" in found.message


def test_duplicate_keys_are_rejected_with_both_positions(agent_file: WriteFile) -> None:
    found = only_diagnostic(agent_file("name: x\nconfig:\n  a: 1\n  b: 2\n  a: 3\n"))
    assert (found.line, found.column) == (5, 3)
    assert found.message == "duplicate key 'a' (first defined at line 3, column 3)"


def test_every_duplicate_key_is_reported(agent_file: WriteFile) -> None:
    with pytest.raises(DeclarationError) as caught:
        load_yaml(agent_file("a: 1\na: 2\nb: 1\nb: 2\n"))
    assert [d.line for d in caught.value.diagnostics] == [2, 4]


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n"])
def test_empty_file_is_rejected(agent_file: WriteFile, content: str) -> None:
    found = only_diagnostic(agent_file(content))
    assert (found.file, found.line) == ("agents/agent.yaml", 1)
    assert "file is empty" in found.message


def test_non_utf8_file_points_at_the_first_bad_byte(agent_file: WriteFile) -> None:
    found = only_diagnostic(agent_file(b"name: x\ndescription: caf\xe9 menu\n"))
    assert (found.line, found.column) == (2, 17)
    assert "not valid UTF-8" in found.message


def test_utf8_with_bom_is_accepted(agent_file: WriteFile) -> None:
    doc = load_yaml(agent_file("\ufeffname: café\n".encode()))
    assert doc.data == {"name": "café"}


def test_a_10_mb_file_is_refused_before_parsing(agent_file: WriteFile) -> None:
    line = "description: " + "x" * 90 + "\n"
    path = agent_file("name: big\n" + line * (10 * 1024 * 1024 // len(line)))
    assert path.stat().st_size > 10 * 1_000_000 > MAX_FILE_BYTES
    found = only_diagnostic(path)
    assert (found.file, found.line) == ("agents/agent.yaml", 1)
    assert "larger than" in found.message


def test_an_alias_bomb_is_stopped(agent_file: WriteFile) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    found = only_diagnostic(agent_file("\n".join(levels) + "\n"))
    assert "YAML nodes" in found.message


def test_more_than_one_document_is_an_error(agent_file: WriteFile) -> None:
    found = only_diagnostic(agent_file("a: 1\n---\nb: 2\n"))
    assert found.line == 2
    assert "single document" in found.message


def test_yaml_1_2_core_schema_keeps_words_and_dates_as_strings(agent_file: WriteFile) -> None:
    doc = load_yaml(agent_file(
        "on: [draft]\nno: yes\nday: 2024-01-31\nn: 0x1f\nf: 1.5\nt: true\nz: ~\nq: '7'\n"))
    assert doc.data == {"on": ["draft"], "no": "yes", "day": "2024-01-31", "n": 31, "f": 1.5,
                        "t": True, "z": None, "q": "7"}


def test_merge_keys_fill_in_without_overriding(agent_file: WriteFile) -> None:
    doc = load_yaml(agent_file("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n"))
    assert doc.data["child"] == {"x": 1, "y": 3}
    assert doc.keys[("child", "y")].line == 4


def test_object_tags_are_refused(agent_file: WriteFile) -> None:
    found = only_diagnostic(agent_file("a: !!python/object:os.system {}\n"))
    assert found.line == 1
    assert "unsupported YAML tag" in found.message


def test_non_scalar_keys_are_refused(agent_file: WriteFile) -> None:
    found = only_diagnostic(agent_file("? [a, b]\n: 1\n"))
    assert "mapping keys must be plain strings" in found.message


def test_a_document_parsed_ahead_is_handed_to_the_next_parse_of_that_text_once(
        agent_file: WriteFile) -> None:
    path = agent_file("name: x\nconfig: {tools: [a]}\n")
    text = path.read_text(encoding="utf-8")
    kept = parse_yaml(text, path, keep=True)  # outside the block: nothing is kept
    assert load_yaml(path) is not kept
    with parsed_ahead():
        kept = parse_yaml(text, path, keep=True)
        assert parse_yaml(text, path, keep=True) is kept  # another look ahead shares it
        assert parse_yaml("name: y\n", path).data == {"name": "y"}  # another text: parsed
        taken = load_yaml(path)
        again = load_yaml(path)
    assert taken is kept and again is not kept  # once
    assert again.data == kept.data and again.values == kept.values
    with parsed_ahead():
        parse_yaml(text, path, keep=True)
    assert load_yaml(path) is not kept  # the block's end forgets what it kept
