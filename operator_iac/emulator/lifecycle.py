"""The revision lifecycle of an agent as pure functions over ``{number: status}``.

Rules (operator-api.md section 2): at most one draft (the only mutable revision) and at
most one released revision; releasing a revision archives the previously released one;
releasing the released one changes nothing; releasing an archived one is a rollback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

DRAFT = "draft"
RELEASED = "released"
ARCHIVED = "archived"

Statuses = Mapping[int, str]


class RevisionImmutableError(Exception):
    """A write aimed at a revision that is not the draft."""


@dataclass(frozen=True)
class PutTarget:
    """Where a PUT lands: into an existing draft, or into a new draft copied from ``number``."""

    action: Literal["update", "new"]
    number: int


def draft_of(statuses: Statuses) -> int | None:
    return next((n for n, status in statuses.items() if status == DRAFT), None)


def released_of(statuses: Statuses) -> int | None:
    return next((n for n, status in statuses.items() if status == RELEASED), None)


def newest(statuses: Statuses) -> int:
    return max(statuses)


def put_target(statuses: Statuses, requested: int | None) -> PutTarget:
    """A bare PUT writes the draft or starts one from the newest revision; ``@vN`` must be
    the draft."""
    draft = draft_of(statuses)
    if requested is None:
        if draft is not None:
            return PutTarget("update", draft)
        return PutTarget("new", newest(statuses))
    if requested == draft:
        return PutTarget("update", requested)
    raise RevisionImmutableError(f"v{requested} is {statuses.get(requested, 'unknown')}")


def after_release(statuses: Statuses, target: int) -> dict[int, str]:
    """Statuses once ``target`` is released (a no-op when it already is)."""
    if statuses[target] == RELEASED:
        return dict(statuses)
    updated = {n: (ARCHIVED if status == RELEASED else status) for n, status in statuses.items()}
    updated[target] = RELEASED
    return updated
