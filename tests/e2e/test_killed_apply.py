"""An apply killed with SIGKILL at any point, then ``apply`` again: no failing revision stays
released, the exit code says what happened, and ``plan`` shows nothing left to do.

The killed run is a process of the installed entry point, with smoke tests, killed as soon as
its progress on stderr reaches the step under test. A release whose smoke tests had not passed
when the run died shows as ``verify`` in ``plan`` and ``status``; the next apply runs them and
rolls back on failure, also finishing a rollback the killed run had begun. A ``smoke`` run
killed half-way keeps the releases it proved before it died.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from operator_iac.emulator.rules import RuleSet
from operator_iac.plan.marker import parse_marker
from operator_iac.settings import CACHE_DIR_VARIABLE
from operator_iac.smoke.evidence import last_smoke_result

from .conftest import KEYS, PROJECT_NAME, Platform, ProjectCopy

Project = Callable[..., ProjectCopy]
KEY = "support-triage"
LATENCY_MS = 30  # room between a progress line and the next step
SETTLE_S = 5 * LATENCY_MS / 1000
# The emulator's agent stops greeting with its persona: the smoke tests fail from then on.
WRONG_GREETING = RuleSet(greeting="Hello, how can I help?")


def kill_apply_at(copy: ProjectCopy, step: str, *, on_line: Callable[[str], None] | None = None,
                  extra: tuple[str, ...] = (), key: str = KEY) -> list[str]:
    """Run ``apply --yes`` with smoke tests and SIGKILL it when a progress line of ``key``
    contains ``step``; the progress lines seen until then."""
    return kill_at(copy, step, ("apply", "--yes", *extra), on_line=on_line, key=key)


def kill_at(copy: ProjectCopy, step: str, args: tuple[str, ...], *,
            on_line: Callable[[str], None] | None = None, key: str = KEY) -> list[str]:
    """Run the command ``args`` and SIGKILL it when a progress line of ``key`` contains
    ``step``; the progress lines seen until then."""
    command = copy.command(*args)
    seen: list[str] = []
    with subprocess.Popen(command, cwd=copy.root, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True) as process:
        assert process.stderr is not None
        for line in process.stderr:
            seen.append(line.rstrip("\n"))
            if on_line is not None:
                on_line(line)
            if line.startswith(f"{key}: ") and step in line:
                process.send_signal(signal.SIGKILL)
                break
        else:
            pytest.fail(f"{args[0]} ended before {step!r}: {seen}")
        assert process.wait(timeout=60) == -signal.SIGKILL
    # A request the killed run had sent is still carried out by the platform (behind the
    # emulator's injected latency): let it land before looking.
    time.sleep(SETTLE_S)
    return seen


@pytest.fixture
def smoked(project: Project, platform: Platform) -> ProjectCopy:
    """The example project applied once with its smoke tests, then support-triage changed."""
    copy = project()
    first = copy.run("apply", "--yes")
    assert first.exit_code == 0, first.stdout + first.stderr
    copy.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    copy.emulator.set_faults(latency_ms=LATENCY_MS)
    return copy


def released_prompt(platform: Platform) -> str:
    text: str = platform.released(platform.id_of(KEY)).config["runtime"]["prompt"]["text"]
    return text


@pytest.mark.parametrize("step", ["wrote draft", "smoke testing draft",
                                  "smoke tests passed on draft"])
def test_killed_before_the_release_the_next_apply_releases_a_tested_draft(
        smoked: ProjectCopy, platform: Platform, step: str) -> None:
    kill_apply_at(smoked, step)
    assert "Be friendly and short." not in released_prompt(platform)
    smoked.emulator.reset_faults()
    result = smoked.run("apply", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "smoke tests passed on draft" in result.stderr
    assert "Be friendly and short." in released_prompt(platform)
    assert smoked.plan("--detailed-exitcode").exit_code == 0


def test_a_release_met_as_another_apply_s_is_proven_when_that_apply_died_before_proving_it(
        smoked: ProjectCopy, platform: Platform, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run dies between its release and the proof of it; the next apply, on another
    machine, planned on reads from before that release (lists trail), meets the release as
    another apply's release of the very same change. That apply may be gone: nothing left
    to do must include its proof, so this run proves the release too, and the plan after it
    is empty (not "1 to verify")."""
    from operator_iac.services.apply import apply, gate_for
    from operator_iac.services.plan import make_plan

    kill_apply_at(smoked, "smoke tests passed on draft")
    smoked.emulator.reset_faults()
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "another-machine"))
    target = smoked.target()
    planned = make_plan(target, platform.client, smoke=True)
    resource = next(r for r in planned.plan.resources if r.key == KEY)
    assert resource.action == "release" and resource.remote is not None, resource
    draft = resource.remote.draft_version_id
    assert draft is not None and "released" in resource.smoke, resource
    platform.client.conversational_agents.release(draft)  # the dead run's release

    report = apply(planned, platform.client,
                   smoke_gate=gate_for(target, platform.client, planned.desired))

    outcome = report.result(KEY)
    assert outcome is not None and outcome.outcome == "converged", outcome
    assert any("proving it here too" in step for step in outcome.steps), outcome
    after = smoked.plan("--detailed-exitcode")
    assert after.exit_code == 0, after.stdout + after.stderr


@pytest.mark.parametrize("compat", [(), ("released_only_conversations",)],
                         ids=["emulator", "released_only_conversations"])
@pytest.mark.parametrize("step", ["released ", "smoke testing released"])
def test_killed_after_the_release_the_next_apply_proves_it(
        smoked: ProjectCopy, platform: Platform, step: str, compat: tuple[str, ...]) -> None:
    """Also where conversations with an unreleased revision are refused: the pending record
    is then written right after the release, before the run says it released (and smoke
    tests can only run on released revisions there)."""
    if compat:
        smoked.emulator.set_compat(*compat)
        text = smoked.project_file.read_text(encoding="utf-8")
        smoked.project_file.write_text(text.replace("on: [draft, released]", "on: [released]"),
                                       encoding="utf-8")
    kill_apply_at(smoked, step)
    smoked.emulator.reset_faults()
    assert "Be friendly and short." in released_prompt(platform)
    plan = smoked.plan("--detailed-exitcode")
    assert plan.exit_code == 2
    assert "1 to verify" in plan.stdout and f"? {KEY}" in plan.stdout
    status = smoked.run("status")
    assert status.exit_code == 2 and "smoke tests never passed" in status.stdout

    result = smoked.run("apply", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"{KEY}: done (verify)" in result.stdout
    assert "smoke tests passed on released" in result.stdout
    assert smoked.plan("--detailed-exitcode").exit_code == 0
    assert smoked.run("status").exit_code == 0


def fail_released_smoke(copy: ProjectCopy) -> Callable[[str], None]:
    """Switch the emulator's agent to the wrong greeting once the draft passed its tests, so
    the released revision fails them."""

    def on_line(line: str) -> None:
        if line.startswith(f"{KEY}: smoke tests passed on draft"):
            copy.emulator.set_brain(rules=WRONG_GREETING)

    return on_line


@pytest.mark.parametrize("step", ["smoke testing released", "rolling back"])
def test_killed_while_a_failing_release_is_tested_or_rolled_back_the_next_apply_rolls_back(
        smoked: ProjectCopy, platform: Platform, step: str) -> None:
    before = platform.released(platform.id_of(KEY)).version_id
    kill_apply_at(smoked, step, on_line=fail_released_smoke(smoked))
    smoked.emulator.reset_faults()
    unfinished = platform.released(platform.id_of(KEY)).version_id != before
    if unfinished:  # the rollback's own release may have reached the platform before the kill
        assert "1 to verify" in smoked.plan().stdout

    result = smoked.run("apply", "--yes")
    assert result.exit_code == 4, result.stdout + result.stderr
    if unfinished:
        assert f"{KEY}: ROLLED BACK (verify)" in result.stdout
    assert platform.released(platform.id_of(KEY)).version_id == before
    assert "Be friendly and short." not in released_prompt(platform)
    # The declaration still wants the failing content: a new draft, tested, not released.
    again = smoked.run("apply", "--yes")
    assert again.exit_code == 4
    assert platform.released(platform.id_of(KEY)).version_id == before


def test_killed_between_a_waves_creates_and_their_settling_the_next_apply_converges(
        project: Project, platform: Platform) -> None:
    """A wave's creates are all sent before any is settled: a run killed in between leaves
    new agents that were never settled nor read back. The next apply takes them as its own,
    one agent per key, and leaves nothing to do."""
    copy = project()
    copy.emulator.set_faults(latency_ms=LATENCY_MS)
    seen = kill_apply_at(copy, "created ", key="appointment-booking")
    assert not any(line.startswith(("appointment-booking: released", f"{KEY}: released"))
                   for line in seen), seen  # the conversational wave was not settled yet
    copy.emulator.reset_faults()
    result = copy.run("apply", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert all(len(platform.owners().get(key, [])) == 1 for key in KEYS), platform.owners()
    assert copy.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize(("step", "machine", "compat"), [
    ("created ", "same", None), ("released ", "same", None), ("created ", "another", None),
    ("created ", "another", "unique_names")],
    ids=["created", "released", "created-then-another-machine",
         "created-then-another-machine-unique-names"])
def test_killed_after_its_creates_on_a_lagging_list_the_next_apply_creates_nothing_twice(
        project: Project, platform: Platform, step: str, machine: str, compat: str | None,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The agents list shows new agents seconds late, and the run that created them dies
    before it waited for that (SIGKILL): the next apply, started at once, does not see them
    in the list. On the same machine, its writes journal names them, and nothing is created
    a second time. On another machine (a CI runner of its own, no journal), it creates them
    again; once the list shows them, its own yield to the dead run's, created first, and it
    finishes those: one agent per key, each released, and nothing left to do (it took them
    for another apply's, which would release them, and left them unreleased). Where names
    are unique, its creates are refused instead, and it finishes the agents that took the
    names."""
    copy = project()
    if compat is not None:
        copy.emulator.set_compat(compat)
    copy.emulator.set_faults(latency_ms=LATENCY_MS, list_lag=2.0)
    kill_apply_at(copy, step, key="appointment-booking")
    if machine == "another":
        monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "another-machine"))

    result = copy.run("apply", "--yes")

    assert result.exit_code == 0, result.stdout + result.stderr
    copy.emulator.advance_clock(3.0)
    assert all(len(platform.owners().get(key, [])) == 1 for key in KEYS), platform.owners()
    again = copy.plan("--detailed-exitcode")
    assert again.exit_code == 0, result.stdout + result.stderr + again.stdout


def test_killed_after_a_create_is_released_the_next_apply_proves_it(
        project: Project, platform: Platform) -> None:
    copy = project()
    copy.emulator.set_faults(latency_ms=LATENCY_MS)
    kill_apply_at(copy, "released ")
    copy.emulator.reset_faults()
    result = copy.run("apply", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"{KEY}: done (verify)" in result.stdout
    assert copy.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("machine", ["same", "another"])
def test_killed_after_a_first_release_kept_records_on_a_lagging_list_the_next_apply_proves_it(
        project: Project, platform: Platform, machine: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform that converses only with released revisions, whose lists trail the writes:
    a project's first releases keep their smoke records right after the release, found by
    listing the time after it (the draft's marker says they follow, ``smoke=after``). The
    run dies before proving the release; the next apply, started at once on the same machine
    (its journal) or on another (the marker), must find the release pending though the
    listing does not show its records yet, and prove it: nothing left to do after it."""
    copy = project()
    text = copy.project_file.read_text(encoding="utf-8")
    copy.project_file.write_text(text.replace("on: [draft, released]", "on: [released]"),
                                 encoding="utf-8")
    copy.emulator.set_faults(compat=["released_only_conversations"], latency_ms=LATENCY_MS,
                             list_lag=2.0)
    _killed_after_a_release_whose_records_follow(copy, platform, machine, tmp_path,
                                                 monkeypatch)
    found = last_smoke_result(platform.client, project=PROJECT_NAME, key=KEY,
                              agent_id=platform.id_of(KEY))
    assert found is not None and found.passed


@pytest.mark.parametrize("machine", ["same", "another", "another-platform-clock-behind"])
def test_killed_after_a_release_whose_records_follow_it_the_next_apply_proves_it(
        project: Project, platform: Platform, machine: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform that keeps descriptions too short to name the smoke records beside them,
    whose lists trail the writes: the records follow the release (``smoke=after`` in the
    marker), found by listing the time after it. The run dies before proving the release;
    the next apply, started at once on the same machine or on another (no journal there: the
    marker says the records follow, so a listing that shows none yet is read again), must
    find the release pending and prove it: nothing left to do after it. How long the listing
    may still hide them is judged on the platform's clock, which may be minutes behind the
    machine's."""
    copy = project()
    if machine.endswith("clock-behind"):
        copy.emulator.advance_clock(-600.0)
    copy.replace_in("support-triage.yaml", "routes the rest.",
                    "routes the rest to the right team within one business day.")
    copy.emulator.set_faults(compat=["short_descriptions", "dated_models", "escaped_markdown"],
                             latency_ms=LATENCY_MS, list_lag=2.0)
    _killed_after_a_release_whose_records_follow(copy, platform, machine, tmp_path,
                                                 monkeypatch)


def _killed_after_a_release_whose_records_follow(
        copy: ProjectCopy, platform: Platform, machine: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An apply killed once it tests its release, whose marker says the records follow it;
    the next apply, on the same machine or on ``another``, proves the release, and the plan
    after it is empty."""
    kill_apply_at(copy, "smoke testing released")
    marker = parse_marker(platform.client.conversational_agents.get(
        platform.id_of(KEY)).description)
    assert marker is not None and marker.records_follow and marker.smoke is None
    if machine.startswith("another"):
        monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "another-machine"))

    result = copy.run("apply", "--yes")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"{KEY}: done (verify)" in result.stdout, result.stdout + result.stderr
    again = copy.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr


def test_apply_without_smoke_tests_leaves_an_unproven_release_unproven(
        smoked: ProjectCopy, platform: Platform) -> None:
    kill_apply_at(smoked, "released ")
    smoked.emulator.reset_faults()
    result = smoked.run("apply", "--yes", "--no-smoke")
    assert result.exit_code == 0
    assert "No changes" in result.stderr
    assert "1 to verify" in smoked.plan().stdout


def test_a_smoke_run_killed_half_way_keeps_the_releases_it_proved(
        project: Project, platform: Platform) -> None:
    """Releases made without their tests (``--no-smoke``) are proven by ``smoke``, each as
    soon as its own tests passed: one agent at a time, killed once the first is proven, the
    first stays proven and the second is still pending."""
    copy = project()
    assert copy.apply().exit_code == 0
    first, second = "appointment-booking", KEY
    copy.emulator.set_faults(latency_ms=LATENCY_MS)
    kill_at(copy, "is proven", ("smoke", "--parallelism", "1"), key=first)
    copy.emulator.reset_faults()

    def proven(key: str) -> bool:
        found = last_smoke_result(platform.client, project=PROJECT_NAME, key=key,
                                  agent_id=platform.id_of(key))
        assert found is not None, key
        return found.passed

    assert proven(first) and not proven(second)
    assert copy.run("smoke").exit_code == 0
    assert proven(second)


@pytest.mark.parametrize(("machine", "read_lag"), [("same", 0.5), ("another", 0.0)],
                         ids=["same-machine-reads-trailing", "another-machine"])
def test_killed_between_an_updates_write_and_its_read_back_the_next_apply_finishes_it(
        project: Project, machine: str, read_lag: float, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On a platform that stores text in its own form, a run killed right after writing an
    update's draft (before the read-back that learns the stored forms) leaves a draft whose
    marker cannot yet account for its content. On the same machine (reads trailing too), the
    journal says this machine's run wrote it; on another, the draft says so itself: marked
    for the content declared now, never changed after it was made, and no other revision
    carries that marker for a person to have copied. Either way the next apply finishes it
    rather than refusing it as someone else's draft."""
    copy = project()
    copy.emulator.set_compat("escaped_html")
    copy.emulator.set_faults(read_lag=read_lag)
    first = copy.run("apply", "--yes", "--no-smoke")
    assert first.exit_code == 0, first.stdout + first.stderr
    copy.replace_in(f"{KEY}.yaml", "Be friendly", "Be cheerful")
    kill_apply_at(copy, "wrote draft ")
    if machine == "another":
        monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "another-machine"))
    result = copy.run("apply", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert copy.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("machine", ["same", "another"])
def test_killed_after_a_create_whose_marker_the_platform_cut_the_next_apply_finishes_it(
        project: Project, platform: Platform, machine: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform that keeps descriptions short, met for the first time: a create's marker
    is cut off (the limit is learnt from its read-back, and the marker fitted by the next
    write). A run killed in between leaves an agent without a whole marker; the next apply
    takes it for that key's and finishes it, rather than asking to adopt it as someone
    else's: on the same machine its journal names the create, on another the marker's
    beginning still names project, key, content and environment."""
    copy = project()
    # Long enough that the whole marker is cut off, short enough that its identity is not.
    copy.replace_in(f"{KEY}.yaml", "routes the rest.", "routes the rest to the team that "
                    "owns it, with the order number.")
    copy.emulator.set_faults(compat=["short_descriptions"], latency_ms=LATENCY_MS)
    kill_apply_at(copy, "created ", extra=("--no-smoke",))
    created = next(s for s in platform.client.conversational_agents.list()
                   if s.name == "Support triage")
    assert parse_marker(platform.client.conversational_agents.get(created.id).description) \
        is None  # the marker cut off
    if machine == "another":
        monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "another-machine"))

    result = copy.run("apply", "--yes", "--no-smoke")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert platform.owners().get(KEY) == [created.id]
    assert copy.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("compat", [("escaped_html",), ("trim_text",),
                                    ("escaped_html", "long_descriptions_refused")])
def test_killed_after_writing_into_a_draft_the_platform_opened_the_next_apply_finishes_it(
        project: Project, compat: tuple[str, ...], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform that opens a draft beside each release and stores values in its own form:
    a run killed right after writing an update into that draft (made before the write, so
    its times cannot say the write was its last change) leaves a draft whose marker cannot
    yet account for its content. The marker says when the write was made, by the platform's
    clock; the draft's last change at that moment is the write, so the next apply, on
    another machine, finishes it rather than refusing it as someone else's draft. Where the
    platform keeps descriptions too short for the whole marker, the time is kept over what
    only sharpens a report (the commit)."""
    copy = project()
    copy.emulator.set_compat(*compat, "draft_after_release")
    first = copy.run("apply", "--yes", "--no-smoke")
    assert first.exit_code == 0, first.stdout + first.stderr
    copy.replace_in(f"{KEY}.yaml", "Be friendly", "Be 'cheerful' & <brief> *[now]*")
    kill_apply_at(copy, "wrote draft ")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "another-machine"))
    result = copy.run("apply", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert copy.plan("--detailed-exitcode").exit_code == 0


def test_killed_before_a_draft_records_its_stored_form_the_release_records_it(
        project: Project, platform: Platform, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed between an update's first write and the write recording how the
    platform stored it leaves a draft whose marker records no form. The next apply, on
    another machine (no journal), plans to release it: it equals the declaration through
    the form recorded by another agent of the project with the same text. Released as it
    was, it would read as changed outside operator-iac once that agent is gone: the run
    writes it again before releasing it, so that its own marker records the form, and the
    plan after that agent is pruned is empty."""
    copy = project()
    copy.emulator.set_compat("escaped_html")
    text = copy.agent_file(KEY).read_text(encoding="utf-8").replace("Be friendly", "Be cheerful")
    copy.agent_file("support-copy").write_text(
        re.sub(r"^name: .*$", "name: Support copy", text, count=1, flags=re.MULTILINE),
        encoding="utf-8")
    first = copy.run("apply", "--yes", "--no-smoke")
    assert first.exit_code == 0, first.stdout + first.stderr
    copy.replace_in(f"{KEY}.yaml", "Be friendly", "Be cheerful")
    copy.emulator.set_faults(latency_ms=LATENCY_MS)
    kill_apply_at(copy, "wrote draft ")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "another-machine"))
    result = copy.run("apply", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    marker = platform.marker(platform.id_of(KEY))
    assert marker is not None and marker.stored, marker
    copy.remove_agent("support-copy")
    pruned = copy.run("apply", "--yes", "--prune", "--allow-delete")
    assert pruned.exit_code == 0, pruned.stdout + pruned.stderr
    after = copy.plan("--prune", "--detailed-exitcode")
    assert after.exit_code == 0, result.stderr + after.stdout


def test_killed_after_writing_a_released_creates_draft_the_next_apply_finishes_it(
        project: Project, platform: Platform, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform that releases what it creates and stores text in its own form: a run
    writes the change again into a new draft (its create was released before it could
    record the forms) and is killed before that draft records them. The draft carries the
    same marker as the release, which a dashboard copy would too, so nothing vouches for
    it; but writing over it loses nothing (it holds what the release holds, and what the
    declaration adds), so the next apply, on another machine, writes it and releases it
    instead of refusing it as someone's draft."""
    copy = project()
    copy.emulator.set_compat("create_releases", "escaped_html", "create_ignores_postprocess")
    copy.emulator.set_faults(latency_ms=LATENCY_MS)
    kill_apply_at(copy, "the create did not keep")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "another-machine"))
    result = copy.run("apply", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert all(len(platform.owners().get(key, [])) == 1 for key in KEYS), platform.owners()
    after = copy.plan("--detailed-exitcode")
    assert after.exit_code == 0, result.stderr + after.stdout


def test_killed_before_its_read_back_the_next_apply_planned_on_older_reads_finishes_it(
        project: Project, platform: Platform, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same killed update, and the next apply on another machine planned on reads from
    before that write showed (reads trail it): its checks before writing find the agent
    moved to a draft marked for this change that does not read as it (forms nobody
    recorded). By the plan's own rule, it is that run's write cut short, not an edit: the
    run writes over it and releases it, instead of a conflict."""
    from operator_iac.apply.report import ApplyOptions
    from operator_iac.services.apply import apply

    copy = project()
    copy.emulator.set_compat("escaped_html")
    first = copy.run("apply", "--yes", "--no-smoke")
    assert first.exit_code == 0, first.stdout + first.stderr
    copy.replace_in(f"{KEY}.yaml", "Be friendly", "Be cheerful")
    copy.emulator.advance_clock(100.0)  # the first apply long past
    kill_apply_at(copy, "wrote draft ", extra=("--no-smoke",))
    # Reads trail by 2 s from now on: the next plan does not see the write yet.
    copy.emulator.set_faults(read_lag=2.0, versions_lag=2.0)
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "another-machine"))
    planned = copy.make_plan(platform.client)
    resource = next(r for r in planned.plan.resources if r.key == KEY)
    assert resource.remote is not None and resource.remote.draft_version_id is None
    copy.emulator.set_faults(read_lag=0.0, versions_lag=0.0)  # and now they show it

    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))

    outcome = report.result(KEY)
    assert outcome is not None and outcome.outcome == "applied", outcome
    assert any("left it before reading it back" in step for step in outcome.steps), outcome
    assert copy.plan("--detailed-exitcode").exit_code == 0


def test_a_draft_another_run_created_is_released_recording_its_own_stored_forms(
        project: Project, platform: Platform, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Another machine's apply created an agent a moment ago and left its draft (stored forms
    recorded in its marker); a run the agents list does not show it to yet creates its own,
    yields to it (created first, the same content) and finishes its draft, and its write
    naming its smoke records sends its own body, without that record. What it releases must
    record its own forms again, or the release reads as changed outside operator-iac."""
    from operator_iac.services.apply import apply

    copy = project()
    copy.emulator.set_compat("escaped_html")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "this-machine"))
    first = copy.run("apply", "--yes", "--no-smoke")
    assert first.exit_code == 0, first.stdout + first.stderr
    platform.client.conversational_agents.delete(platform.id_of(KEY))  # in the dashboard
    planned = copy.make_plan(platform.client)  # the key to create
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "another-machine"))
    left = copy.run("apply", "--yes", "--no-release", "--no-smoke")
    assert left.exit_code == 0, left.stdout + left.stderr
    copy.emulator.set_faults(list_lag=5.0)  # its agent is not listed yet, even on a busy machine
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "this-machine"))

    report = apply(planned, platform.client)

    outcome = report.result(KEY)
    assert outcome is not None and outcome.outcome == "applied", outcome
    assert any("this run finishes" in step for step in outcome.steps), outcome
    after = copy.plan("--detailed-exitcode")
    assert after.exit_code == 0, after.stdout + after.stderr
