"""Wording shared by the plan renderers, so text and Markdown say the same things."""

from __future__ import annotations

import json
from typing import Any

from operator_iac.plan.model import Action, BlockReason, ResourcePlan, RiskFlag, Summary

PROMPT_PATH = "config.runtime.prompt.text"

ACTION_SYMBOLS: dict[Action, str] = {
    "create": "+", "update": "~", "release": ">", "adopt": "*", "delete": "-", "no-op": "=",
}
ACTION_PHRASES: dict[Action, str] = {
    "create": "will be created",
    "update": "will be updated (a draft is written, then released)",
    "release": "has a draft equal to the declaration; it will be released",
    "adopt": "will be adopted: taken under management and updated",
    "delete": "will be deleted",
    "no-op": "is up to date",
}
KIND_LABELS = {"conversational_agent": "conversational agent",
               "procedural_agent": "procedural agent"}
CHANGE_SYMBOLS = {"added": "+", "removed": "-", "changed": "~"}
RISK_TEXT: dict[RiskFlag, str] = {
    "model_change": "model change",
    "tool_removed": "tool removed",
    "transfer_target_changed": "transfer target changed",
    "prompt_size_change": "prompt size changed by more than half",
    "deletion": "deletion",
}
BLOCK_TEXT: dict[BlockReason, str] = {
    "needs_adopt": "an unmanaged agent with this name exists on the platform; "
                   "run with --adopt to take it over (apply will not create a duplicate)",
    "needs_allow_delete": "the environment is protected: deleting needs --allow-delete",
    "foreign_draft": "the agent has an unreleased draft that operator-iac did not write; "
                     "apply refuses to overwrite it without --overwrite-draft",
}
DRIFT_TITLE = "changed outside operator-iac"
FOREIGN_DRAFT_OVERWRITE = ("the agent has an unreleased draft that operator-iac did not write; "
                           "it will be overwritten (--overwrite-draft)")
FOREIGN_DRAFT_KEPT = ("the agent has an unreleased draft that operator-iac did not write; "
                      "it is left alone")


def summary_line(summary: Summary) -> str:
    return (f"Plan: {summary.create} to create, {summary.update} to update, "
            f"{summary.release} to release, {summary.adopt} to adopt, "
            f"{summary.delete} to delete, {summary.unchanged} unchanged.")


def format_value(value: Any, limit: int = 120) -> str:
    """A value as compact JSON, shortened with a note when longer than ``limit``."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def smoke_text(resource: ResourcePlan) -> str | None:
    stages = {"draft": "on the draft before release", "released": "after release"}
    parts = [stages[s] for s in resource.smoke]
    return f"smoke tests run {' and '.join(parts)}" if parts else None


def foreign_draft_text(resource: ResourcePlan) -> str | None:
    if not resource.foreign_draft or resource.blocked == "foreign_draft":
        return None
    return FOREIGN_DRAFT_OVERWRITE if resource.writes else FOREIGN_DRAFT_KEPT


def heading_detail(resource: ResourcePlan) -> str:
    agent_id = f", {resource.agent_id}" if resource.agent_id else ""
    return f"{resource.kind}{agent_id}"


def diff_line_counts(diff: str) -> tuple[int, int]:
    lines = diff.splitlines()
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    return added, removed


def visible_changes(resource: ResourcePlan) -> list[tuple[str, str, str]]:
    """(symbol, path, rendering) per field change; the prompt shows as its line diff."""
    rows = []
    for change in resource.changes:
        if change.path == PROMPT_PATH and resource.prompt_diff:
            added, removed = diff_line_counts(resource.prompt_diff)
            text = f"prompt text: +{added} -{removed} lines"
        elif change.kind == "added":
            text = format_value(change.after)
        elif change.kind == "removed":
            text = format_value(change.before)
        else:
            text = f"{format_value(change.before)} -> {format_value(change.after)}"
        rows.append((CHANGE_SYMBOLS[change.kind], change.path, text))
    return rows
