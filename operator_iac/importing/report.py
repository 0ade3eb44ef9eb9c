"""The import report as text or JSON: what was written (or would be), what was skipped, what
next, and which values look like credentials. Pure functions from an ``ImportReport``."""

from __future__ import annotations

import json
from typing import Any

from operator_iac.importing.results import ImportedAgent, ImportReport


def render_import_text(report: ImportReport, *, env: str | None = None) -> str:
    """A summary: one line per agent and its files, the skipped agents, the next step."""
    if not report.imported:
        lines = [f"Nothing to import from {report.api_url}."]
    else:
        verb = "Imported" if report.written else "Would import"
        lines = [f"{verb} {_count(len(report.imported), 'agent')} from {report.api_url}:"]
        width = max(len(a.key) for a in report.imported)
        lines += [line for agent in report.imported for line in _agent_lines(agent, width)]
    if report.skipped:
        lines.append(f"Skipped {_count(len(report.skipped), 'agent')}:")
        lines += [f"  {s.agent_id} {s.name!r}: {s.reason}" for s in report.skipped]
    if report.written and (report.validation is None or report.validation.ok):
        lines.append(_next_step(report, f" --env {env}" if env else ""))
    return "\n".join(lines)


def _next_step(report: ImportReport, where: str) -> str:
    if all(agent.managed for agent in report.imported):
        return f"Next: operator-iac plan{where}"
    return (f"Next: operator-iac plan{where} --adopt (it should show only adoptions), "
            f"then operator-iac apply{where} --adopt")


def render_dry_run(report: ImportReport) -> str:
    """Every file that would be written, each under a comment line naming it."""
    parts = [f"# ---- {file.display} ----\n{file.text.rstrip(chr(10))}"
             for agent in report.imported for file in agent.files]
    return "\n\n".join(parts)


def _agent_lines(agent: ImportedAgent, width: int) -> list[str]:
    files = ", ".join(f.display for f in agent.files)
    lines = [f"  {agent.key:<{width}}  {agent.version_id}  -> {files}"]
    if agent.reason != "requested":
        lines.append(f"  {'':<{width}}  ({agent.reason})")
    if agent.extra_paths:
        lines.append(f"  {'':<{width}}  kept under config.extra: {', '.join(agent.extra_paths)}")
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def credential_warnings(report: ImportReport) -> list[str]:
    """One warning per value that looks like a credential: where it is and what to do (the
    value itself is never repeated)."""
    return [f"{agent.agent_file.display}: {hint.path} looks like a credential ({hint.reason}); "
            "replace it with ${env:NAME}, declare NAME under secrets: in operator-iac.yaml, "
            "and set NAME in the environment before committing"
            for agent in report.imported for hint in agent.credentials]


def render_import_json(report: ImportReport, *, env: str | None = None) -> str:
    """The report as JSON; with ``--dry-run`` each file carries the text it would have."""
    data: dict[str, Any] = {
        "api_url": report.api_url,
        "env": env,
        "written": report.written,
        "imported": [_agent_data(agent, with_text=not report.written)
                     for agent in report.imported],
        "skipped": [{"agent_id": s.agent_id, "name": s.name, "reason": s.reason}
                    for s in report.skipped],
        "valid": None if report.validation is None else report.validation.ok,
        "diagnostics": [] if report.validation is None
        else [d.to_dict() for d in report.validation.diagnostics],
    }
    return json.dumps(data, indent=2)


def _agent_data(agent: ImportedAgent, *, with_text: bool) -> dict[str, Any]:
    return {
        "key": agent.key, "agent_id": agent.agent_id, "kind": agent.kind, "name": agent.name,
        "version_id": agent.version_id, "reason": agent.reason, "managed": agent.managed,
        "files": [{"path": f.display, **({"text": f.text} if with_text else {})}
                  for f in agent.files],
        "extra_paths": list(agent.extra_paths),
        "credentials": [{"path": h.path, "reason": h.reason} for h in agent.credentials],
    }
