"""A saved plan is a contract: ``apply plan.json`` writes nothing unless deriving the plan again
from the declarations and the platform gives the same plan, for every agent it lists (also
those it leaves alone), on the platform and project it was made for. ``apply --yes`` checks
every agent it changes before its first write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from operator_iac.apply.report import ApplyOptions
from operator_iac.plan.hashing import canonical_json
from operator_iac.plan.marker import Marker, with_marker
from operator_iac.services.apply import apply

from .conftest import Platform, ProjectCopy, Result

Project = Callable[..., ProjectCopy]
ApplyAfterRelease = Callable[[Path, str], Result]
DASHBOARD_PROMPT = "Edited in the dashboard: be very brief."


def dashboard_release(platform: Platform, key: str) -> str:
    """A dashboard user writes a new revision of ``key`` and releases it; its id."""
    agent_id = platform.id_of(key)
    released = platform.released(agent_id)
    config = {**released.config, "runtime": {**released.config["runtime"],
                                             "prompt": {"type": "fixed",
                                                        "text": DASHBOARD_PROMPT}}}
    version = platform.update(agent_id, config=config)
    platform.release(version)
    return version


@pytest.fixture
def apply_after_dashboard_release(applied: ProjectCopy,
                                  platform: Platform) -> ApplyAfterRelease:
    """Release a dashboard edit of a key, then apply the saved plan: the apply is refused
    (exit 5) on that key, writes nothing, and the dashboard's revision stays released."""

    def run(out: Path, key: str) -> Result:
        edited = dashboard_release(platform, key)
        writes = len(platform.writes())
        result = applied.run("apply", str(out), "--no-smoke")
        assert result.exit_code == 5, result.stdout + result.stderr
        assert f"{key}: CONFLICT" in result.stdout
        assert len(platform.writes()) == writes
        assert platform.released(platform.id_of(key)).version_id == edited
        return result

    return run


def two_updates_saved(copy: ProjectCopy) -> Path:
    copy.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    copy.replace_in("prompts/call-summary.md", "Fill in the output fields", "Fill in the fields")
    out = copy.root / "plan.json"
    result = copy.plan("--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "2 to update" in result.stdout
    return out


def rewrite_plan(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit a saved plan by hand and recompute its checksum, as someone tampering would."""
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    data.pop("checksum")
    data["checksum"] = "sha256:" + hashlib.sha256(canonical_json(data).encode()).hexdigest()
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def test_a_stale_saved_plan_writes_nothing_at_all(
        applied: ProjectCopy, apply_after_dashboard_release: ApplyAfterRelease) -> None:
    out = two_updates_saved(applied)

    result = apply_after_dashboard_release(out, "support-triage")
    assert "0 applied, 2 not applied" in result.stdout
    assert "support-triage: CONFLICT (update)" in result.stdout
    assert "call-summary: skipped (update) - nothing was written" in result.stdout


def test_a_dashboard_release_on_an_agent_the_plan_leaves_alone_makes_it_stale(
        applied: ProjectCopy, platform: Platform,
        apply_after_dashboard_release: ApplyAfterRelease) -> None:
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    out = applied.root / "plan.json"
    assert "1 to update" in applied.plan("--out", str(out)).stdout

    result = apply_after_dashboard_release(out, "appointment-booking")
    assert "appointment-booking: CONFLICT (no-op)" in result.stdout
    assert "its list of revisions changed since the plan was made" in result.stdout
    booking = platform.released(platform.id_of("appointment-booking"))
    assert booking.config["runtime"]["prompt"]["text"] == DASHBOARD_PROMPT


def test_a_saved_plan_that_still_holds_is_applied(
        applied: ProjectCopy, platform: Platform) -> None:
    out = two_updates_saved(applied)
    result = applied.run("apply", str(out), "--no-smoke")
    assert result.exit_code == 0, result.stdout
    assert "2 applied" in result.stdout
    assert applied.plan("--detailed-exitcode").exit_code == 0


def test_a_plan_for_another_platform_is_refused_naming_both(
        project: Project, emulator_factory: Callable[..., Any], platform: Platform) -> None:
    copy = project()
    out = copy.root / "plan.json"
    assert copy.plan("--out", str(out)).exit_code == 0
    other = emulator_factory(api_key=copy.emulator.api_key)
    result = copy.cli("--project-file", str(copy.project_file), "--api-url", other.url,
                      "--env", "staging", "apply", str(out), "--no-smoke")
    assert result.exit_code == 5
    assert copy.emulator.url in result.stderr and other.url in result.stderr
    assert not [r for r in other.requests if r.method in ("POST", "PUT", "DELETE")]
    assert platform.agent_ids() == []


def test_a_plan_for_another_project_is_refused_naming_both(
        project: Project, platform: Platform) -> None:
    copy = project()
    out = copy.root / "plan.json"
    assert copy.plan("--out", str(out)).exit_code == 0
    text = copy.project_file.read_text(encoding="utf-8")
    copy.project_file.write_text(text.replace("project: acme-support", "project: acme-other"),
                                 encoding="utf-8")
    result = copy.run("apply", str(out), "--no-smoke")
    assert result.exit_code == 5
    assert "'acme-support'" in result.stderr and "'acme-other'" in result.stderr
    assert platform.agent_ids() == []


def test_a_hand_edited_plan_with_a_recomputed_checksum_is_refused(
        applied: ProjectCopy, platform: Platform) -> None:
    """An update turned into a delete: the checksum matches, but the declarations and the
    platform do not give that plan."""
    out = two_updates_saved(applied)

    def into_delete(data: dict[str, Any]) -> None:
        resource = next(r for r in data["resources"] if r["key"] == "support-triage")
        resource["action"] = "delete"  # everything else left as it was, so it all adds up

    rewrite_plan(out, into_delete)
    writes = len(platform.writes())
    result = applied.run("apply", str(out), "--no-smoke")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "the saved plan says delete, but the declarations and the platform now give " \
           "update" in result.stdout
    assert len(platform.writes()) == writes
    assert platform.id_of("support-triage") in platform.agent_ids()


def test_a_hand_edited_remote_revision_is_refused(
        applied: ProjectCopy, platform: Platform) -> None:
    out = two_updates_saved(applied)

    def older_revision(data: dict[str, Any]) -> None:
        resource = next(r for r in data["resources"] if r["key"] == "call-summary")
        resource["remote"]["released_fingerprint"] = "0" * 16

    rewrite_plan(out, older_revision)
    writes = len(platform.writes())
    result = applied.run("apply", str(out), "--no-smoke")
    assert result.exit_code == 5
    assert "call-summary: CONFLICT (update)" in result.stdout
    assert len(platform.writes()) == writes


def test_apply_checks_every_agent_it_changes_before_its_first_write(
        applied: ProjectCopy, platform: Platform) -> None:
    """Without a saved plan: an agent edited between the plan and the writes stops the
    whole apply before anything is written, not only that agent's own steps."""
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    applied.replace_in("prompts/call-summary.md", "Fill in the output fields",
                       "Fill in the fields")
    planned = applied.make_plan(platform.client)
    dashboard_release(platform, "support-triage")
    writes = len(platform.writes())

    report = apply(planned, platform.client, options=ApplyOptions(smoke=False))
    assert report.exit_code() == 5
    outcomes = {r.key: r.outcome for r in report.results}
    assert outcomes["support-triage"] == "conflict"
    assert outcomes["call-summary"] == "skipped"
    assert len(platform.writes()) == writes


def test_an_empty_saved_plan_is_still_a_contract(
        applied: ProjectCopy, apply_after_dashboard_release: ApplyAfterRelease) -> None:
    """A plan with no changes promises that nothing moved: a dashboard release since then
    is a conflict (exit 5), as it is for a plan with changes; while it holds, it is a no-op."""
    out = applied.root / "plan.json"
    saved = applied.plan("--out", str(out))
    assert saved.exit_code == 0, saved.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["unchanged"] == 4
    held = applied.run("apply", str(out), "--no-smoke")
    assert held.exit_code == 0, held.stdout + held.stderr
    assert "No changes" in held.stderr + held.stdout

    result = apply_after_dashboard_release(out, "appointment-booking")
    assert "appointment-booking: CONFLICT (no-op)" in result.stdout
    assert "its list of revisions changed since the plan was made" in result.stdout
    assert "Apply finished with problems: 0 applied, 1 not applied." in result.stdout


def test_a_tampered_desired_body_is_refused_before_any_write(
        applied: ProjectCopy, platform: Platform) -> None:
    """What apply would write is part of the contract: a desired name edited by hand (the
    checksum recomputed as docs/plan-format.md describes) writes nothing at all."""
    out = two_updates_saved(applied)
    released = {key: platform.released(platform.id_of(key)).version_id
                for key in ("support-triage", "call-summary")}

    def renamed(data: dict[str, Any]) -> None:
        resource = next(r for r in data["resources"] if r["key"] == "support-triage")
        resource["desired"]["name"] = "Tampered"

    rewrite_plan(out, renamed)
    writes = len(platform.writes())
    result = applied.run("apply", str(out), "--no-smoke")

    assert result.exit_code == 5, result.stdout + result.stderr
    assert "support-triage: CONFLICT (update)" in result.stdout
    assert "what apply would write" in result.stdout
    assert "call-summary: skipped (update) - nothing was written" in result.stdout
    assert len(platform.writes()) == writes
    for key, version_id in released.items():
        agent_id = platform.id_of(key)
        assert platform.released(agent_id).version_id == version_id
        assert platform.draft(agent_id) is None
    assert "Tampered" not in {platform.released(platform.id_of(k)).name for k in released}


def test_an_agent_added_on_the_platform_since_an_empty_plan_is_a_conflict(
        applied: ProjectCopy, platform: Platform) -> None:
    """A pruning plan that deletes nothing: an agent of the project that appears under an
    undeclared key since then is not in the saved plan, and the refusal says so."""
    out = applied.root / "plan.json"
    assert applied.plan("--prune", "--out", str(out)).exit_code == 0
    marker = platform.released(platform.id_of("call-summary")).description.rsplit("[", 1)[1]
    stray = platform.create("procedural_agents", name="Old summary", description="x\n\n[" +
                            marker.replace("key=call-summary", "key=old-summary"),
                            config=platform.released(platform.id_of("call-summary")).config)
    writes = len(platform.writes())

    result = applied.run("apply", str(out), "--no-smoke")

    assert result.exit_code == 5, result.stdout + result.stderr
    assert "'old-summary': it is not in the saved plan" in result.stdout
    assert len(platform.writes()) == writes
    assert stray in platform.agent_ids()


def test_a_pruning_plan_of_no_agents_is_refused_when_the_platform_adds_one(
        project: Project, platform: Platform) -> None:
    """A saved plan that lists no agent has none to show a conflict on: an agent of the
    project that appears on the platform since then refuses the whole command (exit 5), and
    nothing is written."""
    copy = project()
    text = copy.project_file.read_text(encoding="utf-8")
    copy.project_file.write_text(text.split("    overrides:")[0], encoding="utf-8")
    for path in copy.agents_dir.glob("*.yaml"):
        path.unlink()
    out = copy.root / "plan.json"
    saved = copy.plan("--prune", "--out", str(out))
    assert saved.exit_code == 0, saved.stdout + saved.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["resources"] == []
    marker = Marker("acme-support", "old-summary", "0" * 16,
                    environment="staging")
    stray = platform.create("procedural_agents", name="Old summary",
                            description=with_marker("x", marker), config={})
    writes = len(platform.writes())

    result = copy.run("apply", str(out), "--no-smoke")

    assert result.exit_code == 5, result.stdout + result.stderr
    assert "'old-summary': it is not in the saved plan" in result.stderr
    assert "make a new plan" in result.stderr
    assert len(platform.writes()) == writes
    assert platform.agent_ids() == [stray]
