"""On a platform whose lists catch up late, a run ends only once its writes show, so the next
command (started the moment the first ends) plans from what just happened: it never creates
a second agent for a key and never plans a release that was just made."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from operator_iac.apply import steps
from operator_iac.settings import CACHE_DIR_VARIABLE
from operator_iac.state import fetch
from operator_iac.state.fetch import fetch_agent

from .two_platforms import Environments, environments

__all__ = ["environments"]

KEYS = ("appointment-booking", "call-summary", "lead-qualification", "support-triage")
LAG_S = 1.0
STALE_S = 2.0  # how long a read from a replica shows the past, in a test that makes one


@pytest.fixture
def lagging(environments: Environments) -> Environments:
    environments.platform("staging").emulator.set_faults(list_lag=LAG_S, versions_lag=LAG_S)
    return environments


def test_a_command_started_right_after_apply_sees_what_it_did(lagging: Environments) -> None:
    first = lagging.run("apply", "--env", "staging", "--yes", "--no-smoke")
    assert first.exit_code == 0, first.stdout + first.stderr
    assert "do not show" not in first.stdout + first.stderr

    second = lagging.run("apply", "--env", "staging", "--yes", "--no-smoke")
    assert second.exit_code == 0, second.stdout + second.stderr
    assert "No changes" in second.stdout
    platform = lagging.platform("staging")
    listed = [s.id for r in (platform.client.conversational_agents,
                             platform.client.procedural_agents) for s in r.list()]
    assert sorted(platform.owned()) == sorted(KEYS) and len(listed) == len(KEYS)

    lagging.change_prompt()
    changed = lagging.run("apply", "--env", "staging", "--yes", "--no-smoke")
    assert changed.exit_code == 0, changed.stdout + changed.stderr
    plan = lagging.run("plan", "--env", "staging", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr

    back = lagging.run("rollback", "--env", "staging", "appointment-booking", "--yes",
                       "--no-smoke")
    assert back.exit_code == 0, back.stdout + back.stderr
    status = lagging.run("status", "--env", "staging")
    assert status.exit_code == 2 and "appointment-booking" in status.stdout, status.stdout


def test_on_a_platform_that_releases_what_it_creates_apply_waits_for_its_own_release(
        environments: Environments) -> None:
    # The platform released v0 on create; the run released v1 (its finished draft). A lagging
    # versions list that still shows v0 released is the list catching up, not another
    # writer's release: the run waits for v1 to show, so the next plan has nothing to verify.
    environments.platform("staging").emulator.set_faults(compat=["create_releases"],
                                                         versions_lag=2 * LAG_S)
    first = environments.run("apply", "--env", "staging", "--yes")
    assert first.exit_code == 0, first.stdout + first.stderr
    assert "was released holding this run's write" in first.stderr

    plan = environments.run("plan", "--env", "staging", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr


def test_agents_whose_versions_lists_lag_are_waited_for_not_created_again(
        environments: Environments) -> None:
    """List items without descriptions: whose an agent is, is read from its versions list.
    Listed while that list does not show it yet (another run's agents, just written), they
    are read again until it does, instead of being taken for nobody's: nothing is created a
    second time. (Their releases, made a moment before, may not show yet: what the apply
    then releases again is its own business, the test's is that no key is created twice.)"""
    staging = environments.platform("staging")
    staging.emulator.set_faults(compat=["list_without_description"])
    first = environments.run("apply", "--env", "staging", "--yes", "--no-smoke")
    assert first.exit_code == 0, first.stdout + first.stderr
    staging.emulator.set_faults(compat=["list_without_description"], versions_lag=2 * LAG_S)
    staging.emulator.clear_requests()

    second = environments.run("apply", "--env", "staging", "--yes", "--no-smoke")

    assert second.exit_code == 0, second.stdout + second.stderr
    assert "0 to create" in second.stdout, second.stdout
    assert not [r for r in staging.emulator.requests if r.method == "POST"
                and r.path.rstrip("/").endswith("_agents")]
    assert sorted(staging.owned()) == sorted(KEYS)


# Faults of a platform whose reads trail its writes, each with the apply that must go on:
# - the read-back of a revision just created answers 404 for a moment (a replica behind the
#   writes): read again (the run wrote it; nobody else knows its id yet) instead of taken for
#   deleted by someone else;
# - a platform that stores lists sorted makes apply write each new draft once more (to record
#   the form); that write is refused once with a 422, as a platform does for a revision it no
#   longer takes, while the revision still reads as a draft: the run writes to the bare id,
#   which goes into the draft still there (before, it took the 422 for a body the platform
#   rejects and failed, exit 1).
TRAILING_READS = [
    pytest.param([], (3, 404, "GET", r"_[A-Za-z0-9]+@v0$"), id="read-back-404"),
    pytest.param(["sorted_lists"], (1, 422, "PUT", r"_[A-Za-z0-9]+@v0/?$"),
                 id="rewrite-refused-while-a-draft"),
]


def apply_then_empty_plan(environments: Environments, *flags: str) -> None:
    """Apply staging, then plan it at once: both exit 0, the plan empty."""
    applied = environments.run("apply", "--env", "staging", "--yes", *flags)
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    again = environments.run("plan", "--env", "staging", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr


@pytest.mark.parametrize(("modes", "fault"), TRAILING_READS)
def test_an_apply_goes_on_through_reads_that_trail_its_writes(
        environments: Environments, modes: list[str],
        fault: tuple[int, int, str, str]) -> None:
    staging = environments.platform("staging")
    staging.emulator.set_faults(compat=modes)
    staging.emulator.fail_next(*fault)
    apply_then_empty_plan(environments, "--no-smoke")
    assert sorted(staging.owned()) == sorted(KEYS)


def test_reads_by_id_that_trail_the_writes_never_read_as_another_writer(
        environments: Environments) -> None:
    """A platform whose reads by id show a write only some time after it: a rewritten draft
    reads as it was, a new one as not found. Neither is someone else's write: apply with
    smoke tests creates, changes and releases, and the plan started the moment it ends is
    empty (the run ended once reads by id showed its writes)."""
    staging = environments.platform("staging")
    staging.emulator.set_faults(read_lag=0.4)
    apply_then_empty_plan(environments)
    environments.change_prompt()
    apply_then_empty_plan(environments)
    assert sorted(staging.owned()) == sorted(KEYS)


def test_trailing_reads_of_a_draft_begun_as_a_copy_of_a_release_read_on_to_the_write(
        environments: Environments) -> None:
    """A platform that releases what it creates, drops ``postprocess_agents`` there and opens
    a draft beside every release, with reads by id that trail: apply writes each agent again
    into the draft, which begins as a copy of the release (this run's first write, under an
    earlier marker). A read of it
    showing that copy trails the write, however the write that made the draft was first
    refused: read on, the agents are released with their post-processing."""
    staging = environments.platform("staging")
    staging.emulator.set_faults(compat=["create_releases", "create_ignores_postprocess",
                                        "draft_after_release"], read_lag=0.5)
    apply_then_empty_plan(environments, "--no-smoke")
    assert sorted(staging.owned()) == sorted(KEYS)


def test_a_revision_the_versions_list_shows_before_a_read_by_id_finds_it_is_waited_for(
        environments: Environments) -> None:
    """Someone starts a draft in the dashboard; the versions list shows it at once, a read
    by id only later. The plan started right then waits for the read rather than taking the
    agent for deleted (its key would be created a second time)."""
    ok = environments.run("apply", "--env", "staging", "--yes", "--no-smoke")
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    staging = environments.platform("staging")
    staging.emulator.set_faults(read_lag=0.5)
    booking = staging.id_of("appointment-booking")
    staging.client.conversational_agents.update(booking, description="Work in progress.")
    plan = environments.run("plan", "--env", "staging", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert "to create" in plan.stdout and "0 to create" in plan.stdout
    assert "unreleased draft that operator-iac did not write" in plan.stdout


def test_release_records_the_conversations_list_shows_late_are_proven_and_seen_next(
        environments: Environments) -> None:
    """A platform that converses only with released revisions, whose lists (the
    conversations list too) trail the writes: the first release of a project there keeps its
    smoke records right after the release, found by listing the time after it. The run that
    wrote them proves the release by the ids it holds, not by a listing that does not show
    them yet, and ends once the listing shows what it did (the release record there, the
    proof record gone), so a plan and a promotion check started the moment it ends see the
    release proven."""
    from operator_iac.smoke.evidence import last_smoke_result

    from .two_platforms import PROJECT

    staging = environments.platform("staging")
    staging.emulator.set_faults(compat=["released_only_conversations"], list_lag=LAG_S)
    environments.replace_in("operator-iac.yaml", "on: [draft, released]", "on: [released]")

    applied = environments.apply_staging()

    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "could not be recorded" not in applied.stdout + applied.stderr
    plan = environments.run("plan", "--env", "staging", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    for key in ("appointment-booking", "support-triage"):
        agent_id = staging.id_of(key)
        found = last_smoke_result(staging.client, project=PROJECT, key=key, agent_id=agent_id)
        assert found is not None and found.passed, key


def test_a_smoke_run_that_proves_such_a_release_ends_once_the_listing_shows_it_proven(
        environments: Environments) -> None:
    """The same platform, the release made without its tests (``--no-smoke``): a later
    ``smoke`` run proves it by deleting the proof record it found by listing, and ends once
    that listing no longer shows it, so the promotion check right after finds it proven."""
    from operator_iac.smoke.evidence import last_smoke_result

    from .two_platforms import PROJECT

    staging = environments.platform("staging")
    staging.emulator.set_faults(compat=["released_only_conversations"], list_lag=LAG_S)
    environments.replace_in("operator-iac.yaml", "on: [draft, released]", "on: [released]")
    assert environments.apply_staging("--no-smoke").exit_code == 0
    agent_id = staging.id_of("support-triage")
    found = last_smoke_result(staging.client, project=PROJECT, key="support-triage",
                              agent_id=agent_id)
    assert found is not None and not found.passed and not found.tested

    smoked = environments.run("smoke", "--env", "staging", "support-triage")

    assert smoked.exit_code == 0, smoked.stdout + smoked.stderr
    found = last_smoke_result(staging.client, project=PROJECT, key="support-triage",
                              agent_id=agent_id)
    assert found is not None and found.passed


def test_an_agents_list_that_shows_less_than_before_never_makes_a_key_twice(
        environments: Environments, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A list read from a replica that trails the writes: after the apply, the agents list
    # shows the account as it was before it. On the machine that applied (or read them
    # since), the agents it knows are read by their ids; one deleted since is forgotten.
    applied = environments.apply_staging("--no-smoke")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    platform = environments.platform("staging")
    triage = platform.id_of("support-triage")
    platform.emulator.set_faults(list_lag=3600.0)
    assert not list(platform.client.conversational_agents.list())  # the list lost them

    plan = environments.run("plan", "--env", "staging", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    platform.client.conversational_agents.delete(triage)
    gone = environments.run("plan", "--env", "staging", "--detailed-exitcode")
    assert gone.exit_code == 2, gone.stdout + gone.stderr
    assert "Plan: 1 to create, 0 to update" in gone.stdout  # support-triage, and only it

    # Another machine knows nothing of them: it can only read the list as it is.
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "another-machine"))
    elsewhere = environments.run("plan", "--env", "staging", "--detailed-exitcode")
    assert "Plan: 4 to create" in elsewhere.stdout, elsewhere.stdout


def test_a_versions_list_that_shows_less_than_before_is_read_again_not_planned_on(
        environments: Environments, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Versions lists read from a replica that trails the writes: after the second apply, a
    # read shows the changed agent as it was after the first (its new revision not there
    # yet). The machine that applied knows what it saw of it: it reads the agent again until
    # a read shows as much (a replica's delay is bounded), and plans nothing.
    platform = environments.platform("staging")
    first = environments.apply_staging("--no-smoke")
    assert first.exit_code == 0, first.stdout + first.stderr
    clock = platform.emulator.state.clock
    after_first = clock.now()
    platform.emulator.advance_clock(STALE_S)  # the window a trailing read shows the past in
    environments.change_prompt()
    changed = environments.apply_staging("--no-smoke")
    assert changed.exit_code == 0, changed.stdout + changed.stderr
    booking = platform.id_of("appointment-booking")
    platform.emulator.set_faults(versions_lag=clock.now() - after_first)
    listed = platform.client.conversational_agents.list_versions(booking)
    assert [v.version_status for v in listed] == ["released"]  # the list lost v1

    plan = environments.run("plan", "--env", "staging", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    status = environments.run("status", "--env", "staging")
    assert status.exit_code == 0, status.stdout + status.stderr

    # Another machine knows nothing of it: it can only read the list as it is.
    platform.emulator.set_faults(versions_lag=clock.now() - after_first)
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "another-machine"))
    elsewhere = environments.run("plan", "--env", "staging", "--detailed-exitcode")
    assert elsewhere.exit_code == 2, elsewhere.stdout + elsewhere.stderr


def test_a_rollback_where_only_is_released_is_told_holds_no_read_back(
        environments: Environments, monkeypatch: pytest.MonkeyPatch) -> None:
    # Where statuses are told only by ``is_released``, the revision a rollback put aside
    # reads as the draft, as a read from before its release would: the machine that rolled
    # back forgets what it saw of the agent, and the next command reads it as it is at once.
    platform = environments.platform("staging")
    platform.emulator.set_compat("is_released", "escaped_html")  # no draft started after
    assert environments.apply_staging("--no-smoke").exit_code == 0
    environments.change_prompt()
    assert environments.apply_staging("--no-smoke").exit_code == 0
    back = environments.run("rollback", "--env", "staging", "appointment-booking", "--yes",
                            "--no-smoke")
    assert back.exit_code == 0, back.stdout + back.stderr

    monkeypatch.setenv("OPERATOR_IAC_LOG", "info")
    status = environments.run("status", "--env", "staging")
    assert status.exit_code == 2 and "appointment-booking" in status.stdout, status.stdout
    assert "less than was seen of it" not in status.stderr, status.stderr


def test_a_saved_plan_applied_where_reads_show_less_than_it_read_is_not_refused(
        environments: Environments, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The plan job saved its plan after the last release; the apply job, on another machine,
    # reads from a replica that shows the agent as it was before that release. What the
    # saved plan read, a read now shows at least: the apply reads the agent again until it
    # does, and applies the plan instead of refusing it as changed since it was made.
    platform = environments.platform("staging")
    assert environments.apply_staging("--no-smoke").exit_code == 0
    clock = platform.emulator.state.clock
    after_first = clock.now()
    platform.emulator.advance_clock(STALE_S)
    environments.change_prompt()
    assert environments.apply_staging("--no-smoke").exit_code == 0
    environments.change_prompt("Offer the earliest free slot first.")
    saved = tmp_path / "plan.json"
    planned = environments.run("plan", "--env", "staging", "--out", str(saved))
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    platform.emulator.set_faults(versions_lag=clock.now() - after_first)

    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "apply-job"))
    applied = environments.run("apply", "--env", "staging", str(saved), "--no-smoke")
    assert applied.exit_code == 0, applied.stdout + applied.stderr


def _released_in_the_dashboard(environments: Environments) -> str:
    """The project applied, then appointment-booking's model changed and released in the
    dashboard: its agent id."""
    platform = environments.platform("staging")
    assert environments.apply_staging("--no-smoke").exit_code == 0
    booking = platform.id_of("appointment-booking")
    agents = platform.client.conversational_agents
    released = platform.released(booking)
    draft = agents.update(booking, config={**released.config, "runtime": {
        **released.config["runtime"], "model": "openai/gpt-4.1"}})
    agents.release(draft.version_id or booking)
    return booking


def test_a_read_from_before_a_rollback_made_here_is_read_again(
        environments: Environments) -> None:
    # A release made in the dashboard, then rolled back from this machine; the next read
    # comes from a replica that still shows the dashboard's release. Which revision is
    # released may go back (a rollback), but a release made here is what reads show for as
    # long as they may trail: the status reads the agent again, and finds the rollback.
    platform = environments.platform("staging")
    booking = _released_in_the_dashboard(environments)
    agents = platform.client.conversational_agents
    assert environments.run("status", "--env", "staging").exit_code == 2
    clock = platform.emulator.state.clock
    before_rollback = clock.now()
    platform.emulator.advance_clock(STALE_S)
    back = environments.run("rollback", "--env", "staging", "appointment-booking", "--yes",
                            "--no-smoke")
    assert back.exit_code == 0, back.stdout + back.stderr
    platform.emulator.set_faults(versions_lag=clock.now() - before_rollback)
    listed = agents.list_versions(booking)
    assert [v.version_status for v in listed] == ["archived", "released"]  # before it

    status = environments.run("status", "--env", "staging")
    assert status.exit_code == 0, status.stdout + status.stderr


def _rolled_back_here_then_changed(environments: Environments) -> tuple[str, float]:
    """A dashboard release of appointment-booking rolled back from this machine, then its
    prompt changed in the files: its agent id, and the emulator's time before the rollback
    (a replica trailing to it shows the dashboard's release)."""
    booking = _released_in_the_dashboard(environments)
    before_rollback = environments.platform("staging").emulator.state.clock.now()
    back = environments.run("rollback", "--env", "staging", "appointment-booking", "--yes",
                            "--no-smoke")
    assert back.exit_code == 0, back.stdout + back.stderr
    environments.change_prompt()
    return booking, before_rollback


@pytest.mark.parametrize("check", ["before writing", "before the release"])
def test_an_apply_s_checks_read_again_what_trails_a_rollback_made_here(
        environments: Environments, monkeypatch: pytest.MonkeyPatch, check: str) -> None:
    # A release made in the dashboard, rolled back from this machine; the plan of the next
    # apply reads the rollback, and the apply's checks come from a replica that still shows
    # the dashboard's release: before writing, the plan's and the agent's right before its
    # write (the versions list); before the release, the revision the plan saw released,
    # read by its id (archived, it says). A release made here is what reads show for as
    # long as they may trail: the checks read again, as the plan did, instead of taking the
    # replica's past for a change since the plan (a conflict).
    platform = environments.platform("staging")
    booking, before_rollback = _rolled_back_here_then_changed(environments)
    clock = platform.emulator.state.clock
    checks: list[object] = []

    def from_now_on_from_a_replica_of_the_past(read: Callable[..., Any]) -> Callable[..., Any]:
        def reading(*args: Any, **kwargs: Any) -> Any:
            if not checks:  # from the first check on, reads trail to before the rollback
                platform.emulator.set_faults(versions_lag=clock.now() - before_rollback)
            checks.append(args)
            return read(*args, **kwargs)
        return reading

    if check == "before writing":
        trailing = from_now_on_from_a_replica_of_the_past(fetch_agent)
        monkeypatch.setattr(steps, "fetch_agent", trailing)
        monkeypatch.setattr(fetch, "fetch_agent", trailing)
    else:
        monkeypatch.setattr(steps.Steps, "_check_release_unmoved",
                            from_now_on_from_a_replica_of_the_past(
                                steps.Steps._check_release_unmoved))
    applied = environments.apply_staging("--no-smoke")

    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert checks  # the checks met the replica
    assert "Always confirm by text message" in str(platform.released(booking).config)


def test_a_revision_this_run_just_made_reads_as_not_found_only_while_reads_trail(
        environments: Environments) -> None:
    # A platform that releases what it creates and takes writes at the bare id only: the
    # run's write of its create goes to a new draft, the next write addressed to that draft
    # is refused for its address, and the read of the draft that follows trails the write
    # that made it (not found, the versions list not showing it yet either). This run's own
    # write made it: it is read again, not taken for a deletion by someone else (exit 5).
    staging = environments.platform("staging")
    staging.emulator.set_faults(compat=["create_releases", "bare_id_writes"], versions_lag=1.0)
    staging.emulator.fail_next(1, 404, "GET", r"_[A-Za-z0-9]+@v1/?$")
    apply_then_empty_plan(environments, "--no-smoke")
    assert sorted(staging.owned()) == sorted(KEYS)
