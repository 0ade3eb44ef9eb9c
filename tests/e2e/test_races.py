"""Concurrent applies converge: one agent per key, never exit 1, never a lost update.

Three ``apply`` processes of the installed entry point start together on a fresh project; two
write one draft. Deterministic variants interleave a second writer at the exact moment that
matters through the client's attempt listener.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import subprocess
import threading
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from operator_iac import defaults
from operator_iac.api.client import Attempt
from operator_iac.api.models import Agent
from operator_iac.apply import other_apply, steps
from operator_iac.apply.report import ApplyOptions
from operator_iac.plan.marker import parse_marker, with_marker
from operator_iac.plan.writes import (
    raw_differences,
    stored_differences,
    with_stored_forms,
    write_body,
)
from operator_iac.services.apply import apply
from operator_iac.services.plan import PlannedRun, make_plan
from operator_iac.smoke.gate import SmokeGate, SmokeVerdict, recording_gate
from operator_iac.state.fetch import read_revision

from .conftest import KEYS, Platform, ProjectCopy

Project = Callable[..., ProjectCopy]
OTHER_TEXT = "Written by another apply at the same moment."


def start_apply(copy: ProjectCopy, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        copy.command("apply", "--yes", *extra),
        cwd=copy.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    done = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        done.append((process.returncode, out + err))
    return done


def assert_one_agent_per_key(platform: Platform) -> None:
    owners = platform.owners()
    assert sorted(owners) == sorted(KEYS)
    assert all(len(ids) == 1 for ids in owners.values()), owners
    assert len(platform.agent_ids()) == len(KEYS)


@pytest.mark.parametrize(("smoke", "compat", "list_lag"), [
    (False, (), 0.0), (True, (), 0.0),
    # claims read from the versions lists, remembered per run (``apply.claims.SeenClaims``)
    (False, ("list_without_description",), 0.0),
    # every create released at once: the agent of the run that yields is released too
    (True, ("create_releases",), 0.0),
    # names kept unique, on a list that shows each run's creates late: the later creates
    # are refused, and settled as concurrent creates
    (False, ("unique_names",), 1.0),
    # markers cut at the limit until each run fits them (read by the identity they still
    # name), and list items given ids of their own on every write: two runs' writes of one
    # draft with the very same marker differ (each is the run's own as far as it can tell)
    (True, ("short_descriptions", "item_ids"), 0.0)],
    ids=["no-smoke", "smoke", "undescribed-lists", "released-on-create", "unique-names",
         "short-descriptions"])
def test_three_applies_on_a_fresh_project_create_one_agent_per_key(
        project: Project, platform: Platform, smoke: bool, compat: tuple[str, ...],
        list_lag: float) -> None:
    copy = project()
    if compat:
        copy.emulator.set_compat(*compat)
    # The three runs overlap request by request.
    copy.emulator.set_faults(latency_ms=20, list_lag=list_lag)
    extra = () if smoke else ("--no-smoke",)
    results = finish([start_apply(copy, *extra) for _ in range(3)])
    codes = [code for code, _ in results]
    # Identical applies are no conflict for each other: at least one succeeds.
    assert set(codes) <= {0, 5} and 0 in codes, results
    for code, output in results:
        if code == 5:
            assert "CONFLICT" in output and "Traceback" not in output, output
        # No run waits out a bound for the lists, nor for another run (each warns then).
        assert "warning:" not in output, output
    copy.emulator.reset_faults()
    try:
        assert_one_agent_per_key(platform)
    except AssertionError:
        print("\n\n=====\n".join(output for _, output in results))
        raise
    again = copy.run("apply", "--yes", *extra)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert copy.plan("--detailed-exitcode").exit_code == 0
    assert_one_agent_per_key(platform)


def test_two_applies_a_moment_apart_on_a_fresh_project_release_one_agent_per_key(
        project: Project, platform: Platform) -> None:
    """Creation times with whole seconds and lists seconds behind: the second apply starts
    a moment after the first, so each key's two agents are created within one second, and
    the tie is broken by id. The first run's first listing shows only its own agent; had it
    decided on it, while the second, seeing both, kept its own by id, both runs would
    release one (a plan after them: an error naming both). Each run decides to keep its
    agent only on a listing a second later, which shows the other's too: both exit 0 and
    one agent per key is released."""
    copy = project()
    copy.emulator.set_compat("whole_seconds")
    copy.emulator.set_faults(list_lag=3.0, versions_lag=3.0)
    first = start_apply(copy, "--no-smoke")
    time.sleep(0.3)  # the stagger that makes the second run's creates show later
    results = finish([first, start_apply(copy, "--no-smoke")])
    copy.emulator.reset_faults()
    assert [code for code, _ in results] == [0, 0], "\n=====\n".join(o for _, o in results)
    assert_one_agent_per_key(platform)
    assert copy.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("passed", [False, True], ids=["tests-fail", "tests-passed-first"])
def test_a_new_agent_deleted_while_it_is_tested_by_the_run_keeping_another_converges(
        project: Project, platform: Platform, passed: bool) -> None:
    """Where creation times tie, a run that created later may rank first; at its final
    decision it deletes the same-content agents that yield to its own, and one may still be
    under test by its run (kept at that run's first settlement). Played: another apply's
    agent for the key, created and released, deletes this run's while its draft is tested.
    Whether the tests then fail on the deleted agent or passed just before, it is no failure
    of this change, which the other agent holds and its run releases and proves: converged,
    with no wait for a deleted agent to show in the list."""
    copy = project()
    copy.emulator.set_compat("whole_seconds")  # this run's final listing comes a second later
    planned = make_plan(copy.target(), platform.client)
    resource = next(r for r in planned.plan.resources if r.key == "support-triage")
    theirs: list[str] = []

    def verdict(stage: str, version_id: str) -> bool:
        mine = platform.owners()["support-triage"]
        if stage != "draft" or theirs or not version_id.startswith(tuple(mine)):
            return True
        ids = {key: platform.id_of(key) for key in ("call-summary", "lead-qualification")}
        body = write_body(resource, planned.desired["support-triage"], ids, None)
        theirs.append(platform.create("conversational_agents", **body))
        platform.release(f"{theirs[0]}@v0")
        platform.delete(mine[0])
        return passed

    report = apply(planned, platform.client, smoke_gate=gate_that(platform, planned, verdict),
                   options=ApplyOptions())
    outcome = report.result("support-triage")
    assert theirs, "the other apply's agent came while the tests ran"
    assert outcome is not None and outcome.outcome == "converged", \
        (outcome.message, outcome.steps) if outcome else None
    assert theirs[0] in outcome.message and report.exit_code() == 0
    assert report.warnings == (), report.warnings
    assert platform.owners()["support-triage"] == theirs


@pytest.mark.parametrize("by", ["another apply", "hand"])
def test_a_new_agent_deleted_after_its_final_decision_converges_only_on_another_kept(
        project: Project, platform: Platform, monkeypatch: pytest.MonkeyPatch, by: str) -> None:
    """The case above where this run's final decision came first, on a listing begun before
    the other apply's create (shared with the run's other creates), so it kept its agent;
    the other run's decision, later, keeps its own and deletes this run's. The run meets its
    agent gone at its next read: that is the other apply's keeping, of the same content, and
    the run converges on the agent kept (it was a conflict, exit 5, with one agent left for
    the key, released). Deleted by hand, with no other agent for the key, it stays a
    conflict."""
    monkeypatch.setattr(defaults, "OTHER_APPLY_WAIT_S", 0.5)  # shortened for the test
    # The read of the deleted draft just written is taken for one trailing the write until
    # this bound (``state.fetch.read_written``): shortened too.
    monkeypatch.setattr(defaults, "VISIBILITY_TIMEOUT_S", 2.0)
    copy = project()
    planned = make_plan(copy.target(), platform.client)
    resource = next(r for r in planned.plan.resources if r.key == "support-triage")
    theirs: list[str] = []
    settle_create = steps.Steps._yield_to_concurrent_create

    def deciding_on_an_older_listing(self: steps.Steps, since: float, *,
                                     final: bool = False) -> None:
        if final and self.resource.key == "support-triage":
            return  # its listing did not show the other's agent yet: it keeps its own
        settle_create(self, since, final=final)

    monkeypatch.setattr(steps.Steps, "_yield_to_concurrent_create",
                        deciding_on_an_older_listing)

    one_at_a_time = threading.Lock()  # the verdicts of a wave come in parallel

    def verdict(stage: str, version_id: str) -> bool:
        with one_at_a_time:
            if stage != "draft" or theirs:
                return True
            mine = platform.owners()["support-triage"]
            if version_id.startswith(tuple(mine)):
                ids = {key: platform.id_of(key) for key in ("call-summary",
                                                            "lead-qualification")}
                body = write_body(resource, planned.desired["support-triage"], ids, None)
                theirs.append(platform.create("conversational_agents", **body)
                              if by == "another apply" else "")
                if theirs[0]:
                    platform.release(f"{theirs[0]}@v0")
                platform.delete(mine[0])  # the other run keeping its own, or a user
            return True

    report = apply(planned, platform.client, smoke_gate=gate_that(platform, planned, verdict),
                   options=ApplyOptions())
    outcome = report.result("support-triage")
    assert theirs, "the agent was not deleted while its draft was tested"
    if by == "hand":
        assert outcome is not None and outcome.outcome == "conflict", outcome
        assert "no other agent holds the key" in outcome.message, outcome.message
        assert report.exit_code() == 5
        assert report.warnings == (), report.warnings  # its end waits for no list to show it
        return
    assert outcome is not None and outcome.outcome == "converged", \
        (outcome.message, outcome.steps) if outcome else None
    assert theirs[0] in outcome.message and outcome.agent_id == theirs[0]
    assert report.exit_code() == 0, [(r.key, r.outcome, r.message) for r in report.results]
    assert report.warnings == (), report.warnings
    assert platform.owners()["support-triage"] == theirs


@pytest.mark.parametrize("compat", [None, "list_without_description"],
                         ids=["described-lists", "undescribed-lists"])
def test_a_new_agent_deleted_before_any_listing_showed_it_converges_without_waiting(
        project: Project, platform: Platform, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, compat: str | None) -> None:
    """Three applies of one commit on a fresh project: the run keeping another agent for a
    key deletes this run's, of the same content, right after its create, before this run's
    first listing, so no listing ever shows it. The listing shows the agent kept and this
    run's agent is not found by its id: that is the deletion, not a list showing a create
    late, and the run converges on the agent kept at once (it listed again until its bound
    ran out, then warned; met under load by the three applies' test)."""
    # Shortened, so that a run that waits for the bound fails the test quickly.
    monkeypatch.setattr(defaults, "VISIBILITY_TIMEOUT_S", 3.0)
    copy = project()
    if compat is not None:
        copy.emulator.set_compat(compat)
    planned = make_plan(copy.target(), platform.client)
    resource = next(r for r in planned.plan.resources if r.key == "support-triage")
    theirs: list[str] = []
    send_create = steps.Steps.send_create

    def deleted_by_the_run_keeping_another(self: steps.Steps) -> None:
        send_create(self)
        if self.resource.key != "support-triage" or theirs:
            return
        ids = {key: platform.id_of(key) for key in ("call-summary", "lead-qualification")}
        body = write_body(resource, planned.desired["support-triage"], ids, None)
        theirs.append(platform.create("conversational_agents", **body))
        platform.release(f"{theirs[0]}@v0")
        platform.delete(self._agent_id())

    monkeypatch.setattr(steps.Steps, "send_create", deleted_by_the_run_keeping_another)
    started = time.monotonic()
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert theirs, "the other apply's agent was not created"
    assert outcome is not None and outcome.outcome == "converged", \
        (outcome.message, outcome.steps) if outcome else None
    assert theirs[0] in outcome.message and report.exit_code() == 0
    assert report.warnings == (), report.warnings
    assert time.monotonic() - started < defaults.VISIBILITY_TIMEOUT_S
    assert not [r.message for r in caplog.records if r.levelno >= logging.WARNING]
    assert platform.owners()["support-triage"] == theirs


def test_another_apply_s_create_whose_marker_the_platform_cut_is_waited_for(
        applied: ProjectCopy, platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another apply of the same commit created an agent for a key after this run's plan,
    and while this run waits for its release, that apply's next write of the draft carries
    its marker cut at the platform's limit on descriptions (it fits it a moment later, then
    releases). The cut marker still names this change: the wait goes on, and the run
    converges once that apply released it (it took the draft for other content: a
    conflict, in most rounds of three applies at once on a fresh account)."""
    monkeypatch.setattr(defaults, "OTHER_APPLY_WAIT_S", 5.0)
    copy = applied
    # A new agent in the commit: a copy of support-triage under a key of its own.
    text = copy.agent_file("support-triage").read_text(encoding="utf-8")
    copy.agent_file("support-copy").write_text(
        text.replace("name: Support triage", "name: Support copy"), encoding="utf-8")
    planned = make_plan(copy.target(), platform.client)
    resource = next(r for r in planned.plan.resources if r.key == "support-copy")
    assert resource.action == "create"
    written = write_body(resource, planned.desired["support-copy"],
                         {k: platform.id_of(k) for k in KEYS}, None)
    marker = parse_marker(written["description"])
    assert marker is not None
    whole = with_marker(written["description"], dataclasses.replace(
        marker, smoke=("conv_otherRelease", "conv_otherProof")))
    theirs = platform.create("conversational_agents", **{**written, "description": whole})
    assert parse_marker(whole[:-12]) is None  # cut inside the records' ids
    watch = other_apply._watch
    timers: list[threading.Timer] = []

    def cut_then_fitted(steps_: steps.Steps, until: float,
                        state: other_apply.OtherApply) -> Any:
        if steps_.resource.key == "support-copy" and not timers:
            platform.update(f"{theirs}@v0", description=whole[:-12])

            def fitted_and_released() -> None:
                platform.update(f"{theirs}@v0", description=whole)
                platform.release(f"{theirs}@v0")

            timers.append(threading.Timer(0.5, fitted_and_released))
            timers[0].start()
        return watch(steps_, until, state)

    monkeypatch.setattr(other_apply, "_watch", cut_then_fitted)
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    for timer in timers:
        timer.join()
    outcome = report.result("support-copy")
    assert timers, "the run did not wait for the other apply"
    assert outcome is not None and outcome.outcome == "converged", \
        (outcome.message, outcome.steps) if outcome else None
    assert report.exit_code() == 0 and theirs in outcome.message
    assert platform.owners()["support-copy"] == [theirs]


@pytest.mark.parametrize(("stored", "bare_id_writes"), [
    (False, False), (True, False), (True, True)],
    ids=["as-written", "stored-own-form", "stored-bare-id-writes"])
def test_applies_of_one_change_at_once_all_succeed(
        applied: ProjectCopy, platform: Platform, stored: bool, bare_id_writes: bool) -> None:
    """Three pipelines apply the same commit, which changes one agent, at once, through the
    CLI: whichever of them meets another's write (before its own, over it, or released
    in the instant before its release) converges on it, so all exit 0 and the plan after
    them is empty, also where the platform stores the new text in a form of its own, and
    where it takes writes to the bare id only (the second write, refused at the draft's
    address, finds another apply's write there: written over, as the address would have)."""
    if stored:
        _stored_in_its_own_form(applied)
    else:
        applied.replace_in("support-triage.yaml", "Be friendly and brief.",
                           "Be friendly and short.")
    if bare_id_writes:
        applied.emulator.set_compat("nfc_text", "bare_id_writes")
    applied.emulator.set_faults(latency_ms=20)  # the runs overlap request by request
    results = finish([start_apply(applied, "--no-smoke") for _ in range(3)])
    applied.emulator.reset_faults()
    assert [code for code, _ in results] == [0, 0, 0], "\n=====\n".join(o for _, o in results)
    assert all("Traceback" not in said for _, said in results)
    # Lists that are never late: no run waits for them, nor warns that they are.
    assert all("do not show" not in said for _, said in results), results
    assert applied.plan("--detailed-exitcode").exit_code == 0
    assert_one_agent_per_key(platform)


def test_two_applies_of_different_changes_to_one_agent_never_lose_one(
        applied: ProjectCopy, project: Project, platform: Platform) -> None:
    """Two checkouts change the same agent differently and apply at once: at most one wins,
    the other exits 5, and what is released is exactly the winner's declaration. Both win
    only when they did not overlap after all (a loaded machine started one process late):
    then the later one planned over the earlier one's release, which its plan shows as the
    text it replaces, and its declaration is what is released."""
    other = project("other")
    texts = ("Be friendly and short.", "Be warm and brief.")
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", texts[0])
    other.replace_in("support-triage.yaml", "Be friendly and brief.", texts[1])
    applied.emulator.set_faults(latency_ms=20)
    results = finish([start_apply(applied, "--no-smoke"), start_apply(other, "--no-smoke")])
    applied.emulator.reset_faults()
    codes = [code for code, _ in results]
    assert set(codes) <= {0, 5}, results
    released = platform.released(platform.id_of("support-triage"))
    text = released.config["runtime"]["prompt"]["text"]
    if codes == [0, 0]:
        later = next(n for n in (0, 1) if texts[n] in text)
        _, said = results[later]
        # Only a plan made over the earlier release names the earlier text (what it replaces).
        assert texts[1 - later] in said, results
        assert (applied, other)[later].plan("--detailed-exitcode").exit_code == 0
    elif codes[0] == 0:
        assert "Be friendly and short." in text
        assert applied.plan("--detailed-exitcode").exit_code == 0
    elif codes[1] == 0:
        assert "Be warm and brief." in text
        assert other.plan("--detailed-exitcode").exit_code == 0
    else:
        assert "Be friendly and brief." in text


def test_a_draft_overwritten_right_after_the_write_is_a_conflict_not_a_failure(
        applied: ProjectCopy, platform: Platform) -> None:
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")

    strike_after(platform, [put], lambda: overwrite_prompt(platform, agent_id))
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "conflict", outcome
    assert report.exit_code() == 5
    assert "written by someone else at the same time" in outcome.message
    assert "Be friendly and short." not in \
        platform.released(agent_id).config["runtime"]["prompt"]["text"]


Moment = Callable[[Attempt], bool]


def strike_after(platform: Platform, moments: list[Moment], act: Callable[[], object]) -> list[str]:
    """``act`` once, right after the run's requests went through ``moments`` in order (each
    matched by a request, others in between ignored): another writer at the worst moment.
    Returns the paths matched so far, for the test to check that the moment came."""
    matched: list[str] = []

    def listener(attempt: Attempt) -> None:
        if len(matched) < len(moments) and moments[len(matched)](attempt):
            matched.append(attempt.path)
            if len(matched) == len(moments):
                platform.client.remove_listener(listener)
                act()

    platform.client.add_listener(listener)
    return matched


def put(attempt: Attempt) -> bool:
    return attempt.method == "PUT" and attempt.status == 200


def overwrite_prompt(platform: Platform, agent_id: str) -> str:
    """Another writer's draft of the agent: its released content with another prompt."""
    released = platform.released(agent_id)
    return platform.update(agent_id, config={**released.config, "runtime": {
        **released.config["runtime"], "prompt": {"type": "fixed", "text": OTHER_TEXT}}})


def read_of_revision(agent_id: str, version: str | None = None) -> Moment:
    """A read of one of the agent's revisions (``version``: of that one, ``v1``)."""
    def matches(attempt: Attempt) -> bool:
        if attempt.method != "GET":
            return False
        if version is not None:
            return attempt.path.endswith(f"{agent_id}@{version}")
        return f"{agent_id}@v" in attempt.path

    return matches


def read_of_versions(agent_id: str) -> Moment:
    return lambda attempt: attempt.method == "GET" and \
        attempt.path.endswith(f"{agent_id}/versions")


def after_read_back(platform: Platform, agent_id: str,
                    act: Callable[[Agent], object]) -> None:
    """``act`` on the agent's draft once, right after the run reads back its first write (the
    first read of a revision after a PUT)."""
    def on_draft() -> None:
        draft = platform.draft(agent_id)
        assert draft is not None
        act(draft)

    strike_after(platform, [put, read_of_revision(agent_id)], on_draft)


def test_another_applys_write_made_just_before_this_one_and_read_first_is_no_conflict(
        applied: ProjectCopy, platform: Platform) -> None:
    """On a platform whose reads trail its writes (by 1 s), another apply's write of this key
    lands in a new draft 0.6 s before this run's write over it, too late for this run's
    re-check to see: the read-back shows the draft missing, then the other apply's write,
    then this run's. The other write is placed by the platform's clock (its ``updated_at``
    against the ``Date`` of this run's write: ``state.write_order``) as made before this
    run's, so the run reads on to its own write and releases it; taken for a write after
    its own, it was a conflict, and with the other apply's run also losing, nobody's."""
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    released = platform.released(agent_id)
    applied.emulator.advance_clock(2.0)  # what the plan read is older than the lag
    applied.emulator.set_faults(read_lag=1.0, versions_lag=1.0)
    platform.update(agent_id, description=released.description, config={  # its marker
        **released.config, "runtime": {**released.config["runtime"],
                                       "prompt": {"type": "fixed", "text": OTHER_TEXT}}})
    applied.emulator.advance_clock(0.6)
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    applied.emulator.reset_faults()
    assert report.exit_code() == 0, report
    text = platform.released(agent_id).config["runtime"]["prompt"]["text"]
    assert "Be friendly and short." in text and OTHER_TEXT not in text


def test_a_draft_changed_between_read_back_and_release_is_not_released(
        applied: ProjectCopy, platform: Platform) -> None:
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    after_read_back(platform, agent_id, lambda draft: platform.update(
        draft.version_id, config={**draft.config, "runtime": {
            **draft.config["runtime"], "prompt": {"type": "fixed", "text": OTHER_TEXT}}}))
    released_before = platform.released(agent_id).version_id
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "conflict", outcome
    assert "changed after this run wrote it" in outcome.message
    assert platform.released(agent_id).version_id == released_before


@pytest.mark.parametrize("other", ["releases it", "stops before its release",
                                   "stops, read by lists that trail",
                                   "may test it longer than a run waits"])
def test_the_same_content_written_by_another_apply_after_the_read_back_converges(
        applied: ProjectCopy, platform: Platform, monkeypatch: pytest.MonkeyPatch,
        other: str) -> None:
    """Two applies of one commit write one draft: the one whose draft the other rewrote, with
    the very content it read back and the other's marker (same key and content hash, other
    records), waits for the other to release it, and converges once it did; a marker alone
    would not do (the test above). Should the other stop before its release (killed), the
    run finishes the draft itself once the other's steps would have ended: the change is
    released and the plan after it is empty, not left for the next apply; also where the
    versions lists trail the writes, so that the first reads of the wait show no draft yet
    (taken for the draft gone, the run left it). Where the other's
    steps may take longer than a run ever waits, the run leaves it to the other and says that
    the next apply releases it should the other stop."""
    # The wait, shortened for the test: longer than the lists trail, as it is in use.
    monkeypatch.setattr(defaults, "OTHER_APPLY_WAIT_S", 2.5 if "trail" in other else 0.5)
    if other == "may test it longer than a run waits":
        monkeypatch.setattr(defaults, "OTHER_APPLY_WAIT_MAX_S", 0.4)
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    released_before = platform.released(agent_id).version_id

    def the_other_writes(draft: Agent) -> None:
        platform.update(draft.version_id, description=re.sub(  # its records, the same content
            r"smoke=[^\s\]]+", "smoke=conv_otherRelease,conv_otherProof", draft.description))
        if other == "stops, read by lists that trail":
            # Only now: the versions lists show a write a second late (a draft of the change
            # not shown yet) from here on.
            applied.emulator.set_faults(versions_lag=1.0)

    after_read_back(platform, agent_id, the_other_writes)
    if other == "releases it":
        read_again = other_apply._read

        def the_other_releases(run: steps.Steps) -> Any:
            draft = platform.draft(agent_id)
            if draft is not None:
                platform.release(draft.version_id)
            return read_again(run)

        monkeypatch.setattr(other_apply, "_read", the_other_releases)
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and report.exit_code() == 0, outcome
    released = platform.released(agent_id).version_id
    if other == "may test it longer than a run waits":
        assert outcome.outcome == "converged", outcome
        assert "the next apply releases it" in outcome.message, outcome.message
        assert released == released_before
        assert applied.plan("--detailed-exitcode").exit_code == 2  # left to release
        return
    assert released != released_before, outcome
    if other == "releases it":
        assert outcome.outcome == "converged", outcome
        assert "same content" in outcome.message and f"released it as {released}" in \
            outcome.message, outcome.message
    else:
        assert outcome.outcome == "applied", outcome
        assert any("this run finishes it" in step for step in outcome.steps), outcome.steps
        assert parse_marker(platform.released(agent_id).description).smoke != (
            "conv_otherRelease", "conv_otherProof")  # written again, in this run's name
    assert applied.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("meanwhile", ["the draft is edited", "the agent is deleted",
                                       "the release is rolled back"])
def test_the_same_content_another_apply_holds_and_loses_while_this_run_waits_is_a_conflict(
        applied: ProjectCopy, platform: Platform, monkeypatch: pytest.MonkeyPatch,
        meanwhile: str) -> None:
    """The run whose draft another apply of the same commit rewrote waits for that apply to
    release it (the test above). Meanwhile the change leaves the platform: a dashboard user
    edits the draft, or deletes the agent, or that apply releases it and its tests fail, so it
    releases the revision before it again. Nobody will release this change now: the run is
    a conflict (exit 5, "make a new plan"), not done; it exited 0 ("converged") with the
    change nowhere on the platform. Where the agent was deleted, the run does not wait for
    the lists to show its write into it either (it waited for their whole bound, and
    warned)."""
    monkeypatch.setattr(defaults, "OTHER_APPLY_WAIT_S", 0.5)  # shortened for the test
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    released_before = platform.released(agent_id).version_id
    after_read_back(platform, agent_id, lambda draft: platform.update(
        draft.version_id, description=re.sub(
            r"smoke=[^\s\]]+", "smoke=conv_otherRelease,conv_otherProof", draft.description)))
    read_again, struck = other_apply._read, []

    def meanwhile_the_change_leaves(run: steps.Steps) -> Any:
        draft = None if struck else platform.draft(agent_id)
        if draft is not None:
            struck.append(draft.version_id)
            if meanwhile == "the draft is edited":
                platform.update(draft.version_id, config={**draft.config, "runtime": {
                    **draft.config["runtime"], "prompt": {"type": "fixed", "text": OTHER_TEXT}}})
            elif meanwhile == "the agent is deleted":
                platform.delete(agent_id)
            else:
                platform.release(draft.version_id)
                platform.release(released_before)
        return read_again(run)

    monkeypatch.setattr(other_apply, "_read", meanwhile_the_change_leaves)
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert struck, "the run never waited for the other apply"
    assert outcome is not None and outcome.outcome == "conflict", outcome
    assert "while this run waited for it" in outcome.message, outcome.message
    assert "make a new plan" in outcome.message
    assert report.exit_code() == 5
    # Nothing to wait for in the lists either: a deleted agent never shows the run's write.
    assert not report.warnings, report.warnings
    assert applied.plan("--detailed-exitcode").exit_code == 2  # the change is still to make


def _stored_in_its_own_form(applied: ProjectCopy) -> None:
    """A platform that stores a value in its own form: apply writes its draft twice (the
    second write records the form)."""
    applied.emulator.set_compat("nfc_text")  # stores text NFC-normalised
    applied.replace_in("support-triage.yaml", "Be friendly and brief.",
                       unicodedata.normalize("NFD", "Be friendly and brief, café included."))


def test_this_runs_write_released_by_another_apply_before_its_second_write_is_finished(
        applied: ProjectCopy, platform: Platform) -> None:
    """Another apply's release call, made between its last check and its release, takes
    this run's first write with it: released before the second write could record the
    platform's form. It is this run's change: the run writes it again into a new draft,
    releases that, and the plan after it is empty."""
    _stored_in_its_own_form(applied)
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    after_read_back(platform, agent_id, lambda draft: platform.release(draft.version_id))
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "applied", outcome
    assert report.exit_code() == 0
    assert platform.released(agent_id).version_id == f"{agent_id}@v2"
    assert any("holding this run's write" in step for step in outcome.steps), outcome.steps
    assert applied.plan("--detailed-exitcode").exit_code == 0


def test_a_write_refused_after_another_apply_released_this_very_change_converges(
        applied: ProjectCopy, platform: Platform) -> None:
    """Three identical applies under load (the interleaving the race test below met): the
    draft holding this run's first write is released by another apply, which then writes
    the change again, its stored form recorded, into a new draft and releases that. This
    run's second write, to the draft now archived, is refused: whichever step meets
    another apply's writes, the agent's released revision holds exactly this change, so the
    run converges (exit 0) instead of a conflict, and does not wait for the lists to show a
    change its refused write never made."""
    _stored_in_its_own_form(applied)
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    ids = {key: platform.id_of(key) for key in KEYS}
    other = _another_applys_first_write(planned, platform)

    def release_and_finish(draft: Agent) -> None:
        stored = read_revision(platform.client, "conversational_agent", draft.version_id,
                               "draft")
        found = stored_differences(planned.desired["support-triage"], ids, stored)
        raw = raw_differences(planned.desired["support-triage"], ids, stored)
        recorded = with_stored_forms(other, stored, found, raw, "conversational_agent",
                                     {agent_id: key for key, agent_id in ids.items()})
        platform.release(draft.version_id)
        platform.release(platform.update(agent_id, **recorded))

    after_read_back(platform, agent_id, release_and_finish)
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "converged", outcome
    assert f"released this very change as {agent_id}@v2" in outcome.message
    assert report.exit_code() == 0
    # The refused write changed nothing: the run's end waits for no list to show it.
    assert report.warnings == (), report.warnings
    assert platform.released(agent_id).version_id == f"{agent_id}@v2"
    assert applied.plan("--detailed-exitcode").exit_code == 0


def test_a_write_into_another_applys_draft_refused_as_it_releases_it_is_not_waited_for(
        applied: ProjectCopy, platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another apply of the same commit wrote the change into a draft after this run's plan;
    this run's re-check finds that draft and finishes it, and in the instant before its write
    that apply releases it. The write is refused (the revision is not the draft any more)
    and the run converges on that release: its end waits for the lists to show the release,
    and must not wait for them to show the refused write (the draft noted as changed by it
    read as trailing that write: a 30 s wait, then a warning that lists do not show it)."""
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    drafted = platform.update(agent_id, **_another_applys_first_write(planned, platform))
    released: list[str] = []

    supersedes = steps.Steps._supersedes

    def the_other_releases_first(self: steps.Steps, before: Any, body: Any) -> None:
        supersedes(self, before, body)  # the instant before this run's write of the draft
        if not released and before.version_id == drafted:
            platform.release(drafted)
            released.append(drafted)

    monkeypatch.setattr(steps.Steps, "_supersedes", the_other_releases_first)
    started = time.monotonic()
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert released, "the other apply never released its draft"
    assert outcome is not None and outcome.outcome == "converged", outcome
    assert report.exit_code() == 0
    assert report.warnings == (), report.warnings
    assert time.monotonic() - started < defaults.VISIBILITY_TIMEOUT_S
    assert platform.released(agent_id).version_id == drafted
    assert applied.plan("--detailed-exitcode").exit_code == 0


def _another_applys_first_write(planned: PlannedRun, platform: Platform,
                                key: str = "support-triage") -> dict[str, object]:
    """The body another apply of the same commit writes first: this change over the released
    revision, under its own marker (its own records, no stored forms recorded yet)."""
    agent_id = platform.id_of(key)
    resource = next(r for r in planned.plan.resources if r.key == key)
    base = read_revision(platform.client, "conversational_agent",
                         platform.released(agent_id).version_id, "released")
    body = write_body(resource, planned.desired[key], {k: platform.id_of(k) for k in KEYS},
                      base)
    marker = parse_marker(body["description"])
    assert marker is not None and not marker.stored
    body["description"] = with_marker(body["description"], dataclasses.replace(
        marker, smoke=("conv_otherRelease", "conv_otherProof")))
    return body


def test_the_same_content_written_over_the_write_recording_the_forms_is_finished(
        applied: ProjectCopy, platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a platform that stores a value in its own form, the run writes its draft twice (the
    second records the form). Another apply of the same commit writes its first write over
    it: the second read-back holds the same content under that apply's marker, which
    records no form yet (its next write would). The run yields to that apply and waits for
    its release: the draft holds exactly what this run read back, so it is this change,
    though the form it is in is not recorded yet. That apply stops there (killed): once its
    steps would have ended, the run finishes the draft, and the plan after it is empty
    (before, the draft read as another writer's, the wait ended at once, and the run exited
    0 with the change unreleased)."""
    monkeypatch.setattr(defaults, "OTHER_APPLY_WAIT_S", 0.5)  # shortened for the test
    _stored_in_its_own_form(applied)
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    released_before = platform.released(agent_id).version_id
    other = _another_applys_first_write(planned, platform)
    puts = [put, put]
    strike_after(platform, puts, lambda: platform.update(f"{agent_id}@v1", **other))
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "applied", outcome
    assert any("this run finishes it" in step for step in outcome.steps), outcome.steps
    assert report.exit_code() == 0
    assert platform.released(agent_id).version_id != released_before
    assert applied.plan("--detailed-exitcode").exit_code == 0


def test_another_apply_s_write_of_the_very_marker_is_this_run_s_own(
        applied: ProjectCopy, platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another apply of the same commit writes the draft with the very body this run wrote
    (the same marker: no records named, as where the platform keeps descriptions too short
    for them), on a platform that gives list items ids of its own on every write, so the
    draft then reads unlike this run's read-back though nothing in it is anyone else's.
    Nothing tells the two writes apart, so the run goes on with the draft as its own
    (each of two runs took the other's for a write it had to wait for, and both ended in a
    conflict after the wait: random walk 9111)."""
    monkeypatch.setattr(defaults, "OTHER_APPLY_WAIT_S", 5.0)
    applied.emulator.set_compat("item_ids")
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    written: list[str] = []

    def the_same_write_again() -> None:
        draft = platform.client.conversational_agents.get(agent_id)
        config = {**draft.config, "tool": {**draft.config["tool"], "tools": [
            {k: v for k, v in tool.items() if k != "id"}
            for tool in draft.config["tool"]["tools"]]}}  # as sent: no ids of the platform's
        written.append(platform.update(agent_id, name=draft.name,
                                       description=draft.description, config=config))

    # After this run's read-back of its write: its next read finds the other's.
    strike_after(platform, [put, read_of_revision(agent_id)], the_same_write_again)
    started = time.monotonic()
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert written, "the other apply's write did not come"
    assert outcome is not None and outcome.outcome == "applied", outcome
    assert report.exit_code() == 0 and report.warnings == ()
    assert time.monotonic() - started < defaults.OTHER_APPLY_WAIT_S  # waited for nobody
    assert platform.released(agent_id).version_id == written[0]
    assert applied.plan("--detailed-exitcode").exit_code == 0


def test_another_applys_first_write_of_a_form_never_seen_is_finished_once_it_records_it(
        applied: ProjectCopy, platform: Platform) -> None:
    """The other apply of the same commit made its first write, and the platform stored a
    value of it in a form nobody has seen yet (its marker records it only with its next
    write, a moment later). The revision carries this change's marker but does not read as
    this change yet: the run reads it again, and once the other records it, the draft holds
    this very change, which the run finishes (it is no conflict)."""
    _stored_in_its_own_form(applied)
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    ids = {key: platform.id_of(key) for key in KEYS}
    other = _another_applys_first_write(planned, platform)
    first = platform.update(agent_id, **other)
    stored = read_revision(platform.client, "conversational_agent", first, "draft")
    found = stored_differences(planned.desired["support-triage"], ids, stored)
    assert found, "the platform stores the new text in a form of its own"
    raw = raw_differences(planned.desired["support-triage"], ids, stored)
    recorded = with_stored_forms(other, stored, found, raw, "conversational_agent",
                                 {agent_id: key for key, agent_id in ids.items()})
    later = threading.Timer(0.3, lambda: platform.update(first, **recorded))
    later.start()
    try:
        report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    finally:
        later.join()
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "applied", outcome
    assert any("this run finishes it" in step for step in outcome.steps), outcome
    assert report.exit_code() == 0
    assert platform.released(agent_id).version_id == first


def test_an_edit_under_this_changes_marker_stays_a_conflict(
        applied: ProjectCopy, platform: Platform) -> None:
    """The same first write, edited in the dashboard instead of completed (the marker kept,
    the prompt changed): it never reads as this change, so after the short wait the run
    refuses, writing nothing."""
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    first = platform.update(agent_id, **_another_applys_first_write(planned, platform))
    edited = platform.draft(agent_id)
    assert edited is not None
    platform.update(first, config={**edited.config, "runtime": {
        **edited.config["runtime"], "prompt": {"type": "fixed", "text": OTHER_TEXT}}})
    writes = len(platform.writes())
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "conflict", outcome
    assert report.exit_code() == 5
    assert platform.writes()[writes:] == []


def test_the_same_change_drafted_by_another_apply_before_a_release_is_released(
        applied: ProjectCopy, platform: Platform) -> None:
    """The plan releases a draft that holds the declaration in the platform's own form (the
    draft's marker records it). Another apply of the same commit wrote the change into the
    draft again since (its first write, whose marker records no form yet): the plan's stored
    forms tell it is this very change, so the run releases the draft as planned (nothing
    tells whether that apply is alive to release it)."""
    _stored_in_its_own_form(applied)
    drafted = apply(applied.make_plan(platform.client), platform.client,
                    options=ApplyOptions(smoke=False, release=False))
    assert drafted.exit_code() == 0
    planned = applied.make_plan(platform.client)
    resource = next(r for r in planned.plan.resources if r.key == "support-triage")
    assert resource.action == "release" and planned.plan.stored_forms
    agent_id = platform.id_of("support-triage")
    draft = platform.draft(agent_id)
    assert draft is not None
    platform.update(draft.version_id, **_another_applys_first_write(planned, platform))
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "applied", outcome
    assert report.exit_code() == 0
    assert platform.released(agent_id).version_id == draft.version_id
    assert applied.plan("--detailed-exitcode").exit_code == 0


def test_a_draft_replaced_and_released_by_another_writer_before_its_second_write_is_a_conflict(
        applied: ProjectCopy, platform: Platform) -> None:
    """The other writer's content in the draft, released before this run's second write:
    the 409 of that write is a conflict (exit 5), never a failure of the run, and what is
    released is the other's."""
    _stored_in_its_own_form(applied)
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")

    def replace_and_release(draft: Agent) -> None:
        overwrite_prompt(platform, agent_id)
        platform.release(draft.version_id)

    after_read_back(platform, agent_id, replace_and_release)
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "conflict", outcome
    assert "released or replaced by another writer" in outcome.message
    assert report.exit_code() == 5
    assert platform.released(agent_id).config["runtime"]["prompt"]["text"] == OTHER_TEXT


@pytest.mark.parametrize("lists", ["current", "late"])
def test_a_release_by_another_apply_between_recheck_and_write_is_never_undone(
        applied: ProjectCopy, platform: Platform, lists: str) -> None:
    """Another apply writes and releases its change after this run re-checked the agent and
    before it wrote: this run's write then begins a new draft (one draft per agent), and
    releasing it would silently undo the other release. It is a conflict; the other stays,
    also where the versions lists show the other release late."""
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    if lists == "late":  # every write from now on shows in the versions lists 3 s late
        applied.emulator.advance_clock(3.5)
        applied.emulator.set_faults(versions_lag=3.0)
    released_by_other: list[str] = []

    def write_and_release() -> None:
        written = overwrite_prompt(platform, agent_id)
        platform.release(written)
        released_by_other.append(written)

    # The run checks the agent twice before its write (the whole plan first, then the step
    # right before writing): each reads the versions list, then the released revision. The
    # other apply strikes right after the second.
    strike_after(platform, [read_of_versions(agent_id), read_of_versions(agent_id),
                            read_of_revision(agent_id)], write_and_release)
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert released_by_other, "the other apply's release happened"
    assert outcome is not None and outcome.outcome == "conflict", outcome
    assert f"{released_by_other[0]} was written and released by another writer" in \
        outcome.message
    assert report.exit_code() == 5
    applied.emulator.advance_clock(3.5)
    assert platform.released(agent_id).version_id == released_by_other[0]
    assert platform.released(agent_id).config["runtime"]["prompt"]["text"] == OTHER_TEXT


def test_the_same_content_released_by_another_apply_before_this_write_is_no_conflict(
        applied: ProjectCopy, platform: Platform) -> None:
    """Two applies of one commit: the other writes and releases this very content after
    this run's re-check and before its write, which then begins a new draft. The revision
    made between holds this run's content, so releasing it again undoes nothing: exit 0."""
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    resource = next(r for r in planned.plan.resources if r.key == "support-triage")
    ids = {key: platform.id_of(key) for key in KEYS}
    released = platform.released(agent_id)
    base = read_revision(platform.client, "conversational_agent", released.version_id,
                         "released")

    def same_content_released() -> None:  # the other apply's write, with its own marker
        body = write_body(resource, planned.desired["support-triage"], ids, base)
        platform.release(platform.update(agent_id, **body))

    strike_after(platform, [read_of_versions(agent_id), read_of_versions(agent_id),
                            read_of_revision(agent_id)], same_content_released)
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "applied", outcome
    assert report.exit_code() == 0
    assert platform.released(agent_id).version_id == f"{agent_id}@v2"
    assert applied.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize(("released", "compat"), [
    (True, None), (False, None), (True, "draft_after_release")],
    ids=["released", "drafted", "released-beside-a-draft-copy"])
def test_the_same_change_applied_by_another_apply_since_the_plan_is_never_left_undone(
        applied: ProjectCopy, platform: Platform, released: bool, compat: str | None) -> None:
    """Two applies of one commit: the other wrote this very change (and released it, or not
    yet) after this run's plan. The agent moved since the plan, but to exactly what this run
    would write, so it is no refusal. Released, nothing is left to do: the run converges
    (exit 0). Only drafted, the run finishes the draft: nothing tells whether the other apply
    lives to release it (killed after its write, it never will; a run that took it for done
    exited 0 with the change unreleased). Another content under the same marker stays a
    refusal (the dashboard tests). Where the platform opens a draft copy beside every
    release, the outcome names the release, not the copy."""
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    if compat is not None:
        applied.emulator.set_compat(compat)
    agent_id = platform.id_of("support-triage")
    resource = next(r for r in planned.plan.resources if r.key == "support-triage")
    ids = {key: platform.id_of(key) for key in KEYS}
    base = read_revision(platform.client, "conversational_agent",
                         platform.released(agent_id).version_id, "released")
    body = write_body(resource, planned.desired["support-triage"], ids, base)
    marker = parse_marker(body["description"])
    assert marker is not None
    body["description"] = with_marker(body["description"], dataclasses.replace(
        marker, smoke=("conv_otherRelease", "conv_otherProof")))
    written = platform.update(agent_id, **body)  # the other apply's write, its own records
    if released:
        platform.release(written)
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and report.exit_code() == 0
    if released:
        assert outcome.outcome == "converged", outcome
        assert f"another apply released this very change as {written}" in outcome.message
    else:
        assert outcome.outcome == "applied", outcome
        assert any(f"{written} holds this very change" in step for step in outcome.steps)
    assert platform.released(agent_id).version_id == written
    if compat is None:
        assert [v.version_id for v in platform.versions(agent_id)][-1] == written
    assert applied.plan("--detailed-exitcode").exit_code == 0


def test_a_rollback_in_the_dashboard_after_the_plan_is_never_undone(
        applied: ProjectCopy, platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone releases an earlier revision again (a rollback in the dashboard) while the run
    writes its change: no revision is made since the plan, yet the one the plan saw released
    is released no more. The run releases nothing; the rollback stays. (Released on this
    machine moments before, the revision reads as archived for as long as reads may trail the
    release here, shortened for the test, before that is believed.)"""
    monkeypatch.setattr(defaults, "VISIBILITY_TIMEOUT_S", 3.0)
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    assert applied.apply("--no-smoke").exit_code == 0  # v0 archived, v1 released
    applied.replace_in("support-triage.yaml", "Be friendly and short.", "Be friendly and warm.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    after_read_back(platform, agent_id, lambda _draft: platform.release(f"{agent_id}@v0"))
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "conflict", outcome
    assert f"{agent_id}@v1 is no longer the released revision" in outcome.message
    assert report.exit_code() == 5
    assert platform.released(agent_id).version_id == f"{agent_id}@v0"


def test_a_yielded_duplicate_that_could_not_be_deleted_is_removed_by_the_next_apply(
        project: Project, platform: Platform) -> None:
    """Two runs created one key; the loser's delete failed. The next plan still works: it
    keeps the agent the rule keeps and deletes the never-released one."""
    copy = project()
    assert copy.apply("--target", "call-summary").exit_code == 0
    kept = platform.id_of("call-summary")
    released = platform.released(kept)
    stray = platform.create("procedural_agents", name=released.name,
                            description=released.description, config=released.config)
    plan = copy.plan("--target", "call-summary")
    assert plan.exit_code == 0, plan.stderr
    assert f"call-summary@{stray}" in plan.stdout
    result = copy.apply("--target", "call-summary")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert platform.owners()["call-summary"] == [kept]
    assert copy.plan("--target", "call-summary", "--detailed-exitcode").exit_code == 0


def test_a_draft_changed_in_the_instant_before_the_release_is_a_conflict(
        applied: ProjectCopy, platform: Platform) -> None:
    """No compare-and-set: the change slips in after the last check, before the release. The
    release is read back, so the run says conflict instead of claiming the release."""
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")
    # After the write come two reads of the draft (v1, the agent's first since v0): the
    # read-back, then the check right before the release. The other writer strikes after
    # the second.
    draft_reads = strike_after(platform, [put, read_of_revision(agent_id, "v1"),
                                          read_of_revision(agent_id, "v1")],
                               lambda: overwrite_prompt(platform, agent_id))
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert len(draft_reads) == 3
    assert outcome is not None and outcome.outcome == "conflict", outcome
    assert report.exit_code() == 5
    assert "changed it in the instant before the release" in outcome.message
    assert platform.released(agent_id).config["runtime"]["prompt"]["text"] == OTHER_TEXT


def test_the_same_content_written_in_the_instant_before_the_release_converges(
        applied: ProjectCopy, platform: Platform) -> None:
    """Two applies of one commit: the other rewrites this run's draft with the same content
    and its own marker after this run's last check, and this run's release takes that write.
    The revision released is what both wanted, and the other apply finishes it: no
    conflict for either (two runs that each lost one agent this way both exited 5)."""
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    planned = applied.make_plan(platform.client)
    agent_id = platform.id_of("support-triage")

    def same_content_other_marker() -> None:
        draft = platform.draft(agent_id)
        assert draft is not None
        platform.update(draft.version_id, description=re.sub(
            r"smoke=[^\s\]]+", "smoke=conv_otherRelease,conv_otherProof", draft.description))

    strike_after(platform, [put, read_of_revision(agent_id, "v1"),
                            read_of_revision(agent_id, "v1")], same_content_other_marker)
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "converged", outcome
    assert "holding another apply's write of the same content" in outcome.message
    assert report.exit_code() == 0
    released = platform.released(agent_id)
    assert released.version_id == f"{agent_id}@v1"
    assert "conv_otherRelease" in released.description


def released_copy(platform: Platform, key: str) -> str:
    """What a concurrent apply's create leaves on a platform that releases what it creates:
    a released agent carrying the same marker, until that apply deletes it."""
    original = platform.client.procedural_agents.get(platform.id_of(key))
    return platform.client.procedural_agents.create(original.name, original.description,
                                                    original.config).id


def test_a_plan_waits_for_the_released_copy_a_concurrent_apply_removes(
        applied: ProjectCopy, platform: Platform) -> None:
    applied.emulator.set_compat("create_releases")
    twin = released_copy(platform, "call-summary")
    applied.emulator.clear_requests()

    def remove_once_listed() -> None:
        """The concurrent apply removes its copy right after the plan read it (not after a
        set time, which a busy machine may reach before the plan even starts)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                r.method == "GET" and r.path.startswith(f"/procedural_agents/{twin}@")
                and r.status == 200 for r in list(applied.emulator.requests)):
            time.sleep(0.01)
        platform.client.procedural_agents.delete(twin)

    remover = threading.Thread(target=remove_once_listed)
    remover.start()
    try:
        planned = applied.plan("--detailed-exitcode")
    finally:
        remover.join()
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert "Waiting for a concurrent apply to remove its copy of an agent" in planned.stderr


def test_a_released_copy_made_later_is_an_error_at_once(applied: ProjectCopy,
                                                        platform: Platform) -> None:
    applied.emulator.set_compat("create_releases")
    applied.emulator.advance_clock(120)  # made two minutes on: no concurrent apply's
    twin = released_copy(platform, "call-summary")
    planned = applied.plan()
    assert planned.exit_code == 3
    assert "several remote agents carry the marker of key 'call-summary'" in planned.stderr
    assert twin in planned.stderr and "Waiting" not in planned.stderr


# ---- smoke verdicts about a revision another writer took over ---------------------------------


def gate_that(platform: Platform, planned: PlannedRun,
              verdict: Callable[[str, str], bool]) -> SmokeGate:
    """A smoke gate whose tests pass or fail as ``verdict(stage, version_id)`` says; the
    function also plays what another writer does while the tests run."""
    return recording_gate(
        lambda _r, _a, version_id, stage, _i: SmokeVerdict(
            stage, verdict(stage, version_id), "1 passed" if verdict(stage, version_id)
            else "1 failed: the conversation went wrong"),
        platform.client, project=planned.plan.project, warn=lambda _said: None)


def smoke_plan(applied: ProjectCopy, platform: Platform) -> PlannedRun:
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    return make_plan(applied.target(), platform.client)


def test_tests_that_fail_after_another_release_of_the_agent_never_roll_it_back(
        applied: ProjectCopy, platform: Platform) -> None:
    """Another apply releases a newer revision while this run's tests of its own release
    run, and they fail (on a platform that converses only with the released revision, the
    conversation is refused). Rolling back would undo the other release, then fail that
    apply's tests in turn: it is a conflict, and the other release stays."""
    planned = smoke_plan(applied, platform)
    agent_id = platform.id_of("support-triage")
    before = platform.released(agent_id).version_id
    others: list[str] = []

    def verdict(stage: str, version_id: str) -> bool:
        if stage == "draft" or not version_id.startswith(agent_id):
            return True
        if not others:
            written = overwrite_prompt(platform, agent_id)
            platform.release(written)
            others.append(written)
        return False

    report = apply(planned, platform.client, smoke_gate=gate_that(platform, planned, verdict),
                   options=ApplyOptions())
    outcome = report.result("support-triage")
    assert others, "the other release happened while the tests ran"
    assert outcome is not None and outcome.outcome == "conflict", outcome
    assert f"another writer released {others[0]} since" in outcome.message
    assert report.exit_code() == 5
    assert platform.released(agent_id).version_id == others[0] != before
    assert platform.released(agent_id).config["runtime"]["prompt"]["text"] == OTHER_TEXT


def test_tests_that_fail_after_another_release_of_this_very_change_converge(
        applied: ProjectCopy, platform: Platform) -> None:
    """Another apply of the same commit released this very change again (its own write,
    after this run's release) while this run's tests ran, and they fail (refused: this run's
    revision is archived now). The release standing is this change, proven by that apply's
    own tests: this run converges, rolls nothing back, and the newer release stays."""
    planned = smoke_plan(applied, platform)
    agent_id = platform.id_of("support-triage")
    other = _another_applys_first_write(planned, platform)
    others: list[str] = []

    def verdict(stage: str, version_id: str) -> bool:
        if stage == "draft" or not version_id.startswith(agent_id):
            return True
        if not others:
            others.append(platform.update(agent_id, **other))
            platform.release(others[0])
        return False

    report = apply(planned, platform.client, smoke_gate=gate_that(platform, planned, verdict),
                   options=ApplyOptions())
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "converged", outcome
    assert f"another apply released this very change as {others[0]}" in outcome.message
    assert report.exit_code() == 0
    assert platform.released(agent_id).version_id == others[0]


@pytest.mark.parametrize("lists", ["prompt", "late"])
def test_tests_that_fail_on_this_runs_release_still_roll_it_back(
        applied: ProjectCopy, platform: Platform, lists: str) -> None:
    """Nobody else released: the failure is this release's, and the revision before it is
    released again, also where the versions lists still show the release before this one
    (they trail it; the revision read by id is what tells)."""
    planned = smoke_plan(applied, platform)
    agent_id = platform.id_of("support-triage")
    before = platform.released(agent_id).version_id
    if lists == "late":
        applied.emulator.advance_clock(3.5)
        applied.emulator.set_faults(versions_lag=3.0)
    report = apply(planned, platform.client, options=ApplyOptions(), smoke_gate=gate_that(
        platform, planned, lambda stage, version_id: stage == "draft"
        or not version_id.startswith(agent_id)))
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "rolled_back", outcome
    assert report.exit_code() == 4
    applied.emulator.advance_clock(3.5)
    assert platform.released(agent_id).version_id == before


def test_tests_that_fail_on_a_draft_another_writer_changed_are_a_conflict(
        applied: ProjectCopy, platform: Platform) -> None:
    """Another writer's content written into this run's draft while its tests ran: what
    the tests met was not this run's change, so their failure is a conflict, and nothing
    is released."""
    planned = smoke_plan(applied, platform)
    agent_id = platform.id_of("support-triage")
    before = platform.released(agent_id).version_id

    def verdict(stage: str, version_id: str) -> bool:
        if stage != "draft" or not version_id.startswith(agent_id):
            return True
        overwrite_prompt(platform, agent_id)
        return False

    report = apply(planned, platform.client, smoke_gate=gate_that(platform, planned, verdict),
                   options=ApplyOptions())
    outcome = report.result("support-triage")
    assert outcome is not None and outcome.outcome == "conflict", outcome
    assert "another writer changed draft" in outcome.message
    assert report.exit_code() == 5
    assert platform.released(agent_id).version_id == before


@pytest.mark.parametrize("compat", [None, "create_releases"])
def test_a_create_whose_draft_another_apply_of_it_wrote_over_is_finished_should_it_stop(
        project: Project, platform: Platform, monkeypatch: pytest.MonkeyPatch,
        compat: str | None) -> None:
    """Two applies of one commit create a key and go on with one agent (the claim rule's):
    the other's write of the same content lands over this run's before its release, and
    that run stops before releasing it. This run waits for it, then finishes the agent
    itself: released, and the plan after it is empty. Also where the create released its
    revision at once: that release, holding the change, untested, is not the other's
    release, whose draft above it is still to be released."""
    monkeypatch.setattr(defaults, "OTHER_APPLY_WAIT_S", 0.5)
    copy = project()
    if compat is not None:
        copy.emulator.set_compat(compat)
    planned = copy.make_plan(platform.client)
    check = steps.Steps._check_draft_unchanged
    landed: list[str] = []

    def the_other_writes_first(self: steps.Steps) -> Any:
        draft = platform.draft(self._agent_id())
        if self.resource.key == "support-triage" and not landed and draft is not None:
            platform.update(draft.version_id, description=re.sub(  # another run's marker
                r"commit=[^\s\]]+", "commit=fedcba987654", draft.description))
            landed.append(draft.version_id)
        return check(self)

    monkeypatch.setattr(steps.Steps, "_check_draft_unchanged", the_other_writes_first)
    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    outcome = report.result("support-triage")
    assert landed and outcome is not None and report.exit_code() == 0, outcome
    assert outcome.outcome == "applied", outcome
    assert any("this run finishes it" in step for step in outcome.steps), outcome.steps
    assert platform.released(platform.id_of("support-triage")) is not None
    assert copy.plan("--detailed-exitcode").exit_code == 0


def add_support_desk(copy: ProjectCopy) -> str:
    """A new agent declared in ``copy``: support-triage's copy under another key and name
    (the same text, so the forms the platform stores it in are those of support-triage's
    revisions); its key."""
    text = (copy.root / "agents" / "support-triage.yaml").read_text(encoding="utf-8")
    (copy.root / "agents" / "support-desk.yaml").write_text(
        re.sub(r"^name: .*$", "name: Support desk", text, count=1, flags=re.MULTILINE),
        encoding="utf-8")
    return "support-desk"


@pytest.mark.parametrize("forms", ["noted", "unknown"])
def test_a_create_released_at_once_before_its_writer_recorded_its_forms_is_finished(
        project: Project, platform: Platform, monkeypatch: pytest.MonkeyPatch,
        forms: str) -> None:
    """A platform that releases what it creates and stores text in a form of its own: the
    other apply of a new agent created it (released at once, holding the change only
    through forms other agents' markers record, not its own, or through forms nobody has
    seen yet) and stopped before writing the draft that records them above it. That
    release is not the other's finished work: this run waits for it, then finishes it from
    there, as after its own create; the plan after it is empty (before, the run converged at
    once and the plan proposed an update)."""
    monkeypatch.setattr(defaults, "OTHER_APPLY_WAIT_S", 0.5)
    copy = project()
    copy.emulator.set_compat("create_releases", "escaped_html")
    key = "lead-qualification"  # refers to no other agent; holds text such a platform escapes
    if forms == "noted":  # the project applied, and the new agent a copy of one of it
        assert copy.apply().exit_code == 0
        key = add_support_desk(copy)
    planned = copy.make_plan(platform.client)
    resource = next(r for r in planned.plan.resources if r.key == key)
    assert resource.action == "create", resource
    body = write_body(resource, planned.desired[key], planned.plan.known_ids, None)
    body["description"] = re.sub(r"commit=[^\s\]]+", "commit=fedcba987654",
                                 body["description"])
    agents = getattr(platform.client, f"{resource.kind}s")
    made = agents.create(**body)  # the other apply's create, and then it stops
    assert platform.released(made.id).version_id == f"{made.id}@v0"

    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))

    outcome = report.result(key)
    assert outcome is not None and report.exit_code() == 0, outcome
    assert outcome.outcome == "applied", outcome
    assert any("this run finishes it" in step for step in outcome.steps), outcome.steps
    assert platform.owners()[key] == [made.id]
    assert copy.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("compat", [None, "create_ignores_postprocess"])
def test_a_create_another_apply_made_before_this_run_began_is_finished_with_its_records(
        project: Project, platform: Platform, monkeypatch: pytest.MonkeyPatch,
        compat: str | None) -> None:
    """The other apply of a new agent created it after this run's plan and before this run
    began (so this run never sends a create of its own), and stopped before releasing it.
    This run waits, then finishes the draft in its own name: its smoke records named in the
    draft before the release, so the verdict is kept where promote finds it (before, the
    release went out without records: exit 7, "could not be recorded"), and the plan after
    it is empty. Also where the create did not keep the agents run after a conversation
    (a platform that takes them with a PUT only) and the other stopped before its PUT: the
    draft, its marker this change's, is the other's to finish (before, it was taken for
    another writer's and left: exit 0, and the plan proposed an update)."""
    from operator_iac.services.apply import gate_for

    monkeypatch.setattr(defaults, "OTHER_APPLY_WAIT_S", 0.5)
    # As if the tests' limits were a second (the wait for them is tested on its own).
    monkeypatch.setattr(other_apply, "stage_limit_s", lambda *_: 1.0)
    copy = project()
    if compat is not None:
        copy.emulator.set_compat(compat)
    assert copy.apply().exit_code == 0
    key = add_support_desk(copy)
    target = copy.target()
    planned = make_plan(target, platform.client, smoke=True)
    resource = next(r for r in planned.plan.resources if r.key == key)
    assert resource.action == "create" and resource.smoke, resource
    body = write_body(resource, planned.desired[key], planned.plan.known_ids, None)
    body["description"] = re.sub(r"commit=[^\s\]]+", "commit=fedcba987654",
                                 body["description"])
    made = platform.client.conversational_agents.create(**body)  # the other's, then it stops

    report = apply(planned, platform.client,
                   smoke_gate=gate_for(target, platform.client, planned.desired))

    outcome = report.result(key)
    assert outcome is not None and report.exit_code() == 0, (outcome, report.exit_code())
    assert outcome.outcome == "applied", outcome
    assert any("this run finishes it" in step for step in outcome.steps), outcome.steps
    assert platform.owners()[key] == [made.id]
    assert copy.plan("--detailed-exitcode").exit_code == 0


def test_an_apply_that_meets_another_apply_s_create_it_stopped_after_finishes_it(
        project: Project, platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the command line, with smoke tests: another apply of a new agent created it
    (on a platform that takes `postprocess_agents` with a `PUT` only, and stopped before its
    `PUT`) just before this `apply`, whose plan does not see it yet (the agents list shows new
    agents late). This run creates the agent too, yields to the earlier create and finishes
    that agent itself (nothing tells whether the other lives): the fields its create did not
    keep written with a `PUT`, tested, released; exit 0, one agent for the key, and nothing
    left to plan. (Met only at the check before the release, the same agent is waited for
    first: the in-process tests above.)"""
    monkeypatch.setattr(defaults, "OTHER_APPLY_WAIT_S", 0.5)
    monkeypatch.setattr(other_apply, "stage_limit_s", lambda *_: 1.0)
    copy = project()
    copy.emulator.set_compat("create_ignores_postprocess")
    assert copy.apply().exit_code == 0
    key = add_support_desk(copy)
    planned = copy.make_plan(platform.client)
    resource = next(r for r in planned.plan.resources if r.key == key)
    body = write_body(resource, planned.desired[key], planned.plan.known_ids, None)
    body["description"] = re.sub(r"commit=[^\s\]]+", "commit=fedcba987654",
                                 body["description"])
    copy.emulator.set_faults(list_lag=2.0)
    made = platform.client.conversational_agents.create(**body)  # the other's, then it stops

    result = copy.run("apply", "--yes")

    said = result.stdout + result.stderr
    assert result.exit_code == 0, said
    assert f"this run finishes {made.id}@v0" in said, said
    assert "smoke tests passed on released" in said, said
    copy.emulator.set_faults(list_lag=0.0)
    assert platform.owners()[key] == [made.id]
    assert platform.released(made.id).postprocess_agents
    assert copy.plan("--detailed-exitcode").exit_code == 0
