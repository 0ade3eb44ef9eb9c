"""Base agents: ``extends: <path>`` merges a base declaration under an agent file.

A base file is a partial agent file marked ``abstract: true``: it declares no agent of its
own (wherever it sits, even among agent files), and any agent file may extend it with a path
relative to itself that stays inside the project. Bases may extend bases; a cycle is an
error at the ``extends`` that closes it.

The agent file is deep-merged over its base (and the base over its own base): mappings merge
key by key; lists whose items have an identity merge item by item on it, the identities the
planner diffs by (tools, personas and variables by ``name``, transfers by ``entity_id``, smoke
tests by ``name``), an item of the agent file deep-merging over the base's item of the same
identity and new items following the base's; every other list and scalar of the agent file
replaces the base's. The result is one ``YamlDocument`` whose positions still point into the
file each value came from, so every later check reports ``base.yaml:12:5`` for a problem
the base introduced.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from operator_iac.errors import DeclarationError, Diagnostic
from operator_iac.spec.loader import DataPath, Pos, YamlDocument, display_path, load_yaml, real_path

EXTENDS = "extends"
ABSTRACT = "abstract"
INSTANCES = "instances"
MAX_CHAIN = 16
# Lists merged item by item, by the field that names an item (list positions left out).
MERGE_IDENTITIES: dict[tuple[str, ...], str] = {
    ("config", "tool", "tools"): "name",
    ("config", "tool", "transfers"): "entity_id",
    ("config", "personas"): "name",
    ("config", "runtime", "variables"): "name",
    ("smoke",): "name",
}

Load = Callable[[Path], YamlDocument]


@dataclass
class DocumentCache:
    """Each base file is read once per load, however many agents extend it."""

    loaded: dict[Path, YamlDocument | DeclarationError] = field(default_factory=dict)

    def load(self, path: Path) -> YamlDocument:
        key = real_path(path)
        if key not in self.loaded:
            try:
                self.loaded[key] = load_yaml(path, "base file")
            except DeclarationError as exc:
                self.loaded[key] = exc
        found = self.loaded[key]
        if isinstance(found, DeclarationError):
            raise found
        return found


def is_base(doc: YamlDocument) -> bool:
    """Whether the file is a base file (``abstract: true``), which declares no agent."""
    return isinstance(doc.data, dict) and doc.data.get(ABSTRACT) is True


def compose(doc: YamlDocument, root: Path | None = None,
            load: Load | None = None) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """The agent file with its bases merged in (``extends`` and ``abstract`` removed), or
    None and why the bases could not be read."""
    chain, problems = _chain(doc, real_path(root or doc.path.parent), load or DocumentCache().load)
    if problems:
        return None, problems
    if len(chain) == 1 and not (isinstance(doc.data, dict) and ABSTRACT in doc.data):
        return doc, []
    merged = _Layer.of(chain[-1])
    for layer in reversed(chain[:-1]):
        merged = _merge_layers(merged, _Layer.of(layer))
    data = merged.data
    if isinstance(data, dict):
        for key in (EXTENDS, ABSTRACT):
            data.pop(key, None)
            merged.values.pop((key,), None)
            merged.keys.pop((key,), None)
    layers = {d.display: d for d in chain} if len(chain) > 1 else {}
    return YamlDocument(doc.path, data, merged.values, merged.keys, doc.display, doc.source,
                        layers), []


def _chain(doc: YamlDocument, boundary: Path,
           load: Load) -> tuple[list[YamlDocument], list[Diagnostic]]:
    """The agent file followed by its bases, nearest first."""
    chain = [doc]
    current = doc
    while isinstance(current.data, dict) and EXTENDS in current.data:
        problem = _abstract_problem(current)
        if problem is not None:
            return chain, [problem]
        base, problem = _base(current, boundary, chain, load)
        if base is None:
            return chain, [problem] if problem else []
        chain.append(base)
        current = base
    problem = _abstract_problem(current)
    return chain, [problem] if problem else []


def _abstract_problem(doc: YamlDocument) -> Diagnostic | None:
    value = doc.data.get(ABSTRACT) if isinstance(doc.data, dict) else None
    if value is None or isinstance(value, bool):
        return None
    return doc.diagnostic((ABSTRACT,), "abstract must be true (a base file) or false")


def _base(current: YamlDocument, boundary: Path, chain: list[YamlDocument],
          load: Load) -> tuple[YamlDocument | None, Diagnostic | None]:
    value = current.data[EXTENDS]

    def problem(message: str) -> tuple[None, Diagnostic]:
        return None, current.diagnostic((EXTENDS,), message)

    if not isinstance(value, str) or not value.strip():
        return problem("extends must name a base file: a path relative to this file")
    target = current.path.parent / value
    if Path(value).is_absolute():
        return problem(f"base file {value!r} must be a path relative to this file")
    if not real_path(target).is_relative_to(boundary):
        return problem(f"base file {value!r} is outside the project directory "
                       f"{display_path(boundary)}; keep base files inside the project")
    seen = [real_path(d.path) for d in chain]
    if real_path(target) in seen:
        names = " -> ".join([*(d.display for d in chain), display_path(target)])
        return problem(f"extends forms a cycle ({names})")
    if len(chain) > MAX_CHAIN:
        return problem(f"bases extend each other more than {MAX_CHAIN} levels deep")
    try:
        base = load(target)
    except DeclarationError as exc:
        first = exc.diagnostics[0]
        return problem(f"base file {value!r}: {first.message} "
                       f"({first.file}:{first.line}:{first.column})")
    if not isinstance(base.data, dict):
        return problem(f"base file {value!r} must be a YAML mapping")
    if base.data.get(ABSTRACT) is not True:
        return problem(f"{base.display} is not a base file: mark it 'abstract: true' (a base "
                       "file declares no agent of its own)")
    if INSTANCES in base.data:
        return None, base.diagnostic((INSTANCES,), "a base file cannot declare instances; "
                                                  "declare them in the template that extends it",
                                     at_key=True)
    return base, None


# ---- merging with positions ---------------------------------------------------------------


@dataclass
class _Layer:
    """Data with the positions of its values and keys (each naming its file)."""

    data: Any
    values: dict[DataPath, Pos] = field(default_factory=dict)
    keys: dict[DataPath, Pos] = field(default_factory=dict)

    @classmethod
    def of(cls, doc: YamlDocument) -> _Layer:
        def tag(table: dict[DataPath, Pos]) -> dict[DataPath, Pos]:
            return {p: pos if pos.file else replace(pos, file=doc.display)
                    for p, pos in table.items()}

        return cls(doc.data, tag(doc.values), tag(doc.keys))

    def at(self, path: DataPath) -> Any:
        node = self.data
        for part in path:
            node = node[part]
        return node


def _merge_layers(base: _Layer, overlay: _Layer) -> _Layer:
    out = _Layer(None)
    out.data = _merge(base, (), overlay, (), (), out)
    return out


def _merge(base: _Layer, bpath: DataPath, overlay: _Layer, opath: DataPath, path: DataPath,
           out: _Layer) -> Any:
    old, new = base.at(bpath), overlay.at(opath)
    if isinstance(old, dict) and isinstance(new, dict):
        _place(overlay, opath, path, out)
        merged = {}
        for key in [*old, *(k for k in new if k not in old)]:
            if key in old and key in new:
                merged[key] = _merge(base, (*bpath, key), overlay, (*opath, key), (*path, key),
                                     out)
            else:
                source, at = (overlay, opath) if key in new else (base, bpath)
                merged[key] = _copy(source, (*at, key), (*path, key), out)
        return merged
    identity = MERGE_IDENTITIES.get(tuple(p for p in path if isinstance(p, str)))
    if identity is not None and isinstance(old, list) and isinstance(new, list):
        _place(overlay, opath, path, out)
        return _merge_items(identity, base, bpath, overlay, opath, path, out)
    return _copy(overlay, opath, path, out)


def _merge_items(identity: str, base: _Layer, bpath: DataPath, overlay: _Layer,
                 opath: DataPath, path: DataPath, out: _Layer) -> list[Any]:
    """Base items first (each merged with the overlay's item of the same identity), then the
    overlay's items that match none."""
    def first_by_id(items: list[Any]) -> dict[str, int]:
        found: dict[str, int] = {}
        for index, item in enumerate(items):
            if isinstance(item, dict) and isinstance(item.get(identity), str):
                found.setdefault(item[identity], index)
        return found

    old_ids, new_ids = first_by_id(base.at(bpath)), first_by_id(overlay.at(opath))
    matched = {new_ids[i]: j for i, j in old_ids.items() if i in new_ids}  # overlay -> base
    pairs = {j: o for o, j in matched.items()}
    result: list[Any] = []
    for index in range(len(base.at(bpath))):
        where = (*path, len(result))
        if index in pairs:
            result.append(_merge(base, (*bpath, index), overlay, (*opath, pairs[index]),
                                 where, out))
        else:
            result.append(_copy(base, (*bpath, index), where, out))
    for index in range(len(overlay.at(opath))):
        if index not in matched:
            result.append(_copy(overlay, (*opath, index), (*path, len(result)), out))
    return result


def _copy(layer: _Layer, source: DataPath, target: DataPath, out: _Layer) -> Any:
    _place(layer, source, target, out)
    value = layer.at(source)
    if isinstance(value, dict):
        return {k: _copy(layer, (*source, k), (*target, k), out) for k in value}
    if isinstance(value, list):
        return [_copy(layer, (*source, i), (*target, i), out) for i in range(len(value))]
    return copy.copy(value)


def _place(layer: _Layer, source: DataPath, target: DataPath, out: _Layer) -> None:
    if source in layer.values:
        out.values[target] = layer.values[source]
    if source in layer.keys:
        out.keys[target] = layer.keys[source]
