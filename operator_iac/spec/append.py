"""Adding an item to a top-level list of an agent file, leaving every other byte as it was.

People format, comment and order their agent files by hand; a tool that re-dumps the file
loses all of that. ``append_item`` inserts text only: after the last item of a block list
(indented like its items), in place of an empty value (``smoke:`` or ``smoke: []``), or, when
the key is absent, at the end of the file. A list written in flow style with items is
refused: it cannot take a block item without being rewritten. The result is parsed again
before it is returned, so a file is never left unreadable.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from operator_iac.errors import UsageError
from operator_iac.spec.loader import parse_yaml


def _indent(item: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line if line.strip() else line for line in item.splitlines(True))


def _value_of(text: str, key: str) -> yaml.Node | None:
    root = yaml.compose(text) if text.strip() else None
    if not isinstance(root, yaml.MappingNode):
        return None
    return next((value for name, value in root.value
                 if isinstance(name, yaml.ScalarNode) and name.value == key), None)


def append_item(text: str, key: str, item: str, path: Path) -> str:
    """``text`` with ``item`` (list item text at column 0, ending in a newline) appended to
    the top-level list ``key``; ``path`` names the file in messages."""
    value = _value_of(text, key)
    if value is None:
        body = text if text.endswith("\n") or not text else text + "\n"
        result = f"{body}\n{key}:\n{_indent(item, 2)}"
    elif isinstance(value, yaml.SequenceNode) and value.value and not value.flow_style:
        at = _after_item(text, value.value[-1].end_mark.index)
        head = text[:at] if text[:at].endswith("\n") else text[:at] + "\n"
        result = head + _indent(item, value.start_mark.column) + text[at:]
    elif _is_empty(value):
        start, stop = value.start_mark.index, value.end_mark.index
        rest = text[stop:]
        result = (text[:start].rstrip(" ") + "\n" + _indent(item, 2)
                  + (rest[1:] if rest.startswith("\n") else rest))
    else:
        raise UsageError(f"{path}: {key} is not a block list (one '- ' item per line), so the "
                         "test cannot be appended without rewriting it; add it by hand")
    parse_yaml(result, path)  # a DeclarationError here is a bug, never a broken file
    return result


def _after_item(text: str, end: int) -> int:
    """Where the line after the last item starts: its node ends at the next token, so the
    blank and comment lines before it (which belong to what follows) are stepped back over."""
    newline = text.find("\n", end - 1)
    at = len(text) if newline < 0 else newline + 1
    while at > 0:
        start = text.rfind("\n", 0, at - 1) + 1
        line = text[start:at].strip()
        if line and not line.startswith("#"):
            break
        at = start
    return at


def _is_empty(value: yaml.Node) -> bool:
    if isinstance(value, yaml.ScalarNode):
        return value.value == "" or value.value in ("~", "null")
    return isinstance(value, yaml.SequenceNode) and not value.value
