"""Agent file text: YAML as people write it, read back exactly by the project's own loader.

Multi-line strings become literal blocks (``|``); short lists of scalars and small mappings of
scalars inside lists are written in flow style (``[English, Spanish]``,
``{ns: acme, name: lookup_order}``); top-level sections are separated by a blank line. The
project loader follows the YAML 1.2 core schema while PyYAML writes YAML 1.1, so a string such
as ``1e5`` or ``0o17``, plain in 1.1 but a number in 1.2, is quoted. As a last safeguard the
text is parsed back with the project loader; if that ever disagrees with the data, the file is
written with every string quoted instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from operator_iac.errors import DeclarationError, OperationError
from operator_iac.spec.loader import parse_yaml

FLOW_MAX_WIDTH = 72
# Depth of ``config.runtime.prompt`` (the file's top level is depth 0).
_FLOW_MAPPING_DEPTH = 3
_WIDTH = 4096  # never fold long lines: a folded plain scalar is legal but hard to read
_SCALARS = (str, int, float, bool)
_PROBE = Path("value.yaml")


class _FlowList(list[Any]):
    pass


class _FlowDict(dict[str, Any]):
    pass


class _Dumper(yaml.SafeDumper):
    """SafeDumper with this module's string styles and indented block sequences."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    style = None if _reads_back_as_string(value) else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_flow_list(dumper: yaml.SafeDumper, value: _FlowList) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


def _represent_flow_dict(dumper: yaml.SafeDumper, value: _FlowDict) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_FlowList, _represent_flow_list)
_Dumper.add_representer(_FlowDict, _represent_flow_dict)


def _reads_back_as_string(value: str) -> bool:
    """Whether ``value`` written plain is read as this same string by the project loader."""
    if value == "" or value != value.strip():
        return False
    try:
        return parse_yaml(f"v: {value}\n", _PROBE).data == {"v": value}
    except DeclarationError:
        return False


def render_document(data: dict[str, Any], header: str = "") -> str:
    """The text of an agent file holding ``data``; ``header`` becomes leading comment lines."""
    text = _comment(header) + "".join(_section(key, value) for key, value in data.items())
    if _reads_back(text, data):
        return text
    plain = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_style='"')
    if _reads_back(plain, data):
        return _comment(header) + plain
    raise OperationError("cannot write the imported agent as YAML that reads back the same")


def _section(key: str, value: Any) -> str:
    """One top-level key; a mapping or list value gets a blank line before it."""
    text = yaml.dump({key: _styled(value)}, Dumper=_Dumper, sort_keys=False,
                     allow_unicode=True, width=_WIDTH)
    return "\n" + text if isinstance(value, dict | list) else text


def _styled(value: Any, depth: int = 1, in_list: bool = False) -> Any:
    """``value`` with small collections marked for flow style: lists of scalars anywhere,
    mappings of scalars inside lists or nested below a config section (``channel:`` and
    its peers stay blocks, as people write them)."""
    if isinstance(value, list):
        items = [_styled(item, depth + 1, in_list=True) for item in value]
        return _FlowList(items) if _flowable(value) else items
    if isinstance(value, dict):
        styled = {k: _styled(v, depth + 1, in_list) for k, v in value.items()}
        nested = in_list or depth >= _FLOW_MAPPING_DEPTH
        return _FlowDict(styled) if nested and _flowable(value) else styled
    return value


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
