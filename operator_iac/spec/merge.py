"""Deep merge of declaration data: mappings merge key by key, lists and scalars replace.

This is how an environment's ``overrides`` apply to an agent file and how ``config.extra``
joins the declared config. Pure; inputs are never modified.
"""

from __future__ import annotations

import copy
from typing import Any


def deep_merge(base: Any, overlay: Any) -> Any:
    """``overlay`` over ``base``: a new value; where both are mappings they merge."""
    if not (isinstance(base, dict) and isinstance(overlay, dict)):
        return copy.deepcopy(overlay)
    merged = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, value in overlay.items():
        merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
    return merged


def origin_in(overlay: Any, path: tuple[str | int, ...]) -> bool:
    """Whether the value at ``path`` of a merged result was written by ``overlay``."""
    current = overlay
    for part in path:
        if not isinstance(current, dict):
            return True  # a list or scalar of the overlay replaced the base value wholesale
        if part not in current:
            return False
        current = current[part]
    return True
