"""The Python API does what the CLI does: history, rollback, pull, transcript and doctor are
exported from ``operator_iac`` and work on an applied project against the emulator."""

from __future__ import annotations

import pytest

import operator_iac as oi

from .conftest import ProjectCopy


def test_history_rollback_pull_transcript_and_doctor(applied: ProjectCopy) -> None:
    target = applied.target()
    with target.client() as client:
        history = oi.read_history(target, client, "call-summary")
        assert history.key == "call-summary" and history.agent_id.startswith("pa_")
        assert [r.status for r in history.revisions][:1] == ["released"]
        assert history.revisions[0].marker is not None

        commits = oi.read_commits(target, client)
        assert commits, "the applied revisions name the commit they were written from"

        # One release only: nothing to roll back to, an input error (exit 3) as in the CLI.
        with pytest.raises(oi.OperatorIacError) as refused:
            oi.rollback_agent(target, client, oi.RollbackRequest("call-summary", smoke=False))
        assert refused.value.exit_code == 3

        pulled = oi.pull_agents(target, client, oi.PullRequest(("call-summary",), dry_run=True))
        assert not pulled.written and pulled.edits == ()  # the files hold what was applied

        booking = oi.read_history(target, client, "appointment-booking").agent_id
        created = client.conversations.create(
            booking, livemode=False, context={"$variables": {"customer_name": "Dana"}})
        events = oi.read_transcript(client, created.id)
        assert created.id in oi.render_transcript(events, conversation_id=created.id)

        report = oi.run_doctor(client, wait_s=10)
        assert report.ok, [c for c in report.checks]


def test_the_exported_names_cover_every_command_that_talks_to_the_platform() -> None:
    for name in ("make_plan", "apply_plan", "run_promotion", "fetch_status", "import_agents",
                 "rollback_agent", "rollback_to_commit", "read_history", "pull_agents",
                 "read_transcript", "conversation_test", "run_doctor"):
        assert name in oi.__all__ and callable(getattr(oi, name)), name
