"""The plan as GitHub-flavoured Markdown for a pull-request comment: a summary table, one
section per agent with work, prompt diffs folded in ``<details>`` blocks.

PR comments have a hard size limit, so the document is kept under ``budget`` characters
(60,000 by default). When it does not fit, prompt diffs are shortened first (each keeps a fair
share of the room, cut at line ends), then whole agent sections are dropped from the end; an
explicit note says what was cut and where to see everything.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from operator_iac.plan.model import PROMPT_TEXT_PATH, FieldChange, Plan, ResourcePlan
from operator_iac.render.plan_common import (
    ACTION_PHRASES,
    KIND_LABELS,
    RISK_TEXT,
    PlanWarning,
    commit_text,
    diff_line_counts,
    draft_heading,
    foreign_drafts_line,
    format_value,
    owned_line,
    resource_warnings,
    secret_lines,
    secret_reference_text,
    smoke_text,
    stale_drafts_line,
    stored_form_lines,
    summary_line,
    template_lines,
    unrecorded_environment_line,
)

DEFAULT_BUDGET = 60_000
_NOTE_RESERVE = 1_000  # room kept for the truncation note (it names at most _NOTE_KEYS keys)
_NOTE_KEYS = 20
_FIT_ROUNDS = 4  # re-measurings of the prompt diffs' share before cutting hard
_CELL_LIMIT = 80  # a structured value (list, mapping) in a table cell
_LINE_LIMIT = 2_000  # a one-line string (a name, a description) is shown whole up to this
_ICONS = {"create": "🆕", "update": "✏️", "release": "🚀", "adopt": "📥", "verify": "🔍",
          "discard": "🧹", "delete": "🗑️", "no-op": "✔️"}
_WARNING_ICONS = {"blocked": "⛔", "drift": "⚠️", "foreign_draft": "⚠️"}
_SEPARATOR = "\n\n"
_SECRET_ICON = "🔑"

# key -> how many characters of its prompt diff to keep (None: all, 0: omit the diff).
Allowance = dict[str, int | None]


@dataclass
class _Cuts:
    shortened: list[str]
    dropped: list[str]


@dataclass(frozen=True)
class _Blocks:
    """The document as blocks rendered once each: the head (title, table, notes) and one
    section per agent. Fitting the budget measures and recombines them; nothing is rendered
    again per agent dropped, so a plan of thousands of agents costs one pass."""

    head: tuple[str, ...]
    sections: tuple[str, ...]

    def length(self, sections: tuple[str, ...] | None = None, note: int = 0) -> int:
        blocks = [b for b in (*self.head, *(self.sections if sections is None else sections))
                  if b]
        return sum(map(len, blocks)) + len(_SEPARATOR) * (len(blocks) - 1) + 1 + note

    def text(self, sections: tuple[str, ...], note: str | None = None) -> str:
        blocks = [*self.head, *([note] if note else []), *sections]
        return _SEPARATOR.join(b for b in blocks if b) + "\n"


def render_plan_markdown(plan: Plan, *, budget: int = DEFAULT_BUDGET) -> str:
    resources = plan.shown_resources()
    head = (_header(plan), _table(resources), *_notes(plan))
    full = _Blocks(head, tuple(_section(r, None) for r in resources))
    if full.length() <= budget:
        return full.text(full.sections)
    diffs = {r.key: len(r.prompt_diff) for r in resources if r.prompt_diff}
    bare = _Blocks(head, tuple(_section(r, 0) if r.key in diffs else text
                               for r, text in zip(resources, full.sections, strict=True)))
    room = budget - _NOTE_RESERVE - bare.length()
    if room >= 0:
        return _fit_diffs(bare, resources, diffs, room, budget)
    return _drop_sections(bare, resources, diffs, budget)


def _fit_diffs(bare: _Blocks, resources: tuple[ResourcePlan, ...], diffs: dict[str, int],
               room: int, budget: int) -> str:
    """Give the prompt diffs the room left, shared fairly; measured again a few times, as
    each diff's frame (its summary line and fences) takes room too."""
    text = ""
    for _ in range(_FIT_ROUNDS):
        allowance = _share(diffs, room)
        cuts = _Cuts([k for k, size in diffs.items() if (allowance[k] or 0) < size], [])
        sections = tuple(_section(r, allowance[r.key]) if r.key in diffs else kept
                         for r, kept in zip(resources, bare.sections, strict=True))
        text = bare.text(sections, _truncation_note(cuts))
        if len(text) <= budget:
            return text
        room -= max(len(text) - budget, room // 10, 1)
    return _hard_cut(text, budget)


def _share(sizes: dict[str, int], room: int) -> Allowance:
    """Water-filling: small diffs are kept whole, large ones share what is left equally."""
    allowance: Allowance = {}
    remaining = max(room, 0)
    ordered = sorted(sizes.items(), key=lambda item: item[1])
    for index, (key, size) in enumerate(ordered):
        fair = remaining // (len(ordered) - index)
        allowance[key] = size if size <= fair else fair
        remaining -= allowance[key] or 0
    return allowance


def _drop_sections(bare: _Blocks, resources: tuple[ResourcePlan, ...], diffs: dict[str, int],
                   budget: int) -> str:
    """Keep the longest run of sections from the start that fits with the note, by adding up
    their lengths (the table still lists every agent)."""
    room = budget - _NOTE_RESERVE - bare.length(())
    kept = 0
    for section in bare.sections:
        cost = len(section) + len(_SEPARATOR)
        if cost > room:
            break
        room -= cost
        kept += 1
    dropped = [r.key for r in resources[kept:]]
    text = bare.text(bare.sections[:kept], _truncation_note(_Cuts(list(diffs), dropped)))
    return text if len(text) <= budget else _hard_cut(text, budget)


def _hard_cut(text: str, budget: int) -> str:
    note = ("\n\n> **Truncated**: this plan is too large for one comment even without its "
            "per-agent sections; see the full plan with `--format text` or `--format json`.\n")
    return text[: budget - len(note)].rsplit("\n", 1)[0] + note


# ---- the document -------------------------------------------------------------------------


def _header(plan: Plan) -> str:
    env = f" → `{plan.environment}`" if plan.environment else ""
    protected = " (protected)" if plan.protected else ""
    commit = f" at `{commit_text(plan.commit)}`" if plan.commit else ""
    templates = "".join(f"\n\n{line}" for line in template_lines(plan.resources))
    drafts = foreign_drafts_line(plan)
    note = f"\n\n{_WARNING_ICONS['foreign_draft']} {_cell(drafts)}" if drafts else ""
    stale = stale_drafts_line(plan)
    note += f"\n\n{_WARNING_ICONS['foreign_draft']} {_cell(stale)}" if stale else ""
    return (f"### operator-iac plan: `{plan.project}`{env}{protected}{commit}\n\n"
            f"**{summary_line(plan.summary())}**{templates}{note}{_secrets_note(plan)}")


def _secrets_note(plan: Plan) -> str:
    """Every secret reference the plan changes, in the header: never cut to fit a comment."""
    lines = secret_lines(plan, _inline_code)
    if not lines:
        return ""
    items = "".join(f"\n- {line}" for line in lines)
    return f"\n\n{_SECRET_ICON} **Secret references** (names, never values):{items}"


def _table(resources: tuple[ResourcePlan, ...]) -> str:
    if not resources:
        return "No changes. The platform matches the declarations."
    # Reviewers look agents up in the dashboard by name and id, so both stand beside the key.
    rows = ["| | Agent | Name | ID | Kind | Action | Changes | Notes |",
            "|---|---|---|---|---|---|---|---|"]
    for r in resources:
        kind = r.kind.replace("_agent", "")
        agent_id = f"`{r.agent_id}`" if r.agent_id else "new"
        rows.append(f"| {_ICONS[r.action]} | `{r.key}` | {_cell(platform_name(r))} | "
                    f"{agent_id} | {kind} | {r.action} | "
                    f"{len(r.changes)} | {_cell(', '.join(_flags(r)))} |")
    return "\n".join(rows)


def platform_name(resource: ResourcePlan) -> str:
    """The name the platform shows now: before a rename, the old one."""
    renamed = next((c for c in resource.changes if c.path == "name"), None)
    if renamed is not None and isinstance(renamed.before, str):
        return renamed.before
    return resource.name


def _flags(resource: ResourcePlan) -> list[str]:
    flags = [f"{_WARNING_ICONS[w.kind]} {w.label}" for w in resource_warnings(resource)]
    changes = dict.fromkeys(ref.change for ref in resource.secret_references)
    flags.extend(f"{_SECRET_ICON} secret {change}" for change in changes)
    flags.extend(RISK_TEXT[r] for r in resource.risks if r != "deletion")
    return flags


def _notes(plan: Plan) -> list[str]:
    notes = []
    unchanged = [f"`{r.key}`" for r in plan.resources if r.action == "no-op"]
    if unchanged:
        notes.append(f"<details><summary>{len(unchanged)} unchanged</summary>\n\n"
                     f"{', '.join(unchanged)}\n\n</details>")
    if plan.included_dependencies:
        keys = ", ".join(f"`{k}`" for k in plan.included_dependencies)
        notes.append(f"Included because selected agents refer to them and they do not exist "
                     f"yet: {keys}.")
    owned = owned_line(plan)
    if owned:
        notes.append(_cell(owned))
    forms = stored_form_lines(plan, code="`")
    if forms:
        notes.append("Stored by the platform in its own form (equal, not a change):\n\n"
                     + "\n".join(f"- {_cell(line)}" for line in forms))
    unrecorded = unrecorded_environment_line(plan)
    if unrecorded:
        notes.append(_cell(unrecorded))
    if plan.unpruned:
        names = ", ".join(f"`{u.key}` ({u.agent_id})" for u in plan.unpruned)
        notes.append(f"Owned by this project but no longer declared (run with `--prune` to "
                     f"delete): {names}.")
    return notes


def _truncation_note(cuts: _Cuts) -> str | None:
    parts = []
    if cuts.shortened:
        parts.append("prompt diffs shortened or omitted for " + _keys(cuts.shortened))
    if cuts.dropped:
        parts.append("sections omitted for " + _keys(cuts.dropped))
    if not parts:
        return None
    what = "; ".join(parts)
    return (f"> **Truncated** to stay under the size limit of a comment: {what}. Run "
            "`operator-iac plan --format text` (or `--format json`) to see the whole plan.")


def _keys(keys: list[str]) -> str:
    """The keys, the first few by name: the note stays within its reserved room."""
    if len(keys) <= _NOTE_KEYS:
        return ", ".join(f"`{k}`" for k in keys)
    first = ", ".join(f"`{k}`" for k in keys[:_NOTE_KEYS - 1])
    return f"{first}, …, `{keys[-1]}` ({len(keys):,} in all)"


def _section(resource: ResourcePlan, allowance: int | None) -> str:
    agent_id = f" `{resource.agent_id}`" if resource.agent_id else ""
    lines = [f"#### {_ICONS[resource.action]} `{resource.key}` · {resource.action}", "",
             f"{KIND_LABELS[resource.kind].capitalize()} "
             f"**{_cell(platform_name(resource))}**{agent_id} "
             f"{ACTION_PHRASES[resource.action]}."]
    for warning in resource_warnings(resource):
        lines += ["", f"> {_warning_line(warning)}"]
    for ref in resource.secret_references:
        lines += ["", f"> {_SECRET_ICON} {_sentence(secret_reference_text(ref, _inline_code))}"]
    lines.extend(_draft_section(resource))
    lines.extend(_change_table(resource))
    if resource.prompt_diff and allowance == 0:
        added, removed = diff_line_counts(resource.prompt_diff)
        lines += ["", f"_Prompt diff (+{added} -{removed} lines) omitted to fit the size "
                      "limit._"]
    elif resource.prompt_diff:
        lines += ["", _prompt_details(resource.prompt_diff, allowance)]
    # Risks and smoke tests are separate sentences: a smoke test is a safeguard, not a risk.
    for text in (_risk_line(resource), smoke_text(resource)):
        if text:
            lines += ["", _sentence(text)]
    return "\n".join(lines)


def _warning_line(warning: PlanWarning) -> str:
    title = f"**{warning.title.capitalize()}**: " if warning.title else ""
    return f"{_WARNING_ICONS[warning.kind]} {_sentence(title + warning.text)}"


def _draft_section(resource: ResourcePlan) -> list[str]:
    """A foreign draft's changes, folded: they are someone's work, shown before it is lost."""
    review = resource.foreign_draft_review
    if review is None:
        return []
    lines = ["", f"<details><summary>{_cell(_sentence(draft_heading(review)))}</summary>"]
    if review.changes:
        lines += _rows(review.changes, review.prompt_diff)
    if review.prompt_diff:
        lines += ["", _prompt_details(review.prompt_diff, None)]
    return [*lines, "", "</details>"]


def _change_table(resource: ResourcePlan) -> list[str]:
    if not resource.changes:
        note = "No field changes: only the ownership marker is written." if resource.writes \
            else ""
        return ["", note] if note else []
    return _rows(resource.changes, resource.prompt_diff)


def _rows(changes: tuple[FieldChange, ...], prompt_diff: str | None) -> list[str]:
    rows = ["", "| Field | Change | Before | After |", "|---|---|---|---|"]
    for change in changes:
        if change.path == PROMPT_TEXT_PATH and prompt_diff:
            added, removed = diff_line_counts(prompt_diff)
            before, after = "", f"+{added} -{removed} lines (diff below)"
        else:
            before, after = _code(change.before), _code(change.after)
        rows.append(f"| `{change.path}` | {change.kind} | {before} | {after} |")
    return rows


def _prompt_details(diff: str, allowance: int | None) -> str:
    added, removed = diff_line_counts(diff)
    body, cut_lines = _shorten(diff, allowance)
    if cut_lines:
        body += f"\n… {cut_lines} more lines not shown (truncated)"
    fence = "`" * max(3, _longest_backtick_run(body) + 1)
    return (f"<details><summary>Prompt diff (+{added} -{removed} lines)</summary>\n\n"
            f"{fence}diff\n{body}\n{fence}\n\n</details>")


def _shorten(diff: str, allowance: int | None) -> tuple[str, int]:
    if allowance is None or len(diff) <= allowance:
        return diff, 0
    kept = diff[:allowance].rsplit("\n", 1)[0] if "\n" in diff[:allowance] else ""
    return kept, diff.count("\n") - kept.count("\n") + (0 if kept else 1)


def _risk_line(resource: ResourcePlan) -> str | None:
    risks = [RISK_TEXT[r] for r in resource.risks]
    return f"**Risks:** {', '.join(risks)}" if risks else None


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _code(value: object) -> str:
    if value is None:
        return ""
    one_line = isinstance(value, str) and "\n" not in value
    return f"<code>{_cell(format_value(value, _LINE_LIMIT if one_line else _CELL_LIMIT))}</code>"


def _inline_code(text: str) -> str:
    """``text`` as inline code, whatever backticks it holds (a key of ``config.extra``)."""
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    """Safe inside a table cell: no pipes or newlines, HTML escaped."""
    return html.escape(text, quote=False).replace("|", "&#124;").replace("\n", " ")


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)
