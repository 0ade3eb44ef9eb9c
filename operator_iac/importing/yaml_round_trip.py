"""Agent files edited as a round trip (ruamel.yaml): comments, key order, quoting and flow
styles stay as the file has them, new lines follow the file's indentation, and values taken
from the platform are written as a declaration writes them (``${`` escaped, multi-line text
as a literal block, small items in flow style beside flow-style siblings).

A round trip through ruamel.yaml is faithful in content but not always in spelling (it
writes ``[{name: Robin}]`` as ``[name: Robin]``), so ``keep_unchanged_lines`` puts back,
byte for byte, every line of the file that the edit did not touch.
"""

from __future__ import annotations

import io
import re
from difflib import SequenceMatcher
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from operator_iac.importing.pull_text import escape_text

# Never fold a long line: a folded plain scalar is legal but hard to read, and an edited file
# keeps the lines it has.
WIDTH = 4096


def round_trip(like: str = "") -> YAML:
    """A round-trip loader and dumper; new lines follow the indentation of the text ``like``
    (the file being edited)."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = WIDTH
    _match_indent(yaml, like)
    return yaml


def dump(yaml: YAML, document: Any) -> str:
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()


def keep_unchanged_lines(original: str, baseline: str, edited: str) -> str:
    """``edited`` with every line that the edit did not touch written as in ``original``.

    ``baseline`` is ``original`` loaded and dumped with no change, ``edited`` the same after
    the edit: the lines where ``baseline`` and ``edited`` differ are the edit, and the lines
    where ``original`` and ``baseline`` differ are the dumper's re-spelling. Each re-spelled
    stretch that the edit does not touch is taken from ``original`` (lines the dumper dropped
    included); one that it touches is written as the edit has it. Pure: texts in and out.
    """
    orig, base, new = (text.splitlines(keepends=True) for text in (original, baseline, edited))
    kept = [True] * len(base)
    inserted: dict[int, list[str]] = {}  # lines the edit writes before baseline line j
    for tag, j1, j2, k1, k2 in SequenceMatcher(a=base, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            kept[j1:j2] = [False] * (j2 - j1)
            inserted.setdefault(j1, []).extend(new[k1:k2])
    out: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=orig, b=base, autojunk=False).get_opcodes():
        if tag == "equal":
            for offset in range(j2 - j1):
                out.extend(inserted.pop(j1 + offset, []))
                out.extend(orig[i1 + offset:i1 + offset + 1] if kept[j1 + offset] else [])
        elif all(kept[j1:j2]) and not any(j in inserted for j in range(j1 + 1, j2)):
            out.extend(inserted.pop(j1, []))
            out.extend(orig[i1:i2])
        else:
            for j in range(j1, j2):
                out.extend(inserted.pop(j, []))
                out.extend(base[j:j + 1] if kept[j] else [])
    out.extend(inserted.pop(len(base), []))
    return "".join(out)


def _match_indent(yaml: YAML, text: str) -> None:
    """Write new lines with the indentation ``text`` uses (2 spaces when it shows none)."""
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


def literal(value: Any, *, flow: bool | None = None) -> Any:
    """A platform value as the file writes it: ``${`` escaped, long text as a block.

    ``flow``: the style of the value it replaces (True: flow, False: block); None, for a new
    value, writes a list of plain values in flow style and everything else as a block."""
    if isinstance(value, str):
        text = escape_text(value)
        return LiteralScalarString(text) if "\n" in text else text
    plain = isinstance(value, dict | list) and \
        all(not isinstance(v, dict | list) for v in (value.values() if isinstance(value, dict)
                                                     else value))
    if isinstance(value, dict):
        mapping = CommentedMap((k, literal(v)) for k, v in value.items())
        if flow and plain:
            mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, list):
        sequence = CommentedSeq(literal(v) for v in value)
        if flow or (flow is None and plain):
            sequence.fa.set_flow_style()
        return sequence
    return value


def styled(value: Any, current: Any) -> Any:
    """``value`` in the style of the value it replaces (a block stays a block)."""
    if isinstance(value, str) and isinstance(current, LiteralScalarString):
        return LiteralScalarString(value)
    if isinstance(value, list | dict) and not isinstance(value, CommentedSeq | CommentedMap):
        return literal(value, flow=style_of(current))
    return value


def is_flow(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and bool(node.fa.flow_style())


def style_of(node: Any) -> bool | None:
    """True for a flow collection, False for a block one, None for anything else."""
    return is_flow(node) if isinstance(node, CommentedMap | CommentedSeq) else None
