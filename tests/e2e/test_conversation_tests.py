"""Conversations become tests, end to end: a conversation on the emulator is printed as a
smoke test, appended to its agent's file (every other byte kept), passes when run, and
``smoke KEY --replay`` drives its user turns again and says how the new run differs."""

from __future__ import annotations

import json

import pytest
import yaml

from operator_iac.emulator.rules import parse_rules
from operator_iac.spec.models import SmokeTest

from .conftest import ProjectCopy

KEY = "support-triage"


@pytest.fixture
def conversation(applied: ProjectCopy) -> str:
    """A finished conversation with support-triage that called lookup_order (kept)."""
    result = applied.run("smoke", KEY, "--keep-conversations", "--format", "json")
    assert result.exit_code == 0, result.stderr
    tests = json.loads(result.stdout)["tests"]
    run = next(t for t in tests if t["test"] == "looks up an order")["runs"][0]
    return str(run["conversation_id"])


def test_a_conversation_prints_as_a_test_to_review(applied: ProjectCopy,
                                                   conversation: str) -> None:
    result = applied.run("transcript", conversation, "--to-test", "--name", "order AC-104233")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"# REVIEW: generated from conversation {conversation}.")
    assert "# the agent said: Hi, this is Sam." in text
    [data] = yaml.safe_load(text)
    test = SmokeTest.model_validate(data)
    assert test.name == "order AC-104233"
    assert [t.user for t in test.turns] == [
        None, "Where is my parcel? Can you lookup_order AC-104233?"]
    assert data["turns"][1]["expect"] == [{"tool_called": {
        "name": "lookup_order",
        "arguments": {"text": "Where is my parcel? Can you lookup_order AC-104233?"}}}]
    assert {"ended_with_status": "completed"} in data["expect"]
    [procedure] = [a["procedure"] for a in data["expect"] if "procedure" in a]
    assert procedure["agent"] == "lead-qualification" and procedure["status"] == "success"


def test_write_appends_to_the_agent_file_and_the_test_passes(applied: ProjectCopy,
                                                             conversation: str) -> None:
    path = applied.agent_file(KEY)
    before = path.read_bytes()
    result = applied.run("transcript", conversation, "--to-test", "--write")
    assert result.exit_code == 0, result.stderr
    assert f"Appended smoke test 'replays {conversation}'" in result.stderr
    after = path.read_bytes()
    assert after.startswith(before.rstrip(b"\n"))  # smoke is the file's last key
    assert after[len(before):].lstrip(b"\n").startswith(b"  # REVIEW: generated")
    assert applied.run("validate").exit_code == 0
    smoke = applied.run("smoke", KEY)
    assert smoke.exit_code == 0, smoke.stdout
    assert f"PASS    {KEY}: replays {conversation}" in smoke.stdout
    again = applied.run("transcript", conversation, "--to-test", "--write")
    assert again.exit_code == 3 and "already has a smoke test named" in again.stderr


def test_replay_passes_and_reports_no_difference(applied: ProjectCopy,
                                                 conversation: str) -> None:
    result = applied.run("smoke", KEY, "--replay", conversation)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Smoke tests: 1 passed")
    assert (f"Replay of {conversation}: the same tool calls, replies and end status as the "
            "original.") in result.stdout


def test_replay_reports_how_the_new_run_differs(applied: ProjectCopy, conversation: str) -> None:
    applied.emulator.set_brain(rules=parse_rules({"rules": [
        {"match": "(?i)parcel", "reply": "Let me see.",
         "tool": {"name": "lookup_order", "arguments": {"order_number": "AC-104233"}}}]}))
    result = applied.run("smoke", KEY, "--replay", conversation, "--format", "json")
    assert result.exit_code == 4, result.stdout + result.stderr
    data = json.loads(result.stdout)
    [difference] = data["replay"]["differences"]
    assert difference.startswith("turn 1: tool calls lookup_order({\"text\": ")
    assert difference.endswith('before, lookup_order({"order_number": "AC-104233"}) now')


def test_replay_needs_one_agent(applied: ProjectCopy) -> None:
    result = applied.run("smoke", "--replay", "conv_x")
    assert result.exit_code == 3 and "--replay needs exactly one KEY" in result.stderr
    assert applied.run("transcript", "conv_x", "--write").exit_code == 3
