"""Cursor pagination: follow ``cursor`` until the platform returns none.

Lists carry their items under a key that differs by resource (``data`` for agents and
conversations, ``page`` for procedures) and a ``cursor`` that is a string or null. No page
size is documented, so the loop relies only on the cursor: the list ends at a null or empty
cursor, or where the page says ``has_more: false`` (a common way to end a list that keeps
a cursor on its last page). A cursor seen before ends the list when its page is empty (a
platform that answers the last cursor again, with nothing) and is refused otherwise (a
server bug would loop forever).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from operator_iac.errors import OperationError

ITEM_KEYS = ("data", "page")


@dataclass(frozen=True)
class Page:
    """One page of a list: its raw items and the cursor of the next page (None at the end)."""

    items: list[dict[str, Any]]
    cursor: str | None


def read_page(body: Any, key: str) -> Page:
    """The items and cursor of a decoded list response, tolerating the other item key."""
    if isinstance(body, list):  # a bare array: one page, no cursor
        return Page([item for item in body if isinstance(item, dict)], None)
    if not isinstance(body, Mapping):
        return Page([], None)
    raw = body.get(key)
    if raw is None:
        raw = next((body[k] for k in ITEM_KEYS if isinstance(body.get(k), list)), [])
    items = [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []
    cursor = body.get("cursor")
    if body.get("has_more") is False:
        cursor = None
    return Page(items, cursor if isinstance(cursor, str) and cursor else None)


def iter_items(fetch: Callable[[str | None], Any], key: str, what: str
               ) -> Iterator[dict[str, Any]]:
    """Every item of a paginated list; ``fetch(cursor)`` returns one decoded page."""
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        page = read_page(fetch(cursor), key)
        yield from page.items
        if page.cursor is None:
            return
        if page.cursor in seen:
            if not page.items:
                return
            raise OperationError(f"listing {what}: the platform returned a cursor twice")
        seen.add(page.cursor)
        cursor = page.cursor
