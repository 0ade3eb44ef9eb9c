"""A saved plan as a contract: what must hold for ``apply plan.json`` to write anything.

A reviewed plan promises what will happen to every agent it lists, including those it leaves
alone. ``apply`` therefore derives the plan again from the declarations and the platform as
they are now and compares the two with ``contract_breaches``. They must agree on every
resource's action, field changes, content hash, flags, the secret references it names and
the remote revisions it was read from (ids and fingerprints), and on the plan's options, the
declared keys and the remote ids references resolve to. Dates, the commit in the markers
and the rendering details (risk flags, prompt diff labels, smoke stages, which
``--no-smoke`` may change) are not part of it.

A hand-edited plan whose checksum was recomputed is refused for the same reason as a stale
one: it is not the plan the declarations and the platform give.
"""

from __future__ import annotations

from typing import Any

from operator_iac.plan.model import Plan, ResourcePlan
from operator_iac.plan.writes import state_moved

PLAN_LEVEL = ""  # the key of breaches that concern the whole plan

# Resource fields the contract holds, and how a difference in each is explained.
_RESOURCE_TERMS: tuple[tuple[str, str], ...] = (
    ("kind", "its kind"),
    ("desired_hash", "its declared content"),
    ("changes", "its field changes"),
    ("foreign_draft", "whether it has a foreign draft"),
    ("foreign_draft_review", "the foreign draft it discards or leaves"),
    ("drift", "whether it was changed outside operator-iac"),
    ("blocked", "what blocks it"),
    ("depends_on", "the agents it refers to"),
    ("name", "its name"),
    ("secret_references", "the secret references it introduces or removes"),
)
_PLAN_TERMS: tuple[tuple[str, str], ...] = (
    ("project", "the project"),
    ("environment", "the environment"),
    ("options", "the plan's options"),
    ("declarations_hash", "the declarations"),
    ("unpruned", "the agents left unpruned"),
    ("known_ids", "the remote ids that references resolve to"),
    ("included_dependencies", "the dependencies included in the selection"),
)


def contract_breaches(saved: Plan, fresh: Plan) -> dict[str, str]:
    """Why ``fresh`` (derived now) is not the plan ``saved`` promised, by resource key
    (``PLAN_LEVEL`` for the plan as a whole); empty when the contract holds."""
    breaches: dict[str, str] = {}
    for field, what in _PLAN_TERMS:
        if _dump(getattr(saved, field)) != _dump(getattr(fresh, field)):
            breaches[PLAN_LEVEL] = f"{what} changed since the plan was made"
            break
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
    for field, what in _RESOURCE_TERMS:
        if _dump(getattr(saved, field)) != _dump(getattr(fresh, field)):
            return f"{what} differs from the saved plan"
    return None


def _dump(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value
