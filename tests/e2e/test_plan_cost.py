"""Plan cost follows the project, not the account: against an account holding many agents of
other teams, ``plan`` reads in depth only this project's agents, reads the others (their
versions lists) only when a decision needs them, and a warm revision cache leaves one request
per unchanged agent. A cache that is corrupt, unwritable or of another platform never changes
a result, and never holds a secret in clear."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from operator_iac.settings import CACHE_DIR_VARIABLE, NO_CACHE_VARIABLE

from .conftest import KEYS, Platform, ProjectCopy

Project = Callable[..., ProjectCopy]
OTHERS = 30
_LIST = re.compile(r"^/(conversational|procedural)_agents$")
_VERSIONS = re.compile(r"^/(conversational|procedural)_agents/[^/]+/versions$")
_REVISION = re.compile(r"^/(conversational|procedural)_agents/[^/]+@v\d+$")


def reads(copy: ProjectCopy) -> dict[str, int]:
    """GET requests for agents since the log was cleared, by kind (smoke records, read from
    the conversations, are not counted); the log is cleared again."""
    gets = [r.path for r in copy.emulator.requests if r.method == "GET"
            and r.path.startswith(("/conversational_agents", "/procedural_agents"))]
    copy.emulator.clear_requests()
    return {"pages": sum(1 for p in gets if _LIST.match(p)),
            "versions": sum(1 for p in gets if _VERSIONS.match(p)),
            "revisions": sum(1 for p in gets if _REVISION.match(p)),
            "all": len(gets)}


@pytest.fixture
def crowded(applied: ProjectCopy, platform: Platform) -> ProjectCopy:
    """The example project applied in an account that also holds other teams' agents."""
    for n in range(OTHERS):
        platform.create("procedural_agents", name=f"Other team {n}", description=f"Theirs {n}.",
                        config={"filter_statuses": ["completed"]})
    applied.emulator.clear_requests()
    return applied


def test_an_unchanged_plan_reads_only_the_projects_agents_then_hits_the_cache(
        crowded: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = crowded.plan("--detailed-exitcode")
    assert cold.exit_code == 0, cold.stdout + cold.stderr
    first = reads(crowded)
    assert first["versions"] == len(KEYS)  # none of the other team's agents
    assert first["revisions"] == len(KEYS)  # each released revision, once
    assert first["all"] == first["pages"] + 2 * len(KEYS)
    warm = crowded.plan("--detailed-exitcode")
    assert warm.stdout == cold.stdout
    second = reads(crowded)
    assert (second["versions"], second["revisions"]) == (len(KEYS), 0)
    assert crowded.plan("--no-cache").stdout == cold.stdout
    assert reads(crowded)["revisions"] == len(KEYS)
    monkeypatch.setenv(NO_CACHE_VARIABLE, "1")
    assert crowded.plan().stdout == cold.stdout
    assert reads(crowded)["revisions"] == len(KEYS)


def test_a_create_reads_the_other_agents_versions_but_not_their_contents(
        crowded: ProjectCopy) -> None:
    summary = crowded.agent_file("call-summary").read_text()
    (crowded.agents_dir / "visit-summary.yaml").write_text(
        summary.replace("name: Call summary", "name: Visit summary"))
    planned = crowded.plan()
    assert planned.stdout.startswith("Plan: 1 to create, 0 to update"), planned.stdout
    assert f"Reading the other {OTHERS} agents too: no agent carries the marker of " \
           "visit-summary yet" in planned.stderr
    counted = reads(crowded)
    assert counted["versions"] == len(KEYS) + OTHERS
    assert counted["revisions"] <= len(KEYS)


def test_an_agent_whose_newest_revision_hides_the_marker_is_found_not_duplicated(
        crowded: ProjectCopy, platform: Platform) -> None:
    agent_id = platform.id_of("support-triage")
    version = platform.update(agent_id, name="Renamed in the dashboard",
                              description="Edited in the dashboard.")
    platform.release(version)
    planned = crowded.plan()
    assert planned.exit_code == 0, planned.stderr
    assert planned.stdout.startswith("Plan: 0 to create, 1 to update"), planned.stdout
    assert "changed outside operator-iac" in planned.stdout
    assert crowded.apply().exit_code == 0
    assert platform.owners()["support-triage"] == [agent_id]


def test_a_list_without_descriptions_reads_every_versions_list_and_plans_the_same(
        crowded: ProjectCopy) -> None:
    expected = crowded.plan().stdout
    reads(crowded)
    crowded.emulator.set_compat("list_without_description")
    planned = crowded.plan("--detailed-exitcode")
    assert planned.exit_code == 0 and planned.stdout == expected
    assert reads(crowded)["versions"] == len(KEYS) + OTHERS


def test_an_apply_on_a_list_without_descriptions_reads_each_other_agent_once(
        applied: ProjectCopy, platform: Platform) -> None:
    """The concurrent-create rule reads an undescribed agent's versions list once per run
    (``apply.claims``): the run's later listings, one per wave before and after its creates,
    read only agents created or written since, never the run's own new ones."""
    others = {platform.create("procedural_agents", name=f"Other team {n}",
                              description=f"Theirs {n}.",
                              config={"filter_statuses": ["completed"]})
              for n in range(OTHERS)}
    summary = applied.agent_file("call-summary").read_text()
    for n in range(6):
        (applied.agents_dir / f"summary-{n}.yaml").write_text(
            summary.replace("name: Call summary", f"name: Summary {n}"))
    applied.emulator.set_compat("list_without_description")
    applied.emulator.clear_requests()
    assert applied.apply().exit_code == 0
    versions = [r.path.split("/")[2] for r in applied.emulator.requests
                if r.method == "GET" and _VERSIONS.match(r.path)]
    # the plan reads each one once to find the markers, the run's claims once more
    assert {agent_id: versions.count(agent_id) for agent_id in others} == \
        {agent_id: 2 for agent_id in others}
    created = set(versions) - others - set(platform.owners().get("support-triage", []))
    assert all(versions.count(agent_id) <= 3 for agent_id in created), versions


def test_prune_reads_every_agent(crowded: ProjectCopy) -> None:
    crowded.plan("--prune")
    assert reads(crowded)["versions"] == len(KEYS) + OTHERS


# ---- the cache never changes a result ---------------------------------------------------


def _entries(root: Path) -> list[Path]:
    """The revision cache's entries (the folder also holds the writes journal)."""
    return sorted(p for p in (root / "revisions").rglob("*") if p.is_file())


def test_a_corrupt_cache_changes_nothing(crowded: ProjectCopy) -> None:
    expected = crowded.plan("--no-cache").stdout
    crowded.plan()
    entries = _entries(Path(os.environ[CACHE_DIR_VARIABLE]))
    assert len(entries) == len(KEYS)
    damage = [b"", b"OIC1", b"OIC1" + b"\0" * 40, os.urandom(200)]
    for n, entry in enumerate(entries):
        raw = entry.read_bytes()
        entry.write_bytes(damage[n % len(damage)] if n < len(damage) else raw[:-1] + b"x")
    reads(crowded)
    assert crowded.plan().stdout == expected
    assert reads(crowded)["revisions"] == len(KEYS)
    assert crowded.plan().stdout == expected  # rewritten, then read from the cache
    assert reads(crowded)["revisions"] == 0


@pytest.mark.parametrize("where", ["a file", "inside a file"])
def test_an_unwritable_cache_changes_nothing(crowded: ProjectCopy, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             where: str) -> None:
    expected = crowded.plan("--no-cache").stdout
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(blocker if where == "a file" else
                                              blocker / "cache"))
    for _ in range(2):
        result = crowded.plan("--detailed-exitcode")
        assert (result.exit_code, result.stdout) == (0, expected)
    assert blocker.read_text() == "not a folder"


def test_the_cache_holds_no_secret_in_clear(crowded: ProjectCopy,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "canary-7c1d-in-the-cache"
    monkeypatch.setenv("LEADS_TOKEN", secret)
    crowded.declare_secrets("LEADS_TOKEN")
    crowded.replace_in("lead-qualification.yaml", "post_url: ${var:leads_webhook}",
                       "post_url: ${var:leads_webhook}?token=${env:LEADS_TOKEN}")
    assert crowded.apply().exit_code == 0
    assert crowded.plan("--detailed-exitcode").exit_code == 0
    assert crowded.plan("--detailed-exitcode").exit_code == 0
    entries = _entries(Path(os.environ[CACHE_DIR_VARIABLE]))
    assert entries
    for entry in entries:
        raw = entry.read_bytes()
        assert secret.encode() not in raw and b"leads_webhook" not in raw
        assert b"lead-qualification" not in raw and b"post_url" not in raw


def test_a_dashboard_edit_after_a_cached_read_is_still_seen(crowded: ProjectCopy,
                                                            platform: Platform) -> None:
    assert crowded.run("status").exit_code == 0
    released = platform.released(platform.id_of("appointment-booking"))
    config = dict(released.config)
    config["runtime"] = {**config["runtime"], "model": "openai/gpt-4.1"}
    crowded.emulator.edit_revision(released.version_id, config=config)
    result = crowded.run("status")
    assert result.exit_code == 2, result.stdout
    assert "no longer matches the content hash in its marker" in result.stdout


# ---- the account's traffic costs nothing ------------------------------------------------

COPIES = 16  # with the example's four agents: a 20-agent project, 18 of them with smoke tests
_CONVERSATION = re.compile(r"^/conversations/[^/]+$")


def fleet(copy: ProjectCopy) -> None:
    """The example project grown to 20 agents (copies of support-triage with one smoke test
    each), smoke-tested on the released revision only, to stay quick."""
    text = copy.agent_file("support-triage").read_text(encoding="utf-8")
    one_test = text.split("  - name: looks up an order")[0]
    for n in range(COPIES):
        copy.agent_file(f"desk-{n}").write_text(
            one_test.replace("name: Support triage", f"name: Support desk {n}"),
            encoding="utf-8")
    project_file = copy.project_file.read_text(encoding="utf-8")
    copy.project_file.write_text(project_file.replace("on: [draft, released]", "on: [released]"),
                                 encoding="utf-8")


def counted(copy: ProjectCopy, command: str) -> list[tuple[str, str]]:
    """The requests of one command that finds nothing to do, run cold (no revision cache)."""
    copy.emulator.clear_requests()
    result = copy.run(command, "--no-cache")
    assert result.exit_code == 0 and "verify" not in result.stdout, result.stdout + result.stderr
    return [(r.method, r.path) for r in copy.emulator.requests]


def test_plan_and_status_cost_the_same_in_an_account_with_2000_past_conversations(
        project: Project) -> None:
    copy = project()
    fleet(copy)
    applied = copy.run("apply", "--yes")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    quiet = {command: counted(copy, command) for command in ("plan", "status")}
    # a day of production traffic on other agents, after the release
    copy.emulator.advance_clock(24 * 3600)
    copy.emulator.seed_conversations(2_000, span_s=24 * 3600)
    for command, before in quiet.items():
        after = counted(copy, command)
        assert len(after) == len(before), command
        assert ("GET", "/conversations") not in after  # nothing is searched for
        # one read per released revision with smoke tests: its proof record, by id
        reads = [path for method, path in after if method == "GET" and _CONVERSATION.match(path)]
        assert len(reads) == COPIES + 2, command


def test_an_apply_of_many_creates_lists_the_agents_a_few_times_not_once_per_create(
        project: Project) -> None:
    """Every create of a wave is sent before any is settled (``apply.claims``): one listing,
    begun after the last create, settles them all, and one more before their releases, where
    a create settled on its own would list the account once per create or so."""
    copy = project()
    summary = copy.agent_file("call-summary").read_text()
    new = 24
    for n in range(new):
        (copy.agents_dir / f"summary-{n}.yaml").write_text(
            summary.replace("name: Call summary", f"name: Summary {n}"))
    copy.emulator.set_faults(latency_ms=20)  # creates and listings overlap, as on a platform
    copy.emulator.clear_requests()
    assert copy.apply().exit_code == 0
    listings = [r for r in copy.emulator.requests
                if r.method == "GET" and r.path == "/procedural_agents"]
    created = [r for r in copy.emulator.requests
               if r.method == "POST" and r.path == "/procedural_agents"]
    assert len(created) == new + 2  # and the example's two
    pages = 2  # 26 procedural agents, 20 to a page
    # the plan's, one for the wave's creates, one before their releases, and the check that
    # the lists show the run's writes: four listings, and one to spare (a listing per create
    # or two, as before, is about twenty pages)
    assert len(listings) <= 5 * pages, len(listings)
