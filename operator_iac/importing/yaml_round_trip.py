"""Agent files edited as a round trip (ruamel.yaml): comments, key order, quoting and flow
styles stay as the file has them, new lines follow the file's indentation, and values taken
from the platform are written as a declaration writes them (``${`` escaped, multi-line text
as a literal block, small items in flow style beside flow-style siblings)."""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from operator_iac.importing.pull_text import escape_text


def round_trip() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the file did not fold
    return yaml


def dump(yaml: YAML, document: Any) -> str:
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()


def match_indent(yaml: YAML, text: str) -> None:
    """Write new lines with the indentation the file uses."""
    mapping = _indent_after_key(text) or 2
    dash = re.search(r"^( *)- ", text, re.MULTILINE)
    offset = 0
    if dash is not None:
        parent = _parent_indent(text, dash.start())
        offset = max(len(dash.group(1)) - parent, 0)
    yaml.indent(mapping=mapping, sequence=mapping + offset, offset=offset)


def _indent_after_key(text: str) -> int | None:
    lines = text.splitlines()
    for index, line in enumerate(lines[:-1]):
        if re.match(r"^[A-Za-z_][\w-]*:\s*(#.*)?$", line):
            following = next((n for n in lines[index + 1:] if n.strip() and
                              not n.lstrip().startswith("#")), "")
            indent = len(following) - len(following.lstrip(" "))
            if indent and not following.lstrip().startswith("-"):
                return indent
    return None


def _parent_indent(text: str, position: int) -> int:
    before = text[:position].rstrip("\n").splitlines()
    for line in reversed(before):
        if line.strip() and not line.lstrip().startswith("#"):
            return len(line) - len(line.lstrip(" "))
    return 0


def literal(value: Any, *, flow: bool = False) -> Any:
    """A platform value as the file writes it: ``${`` escaped, long text as a block."""
    if isinstance(value, str):
        text = escape_text(value)
        return LiteralScalarString(text) if "\n" in text else text
    if isinstance(value, dict):
        mapping = CommentedMap((k, literal(v)) for k, v in value.items())
        if flow and all(not isinstance(v, dict | list) for v in value.values()):
            mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, list):
        sequence = CommentedSeq(literal(v) for v in value)
        if flow or all(not isinstance(v, dict | list) for v in value):
            sequence.fa.set_flow_style()
        return sequence
    return value


def styled(value: Any, current: Any) -> Any:
    """``value`` in the style of the value it replaces (a block stays a block)."""
    if isinstance(value, str) and isinstance(current, LiteralScalarString):
        return LiteralScalarString(value)
    if isinstance(value, list | dict) and not isinstance(value, CommentedSeq | CommentedMap):
        return literal(value, flow=is_flow(current))
    return value


def is_flow(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and bool(node.fa.flow_style())
