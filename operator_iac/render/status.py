"""The status report as text (a table for a terminal), JSON, and Markdown for a CI job's step
summary. Pure functions of ``StatusReport``."""

from __future__ import annotations

from operator_iac.plan.status import AgentStatus, StatusReport
from operator_iac.render.envelope import JsonReport
from operator_iac.render.plan_common import DRIFT_HINT, aligned

_COLUMNS = ("AGENT", "RELEASED", "DRAFT", "COMMIT", "STATE")
NONE = "-"


def headline(report: StatusReport) -> str:
    count = len(report.agents)
    drifted, mismatched = len(report.drifted), len(report.mismatched)
    agents = f"{count} agent{'s' if count != 1 else ''}"
    if report.clean:
        return f"Status: {agents}, all in sync with the declarations."
    return (f"Status: {agents}, {drifted} changed outside operator-iac, "
            f"{mismatched} not matching the declarations.")


def context_line(report: StatusReport) -> str:
    env = report.environment or "(no environment)"
    commit = f", declarations at commit {report.commit}" if report.commit else ""
    return f"Project {report.project}, environment {env}, {report.api_url}{commit}"


def state_text(agent: AgentStatus) -> str:
    if agent.drift:
        return f"CHANGED OUTSIDE OPERATOR-IAC; {agent.state}"
    return agent.state


def _row(agent: AgentStatus) -> tuple[str, ...]:
    return (agent.key, agent.released or NONE, agent.draft or NONE, agent.commit or NONE,
            state_text(agent))


def render_status_text(report: StatusReport) -> str:
    lines = [headline(report), context_line(report), "",
             *aligned([_COLUMNS, *(_row(a) for a in report.agents)])]
    notes = _notes(report)
    if notes:
        lines.extend(["", *notes])
    return "\n".join(lines) + "\n"


def _notes(report: StatusReport) -> list[str]:
    notes = []
    for agent in report.agents:
        if agent.drift and agent.drift_reason:
            hint = f"; {DRIFT_HINT.format(key=agent.key)}" if agent.declared else ""
            notes.append(f"{agent.key}: {agent.drift_reason}{hint}")
        if agent.draft_note:
            notes.append(f"{agent.key}: {agent.draft} is an {agent.draft_note}")
    return notes


def render_status_markdown(report: StatusReport) -> str:
    lines = [f"### {headline(report)}", "", context_line(report), "",
             "| Agent | Released | Draft | Commit | State |", "|---|---|---|---|---|"]
    for agent in report.agents:
        key, released, draft, commit, state = (_cell(c) for c in _row(agent))
        mark = ":warning: " if not agent.clean else ""
        lines.append(f"| `{key}` | {released} | {draft} | {commit} | {mark}{state} |")
    notes = _notes(report)
    if notes:
        lines.extend(["", *(f"- {_cell(note)}" for note in notes)])
    return "\n".join(lines) + "\n"


def status_json(report: StatusReport) -> JsonReport:
    """Every agent's state; drift is the finding of ``status``, not an error (exit 2, as
    ``plan --detailed-exitcode`` for pending changes)."""
    summary = {"agents": len(report.agents), "in_sync": sum(a.clean for a in report.agents),
               "drifted": len(report.drifted), "not_matching": len(report.mismatched)}
    return JsonReport(report.to_dict(), summary)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
