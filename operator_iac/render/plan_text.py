"""The plan as text for a terminal: the counts first, then each agent with work, its field
changes marked ``+``/``-``/``~``, prompt line diffs, warnings, risk flags and smoke stages.

Colour is ANSI only, and only when the caller says so (a terminal without ``NO_COLOR``).
"""

from __future__ import annotations

from operator_iac.plan.model import PROMPT_TEXT_PATH, Plan, ResourcePlan
from operator_iac.render.plan_common import (
    ACTION_PHRASES,
    ACTION_SYMBOLS,
    RISK_TEXT,
    commit_text,
    draft_heading,
    draft_rows,
    foreign_drafts_line,
    heading_detail,
    owned_line,
    resource_warnings,
    secret_reference_text,
    smoke_text,
    stale_drafts_line,
    stored_form_lines,
    summary_line,
    template_lines,
    unrecorded_environment_line,
    visible_changes,
)

_STYLES = {"+": "32", "-": "31", "~": "33", ">": "36", "*": "35", "!": "1;33",
           "@": "36", "bold": "1", "dim": "2"}
_UNCHANGED_SHOWN = 20


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        code = _STYLES.get(style)
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and code else text


def render_plan_text(plan: Plan, *, color: bool = False) -> str:
    paint = _Painter(color)
    lines = [paint("bold", summary_line(plan.summary())), *template_lines(plan.resources),
             _context_line(plan)]
    drafts = foreign_drafts_line(plan)
    if drafts:
        lines.append(f"{paint('!', '!')} {drafts}")
    stale = stale_drafts_line(plan)
    if stale:
        lines.append(f"{paint('!', '!')} {stale}")
    for resource in plan.shown_resources():
        lines.append("")
        lines.extend(_resource_lines(resource, paint))
    lines.extend(_footer_lines(plan, paint))
    return "\n".join(lines) + "\n"


def _context_line(plan: Plan) -> str:
    env = plan.environment or "(no environment)"
    protected = " (protected)" if plan.protected else ""
    commit = f", commit {commit_text(plan.commit)}" if plan.commit else ""
    return f"Project {plan.project}, environment {env}{protected}, {plan.api_url}{commit}"


def _resource_lines(resource: ResourcePlan, paint: _Painter) -> list[str]:
    symbol = ACTION_SYMBOLS[resource.action]
    head = (f"{paint(symbol, symbol)} {paint('bold', resource.key)} "
            f"({heading_detail(resource)}) {ACTION_PHRASES[resource.action]}")
    lines = [head]
    for warning in resource_warnings(resource):
        text = f"{warning.title}: {warning.text}" if warning.title else warning.text
        lines.append(f"    {paint('!', '!')} {text}")
    lines.extend(_draft_lines(resource, paint))
    for ref in resource.secret_references:
        lines.append(f"    {paint('!', '!')} {secret_reference_text(ref)}")
    for change_symbol, path, text in visible_changes(resource):
        lines.append(f"    {paint(change_symbol, change_symbol)} {path}: {text}")
        if path == PROMPT_TEXT_PATH and resource.prompt_diff:
            lines.extend(_diff_lines(resource.prompt_diff, paint))
    if resource.writes and not resource.changes:
        lines.append("    (no field changes: only the ownership marker is written)")
    if resource.risks:
        lines.append(f"    risks: {', '.join(RISK_TEXT[r] for r in resource.risks)}")
    smoke = smoke_text(resource)
    if smoke:
        lines.append(f"    {smoke}")
    return lines


def _draft_lines(resource: ResourcePlan, paint: _Painter) -> list[str]:
    """A foreign draft's changes, indented under the warning that names it."""
    review = resource.foreign_draft_review
    if review is None:
        return []
    lines = [f"      {draft_heading(review)}{':' if review.changes else ''}"]
    for change_symbol, path, text in draft_rows(review):
        lines.append(f"        {paint(change_symbol, change_symbol)} {path}: {text}")
        if path == PROMPT_TEXT_PATH and review.prompt_diff:
            lines.extend(f"    {line}" for line in _diff_lines(review.prompt_diff, paint))
    return lines


def _diff_lines(diff: str, paint: _Painter) -> list[str]:
    styled = []
    for line in diff.splitlines():
        style = "dim" if line.startswith(("---", "+++")) else line[:1]
        styled.append(f"        {paint(style, line) if style in _STYLES else line}")
    return styled


def _footer_lines(plan: Plan, paint: _Painter) -> list[str]:
    lines: list[str] = []
    unchanged = [r.key for r in plan.resources if r.action == "no-op"]
    if unchanged:
        shown = ", ".join(unchanged[:_UNCHANGED_SHOWN])
        more = f" and {len(unchanged) - _UNCHANGED_SHOWN} more" \
            if len(unchanged) > _UNCHANGED_SHOWN else ""
        lines += ["", f"{paint('dim', '=')} unchanged: {shown}{more}"]
    if plan.included_dependencies:
        lines += ["", "Included because selected agents refer to them and they do not exist "
                      f"yet: {', '.join(plan.included_dependencies)}"]
    owned = owned_line(plan)
    if owned:
        lines += ["", owned]
    forms = stored_form_lines(plan)
    if forms:
        lines += ["", "Stored by the platform in its own form (equal, not a change):",
                  *(f"  {line}" for line in forms)]
    unrecorded = unrecorded_environment_line(plan)
    if unrecorded:
        lines += ["", unrecorded]
    if plan.unpruned:
        names = ", ".join(f"{u.key} ({u.agent_id})" for u in plan.unpruned)
        lines += ["", f"Owned by this project but no longer declared (run with --prune to "
                      f"delete): {names}"]
    if not plan.has_changes:
        lines += ["", "No changes. The platform matches the declarations."]
    return lines
