"""The secret references a change adds to an agent or takes from it, by name, never by value:
what a reviewer must see before an ``${env:NAME}`` value is written into an agent, where
every dashboard user can read it.

The new side is the declaration's ``${env:NAME}`` references (``DesiredAgent``). The old
side is what the remote revision the change is shown against (released, else draft)
records: its marker lists the config paths that held secrets and, in markers written since
names were recorded, the variables read there (``secret_names=``). So:

- a reference at a path that held no secret is ``introduced``;
- a path that held a secret and holds none now is ``removed`` (named when the old names are
  known, otherwise by its path only);
- a reference at a path that held a secret whose value changes is ``changed``: the name is
  known, but whether it is new is not recorded (a reference may have been added beside the
  old one, or replaced it);
- a path that held a secret and still holds the same value says nothing.

``old_names`` (path -> names) makes all of this exact when the old side's names are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from operator_iac.plan.model import SecretChange, SecretReference
from operator_iac.plan.normalise import stored_as, value_at
from operator_iac.spec.desired import DesiredAgent

CONFIG_PREFIX = "config."


def secret_changes(agent: DesiredAgent, base_config: Mapping[str, Any] | None,
                   old_paths: tuple[str, ...],
                   old_names: Mapping[str, frozenset[str]] | None = None,
                   ) -> tuple[SecretReference, ...]:
    """The references introduced, changed and removed when ``agent`` replaces the revision
    whose config is ``base_config`` (None: a new agent), which recorded secrets at
    ``old_paths`` (config-relative, as in markers)."""
    new: dict[str, set[str]] = {}
    for path, name in agent.secret_references:
        new.setdefault(path, set()).add(name)
    found: list[SecretReference] = []
    for path in sorted(new):
        known = old_names.get(path) if old_names is not None else None
        if known is not None:
            found += _each("introduced", path, new[path] - known)
        elif path not in old_paths:
            found += _each("introduced", path, new[path])
        elif not _same(value_at(agent.config, path), value_at(base_config, path)):
            found += _each("changed", path, new[path])
    for path in sorted(set(old_paths) | set(old_names or {})):
        known = old_names.get(path) if old_names is not None else None
        gone = known - new.get(path, set()) if known is not None else None
        if gone:
            found += _each("removed", path, gone)
        elif known is None and path not in new:
            found.append(SecretReference(change="removed", path=CONFIG_PREFIX + path))
    return tuple(found)


def _each(change: SecretChange, path: str,
          names: set[str] | frozenset[str]) -> list[SecretReference]:
    return [SecretReference(change=change, path=CONFIG_PREFIX + path, name=name)
            for name in sorted(names)]


def _same(declared: Any, remote: Any) -> bool:
    """Whether the platform holds the declared value (text in a form it normalises to)."""
    if isinstance(declared, str) and isinstance(remote, str):
        return stored_as(declared, remote)
    return bool(declared == remote)

