"""``operator-iac rollback --all --to-commit SHA``: every agent of the project back to a commit
(the command is ``rollback``; this module holds its ``--all`` half)."""

from __future__ import annotations

from typing import Any

from operator_iac.cli import output
from operator_iac.cli.app import App
from operator_iac.cli.json_report import report_json
from operator_iac.cli.reports import confirmer
from operator_iac.errors import UsageError


def rollback_all(app: App, key: str | None, env: str | None, to: str | None,
                 steps: int | None, to_commit: str | None, yes: bool, fmt: str,
                 options: dict[str, Any]) -> int:
    """Check the flags, plan, show, ask, roll back, report (``options``: the command's
    other options by name)."""
    from operator_iac.render.commit_rollback import (
        commit_rollback_json,
        render_commit_rollback_report,
        render_commit_rollback_text,
    )
    from operator_iac.services.commit_rollback import CommitRollbackRequest, rollback_to_commit

    _check_usage(key, to, steps, to_commit, options["everything"])
    assert to_commit is not None
    request = CommitRollbackRequest(
        to_commit, delete_created=options["delete_created"],
        allow_delete=options["allow_delete"], smoke=not options["no_smoke"],
        keep_conversations=options["keep_conversations"], parallelism=options["parallelism"])
    show = output.result if fmt == "text" else output.info
    run = rollback_to_commit(
        app.target(env), app.client(), request, feedback=app.feedback(),
        show_plan=lambda plan: show(render_commit_rollback_text(
            plan, delete_created=request.delete_created).rstrip("\n")),
        confirm=confirmer(yes, "rollback needs --yes when it is not run from a terminal"))
    if fmt == "json":
        report_json(commit_rollback_json(run))
    elif run.released or run.deleted or run.failed:
        output.result(render_commit_rollback_report(run).rstrip("\n"))
    else:
        output.result("Nothing to roll back: every agent already holds its revision of "
                      f"commit {run.plan.commit.commit}.")
    return run.exit_code()


def _check_usage(key: str | None, to: str | None, steps: int | None,
                 to_commit: str | None, everything: bool) -> None:
    if not everything:
        raise UsageError("--to-commit goes with --all; for one agent, history KEY shows the "
                         "commit of each revision and rollback KEY --to vN releases one")
    if key is not None:
        raise UsageError("--all rolls back every agent: leave out KEY")
    if to is not None or steps is not None:
        raise UsageError("--to and --steps name revisions of one agent; with --all, name a "
                         "commit with --to-commit")
    if to_commit is None:
        raise UsageError("--all needs --to-commit SHA (operator-iac history --all lists the "
                         "commits)")
