"""Selection: which agents a plan covers, from ``--target`` and ``--exclude``.

- No ``--target``: every declared agent; ``--target KEY`` (repeatable): only those.
- ``--exclude KEY`` removes agents from the selection; it wins over ``--target``.
- A selected agent that refers to an agent which does not exist on the platform yet pulls that
  agent into the plan (it must be created first, as Terraform's ``-target`` does with
  dependencies); the plan lists such keys under ``included_dependencies``. If that agent is
  excluded, the plan cannot be made and the error says so.
- Prune candidates (owned agents whose key is no longer declared) follow the same rules: with
  ``--target`` only targeted ones, never excluded ones.
- A key that is neither declared nor owned remotely is a usage error (a typo must not silently
  select nothing).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from operator_iac.errors import DeclarationError, Diagnostic, UsageError
from operator_iac.plan.model import PlanOptions
from operator_iac.plan.refs import referenced_keys
from operator_iac.spec.desired import DesiredAgent


@dataclass(frozen=True)
class Selection:
    keys: tuple[str, ...]
    included_dependencies: tuple[str, ...]
    prune_keys: tuple[str, ...]


def select(desired: Mapping[str, DesiredAgent], options: PlanOptions, *,
           existing: Collection[str], orphan_keys: Collection[str]) -> Selection:
    """``existing``: declared keys matched to a remote agent; ``orphan_keys``: owned, undeclared."""
    known = set(desired) | set(orphan_keys)
    _check_known(options.targets, "--target", known)
    _check_known(options.excludes, "--exclude", known)
    excluded = set(options.excludes)
    chosen = [k for k in (options.targets or sorted(desired)) if k in desired]
    keys = [k for k in dict.fromkeys(chosen) if k not in excluded]
    included = _add_missing_dependencies(keys, desired, existing, excluded)
    prune = [k for k in sorted(orphan_keys)
             if k not in excluded and (not options.targets or k in options.targets)]
    return Selection(tuple(sorted(keys)), tuple(included), tuple(prune))


def _check_known(keys: tuple[str, ...], flag: str, known: set[str]) -> None:
    for key in keys:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(f"{flag} {key!r}: no agent with this key is declared or owned by "
                             f"this project{hint}")


def _add_missing_dependencies(keys: list[str], desired: Mapping[str, DesiredAgent],
                              existing: Collection[str], excluded: set[str]) -> list[str]:
    """Extend ``keys`` in place with referenced agents that must be created; return those."""
    included: list[str] = []
    queue = list(keys)
    while queue:
        agent = desired[queue.pop()]
        for ref in referenced_keys(agent):
            _check_declared(agent, ref, desired)
            if ref in keys or ref in existing:
                continue
            if ref in excluded:
                raise UsageError(f"agent {agent.key!r} refers to {ref!r}, which does not exist "
                                 f"on the platform yet, but --exclude {ref} leaves it out of "
                                 "the plan")
            keys.append(ref)
            included.append(ref)
            queue.append(ref)
    return sorted(included)


def _check_declared(agent: DesiredAgent, ref: str, desired: Mapping[str, DesiredAgent]) -> None:
    if ref not in desired:
        raise DeclarationError([Diagnostic(
            file=str(agent.source), line=0, column=0,
            message=f"agent {agent.key!r} refers to {ref!r}, which is not declared")])
