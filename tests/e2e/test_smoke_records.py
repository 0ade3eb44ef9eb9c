"""Smoke records on the emulator, whose conversations do not show their context: a record is
read back from its conversation's event stream, recording replaces the agent's older records,
and apply's smoke gate records the verdict on the released revision."""

from __future__ import annotations

from operator_iac.smoke.record import last_smoke_result, record_smoke_result

from .two_platforms import PROJECT, Environments, environments

__all__ = ["environments"]

KEY = "appointment-booking"


def test_a_record_is_read_back_and_replaces_older_ones(environments: Environments) -> None:
    assert environments.apply_staging("--no-smoke").exit_code == 0
    staging = environments.platform("staging")
    booking, triage = staging.id_of(KEY), staging.id_of("support-triage")
    for key, agent_id, passed in ((KEY, booking, False), ("support-triage", triage, True),
                                  (KEY, booking, True)):
        record_smoke_result(staging.client, project=PROJECT, key=key,
                            version_id=f"{agent_id}@v0", content_hash=None, passed=passed,
                            summary=f"passed={passed}", commit=None)
    found = last_smoke_result(staging.client, project=PROJECT, key=KEY,
                              agent_id=f"{booking}@v0")
    assert found is not None and found.passed and found.summary == "passed=True"
    # hash and commit come from the revision's own marker when not given
    marker = staging.marker(booking)
    assert marker is not None and found.content_hash == marker.content_hash
    assert found.commit == marker.commit
    kept = [c for c in staging.client.conversations.list() if not c.livemode]
    assert sorted(c.agent_id or "" for c in kept) == sorted([f"{booking}@v0", f"{triage}@v0"])
    assert all(c.status == "queued" for c in kept)  # never started
    assert last_smoke_result(staging.client, project="other-project", key=KEY,
                             agent_id=booking) is None


def test_apply_records_the_released_verdict(environments: Environments) -> None:
    assert environments.apply_staging().exit_code == 0
    staging = environments.platform("staging")
    for key in (KEY, "support-triage"):
        agent_id = staging.id_of(key)
        found = last_smoke_result(staging.client, project=PROJECT, key=key, agent_id=agent_id)
        assert found is not None and found.passed and found.stage == "released"
        assert found.version_id == f"{agent_id}@v0"
        assert found.summary == "2 passed"
    # procedural agents have no smoke tests of their own: nothing recorded for them
    conversations = list(staging.client.conversations.list())
    assert len(conversations) == 2
