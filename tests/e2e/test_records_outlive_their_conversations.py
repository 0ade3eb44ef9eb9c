"""Smoke records are read for what they hold, whatever becomes of their conversations: a
platform may end a conversation nobody joins a while after its creation, and a release whose
records were kept after it (where only released revisions can be conversed with) is still
read as proven once those records have ended."""

from __future__ import annotations

import pytest

from .two_platforms import PROJECT, Environments, environments

__all__ = ["environments"]


@pytest.mark.parametrize("released_only", [True, False],
                         ids=["records-after-the-release", "records-named-in-the-release"])
def test_records_still_prove_a_release_once_their_conversations_ended(
        environments: Environments, released_only: bool) -> None:
    from operator_iac.smoke.evidence import last_smoke_result

    staging = environments.platform("staging")
    if released_only:
        staging.emulator.set_faults(compat=["released_only_conversations", "unjoined_end"])
        environments.replace_in("operator-iac.yaml", "on: [draft, released]",
                                "on: [released]")
    else:
        staging.emulator.set_faults(compat=["unjoined_end"])
    applied = environments.apply_staging()
    assert applied.exit_code == 0, applied.stdout + applied.stderr

    staging.emulator.advance_clock(3600)  # every record's conversation has ended by now

    plan = environments.run("plan", "--env", "staging", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    for key in ("appointment-booking", "support-triage"):
        found = last_smoke_result(staging.client, project=PROJECT, key=key,
                                  agent_id=staging.id_of(key))
        assert found is not None and found.passed, key
    promoted = environments.run("promote", "--from", "staging", "--to", "production",
                                "--yes")
    assert promoted.exit_code == 0, promoted.stdout + promoted.stderr
