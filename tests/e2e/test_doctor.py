"""``operator-iac doctor`` against the emulator: it passes in every compatibility mode, names
each variation it can see (from the registry: reads and its conversation; writes with
``--write-check``), never writes an agent unless asked, leaves nothing behind, and fails
(exit 1) when something operator-iac relies on does not hold."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.emulator.faults import COMPAT_MODES
from operator_iac.emulator.procedures import SLOW_POSTPROCESSING_S
from operator_iac.emulator.server import EmulatorServer
from operator_iac.emulator.variations import BY_KEY, MODE_VARIATION, VARIATIONS
from operator_iac.services.doctor import run_doctor
from operator_iac.smoke.record import record_of
from operator_iac.state.platform_report import DoctorReport

from .conftest import Cli, Platform, ProjectCopy

# compatibility mode -> the variation doctor reports it under, read-only or with writes
SEEN = {mode: key for mode, key in MODE_VARIATION.items()
        if mode in COMPAT_MODES and BY_KEY[key].observed in ("read", "conversation")}
WRITTEN = {mode: key for mode, key in MODE_VARIATION.items()
           if mode in COMPAT_MODES and BY_KEY[key].observed == "write"}
# Modes doctor says it could not look at (a tool call, a rate limit, a second agent ...).
UNSEEN = {mode: key for mode, key in MODE_VARIATION.items()
          if mode in COMPAT_MODES and BY_KEY[key].observed == "never"}


def test_every_mode_is_accounted_for() -> None:
    assert set(SEEN) | set(WRITTEN) | set(UNSEEN) == set(COMPAT_MODES)


@pytest.fixture
def platform_with_a_draft(applied: ProjectCopy, platform: Platform) -> Iterator[Platform]:
    """The example project applied, and a draft on one agent (so that doctor can learn
    whether drafts can be conversed with)."""
    triage = platform.id_of("support-triage")
    platform.update(triage, description="A draft nobody released.")
    yield platform


def doctor(platform: Platform, *, write_check: bool = False) -> DoctorReport:
    return run_doctor(platform.client, wait_s=1.0, write_check=write_check)


def behaviour(report: DoctorReport, key: str) -> tuple[str | None, bool | None]:
    found = next(b for b in report.behaviours if b.key == key)
    return found.seen, found.usual


def left_behind(platform: Platform) -> list[str]:
    """Conversations on the platform other than the smoke records of the releases (each
    read by id: a list item may be a summary, without the override that holds a record)."""
    return [c.id for c in platform.client.conversations.list()
            if record_of(platform.client.conversations.get(c.id)) is None]


def agent_writes(platform: Platform) -> list[tuple[str, str]]:
    return [(m, p) for m, p in platform.writes() if "_agents" in p]


def test_the_emulators_own_choices_are_all_usual(platform_with_a_draft: Platform) -> None:
    platform = platform_with_a_draft
    writes = len(agent_writes(platform))
    report = doctor(platform)
    assert report.ok and report.exit_code() == 0, report.checks
    assert [c.status for c in report.checks] == ["ok"] * len(report.checks)
    assert report.alternatives() == []
    assert [b.key for b in report.behaviours] == [v.key for v in VARIATIONS]
    for key in SEEN.values():
        seen, usual = behaviour(report, key)
        assert seen is not None and usual is True, (key, seen)
    for key in {*WRITTEN.values(), *UNSEEN.values()}:
        assert behaviour(report, key)[1] is None, key  # not decided without a write
    assert len(agent_writes(platform)) == writes  # read-only on agents
    assert left_behind(platform) == []  # its conversation is gone


# Modes that hide another's point from doctor: without post-processing there is no output,
# nor a time it took to start.
MASKED_BY = {"output_as_string": "no_testmode_postprocessing",
             "slow_postprocessing": "no_testmode_postprocessing"}
# A mode that also plays another point's alternative: a platform that leaves false values out
# leaves out a `has_tool_calls: false`, which doctor rightly reports as an absent flag.
ALSO_SHOWS = {"omit_empty": "has_tool_calls"}


def batches() -> list[tuple[str, ...]]:
    """Every mode, in two platforms that take at most one alternative per point and do not
    hide from doctor what another mode changed."""
    first = [v.modes[0] for v in VARIATIONS if v.modes]
    return [tuple(m for m in first if m not in MASKED_BY),
            tuple([m for v in VARIATIONS for m in v.modes[1:]] + list(MASKED_BY))]


def test_the_batches_hold_every_mode_once() -> None:
    together = [mode for batch in batches() for mode in batch]
    assert sorted(together) == sorted(COMPAT_MODES)
    for batch in batches():
        points = [MODE_VARIATION[mode] for mode in batch]
        assert len(points) == len(set(points))
        assert not any(MASKED_BY.get(mode) in batch for mode in batch)


@pytest.mark.parametrize("modes", batches(), ids=["first alternatives", "the others"])
def test_doctor_passes_and_names_exactly_what_it_can_see(
        platform_with_a_draft: Platform, applied: ProjectCopy, modes: tuple[str, ...]) -> None:
    platform = platform_with_a_draft
    platform.emulator.set_compat(*modes)
    writes = len(agent_writes(platform))
    agents = {s.id for s in platform.client.conversational_agents.list()}
    # Long enough for a platform that post-processes a few seconds after the end.
    wait_s = SLOW_POSTPROCESSING_S + 1.0 if "slow_postprocessing" in modes else 1.0
    report = run_doctor(platform.client, wait_s=wait_s)
    assert report.ok, [c for c in report.checks if c.status != "ok"]
    assert len(agent_writes(platform)) == writes  # read-only on agents
    shown = {ALSO_SHOWS[m] for m in modes if m in ALSO_SHOWS}
    assert {b.key for b in report.alternatives()} == \
        {SEEN[m] for m in modes if m in SEEN} | shown

    result = applied.run("doctor", "--format", "json", "--wait", f"{wait_s:g}",
                         "--write-check")
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["api_url"] == platform.emulator.url
    named = {b["key"] for b in data["behaviours"] if b["alternative"]}
    assert {WRITTEN[m] for m in modes if m in WRITTEN} <= named
    assert named <= {SEEN.get(m) or WRITTEN.get(m) for m in modes} | shown
    assert platform.emulator.api_key not in result.stdout + result.stderr
    assert left_behind(platform) == []
    assert {s.id for s in platform.client.conversational_agents.list()} == agents


def test_the_write_check_measures_lags_and_leaves_nothing(
        platform_with_a_draft: Platform) -> None:
    platform = platform_with_a_draft
    before = {s.id for s in platform.client.conversational_agents.list()}
    usual = doctor(platform, write_check=True)
    assert usual.ok and usual.alternatives() == [], usual.alternatives()
    for key in WRITTEN.values():
        assert behaviour(usual, key)[1] is True, key
    platform.emulator.set_faults(list_lag=0.6, versions_lag=0.6, read_lag=0.3)
    lagging = doctor(platform, write_check=True)
    assert lagging.ok, [c for c in lagging.checks if c.status != "ok"]
    assert [b.key for b in lagging.alternatives()] == ["list_consistency",
                                                       "versions_consistency",
                                                       "read_consistency"]
    # Measured, so bounded from below only: nothing shows a write sooner than it lags, and a
    # busy machine may read it a poll later.
    assert _seconds(behaviour(lagging, "versions_consistency")[0]) >= 0.6
    assert _seconds(behaviour(lagging, "read_consistency")[0]) >= 0.3
    platform.emulator.set_faults(list_lag=0.0, read_lag=0.0)
    assert {s.id for s in platform.client.conversational_agents.list()} == before
    assert left_behind(platform) == []


def _seconds(said: str) -> float:
    """The seconds in a measured behaviour (``after 0.7s``)."""
    found = re.match(r"after (\d+(?:\.\d+)?)s", said)
    assert found is not None, said
    return float(found.group(1))


def test_a_write_check_whose_create_was_answered_with_a_fault_leaves_nothing(
        platform_with_a_draft: Platform, applied: ProjectCopy) -> None:
    """The create happened, its answer was lost, and the agents list shows it late: the
    temporary agent is looked for until it shows, then deleted."""
    platform = platform_with_a_draft
    before = {s.id for s in platform.client.conversational_agents.list()}
    platform.emulator.set_faults(list_lag=0.6)
    platform.emulator.lose_next_response("POST", r"^/conversational_agents$")
    result = applied.run("doctor", "--format", "json", "--wait", "1", "--write-check")
    assert result.exit_code == 1, result.stdout + result.stderr
    checks = {c["name"]: c["status"] for c in json.loads(result.stdout)["checks"]}
    assert checks["write check"] == "failed" and checks["temporary agent deleted"] == "ok"
    platform.emulator.set_faults(list_lag=0.0)
    assert {s.id for s in platform.client.conversational_agents.list()} == before


def test_text_report_names_the_differences(platform_with_a_draft: Platform,
                                           applied: ProjectCopy) -> None:
    platform_with_a_draft.emulator.set_compat("no_greeting", "ws_stays_open")
    result = applied.run("doctor", "--wait", "1")
    assert result.exit_code == 0, result.stderr
    assert "differs from the bundled emulator on: greeting, ws_close." in result.stdout
    assert "Everything operator-iac relies on holds." in result.stdout


def test_the_write_check_needs_a_named_platform(applied: ProjectCopy, cli: Cli) -> None:
    result = cli("--project-file", str(applied.project_file), "doctor", "--write-check")
    assert result.exit_code == 3 and "name it with --env" in result.stderr


@pytest.mark.parametrize("compat", [(), ("omit_empty",)], ids=["emulator", "zero_values_left_out"])
def test_an_empty_platform_checks_what_it_can(emulator_factory: Callable[..., EmulatorServer],
                                              compat: tuple[str, ...]) -> None:
    # an empty list page may leave out its empty list and its null cursor: still a list
    emulator = emulator_factory()
    emulator.set_compat(*compat)
    with OperatorClient(emulator.url, emulator.api_key) as client:
        report = run_doctor(client, wait_s=1.0)
    assert report.ok
    statuses = {c.name: c.status for c in report.checks}
    assert statuses["auth"] == "ok" and statuses["conversation create"] == "skipped"


def test_a_refused_key_fails(emulator: EmulatorServer, cli: Cli, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no project: the URL and OPERATOR_API_KEY are enough
    monkeypatch.setenv("OPERATOR_API_KEY", "op_test_not_the_key")
    result = cli("--api-url", emulator.url, "doctor", "--format", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert data["checks"][0]["name"] == "auth" and data["checks"][0]["status"] == "failed"


def test_a_platform_that_never_answers_on_the_session_fails(
        platform_with_a_draft: Platform) -> None:
    platform_with_a_draft.emulator.set_brain(silent=True)
    report = doctor(platform_with_a_draft)
    assert not report.ok and report.exit_code() == 1
    failed = [c for c in report.checks if c.status == "failed"]
    assert [c.name for c in failed] == ["chat session"]
    assert left_behind(platform_with_a_draft) == []


def test_an_agent_deleted_since_the_list_was_read_fails_no_read(
        platform_with_a_draft: Platform) -> None:
    """A list that trails a deletion (someone in the dashboard, or another run's temporary
    agent) names an agent whose versions are gone by the time they are read: not a fault of
    the platform's reads, so the check samples the others and passes."""
    platform = platform_with_a_draft
    agents = platform.client.conversational_agents
    gone = next(iter(agents.list())).id
    platform.emulator.advance_clock(60.0)  # the agents are a minute old
    platform.emulator.set_faults(list_lag=30.0)
    agents.delete(gone)
    assert gone in {a.id for a in agents.list()}  # still listed
    report = doctor(platform)
    read = next(c for c in report.checks if c.name == "versions and revisions")
    assert read.status == "ok", read
    platform.emulator.set_faults(list_lag=0.0)
