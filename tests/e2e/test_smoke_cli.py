"""``operator-iac smoke`` and apply's smoke gate, end to end on the example projects: the
example agents pass against the emulator (with and without the rules file), the failing
example fails for its stated reason with its transcript, a failed draft stays unreleased,
and a failure after release rolls back."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from operator_iac.emulator.rules import load_rules

from .conftest import REPO, Cli, Platform, ProjectCopy

FAILING_EXAMPLE = REPO / "examples" / "failing-smoke"
RULES_FILE = REPO / "examples" / "emulator-rules.yaml"
FAILING_REASON = ('turn 1: tool_called issue_refund with order_number equals "AC-100200": '
                  'expected a call to issue_refund with order_number equals "AC-100200"; '
                  "saw no tool calls")
EXAMPLE_TESTS = 4


@pytest.fixture
def failing_example(example: Callable[[str], ProjectCopy]) -> ProjectCopy:
    """A copy of examples/failing-smoke pointed at the emulator."""
    return example("failing-smoke")


def test_the_example_agents_pass(applied: ProjectCopy) -> None:
    result = applied.run("smoke")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"Smoke tests: {EXAMPLE_TESTS} passed")
    assert "appointment-booking: greets and checks availability: passed" in result.stderr


def test_a_junit_file_that_cannot_be_written_is_a_usage_error(applied: ProjectCopy,
                                                               tmp_path: Path) -> None:
    junit = tmp_path / "missing-folder" / "smoke.xml"
    result = applied.run("smoke", "--junit", str(junit))
    assert result.exit_code == 3
    assert f"{junit}: cannot write the JUnit report" in result.stderr
    assert "internal error" not in result.stderr


def test_json_and_junit_reports(applied: ProjectCopy, tmp_path: Path) -> None:
    junit = tmp_path / "smoke.xml"
    result = applied.run("smoke", "--format", "json", "--junit", str(junit),
                         "--parallelism", "2")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["passed"] is True and data["summary"]["passed"] == EXAMPLE_TESTS
    assert {t["agent"] for t in data["tests"]} == {"appointment-booking", "support-triage"}
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == (
        str(EXAMPLE_TESTS), "0", "0")
    assert sorted(s.get("name", "") for s in root.iter("testsuite")) == [
        "appointment-booking", "support-triage"]


def test_chosen_agents_and_revisions(applied: ProjectCopy, platform: Platform) -> None:
    result = applied.run("smoke", "appointment-booking", "call-summary", "--version", "v0")
    assert result.exit_code == 0
    assert "Smoke tests: 2 passed" in result.stdout
    assert f"{platform.id_of('appointment-booking')}@v0" in result.stdout
    assert "SKIP    call-summary: call-summary has no smoke tests" in result.stdout


def test_nothing_to_test_is_a_platform_problem(applied: ProjectCopy,
                                               project: Callable[..., ProjectCopy]) -> None:
    no_draft = applied.run("smoke", "--version", "draft")
    assert no_draft.exit_code == 1
    assert "NOT RUN appointment-booking: appointment-booking (ca_" in no_draft.stdout
    assert "has no draft" in no_draft.stdout
    unknown = applied.run("smoke", "appointment-boking")
    assert unknown.exit_code == 3
    assert "no agent 'appointment-boking' is declared; did you mean" in unknown.stderr
    bad_version = applied.run("smoke", "--version", "latest")
    assert bad_version.exit_code == 3


def test_the_rules_file_scripts_richer_replies(applied: ProjectCopy, cli: Cli) -> None:
    applied.emulator.set_brain(rules=load_rules(RULES_FILE))
    result = applied.run("smoke", "--keep-conversations", "--format", "json")
    assert result.exit_code == 0, result.stdout
    conversations = [run["conversation_id"] for test in json.loads(result.stdout)["tests"]
                     for run in test["runs"]]
    transcripts = "\n".join(applied.run("transcript", c).stdout for c in conversations)
    assert "Your confirmation number is BK-2041." in transcripts
    assert 'lookup_order({"order_number": "AC-104233"})' in transcripts


def test_the_failing_example_fails_for_its_stated_reason(failing_example: ProjectCopy,
                                                         platform: Platform,
                                                         tmp_path: Path) -> None:
    applied = failing_example.run("apply", "--yes")
    assert applied.exit_code == 4
    assert FAILING_REASON in applied.stdout
    [agent_id] = platform.agent_ids()
    assert [v.status for v in platform.versions(agent_id)] == ["draft"]  # left unreleased

    junit = tmp_path / "failing.xml"
    result = failing_example.run("smoke", "--version", "draft", "--junit", str(junit))
    assert result.exit_code == 4
    assert "FAIL    refund-desk: refunds a damaged delivery" in result.stdout
    assert f"    {FAILING_REASON}" in result.stdout.splitlines()
    assert "User: My order AC-100200 arrived broken, I want my money back." in result.stdout
    failure = ET.parse(junit).getroot().find("testsuite/testcase/failure")
    assert failure is not None and FAILING_REASON in failure.get("message", "")


def test_a_failure_after_release_rolls_back(applied: ProjectCopy, platform: Platform) -> None:
    agent_id = platform.id_of("appointment-booking")
    applied.replace_in("appointment-booking.yaml", "- name: Amanda", "- name: Rosa")
    with applied.agent_file("appointment-booking").open("a", encoding="utf-8") as handle:
        handle.write("\nsmoke_settings:\n  on: [released]\n")
    result = applied.run("apply", "--yes")
    assert result.exit_code == 4, result.stdout + result.stderr
    assert "smoke tests failed on the released revision" in result.stdout
    assert 'agent_says contains "Amanda"' in result.stdout
    assert f"rolled back to {agent_id}@v0" in result.stdout
    assert platform.released(agent_id).version_id == f"{agent_id}@v0"
