"""Ownership and conflicts through the real CLI: adoption, drift, foreign drafts, prune and
protected environments, stale saved plans, and two applies racing on the same agents.

Third parties (a dashboard user, another CI job) act through ``platform``, the API client on
the same emulator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from operator_iac.api.client import Attempt
from operator_iac.apply.report import ApplyOptions
from operator_iac.plan.options import PlanOptions
from operator_iac.services.apply import apply

from .conftest import KEYS, Platform, ProjectCopy, add_environment

Project = Callable[..., ProjectCopy]
DASHBOARD_PROMPT = "Edited in the dashboard: be very brief."
SUMMARY_CONFIG: dict[str, Any] = {
    "filter_statuses": ["completed"],
    "runtime": {"model": "openai/gpt-4o", "reasoning_effort": "low",
                "prompt": {"type": "fixed", "text": "Summarise the call."}},
}


def unmanaged_call_summary(platform: Platform) -> str:
    """A procedural agent named like the declared ``call-summary``, made in the dashboard."""
    agent_id = platform.create("procedural_agents", name="Call summary",
                               description="Made by hand.", config=SUMMARY_CONFIG)
    platform.release(f"{agent_id}@v0")
    return agent_id


def edit_released_prompt(copy: ProjectCopy, platform: Platform, key: str, text: str) -> None:
    """A dashboard edit of the released revision itself (its marker stays)."""
    released = platform.released(platform.id_of(key))
    config = {**released.config,
              "runtime": {**released.config["runtime"],
                          "prompt": {"type": "fixed", "text": text}}}
    copy.emulator.edit_revision(released.version_id, config=config)


def change_triage_prompt(copy: ProjectCopy) -> None:
    copy.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")


# ---- adoption --------------------------------------------------------------------------------


def test_a_same_named_unmanaged_agent_is_adopted_only_with_adopt(
        project: Project, platform: Platform) -> None:
    copy = project()
    existing = unmanaged_call_summary(platform)
    plan = copy.plan()
    assert plan.exit_code == 0, plan.stderr
    assert f"* call-summary (procedural_agent, {existing})" in plan.stdout
    assert "blocked: an unmanaged agent with this name exists" in plan.stdout

    refused = copy.apply()
    assert refused.exit_code == 3
    assert existing in refused.stderr and "--adopt" in refused.stderr
    assert platform.agent_ids() == [existing]

    adopted = copy.apply("--adopt")
    assert adopted.exit_code == 0, adopted.stderr
    assert len(platform.agent_ids()) == 4
    assert platform.id_of("call-summary") == existing
    booking = platform.released(platform.id_of("appointment-booking"))
    assert booking.postprocess_agents == [existing]
    assert platform.released(existing).config["runtime"]["reasoning_effort"] == "medium"
    assert copy.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("modes", [("escaped_html",), ()],
                         ids=["markup_and_quotes_encoded", "typed_otherwise"])
def test_an_unmanaged_agent_whose_name_the_platform_stores_in_its_own_form_is_adoptable(
        project: Project, platform: Platform, modes: tuple[str, ...]) -> None:
    """The dashboard shows the name a person typed; the platform may hold it encoded
    (``Q&amp;A``, ``Joe&#x27;s``), and the person may have typed it otherwise (a decomposed
    accent, a doubled space, one at the end). Adoption goes by the name a person reads, so
    the agent is offered for adoption, not created a second time beside it."""
    copy = project()
    copy.replace_in("call-summary.yaml", "name: Call summary", "name: Joe's café Q&A summary")
    copy.emulator.set_compat(*modes)
    existing = platform.create("procedural_agents", name="Joe's  cafe\u0301 Q&A summary ",
                               description="Made by hand.", config=SUMMARY_CONFIG)
    platform.release(f"{existing}@v0")

    plan = copy.plan()

    assert plan.exit_code == 0, plan.stderr
    assert f"* call-summary (procedural_agent, {existing})" in plan.stdout, plan.stdout
    adopted = copy.apply("--adopt")
    assert adopted.exit_code == 0, adopted.stdout + adopted.stderr
    assert platform.id_of("call-summary") == existing and len(platform.agent_ids()) == 4
    assert copy.plan("--detailed-exitcode").exit_code == 0


def test_two_adoption_candidates_are_an_error_listing_both(
        project: Project, platform: Platform) -> None:
    copy = project()
    first, second = unmanaged_call_summary(platform), unmanaged_call_summary(platform)
    for result in (copy.plan(), copy.apply("--adopt")):
        assert result.exit_code == 3
        assert first in result.stderr and second in result.stderr
    assert sorted(platform.agent_ids()) == sorted([first, second])


# ---- drift -----------------------------------------------------------------------------------


def test_a_dashboard_edit_of_the_released_revision_is_reported_and_repaired(
        applied: ProjectCopy, platform: Platform) -> None:
    edit_released_prompt(applied, platform, "support-triage", DASHBOARD_PROMPT)
    plan = applied.plan("--detailed-exitcode")
    assert plan.exit_code == 2
    assert "~ support-triage" in plan.stdout
    assert "changed outside operator-iac" in plan.stdout
    assert f"-{DASHBOARD_PROMPT}" in plan.stdout
    markdown = applied.plan("--format", "markdown").stdout
    assert "changed outside operator-iac" in markdown

    assert applied.apply().exit_code == 0
    released = platform.released(platform.id_of("support-triage"))
    assert DASHBOARD_PROMPT not in released.config["runtime"]["prompt"]["text"]
    assert applied.plan("--detailed-exitcode").exit_code == 0


def test_a_dashboard_release_without_the_marker_is_drift_not_a_new_agent(
        applied: ProjectCopy, platform: Platform) -> None:
    agent_id = platform.id_of("support-triage")
    platform.release(platform.update(agent_id, description="Rewritten in the dashboard."))
    plan = applied.plan()
    assert f"~ support-triage (conversational_agent, {agent_id})" in plan.stdout
    assert "changed outside operator-iac: the released revision carries no operator-iac " \
        "marker" in plan.stdout
    assert applied.apply().exit_code == 0
    assert platform.id_of("support-triage") == agent_id
    assert applied.plan("--detailed-exitcode").exit_code == 0


# ---- foreign drafts --------------------------------------------------------------------------


def test_a_foreign_draft_blocks_apply_unless_overwrite_draft(
        applied: ProjectCopy, platform: Platform) -> None:
    agent_id = platform.id_of("support-triage")
    config = platform.released(agent_id).config
    draft = platform.update(agent_id, config={**config, "personas": [{"name": "Alex"}]})
    change_triage_prompt(applied)

    plan = applied.plan()
    assert "blocked: the agent has an unreleased draft that operator-iac did not write" \
        in plan.stdout
    versions = platform.version_count()
    refused = applied.apply()
    assert refused.exit_code == 5
    assert "--overwrite-draft" in refused.stderr
    assert platform.version_count() == versions
    kept = platform.draft(agent_id)
    assert kept is not None and kept.config["personas"] == [{"name": "Alex"}]

    result = applied.apply("--overwrite-draft")
    assert result.exit_code == 0, result.stderr
    released = platform.released(agent_id)
    assert released.version_id == draft
    assert released.config["personas"] == [{"name": "Sam"}]
    assert "Be friendly and short." in released.config["runtime"]["prompt"]["text"]
    assert applied.plan("--detailed-exitcode").exit_code == 0


def test_adopting_an_agent_with_a_foreign_draft_needs_overwrite_draft(
        project: Project, platform: Platform) -> None:
    copy = project()
    existing = unmanaged_call_summary(platform)
    platform.update(existing, description="Work in progress.")
    assert copy.apply("--adopt").exit_code == 5
    assert platform.agent_ids() == [existing]
    assert copy.apply("--adopt", "--overwrite-draft").exit_code == 0
    assert platform.id_of("call-summary") == existing
    assert copy.plan("--detailed-exitcode").exit_code == 0


def test_a_foreign_draft_is_left_alone_when_nothing_changes(
        applied: ProjectCopy, platform: Platform) -> None:
    agent_id = platform.id_of("support-triage")
    platform.update(agent_id, description="Work in progress.")
    result = applied.apply()
    assert result.exit_code == 0, result.stderr
    kept = platform.draft(agent_id)
    assert kept is not None and kept.description == "Work in progress."


# ---- prune and protected environments --------------------------------------------------------


def drop_lead_qualification(copy: ProjectCopy) -> None:
    copy.remove_agent("lead-qualification")
    copy.replace_in("support-triage.yaml", "postprocess_agents: [lead-qualification]\n", "")
    copy.replace_in("support-triage.yaml", "@lead-qualification", "the sales team")


def other_projects_agent(platform: Platform) -> str:
    marker = "[operator-iac project=other-team key=lead-qualification hash=0123456789abcdef " \
             "commit=-]"
    return platform.create("procedural_agents", name="Lead qualification",
                           description=f"Theirs.\n\n{marker}", config=SUMMARY_CONFIG)


def test_prune_deletes_only_this_projects_undeclared_agents(
        applied: ProjectCopy, platform: Platform) -> None:
    theirs = other_projects_agent(platform)
    lead = platform.id_of("lead-qualification")
    drop_lead_qualification(applied)

    plan = applied.plan()
    assert f"no longer declared (run with --prune to delete): lead-qualification ({lead})" \
        in plan.stdout
    pruned = applied.apply("--prune")
    assert pruned.exit_code == 0, pruned.stderr
    ids = platform.agent_ids()
    assert lead not in ids and theirs in ids and len(ids) == 4
    assert platform.released(platform.id_of("support-triage")).postprocess_agents == []
    assert applied.plan("--prune", "--detailed-exitcode").exit_code == 0


def test_an_agent_deleted_since_the_plan_that_prunes_it_is_no_conflict(
        applied: ProjectCopy, platform: Platform) -> None:
    """Two applies of one commit prune the same agent: the one that finds it gone already
    (the other deleted it after both planned, and wrote the change that let it) has nothing
    left to do, and exits 0."""
    lead = platform.id_of("lead-qualification")
    drop_lead_qualification(applied)
    planned = applied.make_plan(platform.client, options=PlanOptions(prune=True))
    assert [r.action for r in planned.plan.resources if r.key == "lead-qualification"] == \
        ["delete"]
    other = applied.apply("--prune")  # the other apply: support-triage, then the prune
    assert other.exit_code == 0, other.stderr
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("lead-qualification")
    assert outcome is not None and outcome.outcome == "applied", outcome
    assert f"{lead} was deleted already" in outcome.steps
    triage = report.result("support-triage")
    assert triage is not None and triage.outcome == "converged", triage
    assert report.exit_code() == 0
    assert lead not in platform.agent_ids()


def test_prune_deletes_conversational_agents_before_the_procedural_ones_they_use(
        applied: ProjectCopy, platform: Platform) -> None:
    triage, lead = platform.id_of("support-triage"), platform.id_of("lead-qualification")
    applied.remove_agent("support-triage")
    applied.remove_agent("lead-qualification")
    result = applied.apply("--prune", "--parallelism", "1")
    assert result.exit_code == 0, result.stderr
    deletes = [path for method, path in platform.writes() if method == "DELETE"]
    assert deletes == [f"/conversational_agents/{triage}", f"/procedural_agents/{lead}"]
    assert sorted(platform.owners()) == ["appointment-booking", "call-summary"]


def test_a_protected_environment_deletes_only_with_allow_delete(
        applied: ProjectCopy, platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    add_environment(applied, "vault", monkeypatch, "protect: true")
    applied.env = "vault"  # in the same account: it gets agents of its own
    assert applied.apply("--no-smoke").exit_code == 0
    lead = platform.id_of("lead-qualification", "vault")
    drop_lead_qualification(applied)
    writes = len(platform.writes())

    plan = applied.plan("--prune")
    assert "environment vault (protected)" in plan.stdout
    assert "deleting needs --allow-delete" in plan.stdout
    refused = applied.apply("--prune")
    assert refused.exit_code == 3
    assert "--allow-delete" in refused.stderr
    assert len(platform.writes()) == writes and lead in platform.agent_ids()

    result = applied.apply("--prune", "--allow-delete")
    assert result.exit_code == 0, result.stderr
    assert lead not in platform.agent_ids()


def test_the_production_environment_is_protected_and_gets_its_overrides(
        applied: ProjectCopy, platform: Platform) -> None:
    applied.env = "production"
    plan = applied.plan()
    assert "environment production (protected)" in plan.stdout
    assert "Plan: 4 to create" in plan.stdout  # staging's agents in the account are not its
    # What promote asks for: a passed run in staging.
    assert applied.run("smoke", "--env", "staging").exit_code == 0
    promoted = applied.run("promote", "--to", "production", "--yes")
    assert promoted.exit_code == 0, promoted.stdout + promoted.stderr
    booking = platform.released(platform.id_of("appointment-booking", "production"))
    assert booking.config["runtime"]["model"] == "openai/gpt-4o"
    drop_lead_qualification(applied)
    plan = applied.plan("--prune")
    assert "deleting needs --allow-delete" in plan.stdout
    refused = applied.apply("--prune", "--allow-delete")
    assert refused.exit_code == 3 and "only receives promotions" in refused.stderr


# ---- saved plans that went stale -------------------------------------------------------------


def test_a_dashboard_edit_between_plan_and_apply_is_a_conflict(
        applied: ProjectCopy, platform: Platform) -> None:
    change_triage_prompt(applied)
    out = applied.root / "plan.json"
    assert applied.plan("--out", str(out)).exit_code == 0
    edit_released_prompt(applied, platform, "support-triage", DASHBOARD_PROMPT)
    writes = len(platform.writes())

    result = applied.run("apply", str(out), "--no-smoke")
    assert result.exit_code == 5
    assert "support-triage: CONFLICT (update)" in result.stdout
    assert "make a new plan" in result.stdout
    assert len(platform.writes()) == writes
    released = platform.released(platform.id_of("support-triage"))
    assert released.config["runtime"]["prompt"]["text"] == DASHBOARD_PROMPT


def test_a_saved_plan_applied_twice_is_refused_the_second_time(
        applied: ProjectCopy, platform: Platform) -> None:
    change_triage_prompt(applied)
    out = applied.root / "plan.json"
    assert applied.plan("--out", str(out)).exit_code == 0
    assert applied.run("apply", str(out), "--no-smoke").exit_code == 0
    versions = platform.version_count()
    again = applied.run("apply", str(out), "--no-smoke")
    assert again.exit_code == 5
    assert platform.version_count() == versions


def test_declarations_changed_after_the_plan_are_refused(
        applied: ProjectCopy, platform: Platform) -> None:
    change_triage_prompt(applied)
    out = applied.root / "plan.json"
    assert applied.plan("--out", str(out)).exit_code == 0
    applied.replace_in("support-triage.yaml", "Be friendly and short.", "Be warm and short.")
    writes = len(platform.writes())
    result = applied.run("apply", str(out), "--no-smoke")
    assert result.exit_code == 5
    assert "declarations changed" in result.stderr
    assert len(platform.writes()) == writes


# ---- racing applies --------------------------------------------------------------------------


def test_two_applies_racing_on_an_update_write_once(
        applied: ProjectCopy, platform: Platform) -> None:
    change_triage_prompt(applied)
    first, second = applied.make_plan(platform.client), applied.make_plan(platform.client)
    options = ApplyOptions(smoke=False)
    assert apply(first, platform.client, options=options).exit_code() == 0
    versions, writes = platform.version_count(), len(platform.writes())

    # The second finds the very change it would write already released by the first: it
    # writes nothing into the agent (its smoke records, written right before the re-check,
    # are all), and converges (identical applies all succeed).
    report = apply(second, platform.client, options=options)
    assert report.exit_code() == 0
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "converged", outcome
    assert "changed since the plan was made (agent " in outcome.message
    assert "another apply released this very change as" in outcome.message
    assert platform.version_count() == versions
    assert [w for w in platform.writes()[writes:] if w[1] != "/conversations"] == []


def test_an_apply_racing_on_an_update_with_other_content_writes_nothing(
        applied: ProjectCopy, platform: Platform) -> None:
    change_triage_prompt(applied)
    planned = applied.make_plan(platform.client)
    applied.replace_in("support-triage.yaml", "Be friendly", "Be cheerful")
    assert applied.apply().exit_code == 0  # another checkout's change, released first
    versions, writes = platform.version_count(), len(platform.writes())
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    assert report.exit_code() == 5
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "conflict"
    assert "changed since the plan was made" in outcome.message
    assert platform.version_count() == versions and len(platform.writes()) == writes


@pytest.mark.parametrize("also", [None, "Be brief."], ids=["the same edit", "one more edit"])
def test_a_draft_written_since_the_plan_is_written_over_only_when_that_loses_nothing(
        applied: ProjectCopy, platform: Platform, also: str | None) -> None:
    """Since the plan, a draft was written over the release it saw, holding the change the
    declaration makes (the same edit made in the dashboard; the write of a run killed a
    moment before, which a plan made at once read too early). Writing over it loses
    nobody's work, as the plan's own rule has it for a draft it reads: the run writes over
    it and releases. A draft holding anything more stays a conflict, and nothing is written."""
    change_triage_prompt(applied)
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    released = platform.released(agent_id)
    runtime = released.config["runtime"]
    text = runtime["prompt"]["text"].replace("Be friendly and brief.", "Be friendly and short.")
    assert text != runtime["prompt"]["text"]
    if also is not None:
        text += f"\n{also}\n"
    platform.client.conversational_agents.update(agent_id, config={
        **released.config, "runtime": {**runtime, "prompt": {"type": "fixed", "text": text}}})
    writes = len(platform.writes())

    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))

    outcome = report.result("support-triage")
    assert outcome is not None
    if also is None:
        assert report.exit_code() == 0 and outcome.outcome == "applied", outcome
        assert any("loses nothing" in step for step in outcome.steps), outcome
        assert applied.plan("--detailed-exitcode").exit_code == 0
    else:
        assert report.exit_code() == 5 and outcome.outcome == "conflict", outcome
        assert "changed since the plan was made" in outcome.message
        assert len(platform.writes()) == writes


@pytest.mark.parametrize("names_unique", [False, True], ids=["shared names", "unique names"])
def test_two_applies_racing_on_creates_never_duplicate(
        project: Project, platform: Platform, names_unique: bool) -> None:
    """The same content created meanwhile converges, other content is a conflict, and no key
    has two agents. On a platform that keeps names unique (with a list that shows the first
    run's agents late, hiding them from the second run's start) the second run's creates are
    refused instead: the refusal is judged by the account, which shows the other apply's
    agent of the key once it catches up, and settled the same way."""
    if names_unique:
        platform.emulator.set_compat("unique_names")
    copy = project()
    first, same = copy.make_plan(platform.client), copy.make_plan(platform.client)
    change_triage_prompt(copy)
    other = copy.make_plan(platform.client)
    options = ApplyOptions(smoke=False)
    assert apply(first, platform.client, options=options).exit_code() == 0
    if names_unique:
        platform.emulator.set_faults(list_lag=1.0)
    platform.emulator.clear_requests()
    # The same content created meanwhile is what this run wanted: converged, exit 0.
    report = apply(same, platform.client, options=options)
    assert report.exit_code() == 0, [(r.key, r.outcome, r.message) for r in report.results]
    assert {r.outcome for r in report.results} == {"converged"}
    refused = [r for r in platform.emulator.requests
               if (r.method, r.status) == ("POST", 409) and r.path.endswith("_agents")]
    assert bool(refused) == names_unique  # the run's start did not see the agents
    # Other content for a key created meanwhile is a conflict for that key.
    report = apply(other, platform.client, options=options)
    assert report.exit_code() == 5
    outcomes = {r.key: r.outcome for r in report.results}
    assert outcomes.pop("support-triage") == "conflict"
    assert set(outcomes.values()) <= {"converged", "skipped"}
    owners = platform.owners()
    assert sorted(owners) == sorted(KEYS)
    assert all(len(ids) == 1 for ids in owners.values())


def test_a_create_refused_for_a_name_someone_else_holds_says_so(
        project: Project, platform: Platform) -> None:
    platform.emulator.set_compat("unique_names")
    copy = project()
    planned = copy.make_plan(platform.client)
    platform.create("procedural_agents", name="Call summary", description="Not ours.",
                    config={"runtime": {"model": "openai/gpt-4o"}})
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    assert report.exit_code() != 0
    outcome = report.result("call-summary")
    assert outcome is not None and outcome.outcome == "failed"
    assert "is taken by pa_" in outcome.message
    assert all(len(ids) == 1 for ids in platform.owners().values())


@pytest.mark.usefixtures("no_backoff")
def test_a_release_by_someone_else_between_re_check_and_write_is_a_conflict(
        applied: ProjectCopy, platform: Platform) -> None:
    """The draft is released by a third party right after apply re-read it: the write is
    refused by the platform, and apply reports a conflict instead of writing anyway."""
    change_triage_prompt(applied)
    applied.emulator.fail_next(6, 500, "POST", r"/release$")  # outlasts the retries
    assert applied.apply().exit_code == 1  # leaves operator-iac's own draft behind
    agent_id = platform.id_of("support-triage")
    draft = platform.draft(agent_id)
    assert draft is not None
    applied.replace_in("support-triage.yaml", "Be friendly and short.", "Be warm and short.")
    planned = applied.make_plan(platform.client)
    assert planned.plan.summary().update == 1

    def release_after_re_check(attempt: Attempt) -> None:
        if attempt.method == "GET" and attempt.path.endswith(f"/{draft.version_id}"):
            platform.client.remove_listener(release_after_re_check)
            platform.release(draft.version_id)

    platform.client.add_listener(release_after_re_check)
    versions = platform.version_count()
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert report.exit_code() == 5 and outcome is not None and outcome.outcome == "conflict"
    assert "changed since the plan was made" in outcome.message
    assert platform.version_count() == versions
    assert platform.released(agent_id).version_id == draft.version_id
