"""A rollback to a commit (its plan before it asks, its report after) and the commits that can
be named (``history --all``), as text and JSON. Pure functions."""

from __future__ import annotations

from operator_iac.errors import OperationError, SmokeTestFailedError
from operator_iac.plan.commit_rollback import (
    AgentRollback,
    CommitInfo,
    CommitRollback,
    CommitRollbackRun,
)
from operator_iac.render.envelope import JsonObject, JsonReport, error_entry
from operator_iac.render.history import render_rollback_text, rollback_data
from operator_iac.render.plan_common import aligned

NONE = "-"


def render_commits_text(commits: tuple[CommitInfo, ...]) -> str:
    if not commits:
        return "No revision of this project carries a commit yet.\n"
    rows = [("COMMIT", "WRITTEN", "AGENTS", "RELEASED NOW")]
    rows += [(c.commit, c.written_at or NONE, ", ".join(c.keys), ", ".join(c.released) or NONE)
             for c in commits]
    return "\n".join([*aligned(rows), "",
                      "Roll every agent back to one: operator-iac rollback --all --to-commit "
                      "COMMIT"]) + "\n"


def commits_json(commits: tuple[CommitInfo, ...]) -> JsonReport:
    return JsonReport({"commits": [{"commit": c.commit, "written_at": c.written_at,
                                    "agents": list(c.keys), "released": list(c.released)}
                                   for c in commits]}, {"commits": len(commits)})


def render_commit_rollback_text(plan: CommitRollback, *, delete_created: bool = False) -> str:
    commit = plan.commit
    when = f" (last written {commit.written_at})" if commit.written_at else ""
    lines = [f"Rollback of every agent to commit {commit.commit}{when}: "
             f"{len(plan.to_release)} to release again, "
             f"{len(plan.created_after)} created after it"]
    for agent in plan.agents:
        lines.append("")
        lines.extend(_agent_lines(agent, delete_created))
    return "\n".join(lines) + "\n"


def _agent_lines(agent: AgentRollback, delete_created: bool) -> list[str]:
    if agent.created_after:
        fate = "deleted (--delete-created)" if delete_created else \
            "left alone (--delete-created deletes it)"
        return [f"{agent.key} ({agent.kind} {agent.agent_id}): {agent.note}: {fate}"]
    if agent.plan is None:
        return [f"{agent.key} ({agent.kind} {agent.agent_id}): {agent.note}"]
    lines = render_rollback_text(agent.plan).rstrip("\n").splitlines()
    if agent.note:
        lines.insert(1, f"  {agent.note}")
    return lines


def render_commit_rollback_report(run: CommitRollbackRun) -> str:
    lines = []
    for agent in run.plan.agents:
        if agent.key in run.failed:
            lines.append(f"{agent.key}: FAILED: {run.failed[agent.key]}")
        elif agent.key in run.released:
            verdict = run.verdicts.get(agent.key)
            smoke = f"; smoke tests {verdict.word} ({verdict.summary})" if verdict else ""
            lines.append(f"{agent.key}: {run.released[agent.key]} released again{smoke}")
        elif agent.key in run.deleted:
            lines.append(f"{agent.key}: deleted {agent.agent_id}")
    done = len(run.released)
    lines.append(f"Rolled {done} agent{'s' if done != 1 else ''} back to commit "
                 f"{run.plan.commit.commit}" + (f"; {len(run.failed)} failed" if run.failed
                                                else "") + ".")
    return "\n".join(lines) + "\n"


def commit_rollback_json(run: CommitRollbackRun) -> JsonReport:
    """The rollback of every agent to a commit, after it ran: an error per agent that failed
    or whose smoke tests failed."""
    summary = {"released": len(run.released), "deleted": len(run.deleted),
               "failed": len(run.failed),
               "smoke_failed": sum(not v.passed for v in run.verdicts.values())}
    errors = [error_entry(OperationError.code, f"{key}: {message}")
              for key, message in run.failed.items()]
    errors += [error_entry(SmokeTestFailedError.code, f"{key}: smoke tests {verdict.word} "
                           f"({verdict.summary})")
               for key, verdict in run.verdicts.items() if not verdict.passed]
    return JsonReport(commit_rollback_data(run.plan, run), summary, tuple(errors))


def commit_rollback_data(plan: CommitRollback, run: CommitRollbackRun | None = None
                         ) -> JsonObject:
    def agent(item: AgentRollback) -> JsonObject:
        data: JsonObject = {"key": item.key, "kind": item.kind, "agent_id": item.agent_id,
                                "note": item.note, "created_after": item.created_after}
        if item.plan is not None:
            data["rollback"] = rollback_data(item.plan)
        if run is not None:
            verdict = run.verdicts.get(item.key)
            data.update(released=run.released.get(item.key), deleted=item.key in run.deleted,
                        failed=run.failed.get(item.key),
                        smoke={"passed": verdict.passed, "summary": verdict.summary}
                        if verdict else None)
        return data

    return {"commit": plan.commit.commit, "written_at": plan.commit.written_at,
            "agents": [agent(a) for a in plan.agents]}
