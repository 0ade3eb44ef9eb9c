"""Smoke records on the emulator: apply names each release's records in its marker, proves
the release by deleting its proof record, and leaves one never-started testmode conversation
per released agent; everything is read by id, also on platforms that accept context updates
only while a conversation is in progress, converse only with released revisions or list
conversations as summaries."""

from __future__ import annotations

from dataclasses import replace

import pytest

from operator_iac.api.models import Conversation
from operator_iac.plan.marker import parse_marker, with_marker
from operator_iac.smoke.evidence import last_smoke_result, record_smoke_result, records_of
from operator_iac.smoke.record import record_of

from .two_platforms import PROJECT, Environments, Platform, environments

__all__ = ["environments"]

CHAT_KEYS = ("appointment-booking", "support-triage")


def left_behind(platform: Platform) -> list[Conversation]:
    # testmode: shown as not livemode (a platform that leaves false out shows nothing); each
    # read by id (a list item may be a summary)
    return [platform.client.conversations.get(c.id)
            for c in platform.client.conversations.list() if c.livemode is not True]


@pytest.mark.parametrize("compat", [(), ("context_in_progress_only", "bare_context_event"),
                                    ("released_only_conversations",),
                                    ("released_only_conversations", "omit_empty"),
                                    ("released_only_conversations", "escaped_html"),
                                    ("released_only_conversations", "summary_lists"),
                                    ("create_releases",), ("soft_deletes",)],
                         ids=["emulator", "context_in_progress_only", "released_only",
                              "released_only-zero_values_left_out",
                              "released_only-markup_encoded", "released_only-summary_lists",
                              "released_by_create", "deletes_kept_readable"])
def test_apply_proves_each_release_by_its_records(environments: Environments,
                                                  compat: tuple[str, ...]) -> None:
    staging = environments.platform("staging")
    if compat:
        staging.emulator.set_compat(*compat)
    released_only = "released_only_conversations" in compat
    if released_only:  # drafts cannot be tested there
        environments.replace_in("operator-iac.yaml", "on: [draft, released]", "on: [released]")
    applied = environments.apply_staging()
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    # the records written after a release are listed as the next reader will find them
    assert "do not show" not in applied.stdout + applied.stderr
    for key in CHAT_KEYS:
        agent_id = staging.id_of(key)
        released = staging.released(agent_id)
        named = records_of(released.description, PROJECT, key)
        # A new agent there has no revision to keep its records on before its release: they
        # follow the release, found in the two minutes after the revision's creation.
        assert (named is None) == released_only, released.description
        if named is not None:  # records of the release itself (by id: no listing needed)
            kept = record_of(staging.client.conversations.get(named[0]))
            assert kept is not None and kept.version_id == released.version_id, kept
        found = last_smoke_result(staging.client, project=PROJECT, key=key, agent_id=agent_id)
        assert found is not None and found.passed and found.version_id == released.version_id
        assert found.content_hash == staging.marker(agent_id).content_hash  # type: ignore[union-attr]
    kept = left_behind(staging)
    # one release record per release made, never started; every proof record deleted
    assert all(not c.is_started for c in kept)
    records = [record_of(c) for c in kept]
    assert all(r is not None and r.stage == "release" for r in records)
    assert {r.key for r in records if r is not None} == set(CHAT_KEYS)
    assert environments.run("plan", "--env", "staging", "--detailed-exitcode").exit_code == 0


def test_a_release_without_smoke_tests_is_proven_by_a_later_smoke_run(
        environments: Environments) -> None:
    assert environments.apply_staging("--no-smoke").exit_code == 0
    staging = environments.platform("staging")
    booking = staging.id_of("appointment-booking")
    found = last_smoke_result(staging.client, project=PROJECT, key="appointment-booking",
                              agent_id=booking)
    assert found is not None and not found.passed and not found.tested
    # not something for plan to verify: the run never meant to prove it
    assert environments.run("plan", "--env", "staging", "--detailed-exitcode").exit_code == 0
    smoked = environments.run("smoke", "--env", "staging")
    assert smoked.exit_code == 0, smoked.stdout + smoked.stderr
    assert "of which the conversations" in smoked.stdout
    found = last_smoke_result(staging.client, project=PROJECT, key="appointment-booking",
                              agent_id=booking)
    assert found is not None and found.passed


def test_a_failure_is_kept_and_a_release_without_records_cannot_be_proven_later(
        environments: Environments) -> None:
    assert environments.apply_staging().exit_code == 0
    staging = environments.platform("staging")
    booking = staging.id_of("appointment-booking")
    version_id = staging.released(booking).version_id
    record_smoke_result(staging.client, project=PROJECT, key="appointment-booking",
                        version_id=version_id, content_hash=None, passed=False,
                        summary="1 failed: 'greets'", commit=None)
    failures = [r for c in left_behind(staging) if (r := record_of(c)) and r.stage == "released"]
    assert [f.summary for f in failures] == ["1 failed: 'greets'"]
    # a later failure revokes nothing: the release was proven by the run that made it
    found = last_smoke_result(staging.client, project=PROJECT, key="appointment-booking",
                              agent_id=booking)
    assert found is not None and found.passed
    # as released by a version of operator-iac before smoke records: none named, none kept
    released = staging.released(booking)
    marker = parse_marker(released.description)
    assert marker is not None
    staging.emulator.edit_revision(version_id, description=with_marker(
        released.description, replace(marker, smoke=None)))
    for conversation in left_behind(staging):
        staging.client.conversations.delete(conversation.id)
    smoked = environments.run("smoke", "--env", "staging", "appointment-booking")
    assert smoked.exit_code == 7, smoked.stdout + smoked.stderr
    assert "released without smoke records" in smoked.stderr
