"""Faults through the emulator's fault injection, and what they must never cause: duplicate
agents, lost updates, or a platform that the next ``apply`` cannot bring back in line.

Error bursts carry ``Retry-After: 0`` and the backoff waits are skipped (``no_backoff``), so
the tests stay fast without changing which requests are retried. A 500 is retried like a 503
(a passing fault on a read often succeeds on the next attempt); one that persists past the
retries must end the run cleanly, and the next ``apply`` must converge.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal

import pytest

from operator_iac.api.client import Attempt
from operator_iac.api.models import version_number
from operator_iac.apply.report import ApplyOptions
from operator_iac.defaults import MAX_RETRIES
from operator_iac.plan.marker import Marker, with_marker
from operator_iac.plan.model import PlanOptions
from operator_iac.services.apply import apply
from operator_iac.services.plan import make_plan
from operator_iac.smoke.gate import SmokeVerdict

from .conftest import (
    KEYS,
    PROCEDURAL_KEYS,
    PROJECT_NAME,
    Platform,
    ProjectCopy,
    add_environment,
)

if TYPE_CHECKING:
    from operator_iac.plan.model import ResourcePlan, SmokeStage
    from operator_iac.spec.desired import DesiredAgent

Project = Callable[..., ProjectCopy]
RETRIES = MAX_RETRIES  # what the client retries by default
pytestmark = pytest.mark.usefixtures("no_backoff")

def assert_converged(copy: ProjectCopy, platform: Platform) -> None:
    """Exactly one agent per key, every one released, and nothing left to change."""
    owners = platform.owners()
    assert sorted(owners) == sorted(KEYS)
    assert all(len(ids) == 1 for ids in owners.values()), owners
    assert len(platform.agent_ids()) == len(KEYS)
    plan = copy.plan("--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr


def change_every_prompt(copy: ProjectCopy) -> None:
    copy.replace_in("prompts/appointment-booking.md", "# Ending the call", "# Ending a call")
    copy.replace_in("prompts/call-summary.md", "Fill in the output fields",
                    "Fill in the fields")
    copy.replace_in("lead-qualification.yaml", "Never invent details", "Do not invent details")
    copy.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")


# ---- error bursts and rate limiting ----------------------------------------------------------


def test_503_bursts_during_plan_and_apply_are_retried(
        project: Project, platform: Platform) -> None:
    copy = project()
    copy.emulator.fail_next(4, 503, "GET", retry_after=0)
    assert copy.plan().exit_code == 0
    copy.emulator.fail_next(3, 503, "GET", retry_after=0)
    copy.emulator.fail_next(2, 503, "POST", r"/release$", retry_after=0)
    result = copy.apply()
    assert result.exit_code == 0, result.stderr
    statuses = [r.status for r in copy.emulator.requests]
    assert statuses.count(503) == 9
    assert_converged(copy, platform)


def test_503_bursts_on_updates_are_retried(applied: ProjectCopy, platform: Platform) -> None:
    change_every_prompt(applied)
    applied.emulator.fail_next(4, 503, "PUT", retry_after=0)
    result = applied.apply()
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Plan: 0 to create, 4 to update")
    assert_converged(applied, platform)


def test_a_429_storm_slows_plan_and_apply_down_but_they_succeed(
        project: Project, platform: Platform) -> None:
    copy = project()
    copy.emulator.set_faults(rate_limit_rps=10, retry_after_s=1)
    result = copy.apply()
    assert result.exit_code == 0, result.stderr
    assert 429 in {r.status for r in copy.emulator.requests}
    copy.emulator.reset_faults()
    assert_converged(copy, platform)


def test_a_rate_limit_answered_503_slows_a_plan_down_but_it_succeeds(
        applied: ProjectCopy) -> None:
    """A gateway answering the platform's rate limit with 503 and ``Retry-After``: the plan
    waits and narrows like under 429s, and sees the project as it is (nothing to do)."""
    applied.emulator.set_compat("throttle_503")
    applied.emulator.set_faults(rate_limit_rps=10, retry_after_s=1)
    result = applied.plan("--detailed-exitcode")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert 503 in {r.status for r in applied.emulator.requests}
    applied.emulator.reset_faults()


def test_429_bursts_with_retry_after_are_honoured(project: Project, platform: Platform) -> None:
    copy = project()
    copy.emulator.fail_next(RETRIES, 429, "GET", retry_after=0)
    copy.emulator.fail_next(RETRIES, 429, "POST", r"/release$", retry_after=0)
    result = copy.apply()
    assert result.exit_code == 0, result.stderr
    assert [r.status for r in copy.emulator.requests].count(429) == 2 * RETRIES
    assert_converged(copy, platform)


# One kind's list: the kinds are listed at the same time, so failures meant for one listing
# must not be shared out between two.
@pytest.mark.parametrize("path", [r"/procedural_agents$", r"/versions$", r"@v0$"],
                         ids=["list", "versions", "revision"])
def test_a_500_while_planning_fails_cleanly_and_writes_nothing(
        project: Project, platform: Platform, path: str) -> None:
    copy = project()
    # Marked for a key this project no longer declares: planning reads it in depth.
    retired = with_marker("x", Marker(PROJECT_NAME, "retired", "0" * 16, None))
    unmanaged = platform.create("procedural_agents", name="Someone else's", description=retired,
                                config={"filter_statuses": ["completed"]})
    copy.emulator.fail_next(RETRIES + 1, 500, "GET", path)  # more than the retries
    result = copy.apply()
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("error: GET /")
    assert "500" in result.stderr and "Traceback" not in result.stderr
    assert platform.agent_ids() == [unmanaged]
    assert copy.apply().exit_code == 0
    platform.delete(unmanaged)
    assert_converged(copy, platform)


def test_a_500_on_one_write_fails_that_agent_only_and_apply_again_converges(
        applied: ProjectCopy, platform: Platform) -> None:
    change_every_prompt(applied)
    triage = platform.id_of("support-triage")
    applied.emulator.fail_next(RETRIES + 1, 500, "PUT", triage)
    result = applied.apply()
    assert result.exit_code == 1
    assert "Apply finished with problems: 3 applied, 1 not applied." in result.stdout
    assert "support-triage: FAILED (update)" in result.stdout
    assert applied.apply().exit_code == 0
    assert_converged(applied, platform)


# ---- interrupted applies ---------------------------------------------------------------------


def test_releases_failing_until_retries_run_out_then_apply_again_converges(
        project: Project, platform: Platform) -> None:
    """As if the process was killed between create and release."""
    copy = project()
    copy.emulator.fail_next(2 * (RETRIES + 1), 503, "POST", r"/release$", retry_after=0)
    failed = copy.apply()
    assert failed.exit_code == 1
    assert "Apply finished with problems: 0 applied, 4 not applied." in failed.stdout
    assert "support-triage: skipped (create) - skipped: lead-qualification did not apply" \
        in failed.stdout
    assert sorted(platform.owners()) == sorted(PROCEDURAL_KEYS)
    for key in PROCEDURAL_KEYS:
        assert [v.status for v in platform.versions(platform.id_of(key))] == ["draft"]

    plan = copy.plan()
    assert "2 to create, 0 to update, 2 to release" in plan.stdout
    result = copy.apply()
    assert result.exit_code == 0, result.stderr
    assert_converged(copy, platform)
    assert platform.version_count() == len(KEYS)


def test_a_killed_apply_is_finished_by_the_next_one(
        project: Project, platform: Platform) -> None:
    """A real process, killed as soon as it reports its first create."""
    copy = project()
    copy.emulator.set_faults(latency_ms=100)
    command = [sys.executable, "-m", "operator_iac", "--project-file", str(copy.project_file),
               "--api-url", copy.emulator.url, "--env", "staging", "apply", "--yes",
               "--no-smoke"]
    with subprocess.Popen(command, cwd=copy.root, stderr=subprocess.PIPE, text=True,
                          stdout=subprocess.DEVNULL) as process:
        assert process.stderr is not None
        for line in process.stderr:
            if ": created " in line:
                process.kill()
                break
        assert process.wait(timeout=30) != 0
    assert 1 <= len(platform.agent_ids()) <= len(PROCEDURAL_KEYS)
    copy.emulator.reset_faults()
    result = copy.apply()
    assert result.exit_code == 0, result.stdout
    assert_converged(copy, platform)


@pytest.mark.parametrize("mode", ["502", "reset"])
def test_lost_answers_to_updates_and_releases_are_retried_safely(
        applied: ProjectCopy, platform: Platform, mode: Literal["502", "reset"]) -> None:
    change_every_prompt(applied)
    applied.emulator.lose_next_response("PUT", count=2, mode=mode)
    applied.emulator.lose_next_response("POST", r"/release$", count=2, mode=mode)
    result = applied.apply()
    assert result.exit_code == 0, result.stdout
    assert platform.version_count() == 2 * len(KEYS)
    assert_converged(applied, platform)


def test_agents_on_other_pages_and_of_other_owners_are_never_touched(
        project: Project, platform: Platform) -> None:
    """More agents than one list page holds: the lost-create search and ownership read
    every page, and nothing outside the project is written."""
    copy = project()
    others = [platform.create("conversational_agents", name=f"Other {n}", description="x",
                              config={"runtime": {"model": "openai/gpt-4o"}})
              for n in range(45)]
    copy.emulator.lose_next_response("POST", r"_agents$", count=len(KEYS))
    copy.emulator.clear_requests()
    assert copy.apply().exit_code == 0
    assert not [w for w in platform.writes() if any(o in w[1] for o in others)]
    assert len(platform.agent_ids()) == len(others) + len(KEYS)
    owners = platform.owners()
    assert sorted(owners) == sorted(KEYS) and all(len(i) == 1 for i in owners.values())
    assert copy.plan("--detailed-exitcode").exit_code == 0


def test_a_lost_create_sent_again_and_refused_for_its_name_is_found(
        project: Project, platform: Platform) -> None:
    """On a platform that keeps names unique and lists new agents late, a create whose
    answer was lost is not found at first and is sent again; the second is refused for the
    name the first took, and the agent that holds it, with this key's marker, is the run's."""
    copy = project()
    platform.emulator.set_compat("unique_names")
    platform.emulator.set_faults(list_lag=0.5)
    copy.emulator.lose_next_response("POST", r"^/procedural_agents$", count=1)
    result = copy.apply("--no-smoke")
    assert result.exit_code == 0, result.stderr
    assert "created by the request whose answer was lost" in result.stderr
    refused = [r for r in platform.emulator.requests
               if (r.method, r.status) == ("POST", 409) and r.path == "/procedural_agents"]
    assert len(refused) == 1
    owners = platform.owners()
    assert sorted(owners) == sorted(KEYS) and all(len(i) == 1 for i in owners.values())


@pytest.mark.parametrize("mode", ["502", "reset"])
def test_lost_create_responses_never_duplicate_an_agent(
        project: Project, platform: Platform, mode: Literal["502", "reset"]) -> None:
    copy = project()
    copy.emulator.lose_next_response("POST", r"_agents$", count=len(KEYS), mode=mode)
    result = copy.apply()
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("created by the request whose answer was lost") == len(KEYS)
    creates = [w for w in platform.writes() if w[1].endswith("_agents")]
    assert len(creates) == len(KEYS)
    assert_converged(copy, platform)


def test_a_lost_create_whose_search_fails_too_is_found_by_the_next_apply(
        project: Project, platform: Platform) -> None:
    """The answer to the create is lost, then the search for the marker fails as well: the
    agent is left unknown to this run, and the next apply finds it instead of creating
    another one."""
    copy = project()
    planned = copy.make_plan(platform.client, PlanOptions(targets=("call-summary",)))
    copy.emulator.lose_next_response("POST", r"/procedural_agents$")

    def break_the_search(attempt: Attempt) -> None:
        if attempt.method == "POST" and attempt.status == 502:
            platform.client.remove_listener(break_the_search)
            copy.emulator.fail_next(RETRIES + 1, 503, "GET", r"/procedural_agents$",
                                    retry_after=0)

    platform.client.add_listener(break_the_search)
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("call-summary")
    assert report.exit_code() == 1 and outcome is not None and outcome.outcome == "failed"
    assert len(platform.owners()["call-summary"]) == 1
    result = copy.apply()
    assert result.exit_code == 0, result.stdout
    assert "> call-summary" in result.stdout  # its draft is released, not created again
    assert_converged(copy, platform)


# ---- damaged plan files ----------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["edit", "truncate", "garbage"])
def test_a_damaged_plan_file_is_refused_with_a_clear_message(
        project: Project, platform: Platform, damage: str) -> None:
    copy = project()
    out = copy.root / "plan.json"
    assert copy.plan("--out", str(out)).exit_code == 0
    text = out.read_text()
    if damage == "edit":
        data = json.loads(text)
        data["resources"][0]["desired"]["name"] = "Renamed by hand"
        out.write_text(json.dumps(data, indent=2))
    elif damage == "truncate":
        out.write_text(text[: len(text) // 2])
    else:
        out.write_text("not a plan")
    result = copy.run("apply", str(out), "--no-smoke")
    assert result.exit_code == 3
    expected = {"edit": "the checksum does not match the content",
                "truncate": "the file looks truncated", "garbage": "not valid JSON"}[damage]
    assert expected in result.stderr and str(out) in result.stderr
    assert platform.agent_ids() == []


def test_a_plan_file_for_another_environment_is_refused(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = project()
    add_environment(copy, "qa", monkeypatch)
    out = copy.root / "plan.json"
    assert copy.plan("--out", str(out)).exit_code == 0
    copy.env = "qa"
    result = copy.run("apply", str(out), "--no-smoke")
    assert result.exit_code == 3
    assert "--env staging" in result.stderr


# ---- agents missing remotely -----------------------------------------------------------------


def test_a_referenced_procedural_agent_deleted_remotely_is_created_again(
        applied: ProjectCopy, platform: Platform) -> None:
    triage, lead = platform.id_of("support-triage"), platform.id_of("lead-qualification")
    platform.release(platform.update(triage, postprocess_agents=[]))
    platform.delete(lead)

    plan = applied.plan()
    assert "1 to create, 1 to update" in plan.stdout
    result = applied.apply()
    assert result.exit_code == 0, result.stderr
    new_lead = platform.id_of("lead-qualification")
    assert new_lead != lead
    assert platform.released(triage).postprocess_agents == [new_lead]
    assert_converged(applied, platform)


# ---- compatibility modes (the whole life on each: test_random_platforms) ---------------------


@pytest.fixture
def briefly_patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rollback made in the dashboard where only ``is_released`` is told reads, on the
    machine that saw the release before it, as a read that trails: the next command waits
    for it once, bounded, then reads it as it is (docs/identity.md). The bound is shortened
    here: what is tested is what comes after it."""
    from operator_iac import defaults

    monkeypatch.setattr(defaults, "VISIBILITY_TIMEOUT_S", 2.0)


def test_a_rollback_seen_through_is_released_only_still_converges(
        applied: ProjectCopy, platform: Platform, briefly_patient: None) -> None:
    """With only ``is_released``, an archived revision newer than the released one (after a
    rollback) looks like a draft; writing to it is refused, and apply starts a new draft."""
    applied.emulator.set_compat("is_released")
    change_every_prompt(applied)
    assert applied.apply().exit_code == 0
    agent_id = platform.id_of("support-triage")
    platform.release(f"{agent_id}@v0")  # rolled back in the dashboard
    applied.replace_in("support-triage.yaml", "Be friendly and short.", "Be warm and short.")
    result = applied.apply()
    assert result.exit_code == 0, result.stdout
    released = platform.released(agent_id)
    assert released.version_id == f"{agent_id}@v2"
    assert "Be warm and short." in released.config["runtime"]["prompt"]["text"]
    assert_converged(applied, platform)


def test_a_create_cut_short_before_its_read_back_is_finished_by_the_next_apply(
        applied: ProjectCopy, platform: Platform) -> None:
    """An apply killed right after its create, on a platform that drops `postprocess_agents`
    on create and stores text in its own form: the draft it leaves (this key's marker for
    the declared content, never changed since the create) is that create cut short, and the
    next apply through the CLI finishes and releases it instead of refusing it as foreign."""
    import unicodedata

    from operator_iac.plan.writes import write_body

    applied.emulator.set_compat("create_ignores_postprocess", "nfc_text")
    applied.replace_in("support-triage.yaml", "Be friendly and brief.",
                       unicodedata.normalize("NFD", "Be friendly and brief, café included."))
    platform.delete(platform.id_of("support-triage"))
    planned = applied.make_plan(platform.client)
    resource = next(r for r in planned.plan.resources if r.key == "support-triage")
    assert resource.action == "create"
    ids = {key: platform.id_of(key) for key in KEYS if key != "support-triage"}
    # What the killed run sent, and all that reached the platform before it died.
    platform.create("conversational_agents",
                    **write_body(resource, planned.desired["support-triage"], ids, None))
    plan = applied.plan()
    assert "did not write" not in plan.stdout, plan.stdout
    result = applied.apply()
    assert result.exit_code == 0, result.stdout + result.stderr
    agent_id = platform.id_of("support-triage")
    assert platform.released(agent_id).postprocess_agents == [ids["lead-qualification"]]
    assert applied.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize(("saved", "modes"), [(False, ()), (True, ()), (False, ("immutable_422",))],
                         ids=["planned", "saved plan", "refused with 422"])
def test_a_dashboard_release_rolled_back_on_a_released_only_platform_is_told_from_a_draft(
        applied: ProjectCopy, platform: Platform, saved: bool, modes: tuple[str, ...]) -> None:
    """With only ``is_released``, a dashboard release rolled back leaves an archived revision
    newer than the released one, which reads exactly like a draft someone else wrote. apply
    writes that revision's own content back to it: refused (409), it is archived, and the
    change is written to a new draft and released (exit 0) with the archived revision left
    as it was; a saved plan that shows the "draft" blocking still holds and is applied; a
    platform that refuses writes to immutable revisions with 422 is read the same way."""
    from .dashboard import Dashboard, set_at

    applied.emulator.set_compat("is_released", *modes)
    agent_id = platform.id_of("support-triage")
    dashboard = Dashboard(applied.emulator)
    dashboard.edit_and_release(agent_id, set_at("runtime", "model", value="openai/gpt-4.1"))
    archived = platform.revision(f"{agent_id}@v1")
    platform.release(f"{agent_id}@v0")  # rolled back
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be warm and brief.")
    args: tuple[str, ...] = ()
    if saved:
        out = applied.root / "plan.json"
        assert applied.plan("--out", str(out)).exit_code == 0
        args = (str(out),)

    result = applied.apply(*args)

    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"{agent_id}@v1 is an archived revision" in result.stdout + result.stderr
    released = platform.released(agent_id)
    assert released.version_id == f"{agent_id}@v2"
    assert "Be warm and brief." in released.config["runtime"]["prompt"]["text"]
    kept = platform.revision(f"{agent_id}@v1")
    assert kept.update_body() == archived.update_body()
    assert kept.updated_at == archived.updated_at  # not written
    assert applied.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("modes", [(), ("escaped_html",)], ids=["kept_as_written",
                                                                 "markup_encoded"])
def test_a_dashboard_draft_on_a_released_only_platform_is_refused_and_left_as_it_was(
        applied: ProjectCopy, platform: Platform, modes: tuple[str, ...]) -> None:
    """The same question asked of a real draft (a person's, not released): it takes a write
    of its own content, so it is a draft, and apply refuses it (exit 5) as on any platform,
    without saying it may be archived; its content is what the person saved. The write
    carries no text (the agent's post-processing ids): a platform that stores text
    in a form that is not a fixed point (``&`` as ``&amp;``, ``&amp;`` as ``&amp;amp;``)
    would otherwise change the person's draft by asking."""
    from .dashboard import Dashboard, append_to_prompt

    applied.emulator.set_compat("is_released", *modes)
    agent_id = platform.id_of("support-triage")
    draft_id = Dashboard(applied.emulator).edit(
        agent_id, append_to_prompt("Say \"Q&A\" for <help>."))
    saved = platform.revision(draft_id)
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be warm and brief.")

    refused = applied.apply()

    assert refused.exit_code == 5, refused.stdout + refused.stderr
    assert "did not write" in refused.stderr and "may also be" not in refused.stderr
    assert platform.revision(draft_id).update_body() == saved.update_body()
    assert platform.released(agent_id).version_id == f"{agent_id}@v0"


def test_a_stale_draft_that_is_an_archived_revision_is_discarded_by_a_new_draft(
        applied: ProjectCopy, platform: Platform, briefly_patient: None) -> None:
    """On a platform that reports only ``is_released``, a change released then rolled back
    leaves this tool's revision newer than the released one, like an unreleased draft of
    its own. With the declarations back at the released content, ``--discard-drafts``
    writes the released revision into it: refused (it is archived), so a new draft holds the
    released revision, the newest revision no longer looks like a change, and the plan is
    empty."""
    applied.emulator.set_compat("is_released")
    agent_id = platform.id_of("support-triage")
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be warm and brief.")
    assert applied.apply().exit_code == 0
    platform.release(f"{agent_id}@v0")  # rolled back
    applied.replace_in("support-triage.yaml", "Be warm and brief.", "Be friendly and brief.")

    result = applied.apply("--discard-drafts")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"discarded the draft {agent_id}@v1: {agent_id}@v2 now holds the released " \
           f"revision {agent_id}@v0" in result.stdout
    assert platform.released(agent_id).version_id == f"{agent_id}@v0"
    assert platform.revision(f"{agent_id}@v2").update_body() == \
        platform.revision(f"{agent_id}@v0").update_body()
    assert applied.plan("--discard-drafts", "--detailed-exitcode").exit_code == 0


def test_a_stale_draft_is_discarded_where_the_stored_form_is_not_a_fixed_point(
        applied: ProjectCopy, platform: Platform) -> None:
    """A platform that stores ``&`` as ``&amp;`` stores ``&amp;`` as ``&amp;amp;``: writing
    the released revision back as the platform holds it would not make it again. The
    discard writes what made it (the declaration, under the released revision's marker),
    which that platform stores as it stored the release: the draft holds the released
    revision, its text encoded once, and the plan after it is empty."""
    applied.emulator.set_compat("escaped_html")
    agent_id = platform.id_of("support-triage")
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly & brief.")
    assert applied.apply().exit_code == 0
    released = platform.released(agent_id)
    assert "Be friendly &amp; brief." in released.config["runtime"]["prompt"]["text"]
    applied.replace_in("support-triage.yaml", "Be friendly & brief.", "Be warm & brief.")
    assert applied.apply("--no-release").exit_code == 0
    applied.replace_in("support-triage.yaml", "Be warm & brief.", "Be friendly & brief.")

    result = applied.apply("--discard-drafts")

    assert result.exit_code == 0, result.stdout + result.stderr
    draft = platform.revision(f"{agent_id}@v{version_number(released.version_id) + 1}")
    assert f"now holds the released revision {released.version_id}" in result.stdout
    assert draft.update_body() == platform.revision(released.version_id).update_body()
    assert platform.released(agent_id).version_id == released.version_id
    assert applied.plan("--discard-drafts", "--detailed-exitcode").exit_code == 0


def test_a_stale_draft_edited_after_the_plan_is_not_discarded(
        applied: ProjectCopy, platform: Platform) -> None:
    """A change applied but not released leaves this tool's draft; with the declarations
    back at the released content, a saved plan discards it. Edited in the dashboard between
    that plan and its apply, the draft is a person's now: the saved plan no longer holds
    (exit 5), nothing is written, and the edit stays."""
    from .dashboard import Dashboard, set_at

    agent_id = platform.id_of("support-triage")
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be warm and brief.")
    assert applied.apply("--no-release").exit_code == 0
    applied.replace_in("support-triage.yaml", "Be warm and brief.", "Be friendly and brief.")
    out = applied.root / "discard.json"
    planned = applied.plan("--discard-drafts", "--out", str(out))
    assert "1 draft(s) to discard" in planned.stdout, planned.stdout
    draft_id = Dashboard(applied.emulator).edit(
        agent_id, set_at("runtime", "model", value="openai/gpt-4.1"), start_from="draft")
    edited = platform.revision(draft_id).update_body()
    writes = len(platform.writes())

    result = applied.run("apply", str(out), "--no-smoke")

    assert result.exit_code == 5, result.stdout + result.stderr
    assert len(platform.writes()) == writes
    assert platform.revision(draft_id).update_body() == edited


def test_plain_text_errors_are_reported_readably(project: Project) -> None:
    copy = project()
    copy.emulator.set_compat("plain_errors")
    copy.emulator.fail_next(RETRIES + 1, 500, "GET", r"/procedural_agents$")  # one listing
    result = copy.plan()
    assert result.exit_code == 1
    assert "500" in result.stderr and "Traceback" not in result.stderr


# ---- smoke gates -----------------------------------------------------------------------------


def test_a_rollback_that_fails_reports_the_smoke_failure_and_what_stays_released(
        applied: ProjectCopy, platform: Platform) -> None:
    """The released revision fails its smoke tests and releasing the previous one again fails
    too: the report says both, and which revision is left released."""
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    agent_id = platform.id_of("support-triage")
    previous = platform.released(agent_id).version_id
    planned = make_plan(applied.target(), platform.client,
                        options=PlanOptions(targets=("support-triage",)))

    def gate(resource: ResourcePlan, agent: DesiredAgent, version_id: str, stage: SmokeStage,
             ids: Mapping[str, str], *, revision: object = None) -> SmokeVerdict:
        if stage == "draft":
            return SmokeVerdict(stage, True, "1 passed")
        applied.emulator.fail_next(RETRIES + 1, 500, "POST", r"/release$")  # the rollback's
        return SmokeVerdict(stage, False, "0 of 1 passed")

    report = apply(planned, platform.client, smoke_gate=gate)
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "failed", outcome
    assert "smoke tests failed on the released revision" in outcome.message
    assert f"rolling back to {previous} failed" in outcome.message
    assert "HTTP 500" in outcome.message
    assert outcome.rolled_back_to is None
    assert outcome.released_version_id == platform.released(agent_id).version_id != previous
    assert report.exit_code() == 1


def test_a_lost_create_that_the_lagging_list_does_not_show_yet_is_still_released(
        project: Project, platform: Platform) -> None:
    """The create happened, its answer was lost, and the agents list shows the agent late:
    the run creates again, sees both once the list catches up, keeps the one the claim rule
    keeps, releases it and deletes the other, so the key ends released with one agent."""
    copy = project()
    copy.emulator.set_faults(list_lag=0.5)
    copy.emulator.lose_next_response("POST", r"_agents$", count=1)
    result = copy.apply("--no-smoke")
    assert result.exit_code == 0, result.stderr
    copy.emulator.reset_faults()
    assert_converged(copy, platform)
