"""Agent file text: YAML as people write it, read back exactly by the project's own loader.

Written with ruamel.yaml, the library that also edits agent files in place (``pull``,
``yaml_round_trip``), so the project writes YAML one way: YAML 1.2, as the project loader
reads it. Multi-line strings become literal blocks (``|``); short lists of scalars and small
mappings of scalars inside lists are written in flow style (``[English, Spanish]``,
``{ns: acme, name: lookup_order}``); top-level sections are separated by a blank line. A
string the project loader would read as something else written plain (``1e5``, ``null``) is
double-quoted. As a last safeguard the text is parsed back with the project loader; if that
ever disagrees with the data, the file is written with every string quoted instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from operator_iac.errors import DeclarationError, OperationError
from operator_iac.importing.yaml_round_trip import WIDTH, dump
from operator_iac.spec.loader import parse_yaml

FLOW_MAX_WIDTH = 72
# Depth of ``config.runtime.prompt`` (the file's top level is depth 0).
_FLOW_MAPPING_DEPTH = 3
_SCALARS = (str, int, float, bool)
_PROBE = Path("value.yaml")


def _writer(quote_all: bool = False) -> YAML:
    yaml = YAML()
    yaml.width = WIDTH
    yaml.indent(mapping=2, sequence=4, offset=2)
    if quote_all:
        yaml.default_style = '"'  # type: ignore[assignment]  # typed None upstream, takes a style
    return yaml


def render_document(data: dict[str, Any], header: str = "") -> str:
    """The text of an agent file holding ``data``; ``header`` becomes leading comment lines."""
    yaml = _writer()
    text = _comment(header) + "".join(_section(key, value, yaml) for key, value in data.items())
    if _reads_back(text, data):
        return text
    plain = dump(_writer(quote_all=True), data)
    if _reads_back(plain, data):
        return _comment(header) + plain
    raise OperationError("cannot write the imported agent as YAML that reads back the same")


def _section(key: str, value: Any, yaml: YAML) -> str:
    """One top-level key; a mapping or list value gets a blank line before it."""
    text = dump(yaml, CommentedMap([(key, _styled(value))]))
    return "\n" + text if isinstance(value, dict | list) else text


def _styled(value: Any, depth: int = 1, in_list: bool = False) -> Any:
    """``value`` as ruamel.yaml nodes: strings styled so that they read back, and small
    collections in flow style: lists of scalars anywhere, mappings of scalars inside lists or
    nested below a config section (``channel:`` and its peers stay blocks, as people write
    them)."""
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        sequence = CommentedSeq(_styled(item, depth + 1, in_list=True) for item in value)
        if _flowable(value):
            sequence.fa.set_flow_style()
        return sequence
    if isinstance(value, dict):
        mapping = CommentedMap((k, _styled(v, depth + 1, in_list)) for k, v in value.items())
        if (in_list or depth >= _FLOW_MAPPING_DEPTH) and _flowable(value):
            mapping.fa.set_flow_style()
        return mapping
    return value


def _string(value: str) -> str:
    if "\n" in value:
        return LiteralScalarString(value)
    return value if _reads_back_as_string(value) else DoubleQuotedScalarString(value)


def _reads_back_as_string(value: str) -> bool:
    """Whether ``value`` written plain is read as this same string by the project loader."""
    if value == "" or value != value.strip():
        return False
    try:
        return parse_yaml(f"v: {value}\n", _PROBE).data == {"v": value}
    except DeclarationError:
        return False


def _flowable(value: list[Any] | dict[str, Any]) -> bool:
    """Short collections of single-line scalars read best on one line."""
    items = list(value.values()) if isinstance(value, dict) else value
    if not items or not all(isinstance(i, _SCALARS) for i in items):
        return False
    if any(isinstance(i, str) and "\n" in i for i in items):
        return False
    width = sum(len(str(i)) + 2 for i in items) + sum(len(str(k)) + 2 for k in value
                                                       if isinstance(value, dict))
    return width <= FLOW_MAX_WIDTH


def _reads_back(text: str, data: dict[str, Any]) -> bool:
    try:
        return parse_yaml(text, _PROBE).data == data
    except DeclarationError:
        return False


def _comment(header: str) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
