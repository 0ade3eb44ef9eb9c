"""The pull report as text (the diff of every file, then what was not pulled and why) and as
JSON. Pure functions of ``PullReport``."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from operator_iac.render.envelope import JsonObject, JsonReport
from operator_iac.spec.loader import display_path

if TYPE_CHECKING:
    from operator_iac.importing.pull import FileEdit, PulledAgent, PullReport


def render_pull_text(report: PullReport) -> str:
    lines: list[str] = []
    for agent in report.agents:
        lines.append(_headline(agent, report.written))
        lines.extend(f"  ! {note}" for note in agent.notes)
        remaining = report.remaining.get(agent.key, ())
        if report.written and remaining:
            lines.append(f"  still differs from {agent.version_id}: {', '.join(remaining)}")
        diffs = "".join(unified_diff(edit) for edit in agent.edits)
        if diffs:
            lines.extend(["", diffs.rstrip("\n"), ""])
    if report.edits and report.written:
        lines.append("Review the change with `git diff`, then plan: the agents' markers are "
                     "refreshed on the next apply.")
    elif report.edits:
        lines.append("Dry run: nothing was written.")
    return "\n".join(lines).rstrip("\n") + "\n"


def _headline(agent: PulledAgent, written: bool) -> str:
    files = len(agent.edits)
    if not files:
        return f"{agent.key}: nothing to pull, the files already hold {agent.version_id}"
    verb = "wrote" if written else "would write"
    return (f"{agent.key}: {verb} {agent.version_id} into {files} "
            f"file{'s' if files != 1 else ''} ({len(agent.written)} "
            f"field{'s' if len(agent.written) != 1 else ''})")


def pull_json(report: PullReport) -> JsonReport:
    def agent_data(agent: PulledAgent) -> JsonObject:
        return {"key": agent.key, "version_id": agent.version_id,
                "fields": list(agent.written), "not_pulled": list(agent.notes),
                "still_differs": list(report.remaining.get(agent.key, ())),
                "files": [{"path": display_path(e.path), "diff": unified_diff(e)}
                          for e in agent.edits]}

    summary = {"agents": len(report.agents), "files": len(report.edits),
               "written": report.written}
    return JsonReport({"written": report.written,
                       "agents": [agent_data(a) for a in report.agents]}, summary)


def unified_diff(edit: FileEdit) -> str:
    name = display_path(edit.path)
    lines = difflib.unified_diff(edit.before.splitlines(keepends=True),
                                 edit.after.splitlines(keepends=True),
                                 fromfile=f"a/{name}", tofile=f"b/{name}")
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)
    return text
