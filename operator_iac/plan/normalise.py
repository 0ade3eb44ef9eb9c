"""Normalisation: bring desired and remote content into one comparable shape, the same way on
both sides, so that only differences with meaning remain.

Remote content arrives in the canonical form of the reading boundary (``operator_iac.api``),
which reads the platform's older spellings; the rules here, in the order they apply:

- **Secrets**: values that came from ``${env:...}`` are *sealed*: replaced by an opaque token
  holding a digest of the value. The remote value at the same place is sealed the same way, so
  equal secrets compare equal, a rotated secret shows as a change, and the value itself never
  leaves this module. Anything shown to a person or written to a file says ``(sensitive)``.
  A remote revision is also sealed at the paths its marker records as secret when it was
  written (``seal_recorded``), so its old value stays hidden once the declaration stops
  marking the field.
- **Projection**: the remote config is projected onto the desired config's shape. Fields the
  declaration does not mention (server defaults, fields newer than this tool) are left out of
  the comparison, so they are never reported as deletions; ``merge_for_write`` keeps them when
  writing. A field declared as ``null`` equals a field the server does not return.
- **Order without meaning**: tools are sorted by ``(ns, name)``, transfers by ``entity_id``,
  variables by ``name``, ``filter_statuses`` and ``postprocess_agents`` alphabetically.
  Personas keep their order (the first persona greets), and so do ``supported_languages`` and
  ``boosted_keywords`` (the contract does not say their order is meaningless, so a reorder is
  shown rather than hidden).
- **Server defaults**: ``null`` values and empty mappings are dropped
  (``voice.ambient_sound: null`` and ``default_value: null`` equal absent), integral floats
  become integers, and a missing ``postprocess_agents`` equals ``[]``.
- **Descriptions**: the ownership marker is removed and trailing whitespace dropped.
- **Stored text**: a platform may keep text other than byte-exact (trailing whitespace or a
  final newline trimmed, line endings as LF). A remote string that is such a form of the
  declared string counts as the declared string (``stored_as``), so a project converges on a
  platform that normalises; a real edit of the text still shows.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from operator_iac.plan.hashing import digest, same_content
from operator_iac.plan.marker import strip_marker
from operator_iac.state.snapshot import RemoteRevision

SENSITIVE_TEXT = "(sensitive)"
# A sealed secret is a string no real value starts with (NUL is not valid in agent files).
_SEAL_PREFIX = "\x00sealed:"
_SEAL_DIGITS = 64  # all of SHA-256: sealed values enter content hashes, which must not change

Path = tuple[str, ...]


@dataclass(frozen=True)
class ListRule:
    """How a list at a known config path is identified and ordered."""

    key: str | None = None  # the field naming an item (for diff paths and matching)
    sort_by: tuple[str, ...] = ()  # item fields to sort by; empty keeps the order
    sort_scalars: bool = False  # sort a list of plain strings


# Paths are relative to ``config``; dict keys only (list positions are not part of them).
LIST_RULES: dict[Path, ListRule] = {
    ("tool", "tools"): ListRule(key="name", sort_by=("ns", "name")),
    ("tool", "transfers"): ListRule(key="entity_id", sort_by=("entity_id",)),
    ("personas",): ListRule(key="name"),
    ("runtime", "variables"): ListRule(key="name", sort_by=("name",)),
    ("filter_statuses",): ListRule(sort_scalars=True),
}


def list_rule(path: Path) -> ListRule | None:
    return LIST_RULES.get(path)


# ---- secrets ------------------------------------------------------------------------------


def seal(value: Any) -> str:
    """An opaque token standing for ``value``: equal values give equal tokens."""
    if is_sealed(value):
        return str(value)
    return _SEAL_PREFIX + digest(value, length=_SEAL_DIGITS)


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_SEAL_PREFIX)


def seal_paths(config: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """A copy of ``config`` with the value at each dotted path sealed (list items by index)."""
    sealed = copy.deepcopy(dict(config))
    for dotted in paths:
        _seal_at(sealed, dotted.split("."))
    return sealed


def seal_recorded(config: Mapping[str, Any], paths: Iterable[str],
                  declared: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A remote revision's config with the values at ``paths`` sealed: the paths its marker
    says held secrets when it was written, whatever the declaration says today. A value
    equal to the plain ``declared`` one at the same place stays (showing it reveals nothing
    the declaration does not)."""
    sealed = copy.deepcopy(dict(config))
    for dotted in paths:
        if declared is not None:
            wanted = value_at(declared, dotted)
            if wanted is not None and not is_sealed(wanted) and wanted == value_at(sealed,
                                                                                   dotted):
                continue
        _seal_at(sealed, dotted.split("."))
    return sealed


def value_at(node: Any, dotted: str) -> Any:
    """The value at a dotted path such as a marker records (list items by index); None when
    absent."""
    for part in dotted.split("."):
        node = _child(node, part)
        if node is None:
            return None
    return node


def _seal_at(node: Any, parts: list[str]) -> None:
    for part in parts[:-1]:
        node = _child(node, part)
        if node is None:
            return
    last = parts[-1]
    if isinstance(node, dict) and node.get(last) is not None:
        node[last] = seal(node[last])
    elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = seal(node[int(last)])


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


def mask_sealed(value: Any) -> Any:
    """``value`` with every sealed secret shown as ``(sensitive)``: safe to print or save."""
    if is_sealed(value):
        return SENSITIVE_TEXT
    if isinstance(value, dict):
        return {k: mask_sealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_sealed(v) for v in value]
    return value


# ---- shape --------------------------------------------------------------------------------


def prepare(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """A private copy of a config, free to change. Remote configs arrive in the canonical
    form of the reading boundary (``operator_iac.api``): older spellings are its concern."""
    return copy.deepcopy(dict(config or {}))


def project(remote: Any, shape: Any, path: Path = ()) -> Any:
    """The part of ``remote`` that ``shape`` (a desired value) speaks about."""
    if isinstance(shape, dict):
        if remote is None:
            remote = {}
        if not isinstance(remote, dict):
            return remote  # a type change: compare as is
        return {k: project(remote.get(k), v, (*path, k)) for k, v in shape.items()}
    if isinstance(shape, list) and isinstance(remote, list):
        return _project_list(remote, shape, path)
    if is_sealed(shape) and remote is not None:
        return seal(remote)
    return _as_declared(remote, shape)


def same_written(one: RemoteRevision, other: RemoteRevision,
                 sent: Mapping[str, Any] | None) -> bool:
    """Whether two revisions hold the same content where a write of the config ``sent``
    speaks (``same_content`` of their configs projected onto ``sent``), markers aside.

    A platform may add values of its own to what it stores (an id in each item of a list,
    a default, a time) and make them anew on every write, so that the same write read back
    twice differs there, with nobody else writing. What the write speaks about is what a
    write decides: two writes of one body that read back alike there were stored alike, and
    another writer's change of anything the project declares still shows."""
    if sent is None:
        return same_content(one, other)
    return same_content(replace(one, config=project(one.config, dict(sent))),
                        replace(other, config=project(other.config, dict(sent))))


def _as_declared(remote: Any, shape: Any) -> Any:
    """The declared text when the platform stored it in a normalised form, else ``remote``."""
    if isinstance(remote, str) and isinstance(shape, str) and stored_as(shape, remote):
        return shape
    return remote


def stored_as(declared: str, stored: str) -> bool:
    """Whether ``stored`` is ``declared`` as a platform may keep text (byte-exact is not
    documented): the same, or one of its normalised forms (``text_forms``)."""
    return stored == declared or stored in text_forms(declared)


def text_forms(text: str) -> set[str]:
    """The forms a platform may store ``text`` in: line endings as LF, trailing whitespace
    trimmed (per line, at the end, or both ends). Which one a platform applies is learnt
    from what it returns, value by value, not assumed."""
    unix = text.replace("\r\n", "\n")
    per_line = "\n".join(line.rstrip() for line in unix.split("\n"))
    forms = {unix}
    for base in (unix, per_line):
        forms.update({base, base.rstrip(), base.strip()})
    forms.discard(text)
    return forms


def _project_list(remote: list[Any], shape: list[Any], path: Path) -> list[Any]:
    rule = list_rule(path)
    if rule is not None and rule.key is not None:
        by_key = _index_by_key(shape, rule.key)
        secret = _secret_fields(shape)
        return [_project_keyed_item(item, by_key, rule.key, path, secret) for item in remote]
    if shape and all(isinstance(item, dict) for item in shape):
        # Unknown lists of objects: project item by item, so server fields inside items hide.
        return [project(item, shape[i], path) if i < len(shape) else item
                for i, item in enumerate(remote)]
    return [seal(item) if i < len(shape) and is_sealed(shape[i]) and item is not None
            else _as_declared(item, shape[i]) if i < len(shape) else item
            for i, item in enumerate(remote)]


def _secret_fields(shape: list[Any]) -> set[str]:
    """Fields that hold a secret in some declared item: sealed in every remote item, so that
    an item that no longer matches (a rotated secret as its key) cannot show the old value."""
    return {k for item in shape if isinstance(item, dict)
            for k, v in item.items() if is_sealed(v)}


def _project_keyed_item(item: Any, by_key: dict[Any, Any], key: str, path: Path,
                        secret: set[str]) -> Any:
    if not isinstance(item, dict):
        return item
    raw_key = _item_key(item, key)
    match = by_key.get(raw_key)
    if match is None and raw_key is not None:
        match = by_key.get(seal(raw_key))  # the declared key itself may be a secret
    if match is not None:
        return project(item, match, path)
    return {k: seal(v) if k in secret and v is not None else v for k, v in item.items()}


def _index_by_key(items: list[Any], key: str) -> dict[Any, Any]:
    """Dict items by their natural key; items without one cannot be matched."""
    indexed = {_item_key(item, key): item for item in items if isinstance(item, dict)}
    indexed.pop(None, None)
    return indexed


def _item_key(item: Mapping[str, Any], key: str) -> Any:
    value = item.get(key)
    return value if isinstance(value, str | int) else None


# ---- canonical form -----------------------------------------------------------------------


def canonical(value: Any, path: Path = ()) -> Any:
    """Drop nulls and empty mappings, normalise numbers, sort lists whose order carries no
    meaning."""
    if isinstance(value, dict):
        pairs = ((k, canonical(v, (*path, k))) for k, v in value.items())
        return {k: v for k, v in pairs if v is not None and v != {}}
    if isinstance(value, list):
        return _sort_list([canonical(v, path) for v in value], list_rule(path))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sort_list(items: list[Any], rule: ListRule | None) -> list[Any]:
    if rule is None:
        return items
    if rule.sort_scalars and all(isinstance(i, str) for i in items):
        return sorted(items)
    if rule.sort_by and all(isinstance(i, dict) for i in items):
        return sorted(items, key=lambda i: tuple(str(i.get(f) or "") for f in rule.sort_by))
    return items


def content(kind: str, name: str, description: str, config: Mapping[str, Any],
            postprocess_agents: Iterable[str] = ()) -> dict[str, Any]:
    """The comparable content of a revision: what a diff and a content hash look at."""
    body: dict[str, Any] = {
        "name": name,
        "description": strip_marker(description),
        "config": canonical(dict(config)),
    }
    if kind == "conversational_agent":
        body["postprocess_agents"] = sorted(postprocess_agents)
    return body


# ---- writing ------------------------------------------------------------------------------


def merge_for_write(remote_config: Mapping[str, Any] | None,
                    desired_config: Mapping[str, Any]) -> dict[str, Any]:
    """The config to send: the remote config with the desired one deep-merged over it.

    ``PUT`` replaces the whole config, so fields the declaration does not mention must be sent
    back as they are, or a write would erase them. Lists are the declaration's, but an item
    matched by its natural key (a tool's name, a transfer's entity_id ...) keeps the fields
    only the server knows.
    """
    merged = _merge(prepare(remote_config), copy.deepcopy(dict(desired_config)), ())
    assert isinstance(merged, dict)
    return merged


def _merge(remote: Any, desired: Any, path: Path) -> Any:
    if isinstance(desired, dict) and isinstance(remote, dict):
        merged = dict(remote)
        for k, v in desired.items():
            merged[k] = _merge(remote.get(k), v, (*path, k))
        return merged
    rule = list_rule(path)
    if isinstance(desired, list) and isinstance(remote, list) and rule and rule.key:
        key = rule.key
        by_key = _index_by_key(remote, key)
        return [_merge(by_key.get(_item_key(i, key)), i, path) if isinstance(i, dict) else i
                for i in desired]
    return desired
