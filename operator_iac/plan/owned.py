"""Fields the dashboard owns (``dashboard_owned``, parsed by ``operator_iac.spec.owned``): the
planner compares neither side there and apply writes the platform's value back.

- ``strip_owned`` takes the owned fields out of a content (``normalise.content``'s shape:
  ``name``, ``description``, ``config``, ``postprocess_agents``), so that diffs, content
  hashes and equality never look at them. The same function is applied to the declaration
  and to every remote revision, so a list item owned by the dashboard is left out on both
  sides rather than shown as added or removed.
- ``keep_owned`` makes a request body hold, at every owned path, the value of the revision it
  is written over (the released one): a field the dashboard owns is never overwritten. On a
  create there is no such revision, and the declared value is written as the first one.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from operator_iac.plan.marker import parse_marker, strip_marker, with_marker
from operator_iac.plan.normalise import prepare
from operator_iac.spec.owned import Segment, parse_path
from operator_iac.state.snapshot import RemoteRevision

_MISSING = object()


def strip_owned(content: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """``content`` without the owned fields (a copy; unchanged when nothing is owned)."""
    parsed = [segments for segments in map(parse_path, paths) if segments]
    if not parsed:
        return content
    stripped = copy.deepcopy(content)
    for segments in parsed:
        _remove(stripped, segments)
    return stripped


def strip_owned_config(config: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """A config without the owned ``config.*`` fields."""
    stripped: dict[str, Any] = strip_owned({"config": config}, paths)["config"]
    return stripped


def keep_owned(body: dict[str, Any], base: RemoteRevision | None,
               paths: Iterable[str]) -> dict[str, Any]:
    """``body`` with the owned fields as ``base`` holds them (removed where it has none);
    the description keeps ``body``'s marker. Without ``base`` (a create), ``body`` as is."""
    parsed = [segments for segments in map(parse_path, paths) if segments]
    if base is None or not parsed:
        return body
    kept = copy.deepcopy(body)
    source = {"name": base.name, "description": base.description,
              "config": prepare(base.config), "postprocess_agents": list(base.postprocess_agents)}
    for segments in parsed:
        value = _get(source, segments)
        if value is _MISSING:
            _remove(kept, segments)
        else:
            _set(kept, segments, copy.deepcopy(value))
    marker = parse_marker(body.get("description"))
    if "description" in kept and marker is not None:
        kept["description"] = with_marker(strip_marker(kept["description"]), marker)
    return kept


# ---- walking a path ---------------------------------------------------------------------


def _selected(item: Any, select: tuple[str, str]) -> bool:
    field, value = select
    return isinstance(item, dict) and field in item and str(item[field]) == value


def _get(node: Any, segments: tuple[Segment, ...]) -> Any:
    for segment in segments:
        if not isinstance(node, dict) or segment.name not in node:
            return _MISSING
        node = node[segment.name]
        if segment.select is not None:
            node = next((i for i in node if _selected(i, segment.select)), _MISSING) \
                if isinstance(node, list) else _MISSING
            if node is _MISSING:
                return _MISSING
    return node


def _remove(node: Any, segments: tuple[Segment, ...]) -> None:
    segment, rest = segments[0], segments[1:]
    if not isinstance(node, dict) or segment.name not in node:
        return
    if segment.select is None:
        if rest:
            _remove(node[segment.name], rest)
        else:
            del node[segment.name]
        return
    items = node[segment.name]
    if not isinstance(items, list):
        return
    if rest:
        for item in items:
            if _selected(item, segment.select):
                _remove(item, rest)
    else:
        node[segment.name] = [i for i in items if not _selected(i, segment.select)]


def _set(node: dict[str, Any], segments: tuple[Segment, ...], value: Any) -> None:
    segment, rest = segments[0], segments[1:]
    if segment.select is None:
        if not rest:
            node[segment.name] = value
            return
        child = node.get(segment.name)
        if not isinstance(child, dict):
            child = node[segment.name] = {}
        _set(child, rest, value)
        return
    items = node.get(segment.name)
    if not isinstance(items, list):
        items = node[segment.name] = []
    index = next((n for n, item in enumerate(items) if _selected(item, segment.select)), None)
    if not rest:
        if index is None:
            items.append(value)
        else:
            items[index] = value
        return
    if index is None:
        items.append({segment.select[0]: segment.select[1]})
        index = len(items) - 1
    _set(items[index], rest, value)
