"""The import report as text: what was written (or would be), what was skipped, what next.
Pure functions from an ``ImportReport`` to strings."""

from __future__ import annotations

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
