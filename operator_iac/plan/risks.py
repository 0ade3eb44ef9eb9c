"""Risk flags: changes a reviewer should look at twice.

- ``model_change``: the runtime model changes.
- ``tool_removed``: a tool the released agent has is no longer enabled.
- ``transfer_target_changed``: a transfer is added, removed or pointed elsewhere.
- ``prompt_size_change``: the prompt grows or shrinks by more than half.
- ``deletion``: the agent is deleted.

A newly created agent has nothing to compare with, so only deletions and changes to existing
agents are flagged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from operator_iac.plan.model import Action, FieldChange, RiskFlag
from operator_iac.plan.normalise import is_sealed

PROMPT_RATIO = 0.5  # more than this fraction of growth or shrinkage is flagged

_TOOLS = "config.tool.tools"
_TRANSFERS = "config.tool.transfers"


def risk_flags(action: Action, changes: Iterable[FieldChange], before_prompt: str | None,
               after_prompt: str | None) -> tuple[RiskFlag, ...]:
    if action == "delete":
        return ("deletion",)
    if action == "create":
        return ()
    changes = tuple(changes)
    checks: tuple[tuple[RiskFlag, Callable[[FieldChange], bool]], ...] = (
        ("model_change", lambda c: c.path == "config.runtime.model"),
        ("tool_removed", _removes_tool),
        ("transfer_target_changed", lambda c: _under(c.path, _TRANSFERS)),
    )
    flags: list[RiskFlag] = [flag for flag, check in checks if any(map(check, changes))]
    if _prompt_size_changed(before_prompt, after_prompt):
        flags.append("prompt_size_change")
    return tuple(flags)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + "[", prefix + "."))


def _removes_tool(change: FieldChange) -> bool:
    if _under(change.path, _TOOLS) and change.path != _TOOLS:
        return change.kind == "removed" and change.path.endswith("]")
    if change.path == _TOOLS or change.path in ("config.tool", "config"):
        return bool(_tool_names(change.before) - _tool_names(change.after))
    return False


def _tool_names(value: object) -> set[str]:
    """Tool names in a value that is a tools list, or a mapping containing one."""
    if isinstance(value, dict):
        value = value.get("tools", value.get("tool"))
        if isinstance(value, dict):
            value = value.get("tools")
    if not isinstance(value, list):
        return set()
    return {f"{t.get('ns')}/{t.get('name')}" for t in value if isinstance(t, dict)}


def _prompt_size_changed(before: str | None, after: str | None) -> bool:
    if not before or after is None or is_sealed(before) or is_sealed(after):
        return False
    ratio = len(after) / len(before)
    return ratio > 1 + PROMPT_RATIO or ratio < 1 - PROMPT_RATIO
