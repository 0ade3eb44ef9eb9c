"""Field-level differences between two normalised contents, with paths a person can read.

This is the only module that imports deepdiff, and only when two contents differ: a plan of
unchanged agents never loads it. Before diffing, lists with a natural key
(tools by name, transfers by entity_id, personas and variables by name) become mappings so
that a change reads ``config.tool.tools[name=book]`` instead of a list position; other lists
are compared as whole values. The prompt text is compared as one scalar and shown as a
unified line diff (difflib), which keeps a 50 KB prompt cheap to diff.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from operator_iac.plan.model import PROMPT_TEXT_PATH, ChangeKind, FieldChange
from operator_iac.plan.normalise import is_sealed, list_rule, mask_sealed

PROMPT_PATH = tuple(PROMPT_TEXT_PATH.split("."))
_TOP_ORDER = {"name": 0, "description": 1, "config": 2, "postprocess_agents": 3}
_KINDS: dict[str, ChangeKind] = {
    "dictionary_item_added": "added",
    "dictionary_item_removed": "removed",
}

Segment = str | int
# Values shown whole when added or removed (a JSON Schema reads better as one document).
_WHOLE = {("config", "output", "output_schema")}


def diff_content(before: Mapping[str, Any] | None,
                 after: Mapping[str, Any] | None) -> tuple[FieldChange, ...]:
    """Changes that turn ``before`` into ``after`` (None means the agent does not exist)."""
    old, new = dict(before or {}), dict(after or {})
    old_prompt, new_prompt = _pop_prompt(old), _pop_prompt(new)
    changes = _structural_changes(_keyed(old, ()), _keyed(new, ()))
    if old_prompt != new_prompt:
        changes.append(_change(list(PROMPT_PATH), old_prompt, new_prompt))
    return tuple(sorted(changes, key=_sort_key))


def prompt_diff(before: str | None, after: str | None, *, before_label: str = "remote",
                after_label: str = "desired", context: int = 3) -> str | None:
    """A unified line diff of two prompt texts, or None when equal or secret."""
    if before == after or is_sealed(before) or is_sealed(after):
        return None
    lines = difflib.unified_diff((before or "").splitlines(), (after or "").splitlines(),
                                 fromfile=before_label, tofile=after_label, n=context,
                                 lineterm="")
    return "\n".join(lines)


def prompt_text(content: Mapping[str, Any] | None) -> str | None:
    node: Any = content
    for part in PROMPT_PATH:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node if isinstance(node, str) else None


def format_path(segments: list[Segment]) -> str:
    """``["config", "tool", "tools", "[name=book]"]`` -> ``config.tool.tools[name=book]``."""
    text = ""
    for segment in segments:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif segment.startswith("[") or not text:
            text += segment
        else:
            text += f".{segment}"
    return text


# ---- internals ----------------------------------------------------------------------------


def _pop_prompt(content: dict[str, Any]) -> str | None:
    """Take the prompt text out (on a copy of the path) so deepdiff never sees it."""
    text = prompt_text(content)
    if text is None:
        return None
    node = content
    for part in PROMPT_PATH[:-1]:
        node[part] = dict(node[part])
        node = node[part]
    del node[PROMPT_PATH[-1]]
    return text


def _keyed(value: Any, path: tuple[str, ...]) -> Any:
    """Lists with a unique natural key become ``{"[key=value]": item}`` mappings."""
    if isinstance(value, dict):
        return {k: _keyed(v, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        rule = list_rule(path[1:]) if path[:1] == ("config",) else None
        labels = [_label(item, rule.key) for item in value] if rule and rule.key else []
        if labels and None not in labels and len(set(labels)) == len(labels):
            return {label: _keyed(item, path) for label, item in zip(labels, value, strict=True)}
    return value


def _unkeyed(value: Any) -> Any:
    """Undo ``_keyed`` in a value shown to people: keyed mappings become lists again."""
    if isinstance(value, dict):
        if value and all(isinstance(k, str) and k.startswith("[") for k in value):
            return [_unkeyed(v) for v in value.values()]
        return {k: _unkeyed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unkeyed(v) for v in value]
    return value


def _label(item: Any, key: str) -> str | None:
    if not isinstance(item, dict) or not isinstance(item.get(key), str | int):
        return None
    value = mask_sealed(item[key])
    return f"[{key}={value}]"


def _structural_changes(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    if old == new:
        return []
    if not old or not new:
        # A create (or a deletion): every field is added (removed). Said without deepdiff,
        # whose comparison costs more than the plan of a create otherwise does.
        added = not old
        return [change for key, value in (new if added else old).items()
                for change in _expand([key], "added" if added else "removed",
                                      *((None, value) if added else (value, None)))]
    from deepdiff import DeepDiff

    # threshold 0: always descend, even into mappings that share no key (the default reports
    # those as one opaque value change).
    tree = DeepDiff(old, new, view="tree", verbose_level=2, ignore_numeric_type_changes=True,
                    threshold_to_diff_deeper=0)
    seen: set[str] = set()
    changes: list[FieldChange] = []
    for report, levels in tree.items():
        for level in levels:
            path = list(level.path(output_format="list"))
            list_at = next((i for i, s in enumerate(path) if isinstance(s, int)), None)
            if list_at is not None:  # inside a list without a natural key: whole list
                path, kind = path[:list_at], "changed"
                before, after = _at(old, path), _at(new, path)
            else:
                kind = _KINDS.get(report, "changed")
                before, after = _present(level.t1), _present(level.t2)
            for change in _expand(path, kind, before, after):
                if change.path not in seen:
                    seen.add(change.path)
                    changes.append(change)
    return changes


def _expand(path: list[Segment], kind: str, before: Any, after: Any) -> list[FieldChange]:
    """An added or removed plain mapping reads better as one change per field."""
    value = after if kind == "added" else before
    is_item = bool(path) and isinstance(path[-1], str) and path[-1].startswith("[")
    if kind != "changed" and value == {}:
        return []  # an empty mapping says nothing (the prompt's, once its text is taken out)
    if kind == "changed" or not isinstance(value, dict) or is_item or tuple(path) in _WHOLE:
        return [_change(path, before, after)]
    expanded: list[FieldChange] = []
    for key, child in value.items():
        pair = (None, child) if kind == "added" else (child, None)
        expanded.extend(_expand([*path, key], kind, *pair))
    return expanded


def _change(path: list[Segment], before: Any, after: Any) -> FieldChange:
    kind: ChangeKind = "added" if before is None else "removed" if after is None else "changed"
    return FieldChange(path=format_path(path), kind=kind,
                       before=mask_sealed(_unkeyed(before)), after=mask_sealed(_unkeyed(after)))


def _present(value: Any) -> Any:
    """deepdiff marks a missing side with a sentinel object; the plan says None."""
    from deepdiff.helper import NotPresent

    return None if isinstance(value, NotPresent) else value


def _at(value: Any, path: list[Segment]) -> Any:
    for segment in path:
        value = value.get(segment) if isinstance(value, dict) else None
    return value


def _sort_key(change: FieldChange) -> tuple[int, str]:
    top = change.path.split(".", 1)[0].split("[", 1)[0]
    return _TOP_ORDER.get(top, len(_TOP_ORDER)), change.path
