"""``operator-iac promote`` between two emulators standing for staging and production: it
carries what staging released and smoke-tested, and refuses (exit 5, nothing written to
production) when staging holds other content, an unreleased draft of the tool's own, or a
failed or missing smoke run.
"""

from __future__ import annotations

import json
from collections import Counter

from operator_iac.smoke.evidence import last_smoke_result, record_smoke_result

from .two_platforms import PROJECT, Environments, environments

__all__ = ["environments"]

KEYS = ("appointment-booking", "call-summary", "lead-qualification", "support-triage")


def test_promote_carries_what_staging_released(environments: Environments) -> None:
    staged = environments.apply_staging()
    assert staged.exit_code == 0, staged.stderr
    staging = environments.platform("staging")
    staging.emulator.clear_requests()
    result = environments.promote("--yes")
    assert result.exit_code == 0, result.stderr
    assert "Apply complete: 4 applied, 0 not applied." in result.stdout
    # staging's released revisions are read once each: their markers name the records
    reads = Counter(r.path for r in staging.emulator.requests if r.method == "GET")
    assert all(count == 1 for path, count in reads.items() if "@v" in path), reads
    assert "appointment-booking: ready (staging:" in result.stderr
    production = environments.platform("production")
    assert sorted(production.owned()) == sorted(KEYS)
    booking = production.released(production.id_of("appointment-booking"))
    # production's own override and vars, not staging's
    assert booking.config["runtime"]["model"] == "openai/gpt-4o"
    assert booking.config["tool"]["transfers"] == [{"entity_id": "+15550199"}]
    assert environments.run("status", "--env", "production").exit_code == 0


def test_promote_records_smoke_results_in_production_too(environments: Environments) -> None:
    assert environments.apply_staging().exit_code == 0
    assert environments.promote("--yes").exit_code == 0
    production = environments.platform("production")
    agent_id = production.id_of("appointment-booking")
    record = last_smoke_result(production.client, project=PROJECT, key="appointment-booking",
                               agent_id=f"{agent_id}@v0")
    assert record is not None and record.passed and record.stage == "released"
    assert record.content_hash == production.marker(agent_id).content_hash  # type: ignore[union-attr]


def test_promote_refuses_content_staging_did_not_release(environments: Environments) -> None:
    assert environments.apply_staging().exit_code == 0
    environments.change_prompt()
    result = environments.promote("--yes")
    assert result.exit_code == 5
    assert "appointment-booking: staging released other content" in result.stderr
    assert "apply them to staging first" in result.stderr
    assert "call-summary" not in result.stderr.split("refused")[1]
    assert environments.platform("production").writes() == []


def test_promote_refuses_agents_never_applied_to_staging(environments: Environments) -> None:
    result = environments.promote("--yes")
    assert result.exit_code == 5
    for key in KEYS:
        assert f"{key}: not on staging: apply it to staging first" in result.stderr
    assert environments.platform("production").writes() == []


def test_promote_refuses_an_unreleased_draft_in_staging(environments: Environments) -> None:
    assert environments.apply_staging().exit_code == 0
    environments.change_prompt()
    environments.break_smoke_tests()  # the draft's smoke tests fail: it is left unreleased
    assert environments.apply_staging().exit_code == 4
    environments.replace_in("agents/prompts/appointment-booking.md",
                            "Always confirm by text message as well.\n\n", "")
    result = environments.promote("--yes")
    assert result.exit_code == 5
    assert "appointment-booking: staging has an unreleased draft" in result.stderr
    assert "written by operator-iac" in result.stderr
    assert environments.platform("production").writes() == []

    # The way out the refusal names: an apply of these declarations alone leaves the draft
    # (nothing to change), with --discard-drafts it discards it, and the promotion goes on.
    environments.replace_in("agents/appointment-booking.yaml",
                            "agent_says: {contains: Nobody-like-this}",
                            "agent_says: {contains: Amanda}")
    assert environments.apply_staging().exit_code == 0
    assert environments.promote("--yes").exit_code == 5
    assert "--discard-drafts" in result.stderr
    planned = environments.run("plan", "--env", "staging", "--discard-drafts")
    assert "1 draft(s) to discard" in planned.stdout, planned.stdout
    discarded = environments.apply_staging("--discard-drafts")
    assert discarded.exit_code == 0, discarded.stdout + discarded.stderr
    assert "discarded the draft" in discarded.stdout
    assert environments.run("plan", "--env", "staging", "--discard-drafts",
                            "--detailed-exitcode").exit_code == 0
    promoted = environments.promote("--yes")
    assert promoted.exit_code == 0, promoted.stdout + promoted.stderr


def test_promote_refuses_a_failed_smoke_run(environments: Environments) -> None:
    # Smoke tests only after release, and no rollback: the failing release stays in staging.
    environments.replace_in("operator-iac.yaml", "on: [draft, released], rollback: true",
                            "on: [released], rollback: false")
    environments.break_smoke_tests()
    assert environments.apply_staging().exit_code == 4
    result = environments.promote("--yes")
    assert result.exit_code == 5
    assert "the last smoke run of" in result.stderr and "in staging failed" in result.stderr
    assert "appointment-booking: the last smoke run of" in result.stderr
    assert "Nobody-like-this" in result.stderr
    assert environments.platform("production").writes() == []


def test_promote_needs_a_recorded_smoke_run(environments: Environments) -> None:
    assert environments.apply_staging("--no-smoke").exit_code == 0
    refused = environments.promote("--yes")
    assert refused.exit_code == 5
    assert "no smoke run of" in refused.stderr
    assert "operator-iac smoke --env staging appointment-booking" in refused.stderr
    staging = environments.platform("staging")
    for key in ("appointment-booking", "support-triage"):
        agent_id = staging.id_of(key)
        record_smoke_result(staging.client, project=PROJECT, key=key,
                            version_id=f"{agent_id}@v0", content_hash=None, passed=True,
                            summary="2 passed", commit=None)
    assert environments.promote("--yes").exit_code == 0


def test_promote_out_saves_a_checked_plan_to_apply_later(environments: Environments) -> None:
    assert environments.apply_staging().exit_code == 0
    saved = environments.promote("--out", "promotion.json")
    assert saved.exit_code == 0, saved.stderr
    assert environments.platform("production").writes() == []
    assert json.loads((environments.root / "promotion.json").read_text())["environment"] \
        == "production"
    applied = environments.run("promote", "promotion.json", "--to", "production")
    assert applied.exit_code == 0, applied.stderr
    assert sorted(environments.platform("production").owned()) == sorted(KEYS)
    again = environments.promote("--yes")
    assert again.exit_code == 0
    assert "No changes: production already holds the declarations." in again.stderr


def test_selection_flags_do_not_go_with_a_saved_promotion(environments: Environments) -> None:
    for flag in (("--target", "appointment-booking"), ("--exclude", "call-summary"),
                 ("--adopt",)):
        result = environments.run("promote", "promotion.json", "--to", "production", *flag)
        assert result.exit_code == 3
        assert "applied exactly as it was made" in result.stderr
    assert environments.platform("production").writes() == []


def test_promote_without_a_terminal_needs_yes(environments: Environments) -> None:
    assert environments.apply_staging().exit_code == 0
    result = environments.promote()
    assert result.exit_code == 3
    assert "promote needs --yes" in result.stderr
    assert environments.platform("production").writes() == []


def test_promote_from_defaults_to_promote_from(environments: Environments) -> None:
    assert environments.apply_staging().exit_code == 0
    result = environments.run("promote", "--to", "production", "--yes", "--no-smoke")
    assert result.exit_code == 0, result.stderr
    assert "Checked in staging:" in result.stderr


def test_promote_routes_are_checked(environments: Environments) -> None:
    same = environments.run("promote", "--from", "production", "--to", "production")
    assert same.exit_code == 3 and "into itself" in same.stderr
    unknown = environments.run("promote", "--from", "qa", "--to", "production")
    assert unknown.exit_code == 3 and "unknown environment 'qa'" in unknown.stderr
    no_source = environments.run("promote", "--to", "staging")
    assert no_source.exit_code == 3 and "has no promote_from" in no_source.stderr
    no_destination = environments.run("promote")
    assert no_destination.exit_code == 3 and "--to" in no_destination.stderr



def test_a_smoke_run_of_the_released_revisions_is_evidence_for_promotion(
        environments: Environments) -> None:
    # Applied without smoke tests: staging holds the content, but nothing proves it works.
    assert environments.apply_staging("--no-smoke").exit_code == 0
    refused = environments.promote("--yes")
    assert refused.exit_code == 5
    assert "appointment-booking" in refused.stderr
    assert environments.platform("production").writes() == []
    smoked = environments.run("smoke", "--env", "staging")
    assert smoked.exit_code == 0, smoked.stdout + smoked.stderr
    promoted = environments.promote("--yes")
    assert promoted.exit_code == 0, promoted.stderr
    assert sorted(environments.platform("production").owned()) == sorted(KEYS)


def test_promote_out_with_nothing_to_promote_writes_an_empty_plan_that_applies_cleanly(
        environments: Environments) -> None:
    """The two-job flow (check and save, then apply the saved promotion) also works when
    production already holds everything: the file is written, and applying it is a no-op;
    a dashboard release in production since then makes it stale (exit 5)."""
    assert environments.apply_staging().exit_code == 0
    assert environments.promote("--yes").exit_code == 0
    production = environments.platform("production")
    writes = len(production.writes())

    saved = environments.promote("--out", "promotion.json")
    assert saved.exit_code == 0, saved.stderr
    assert "Saved the plan (nothing to promote) to promotion.json" in saved.stderr
    data = json.loads((environments.root / "promotion.json").read_text())
    assert data["environment"] == "production" and data["summary"]["unchanged"] == len(KEYS)
    applied = environments.run("promote", "promotion.json", "--to", "production")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "No changes: production already holds the declarations." in applied.stderr
    assert len(production.writes()) == writes

    agent_id = production.id_of("call-summary")
    production.emulator.edit_revision(production.released(agent_id).version_id,
                                      name="Renamed in the dashboard")
    stale = environments.run("promote", "promotion.json", "--to", "production")
    assert stale.exit_code == 5, stale.stdout + stale.stderr
    assert "call-summary: CONFLICT (no-op)" in stale.stdout
    assert len(production.writes()) == writes
