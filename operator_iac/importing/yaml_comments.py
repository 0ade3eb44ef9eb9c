"""Comment lines that sit after the last line of a value, kept where they are when the value
is replaced, loses its last item, or gains new ones.

ruamel.yaml keeps the whole-line comments that follow a block collection (typically the
comment that introduces the next key) on the collection's deepest last value: a comment
"after" that value. Replacing the value, deleting it, or appending items after it would
therefore drop such a comment or leave it stranded before the new items. The functions here
take those lines off the old last value (``detach_trailing``) and put them after the new
last value (``attach_trailing``), so that they stay right before what they introduce. An
end-of-line comment stays with its own value.

ruamel.yaml has no public API for this; the layout used (``ca.items``: for a mapping key
``[.., .., after, ..]``, for a sequence item ``[after, ..]``) is the one it reads and writes.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

# (the ``ca.items`` table, the key or index in it, the position of the "after" comment)
Slot = tuple[dict[Any, list[Any]], Any, int]
_MAPPING_AFTER, _SEQUENCE_AFTER = 2, 0


def is_block(node: Any) -> bool:
    """A non-empty collection in block style (one item per line)."""
    return isinstance(node, CommentedMap | CommentedSeq) and not node.fa.flow_style() and \
        len(node) > 0


def value_slot(container: CommentedMap | CommentedSeq, key: Any) -> Slot:
    """Where the comment after ``container[key]``'s last line is kept."""
    value = container[key]
    if is_block(value):
        return _last_slot(value)
    after = _MAPPING_AFTER if isinstance(container, CommentedMap) else _SEQUENCE_AFTER
    return container.ca.items, key, after


def detach_trailing(container: CommentedMap | CommentedSeq, key: Any) -> str:
    """Remove and return the whole comment lines (and blank lines) after the last line of
    ``container[key]``; its end-of-line comment stays."""
    items, slot, index = value_slot(container, key)
    entry = items.get(slot)
    token = entry[index] if entry is not None and len(entry) > index else None
    if not isinstance(token, CommentToken):
        return ""
    first, newline, rest = token.value.partition("\n")
    if not rest:
        return ""
    if first:
        token.value = first + newline
    else:
        entry[index] = None  # type: ignore[index]
    return rest


def attach_trailing(container: CommentedMap | CommentedSeq, key: Any, lines: str) -> None:
    """Put comment ``lines`` (from ``detach_trailing``) after ``container[key]``'s last
    line."""
    if not lines:
        return
    items, slot, index = value_slot(container, key)
    entry = items.setdefault(slot, [None, None, None, None])
    while len(entry) <= index:
        entry.append(None)
    token = entry[index]
    if isinstance(token, CommentToken):
        token.value = token.value + lines
    else:
        entry[index] = CommentToken("\n" + lines, CommentMark(0), None)


def last_key(container: CommentedMap | CommentedSeq) -> Any:
    """The key (mapping) or index (sequence) of the last value; the container is not empty."""
    return next(reversed(container)) if isinstance(container, CommentedMap) \
        else len(container) - 1


def _last_slot(node: CommentedMap | CommentedSeq) -> Slot:
    return value_slot(node, last_key(node))
