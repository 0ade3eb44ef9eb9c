"""Indentation mistakes explained at the line that is wrong.

A line indented one space too far or too short rarely breaks YAML where it stands: the parser
reads it as the continuation of the value above ("mapping values are not allowed here") or
fails on the next line ("did not find expected key"), and says nothing about indentation.
``explain_indentation`` looks at the lines around such an error the way a reader would: two
neighbouring lines that should be siblings start in different columns, and the one whose
column the other lines of the same block do not share is the wrong one.

It is a heuristic over the text (the parser has given up, so there is no tree to ask): it
answers only when it finds two such columns, and otherwise leaves the parser's own message.
Lines inside block scalars (``|``, ``>``) and comment lines are not structure and are skipped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

# The parser's problems that an indentation mistake causes (libyaml's words, then PyYAML's).
_PROBLEMS = ("mapping values are not allowed", "did not find expected key",
             "did not find expected '-' indicator", "expected <block end>",
             "could not find expected ':'", "did not find expected <document start>")
# How many lines above the one the parser stopped at may be the wrong one.
_WINDOW = 6
_KEY = re.compile(r"""^((?:[^\s#'"{\[][^:#]*?)|'[^']*'|"[^"]*")\s*:(?:\s|$)""")
_BLOCK_SCALAR = re.compile(r":\s*[|>][-+0-9]*\s*(#.*)?$")


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based
    columns: tuple[int, ...]  # where each "- " item and the content start, 0-based
    name: str  # the mapping key the line starts with, if any
    opens: bool  # its value starts on the lines below (``key:`` or a block scalar)
    block: bool = False  # a block scalar (``|``, ``>``) starts on it
    item: bool = False  # it starts with a list item's ``- ``

    @property
    def first(self) -> int:
        return self.columns[0]


def explain_indentation(text: str, problem: str, line: int,
                        parses: Callable[[str], bool]) -> tuple[int, int, str] | None:
    """``(line, column, message)`` naming the mis-indented line, for a syntax error whose
    ``problem`` was found at 1-based ``line``; None when no single re-indented line nearby
    makes the text parse. ``parses`` tells whether a text is valid YAML.

    Every line a few lines above the error (and the error's own) is tried at every column its
    neighbours use; of the moves that make the text parse, the one that leaves the most regular
    indentation wins (one indentation step from each key to its children, as people write),
    then the one nearest the error.
    """
    if not problem.startswith(_PROBLEMS):
        return None
    lines = _structure(text)
    at = next((i for i, item in enumerate(lines) if item.number >= line), len(lines))
    window = lines[max(0, at - _WINDOW):at + 1]
    raw = text.split("\n")
    fixes: list[tuple[int, int, int, _Line, int]] = []
    for distance, item in enumerate(reversed(window)):
        targets = {c for other in window for c in other.columns} - {item.first}
        for column in sorted(targets):
            moved = list(raw)
            moved[item.number - 1] = " " * column + raw[item.number - 1].lstrip(" ")
            fixed = "\n".join(moved)
            if parses(fixed):
                after = _structure(fixed)
                irregular = _irregular_steps(after) + _empty_keys(after)
                fixes.append((irregular, distance, abs(column - item.first), item, column))
    if not fixes:
        return None
    _, _, _, wrong, column = min(fixes, key=lambda fix: fix[:3])
    return wrong.number, wrong.first + 1, _message(wrong, column, lines)


def _empty_keys(lines: list[_Line]) -> int:
    """How many ``key:`` lines have nothing below them (people rarely mean an empty value)."""
    empty = 0
    for item, after in zip(lines, [*lines[1:], None], strict=True):
        if not item.opens or item.block:
            continue
        deeper = after is not None and (after.first > item.columns[-1] or
                                        (after.first == item.columns[-1] and after.item))
        empty += not deeper
    return empty


def _irregular_steps(lines: list[_Line]) -> int:
    """How many lines are indented from the key above them by another step than the file's
    usual one; lists are judged against the file's usual list style (indented, or
    ``key:`` then ``- item`` in the same column)."""
    keys: list[int] = []
    items: list[int] = []
    for index, item in enumerate(lines):
        parent = next((p for p in reversed(lines[:index]) if p.first < item.first or
                       (p.first == item.first and item.item and not p.item)), None)
        if parent is not None and parent.opens and not parent.block:
            (items if item.item else keys).append(item.first - parent.columns[-1])
    usual_key = Counter(keys).most_common(1)
    usual_item = Counter(items).most_common(1)
    return (sum(1 for step in keys if usual_key and step != usual_key[0][0])
            + sum(1 for step in items if usual_item and step != usual_item[0][0]))


def _structure(text: str) -> list[_Line]:
    """The lines that carry structure: not blank, not comments, not block scalar content."""
    found: list[_Line] = []
    block_indent: int | None = None
    for number, raw in enumerate(text.split("\n"), 1):
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if block_indent is not None:
            if not stripped or indent > block_indent:
                continue
            block_indent = None
        if not stripped or stripped.startswith("#"):
            continue
        columns = [indent]
        rest = raw[indent:]
        while rest.startswith("- ") or rest == "-":
            offset = len(rest) - len(rest[1:].lstrip(" "))
            rest = rest[offset:]
            if rest:
                columns.append(columns[-1] + offset)
        key = _KEY.match(rest)
        opens = bool(key) and (rest[key.end():].strip().startswith("#")
                               or not rest[key.end():].strip()) if key else False
        block = bool(_BLOCK_SCALAR.search(rest))
        if block:
            opens, block_indent = True, columns[-1] if key else indent
        found.append(_Line(number, tuple(columns), key.group(1).strip("'\"") if key else "",
                           opens, block, raw[indent:].startswith("-")))
    return found


def _message(wrong: _Line, column: int, lines: list[_Line]) -> str:
    what = f"{wrong.name!r}" if wrong.name else "this line"
    sibling = _sibling(wrong, column, lines)
    where = f" (like line {sibling.number})" if sibling is not None else ""
    return (f"wrong indentation: {what} starts in column {wrong.first + 1}; it belongs in "
            f"column {column + 1}{where}. YAML reads the structure from indentation: the keys "
            "of one mapping, and the items of one list, start in the same column, and a line "
            "indented further than the key above it is read as part of that key's value")


def _sibling(wrong: _Line, column: int, lines: list[_Line]) -> _Line | None:
    """The nearest line in ``column`` of the same block as ``wrong`` (no line in between
    starts further left)."""
    index = lines.index(wrong)
    for side in (lines[index + 1:], list(reversed(lines[:index]))):
        for item in side:
            if item.first < column:
                break
            if item.first == column:
                return item
    return None
