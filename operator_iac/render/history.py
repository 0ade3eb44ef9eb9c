"""An agent's revisions (``history``) as a text table or JSON, and the preview a rollback shows
before it asks: which revision is released now, which will be, and the field changes and prompt
diff between them. Pure functions."""

from __future__ import annotations

from typing import TypedDict

from operator_iac.errors import SmokeTestFailedError
from operator_iac.plan.history import AgentHistory, RevisionInfo
from operator_iac.plan.model import PROMPT_TEXT_PATH, FieldChange
from operator_iac.plan.rollback import RollbackPlan
from operator_iac.render.envelope import JsonObject, JsonReport, error_entry
from operator_iac.render.plan_common import CHANGE_SYMBOLS, aligned, change_text


class SmokeSummary(TypedDict):
    """The verdict of the smoke tests run after a rollback."""

    passed: bool
    summary: str

_COLUMNS = ("REVISION", "STATUS", "CREATED", "UPDATED", "COMMIT", "HASH")
NONE = "-"


def _row(revision: RevisionInfo) -> tuple[str, ...]:
    marker = revision.marker
    return (f"v{revision.number}", revision.status, revision.created_at or NONE,
            revision.updated_at or NONE,
            (marker.commit or NONE) if marker else NONE,
            marker.content_hash if marker else revision.note)


def render_history_text(history: AgentHistory) -> str:
    head = f"{history.key}: {history.kind} {history.agent_id}, {len(history.revisions)} " \
           f"revision{'s' if len(history.revisions) != 1 else ''}"
    lines = [head, "", *aligned([_COLUMNS, *(_row(r) for r in history.revisions)])]
    return "\n".join(lines) + "\n"


def history_data(history: AgentHistory) -> JsonObject:
    return {
        "key": history.key,
        "kind": history.kind,
        "agent_id": history.agent_id,
        "revisions": [_revision_data(r) for r in history.revisions],
    }


def _revision_data(revision: RevisionInfo) -> JsonObject:
    marker = revision.marker
    return {
        "version_id": revision.version_id,
        "number": revision.number,
        "status": revision.status,
        "created_at": revision.created_at,
        "updated_at": revision.updated_at,
        "commit": marker.commit if marker else None,
        "content_hash": marker.content_hash if marker else None,
        "note": revision.note or None,
    }


def history_json(history: AgentHistory) -> JsonReport:
    released = next((r.version_id for r in history.revisions if r.status == "released"), None)
    return JsonReport(history_data(history),
                      {"revisions": len(history.revisions), "released": released})


# ---- rollback --------------------------------------------------------------------------------


def render_rollback_text(plan: RollbackPlan) -> str:
    current = plan.current or "nothing"
    lines = [f"Rollback of {plan.key} ({plan.kind} {plan.agent_id}): released {current} -> "
             f"{plan.target}"]
    if plan.already_released:
        lines.append(f"  {plan.target} is already the released revision: nothing to do.")
        return "\n".join(lines) + "\n"
    marker = plan.target_marker
    lines.append(f"  {plan.target} was written by operator-iac from commit "
                 f"{marker.commit or 'unknown'} (hash {marker.content_hash})" if marker else
                 f"  {plan.target} carries no operator-iac marker: after the rollback, status "
                 "reports the agent as changed outside operator-iac")
    if not plan.changes:
        lines.append("  The two revisions hold the same content.")
    for change in plan.changes:
        lines.append(f"  {CHANGE_SYMBOLS[change.kind]} {change.path}: {_change_text(plan, change)}")
    if plan.prompt_diff:
        lines.extend(["", *(f"    {line}" for line in plan.prompt_diff.splitlines())])
    return "\n".join(lines) + "\n"


def _change_text(plan: RollbackPlan, change: FieldChange) -> str:
    if change.path == PROMPT_TEXT_PATH and plan.prompt_diff:
        return "prompt text (diff below)"
    return change_text(change)


def rollback_json(plan: RollbackPlan, *, released: str | None = None,
                  smoke: SmokeSummary | None = None) -> JsonReport:
    """One agent's rollback: ``released`` is the revision released now; ``smoke`` the verdict
    of its smoke tests, when they ran. The summary counts as ``rollback --all``'s does."""
    smoke_failed = smoke is not None and not smoke["passed"]
    summary = {"released": 0 if plan.already_released else 1, "deleted": 0, "failed": 0,
               "smoke_failed": int(smoke_failed)}
    errors = () if not smoke_failed else (error_entry(
        SmokeTestFailedError.code, f"{plan.key}: smoke tests failed on {released}: "
        f"{smoke['summary'] if smoke else ''}"),)
    return JsonReport(rollback_data(plan, released=released, smoke=smoke), summary, errors)


def rollback_data(plan: RollbackPlan, *, released: str | None = None,
                  smoke: SmokeSummary | None = None) -> JsonObject:
    return {
        "key": plan.key,
        "agent_id": plan.agent_id,
        "from": plan.current,
        "to": plan.target,
        "released": released,
        "changes": [c.model_dump(mode="json") for c in plan.changes],
        "prompt_diff": plan.prompt_diff,
        "smoke": smoke,
    }
