"""Fleets end to end: agent files in subfolders, driven through the real CLI against the
emulator."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from .conftest import KEYS, Platform, ProjectCopy

if TYPE_CHECKING:
    pass
from .test_unreadable_inputs import BREAKAGES, MESSAGES

Project = Callable[..., ProjectCopy]


def _move(copy: ProjectCopy, relative: str, folder: str) -> None:
    source = copy.agents_dir / relative
    (copy.agents_dir / folder).mkdir(parents=True, exist_ok=True)
    shutil.move(source, copy.agents_dir / folder / source.name)


def test_a_subfolder_layout_applies_and_moving_files_changes_nothing(
        project: Project, platform: Platform) -> None:
    copy = project()
    _move(copy, "lead-qualification.yaml", "analysis")
    _move(copy, "support-triage.yaml", "support/web")
    applied = copy.apply()
    assert applied.exit_code == 0, applied.stderr
    assert sorted(platform.owners()) == sorted(KEYS)
    writes = len(platform.writes())
    _move(copy, "analysis/lead-qualification.yaml", "sales")
    _move(copy, "support/web/support-triage.yaml", "")
    planned = copy.plan("--detailed-exitcode")
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout
    assert len(platform.writes()) == writes


def test_the_same_key_in_two_folders_stops_plan_with_exit_3(project: Project) -> None:
    copy = project()
    (copy.agents_dir / "eu").mkdir()
    shutil.copy(copy.agent_file("support-triage"), copy.agents_dir / "eu" / "support-triage.yaml")
    result = copy.plan()
    assert result.exit_code == 3
    assert "duplicate agent key 'support-triage'" in result.stderr
    assert "agents/eu/support-triage.yaml" in result.stderr
    assert "agents/support-triage.yaml" in result.stderr


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_an_unreadable_agent_file_in_a_subfolder_is_an_error(project: Project,
                                                             breakage: str) -> None:
    copy = project()
    (copy.agents_dir / "support").mkdir()
    BREAKAGES[breakage](copy.agents_dir / "support" / "broken.yaml")
    validate = copy.run("validate")
    assert validate.exit_code == 3
    assert f"agents/support/broken.yaml:1:1: {MESSAGES[breakage]}" in validate.stdout


# ---- the template fleet example (examples/fleet): 65 clinics from one template ------------

CLINICS = [f"clinic-{n:03}" for n in range(1, 66)]


@pytest.fixture
def fleet(example: Callable[[str], ProjectCopy]) -> ProjectCopy:
    """examples/fleet copied into tmp_path and pointed at the emulator."""
    return example("fleet")


def test_the_fleet_validates_plans_applies_with_smoke_and_converges(
        fleet: ProjectCopy, platform: Platform) -> None:
    validated = fleet.run("validate")
    assert validated.exit_code == 0, validated.stdout
    assert "66 agents valid" in validated.stdout
    planned = fleet.plan()
    assert planned.exit_code == 0, planned.stderr
    assert planned.stdout.startswith("Plan: 66 to create, 0 to update")
    assert "65 of these changes come from one template, clinics/receptionists.yaml " \
           "(65 to create)." in planned.stdout
    applied = fleet.run("apply", "--yes")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert applied.stdout.count("smoke tests passed on released") == 65
    owners = platform.owners_of("brightsmile-clinics")
    assert sorted(owners) == sorted([*CLINICS, "visit-summary"])
    assert all(len(ids) == 1 for ids in owners.values())
    north = platform.released(owners["clinic-046"][0])
    assert north.name == "Brightsmile Oxford receptionist"
    assert "Brightsmile Oxford, a Brightsmile dental clinic in Oxford" in \
        north.config["runtime"]["prompt"]["text"]
    again = fleet.plan("--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.stdout


def test_a_template_edit_plans_as_an_update_of_every_instance(
        fleet: ProjectCopy, platform: Platform) -> None:
    assert fleet.apply().exit_code == 0
    policies = fleet.root / "agents" / "prompts" / "fragments" / "policies.md"
    policies.write_text(policies.read_text() + "Parking is free for patients.\n")
    planned = fleet.plan("--detailed-exitcode")
    assert planned.exit_code == 2, planned.stderr
    assert planned.stdout.startswith(
        "Plan: 0 to create, 65 to update, 0 to release, 0 to adopt, 0 to delete, 1 unchanged.")
    assert "65 of these changes come from one template, clinics/receptionists.yaml " \
           "(65 to update)." in planned.stdout
    assert planned.stdout.count("+Parking is free for patients.") == 65  # the effective prompt
    markdown = fleet.plan("--format", "markdown")
    assert "(65 to update)" in markdown.stdout
    assert fleet.apply().exit_code == 0
    assert "No changes." in fleet.plan().stdout


def test_moving_an_agent_into_the_template_keeps_its_identity(
        fleet: ProjectCopy, platform: Platform) -> None:
    template = fleet.root / "agents" / "clinics" / "receptionists.yaml"
    lines = template.read_text().splitlines(keepends=True)
    last = lines.pop()  # clinic-065 becomes a file of its own, then moves back
    template.write_text("".join(lines))
    single = fleet.root / "agents" / "clinics" / "clinic-065.yaml"
    single.write_text("extends: ../bases/receptionist.yaml\n"
                      "name: Brightsmile Windsor receptionist\n")
    (fleet.root / "operator-iac.yaml").write_text(
        (fleet.root / "operator-iac.yaml").read_text().replace(
            'vars: {booking_line: "+15550100"}',
            'vars: {booking_line: "+15550100", clinic: Brightsmile Windsor, city: Windsor}'))
    assert fleet.apply().exit_code == 0
    before = platform.owners_of("brightsmile-clinics")["clinic-065"]
    single.unlink()
    template.write_text("".join(lines) + last)
    planned = fleet.plan("--detailed-exitcode")
    assert planned.exit_code == 0, planned.stdout
    assert platform.owners_of("brightsmile-clinics")["clinic-065"] == before
