"""Cursor pagination: follow ``cursor`` until the platform returns none.

Lists carry their items under a key that differs by resource (``data`` for agents and
conversations, ``page`` for procedures) and a ``cursor``. No page size is documented, so the
loop relies only on the cursor: the list ends at a null, empty or absent cursor, or where
the page says ``has_more: false`` (a common way to end a list that keeps a cursor on its last
page). A cursor seen before ends the list when its page is empty (a platform that answers
the last cursor again, with nothing) and is refused otherwise (a server bug would loop
forever).

The shape of the agents lists is not documented, and a list read short is the worst thing
this module can do: agents it did not see are created again. So the reading never guesses
towards a shorter list: a cursor written as a number is followed like text; items under a
key of their own are read when the page holds exactly one list; and a page that says there
is more (``has_more: true``) but gives no cursor to follow, or whose items cannot be told
apart, is an error (``OperationError``), never the end of the list.
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
    """The items and cursor of a decoded list response (see the module docstring)."""
    if isinstance(body, list):  # a bare array: one page, no cursor
        return Page([item for item in body if isinstance(item, dict)], None)
    if not isinstance(body, Mapping):
        return Page([], None)
    raw = body.get(key)
    if raw is None:
        raw = next((body[k] for k in ITEM_KEYS if isinstance(body.get(k), list)), None)
    if raw is None:
        lists = [k for k, v in body.items() if isinstance(v, list)]
        if len(lists) > 1:
            raise OperationError(f"a list answered with several lists ({', '.join(lists)}) "
                                 f"and no {key!r}: cannot tell which holds the items")
        raw = body[lists[0]] if lists else []
    items = [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []
    cursor = _cursor(body.get("cursor"))
    if body.get("has_more") is False:
        cursor = None
    elif body.get("has_more") is True and cursor is None:
        raise OperationError("a list page says it has more (has_more: true) but gives no "
                             "cursor to read the rest with")
    return Page(items, cursor)


def _cursor(value: Any) -> str | None:
    """The cursor of the next page, text or a number (an offset), or None at the end."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value if isinstance(value, str) and value else None


def iter_items(fetch: Callable[[str | None], Any], key: str, what: str,
               identity: str = "id") -> Iterator[dict[str, Any]]:
    """Every item of a paginated list, each once; ``fetch(cursor)`` returns one decoded page.

    An item whose ``identity`` field was already seen is left out: a list that changes while
    it is read (an agent created or deleted between two pages, with cursors that are
    positions) shows an item on two pages, and a consumer would take it for two agents."""
    seen: set[str] = set()
    met: set[Any] = set()
    cursor: str | None = None
    while True:
        page = read_page(fetch(cursor), key)
        for item in page.items:
            name = item.get(identity)
            if isinstance(name, str | int) and not isinstance(name, bool):
                if name in met:
                    continue
                met.add(name)
            yield item
        if page.cursor is None:
            return
        if page.cursor in seen:
            if not page.items:
                return
            raise OperationError(f"listing {what}: the platform returned a cursor twice")
        seen.add(page.cursor)
        cursor = page.cursor
