"""Wording shared by the plan renderers, so text and Markdown say the same things; also used
by the status and history renderers, which show the same kinds of values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

from operator_iac.plan.model import (
    PROMPT_TEXT_PATH,
    Action,
    BlockReason,
    FieldChange,
    ResourcePlan,
    RiskFlag,
    Summary,
)

ACTION_SYMBOLS: dict[Action, str] = {
    "create": "+", "update": "~", "release": ">", "adopt": "*", "verify": "?", "delete": "-",
    "no-op": "=",
}
ACTION_PHRASES: dict[Action, str] = {
    "create": "will be created",
    "update": "will be updated (a draft is written, then released)",
    "release": "has a draft equal to the declaration; it will be released",
    "adopt": "will be adopted: taken under management and updated",
    "verify": "is released, but its smoke tests never passed on the released revision; they "
              "will run, and a failure releases the previous revision again",
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
    verify = f"{summary.verify} to verify, " if summary.verify else ""
    return (f"Plan: {summary.create} to create, {summary.update} to update, "
            f"{summary.release} to release, {summary.adopt} to adopt, {verify}"
            f"{summary.delete} to delete, {summary.unchanged} unchanged.")


_COUNTED: tuple[tuple[Action, str], ...] = (
    ("create", "to create"), ("update", "to update"), ("release", "to release"),
    ("adopt", "to adopt"))


def template_lines(resources: Sequence[ResourcePlan]) -> list[str]:
    """One line per file declaring several of the changing agents (a template with
    instances), so that a template edit reads as one change made many times."""
    by_file: dict[str, dict[Action, int]] = {}
    for resource in resources:
        if resource.source and resource.action not in ("no-op", "delete"):
            counts = by_file.setdefault(resource.source, {})
            counts[resource.action] = counts.get(resource.action, 0) + 1
    lines = []
    for source, counts in sorted(by_file.items()):
        total = sum(counts.values())
        if total > 1:
            what = ", ".join(f"{counts[a]} {words}" for a, words in _COUNTED if a in counts)
            lines.append(f"{total} of these changes come from one template, "
                         f"{short_source(source)} ({what}).")
    return lines


def short_source(source: str) -> str:
    """The file and its folder (``clinics/receptionists.yaml``): enough to find it in the
    project, without the machine's absolute path."""
    parts = source.replace("\\", "/").split("/")
    return "/".join(parts[-2:])


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


class PlanWarning(NamedTuple):
    """Something about a resource to read before applying: each renderer formats it."""

    kind: Literal["blocked", "drift", "foreign_draft"]
    label: str  # a few words, for a summary table
    title: str | None  # shown before ``text`` ("blocked: ..."); None: ``text`` stands alone
    text: str


def resource_warnings(resource: ResourcePlan) -> list[PlanWarning]:
    """The warnings that apply to ``resource``, in the order every renderer shows them."""
    found = []
    if resource.blocked:
        found.append(PlanWarning("blocked", f"blocked ({resource.blocked.replace('_', ' ')})",
                                 "blocked", BLOCK_TEXT[resource.blocked]))
    if resource.drift:
        found.append(PlanWarning("drift", DRIFT_TITLE, DRIFT_TITLE,
                                 resource.drift_reason or ""))
    # A foreign draft that blocks the resource is said by the block already.
    if resource.foreign_draft and resource.blocked != "foreign_draft":
        text = FOREIGN_DRAFT_OVERWRITE if resource.writes else FOREIGN_DRAFT_KEPT
        found.append(PlanWarning("foreign_draft", "foreign draft", None, text))
    return found


def heading_detail(resource: ResourcePlan) -> str:
    agent_id = f", {resource.agent_id}" if resource.agent_id else ""
    return f"{resource.kind}{agent_id}"


def diff_line_counts(diff: str) -> tuple[int, int]:
    lines = diff.splitlines()
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    return added, removed


def change_text(change: FieldChange) -> str:
    """The value a field gets, loses, or ``before -> after``."""
    if change.kind == "added":
        return format_value(change.after)
    if change.kind == "removed":
        return format_value(change.before)
    return f"{format_value(change.before)} -> {format_value(change.after)}"


def visible_changes(resource: ResourcePlan) -> list[tuple[str, str, str]]:
    """(symbol, path, rendering) per field change; the prompt shows as its line diff."""
    rows = []
    for change in resource.changes:
        if change.path == PROMPT_TEXT_PATH and resource.prompt_diff:
            added, removed = diff_line_counts(resource.prompt_diff)
            text = f"prompt text: +{added} -{removed} lines"
        else:
            text = change_text(change)
        rows.append((CHANGE_SYMBOLS[change.kind], change.path, text))
    return rows


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as lines of left-aligned columns two spaces apart (the last column unpadded)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines
