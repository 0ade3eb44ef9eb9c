"""Wording shared by the plan renderers, so text and Markdown say the same things; also used
by the status and history renderers, which show the same kinds of values."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

from operator_iac.plan.marker import DIRTY
from operator_iac.plan.model import (
    PROMPT_TEXT_PATH,
    Action,
    BlockReason,
    DraftFate,
    FieldChange,
    ForeignDraft,
    GatePlan,
    Plan,
    ResourcePlan,
    RiskFlag,
    SecretReference,
    Summary,
)
from operator_iac.plan.stored import excerpts
from operator_iac.spec.gate import format_span

ACTION_SYMBOLS: dict[Action, str] = {
    "create": "+", "update": "~", "release": ">", "adopt": "*", "verify": "?", "discard": "x",
    "delete": "-", "no-op": "=",
}
ACTION_PHRASES: dict[Action, str] = {
    "create": "will be created",
    "update": "will be updated (a draft is written, then released)",
    "release": "has a draft equal to the declaration; it will be released",
    "adopt": "will be adopted: taken under management and updated",
    "verify": "is released, but its smoke tests never passed on the released revision; they "
              "will run, and a failure releases the previous revision again",
    "discard": "is released as declared, under an unreleased draft operator-iac wrote for a "
               "change that was never released; the draft will be discarded (overwritten with "
               "the released revision) (--discard-drafts)",
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
FOREIGN_DRAFT_NOTHING_LOST = ("the agent has an unreleased draft that operator-iac did not "
                              "write; the write keeps every change it holds, so it is "
                              "overwritten without --overwrite-draft")
FOREIGN_DRAFT_KEPT = ("the agent has an unreleased draft that operator-iac did not write; "
                      "it is left alone")
# What becomes of a foreign draft, after "draft vN: ".
DRAFT_FATES: dict[DraftFate, str] = {
    "overwritten": "--overwrite-draft discards",
    "blocked": "--overwrite-draft would discard",
    "kept": "left alone (apply does not write this agent); it holds",
    "deleted": "deleted with the agent; it holds",
}
DRIFT_HINT = ("run `operator-iac pull {key}` to take the platform's content into the files, "
              "or apply to overwrite it")


def secret_reference_text(ref: SecretReference, code: Callable[[str], str] = str) -> str:
    """What a change does to a ``${env:NAME}`` reference, by name (``code`` formats names
    and paths, e.g. as Markdown code)."""
    path = code(ref.path)
    named = code(f"${{env:{ref.name}}}") if ref.name else None
    if ref.change == "introduced":
        return f"introduces {named} in {path}"
    if ref.change == "removed" and named:
        return f"removes {named} from {path}"
    if ref.change == "removed":
        return f"removes the secret at {path} (the platform does not record its variable's name)"
    return (f"changes {path}, which holds {named}; it held a secret before, and the platform "
            "does not record which")


def secret_lines(plan: Plan, code: Callable[[str], str] = str) -> list[str]:
    """Every secret reference the plan changes, ``key: what``, in apply order."""
    return [f"{code(r.key)} {secret_reference_text(ref, code)}"
            for r in plan.ordered_resources() for ref in r.secret_references]


def commit_text(commit: str) -> str:
    """A commit as plans show it: short, and saying so when it has uncommitted changes."""
    dirty = commit.endswith(DIRTY)
    short = commit.removesuffix(DIRTY)[:12]
    return f"{short}{DIRTY} (uncommitted changes)" if dirty else short


def summary_line(summary: Summary) -> str:
    verify = f"{summary.verify} to verify, " if summary.verify else ""
    discard = f"{summary.discard} draft(s) to discard, " if summary.discard else ""
    return (f"Plan: {summary.create} to create, {summary.update} to update, "
            f"{summary.release} to release, {summary.adopt} to adopt, {verify}{discard}"
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
    if not parts:
        return None
    text = f"smoke tests run {' and '.join(parts)}"
    return f"{text}; {gate_text(resource.gate)}" if resource.gate is not None else text


def gate_text(gate: GatePlan) -> str:
    """The release gate in words: what is compared, where, and what it may cost at worst."""
    where = "on the draft" if gate.stage == "draft" else "after release (rolled back on a " \
        "regression)"
    return (f"release gate: {len(gate.tests)} test(s) compared with "
            f"{gate.baseline_version_id} {where}, blocking a drop of {gate.max_drop:g} at "
            f"{gate.confidence:.0%} confidence (inconclusive: {gate.inconclusive}); at worst "
            f"{gate.worst_case_conversations} conversations, about "
            f"{format_span(gate.estimated_seconds)} at {gate.concurrency} at once")


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
        reason = resource.drift_reason or ""
        if resource.action != "delete":
            hint = DRIFT_HINT.format(key=resource.key)
            reason = f"{reason.rstrip('.')}. {hint[0].upper()}{hint[1:]}" if reason else hint
        found.append(PlanWarning("drift", DRIFT_TITLE, DRIFT_TITLE, reason))
    # A foreign draft that blocks the resource is said by the block already.
    if resource.foreign_draft and resource.blocked != "foreign_draft":
        review = resource.foreign_draft_review
        text = FOREIGN_DRAFT_KEPT if not resource.writes else FOREIGN_DRAFT_OVERWRITE \
            if review is None or review.changes else FOREIGN_DRAFT_NOTHING_LOST
        if review is not None and review.fate == "deleted":
            text = ("the agent has an unreleased draft that operator-iac did not write; it "
                    "is deleted with the agent")
        found.append(PlanWarning("foreign_draft", "foreign draft", None, text))
    return found


def owned_line(plan: Plan) -> str | None:
    """The fields the dashboard owns, per agent, or None when it owns none."""
    owned = [f"{r.key} ({', '.join(r.dashboard_owned)})" for r in plan.resources
             if r.dashboard_owned]
    if not owned:
        return None
    return ("Owned by the dashboard (written as the platform holds them, never drift): "
            f"{'; '.join(owned)}.")


STORED_FORMS_SHOWN = 20


def stored_form_lines(plan: Plan, code: str = "") -> list[str]:
    """What the platform stores in a form of its own, one line per value (``code``: the
    quote around values, a backtick for Markdown)."""
    lines = [f"the platform stores {form.path} {code}{sent}{code} as {code}{stored}{code}"
             for form in plan.stored_forms[:STORED_FORMS_SHOWN]
             for sent, stored in [excerpts(form.declared, form.stored, 80)]]
    more = len(plan.stored_forms) - STORED_FORMS_SHOWN
    return [*lines, f"and {more} more (plan --format json lists them all)"] if more > 0 \
        else lines


def unrecorded_environment_line(plan: Plan) -> str | None:
    """The agents whose markers name no environment, read as this one's; None when none."""
    keys = plan.unrecorded_environment
    if not keys:
        return None
    shown = ", ".join(keys[:10]) + (f" and {len(keys) - 10} more" if len(keys) > 10 else "")
    return (f"{len(keys)} agent(s) carry markers written before environments were recorded, "
            f"read as {plan.environment}'s: {shown}; their next write records the "
            "environment.")


def draft_heading(review: ForeignDraft) -> str:
    """One line introducing a foreign draft's changes."""
    updated = f", last updated {review.updated_at}" if review.updated_at else ""
    if review.fate == "overwritten" and not review.changes:
        return (f"draft {review.version_id}{updated}: nothing it changed is lost (the "
                "declarations hold the same values)")
    count = len(review.changes)
    what = f"{count} field change{'s' if count != 1 else ''}" if count else "no field changes"
    return f"draft {review.version_id}{updated}: {DRAFT_FATES[review.fate]} {what}"


def draft_rows(review: ForeignDraft) -> list[tuple[str, str, str]]:
    """(symbol, path, rendering) per change the draft holds, as ``visible_changes``."""
    return _rows(review.changes, review.prompt_diff)


def foreign_drafts_line(plan: Plan) -> str | None:
    """A line under the counts naming every foreign draft and its fate, or None."""
    drafts = [(r.key, r.foreign_draft_review) for r in plan.foreign_drafts()]
    if not drafts:
        return None
    fates = {"overwritten": "overwritten", "blocked": "blocks apply", "kept": "left alone",
             "deleted": "deleted"}
    named = ", ".join(f"{key} {review.version_id} ({fates[review.fate]})"
                      for key, review in drafts if review is not None)
    return f"Unreleased drafts operator-iac did not write: {named}."


def stale_drafts_line(plan: Plan) -> str | None:
    """A line under the counts naming every unreleased draft of operator-iac's on an agent
    released as declared (``ResourcePlan.stale_draft``), or None."""
    named = [f"{r.key} {r.stale_draft}" + (" (discarded)" if r.action == "discard" else "")
             for r in plan.resources if r.stale_draft]
    if not named:
        return None
    return ("Unreleased drafts operator-iac wrote for changes never released (promote refuses "
            f"while they are there; --discard-drafts discards them): {', '.join(named)}.")


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
    return _rows(resource.changes, resource.prompt_diff)


def _rows(changes: Sequence[FieldChange], prompt_diff: str | None) -> list[tuple[str, str, str]]:
    rows = []
    for change in changes:
        if change.path == PROMPT_TEXT_PATH and prompt_diff:
            added, removed = diff_line_counts(prompt_diff)
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
