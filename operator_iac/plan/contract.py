"""A saved plan as a contract: what must hold for ``apply plan.json`` to write anything.

A reviewed plan promises what will happen to every agent it lists, including those it leaves
alone, and an empty plan promises that nothing changes. ``apply`` therefore derives the plan
again from the declarations and the platform as they are now and compares the two with
``contract_breaches``, whatever the saved plan changes. They must agree on everything a plan
holds: every resource's action, the remote revisions it was read from (ids and
fingerprints), what apply would write (the desired body, marker included), field changes,
the secret references it names, flags and the revision a failed release rolls back to; and
the plan's options, the declared keys, the remote ids references resolve to. Only what
cannot be derived again is left out: when the plan was made (``created_at``), the spelling
of the platform's URL (checked apart, ``services.plan.check_made_for``) and the smoke
stages, which ``--no-smoke`` may change.

A hand-edited plan whose checksum was recomputed is refused for the same reason as a stale
one: it is not the plan the declarations and the platform give.
"""

from __future__ import annotations

from typing import Any

from operator_iac.plan.model import Plan, ResourcePlan
from operator_iac.plan.writes import state_moved

PLAN_LEVEL = ""  # the key of breaches that concern the whole plan

# Fields that are not part of the contract, and why: see the module docstring.
_PLAN_EXEMPT = frozenset({"created_at", "api_url", "resources"})
_RESOURCE_EXEMPT = frozenset({"smoke", "remote"})  # ``remote`` is compared by ``state_moved``

# How a difference in a field is explained; any other field is named as it is.
_RESOURCE_TERMS: dict[str, str] = {
    "kind": "its kind",
    "desired_hash": "its declared content",
    "desired": "what apply would write (its name, description, config or references)",
    "changes": "its field changes",
    "foreign_draft": "whether it has a foreign draft",
    "foreign_draft_review": "the foreign draft it discards or leaves",
    "stale_draft": "the unreleased draft of operator-iac's it leaves or discards",
    "drift": "whether it was changed outside operator-iac",
    "blocked": "what blocks it",
    "depends_on": "the agents it refers to",
    "name": "its name",
    "rollback_to": "the revision a failed release rolls back to",
    "secret_references": "the secret references it introduces or removes",
}
_PLAN_TERMS: dict[str, str] = {
    "project": "the project",
    "environment": "the environment",
    "options": "the plan's options",
    "declarations_hash": "the declarations",
    "unpruned": "the agents left unpruned",
    "known_ids": "the remote ids that references resolve to",
    "included_dependencies": "the dependencies included in the selection",
}


def contract_breaches(saved: Plan, fresh: Plan) -> dict[str, str]:
    """Why ``fresh`` (derived now) is not the plan ``saved`` promised, by resource key
    (``PLAN_LEVEL`` for the plan as a whole); empty when the contract holds."""
    breaches: dict[str, str] = {}
    field = _first_difference(saved, fresh, _PLAN_EXEMPT, _PLAN_TERMS)
    if field is not None:
        breaches[PLAN_LEVEL] = f"{_PLAN_TERMS.get(field, field)} changed since the plan was made"
    keys = sorted({r.key for r in saved.resources} | {r.key for r in fresh.resources})
    for key in keys:
        reason = resource_breach(saved.resource(key), fresh.resource(key))
        if reason is not None:
            breaches[key] = reason
    return breaches


def resource_breach(saved: ResourcePlan | None, fresh: ResourcePlan | None) -> str | None:
    """Why the fresh plan for one agent differs from the saved one, or None."""
    if saved is None or fresh is None:
        return ("it is not in the saved plan" if saved is None
                else "it is no longer part of the plan")
    moved = state_moved(saved.remote, fresh.remote)
    if moved is not None:
        return moved
    if saved.action != fresh.action:
        return (f"the saved plan says {saved.action}, but the declarations and the platform "
                f"now give {fresh.action}")
    field = _first_difference(saved, fresh, _RESOURCE_EXEMPT, _RESOURCE_TERMS)
    if field is None:
        return None
    return f"{_RESOURCE_TERMS.get(field, field)} differs from the saved plan"


def _first_difference(saved: Plan | ResourcePlan, fresh: Plan | ResourcePlan,
                      exempt: frozenset[str], terms: dict[str, str]) -> str | None:
    """The first field (the explained ones first) whose values differ, or None."""
    fields = [*terms, *(f for f in type(saved).model_fields if f not in terms)]
    for field in fields:
        if field not in exempt and \
                _dump(getattr(saved, field)) != _dump(getattr(fresh, field)):
            return field
    return None


def _dump(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value
