"""References between agents: declarations name other agents by key, the platform by id.

Two places hold references: ``postprocess_agents`` (procedural agents run after a
conversation; keys in declarations, ``pa_...`` ids remotely) and transfers whose
``entity_id`` is ``agent:<key>`` in declarations and an agent id remotely. Content hashes are
computed in *key space* (so they do not depend on ids that differ per environment); diffs are
shown in *id space*, with an agent this plan will create shown as
``agent:<key> (created by this plan)``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from operator_iac.plan.normalise import is_sealed
from operator_iac.spec.desired import AGENT_REF_PREFIX, DesiredAgent

CREATED_BY_PLAN = " (created by this plan)"


def ref_key(entity_id: Any) -> str | None:
    """The key in an ``agent:<key>`` reference, or None for anything else."""
    if isinstance(entity_id, str) and entity_id.startswith(AGENT_REF_PREFIX):
        return entity_id[len(AGENT_REF_PREFIX):]
    return None


def referenced_keys(agent: DesiredAgent) -> tuple[str, ...]:
    """Keys of the agents ``agent`` refers to, in order of first mention."""
    keys = list(agent.postprocess_agents)
    for entity_id in _transfer_ids(agent.config):
        key = ref_key(entity_id)
        if key is not None:
            keys.append(key)
    return tuple(dict.fromkeys(keys))


def pending_label(key: str) -> str:
    return f"{AGENT_REF_PREFIX}{key}{CREATED_BY_PLAN}"


def to_ids(config: Mapping[str, Any], postprocess: Iterable[str],
           ids: Mapping[str, str]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Declared references resolved to remote ids; unknown keys become a pending label."""
    def transfer(entity_id: Any) -> Any:
        key = ref_key(entity_id)
        return entity_id if key is None else ids.get(key, pending_label(key))

    resolved = tuple(ids.get(key, pending_label(key)) for key in postprocess)
    return _map_transfers(config, transfer), resolved


def to_keys(config: Mapping[str, Any], postprocess: Iterable[str],
            keys: Mapping[str, str]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Remote ids of agents this project owns turned back into key references."""
    def transfer(entity_id: Any) -> Any:
        key = keys.get(entity_id) if isinstance(entity_id, str) else None
        return entity_id if key is None else f"{AGENT_REF_PREFIX}{key}"

    named = tuple(keys.get(agent_id, agent_id) for agent_id in postprocess)
    return _map_transfers(config, transfer), named


def resolve_for_write(config: Mapping[str, Any], postprocess: Iterable[str],
                      ids: Mapping[str, str]
                      ) -> tuple[dict[str, Any], tuple[str, ...], tuple[str, ...]]:
    """References resolved for a write: (config, postprocess ids, keys left unresolved).

    The caller must not write while any key is unresolved: the platform would store the
    literal ``agent:<key>`` text.
    """
    missing: list[str] = []

    def lookup(key: str) -> str:
        if key not in ids:
            missing.append(key)
            return f"{AGENT_REF_PREFIX}{key}"
        return ids[key]

    def transfer(entity_id: Any) -> Any:
        key = ref_key(entity_id)
        return entity_id if key is None else lookup(key)

    resolved_config = _map_transfers(config, transfer)
    resolved = tuple(lookup(key) for key in postprocess)
    return resolved_config, resolved, tuple(dict.fromkeys(missing))


def _transfer_ids(config: Mapping[str, Any]) -> list[Any]:
    tool = config.get("tool")
    transfers = tool.get("transfers") if isinstance(tool, dict) else None
    if not isinstance(transfers, list):
        return []
    return [t.get("entity_id") for t in transfers if isinstance(t, dict)]


def _map_transfers(config: Mapping[str, Any],
                   change: Callable[[Any], Any]) -> dict[str, Any]:
    mapped = copy.deepcopy(dict(config))
    tool = mapped.get("tool")
    transfers = tool.get("transfers") if isinstance(tool, dict) else None
    if isinstance(transfers, list):
        for item in transfers:
            if isinstance(item, dict) and "entity_id" in item and not is_sealed(item["entity_id"]):
                item["entity_id"] = change(item["entity_id"])
    return mapped
