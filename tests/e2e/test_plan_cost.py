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


def test_prune_reads_every_agent(crowded: ProjectCopy) -> None:
    crowded.plan("--prune")
    assert reads(crowded)["versions"] == len(KEYS) + OTHERS


# ---- the cache never changes a result ---------------------------------------------------


def _entries(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


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
