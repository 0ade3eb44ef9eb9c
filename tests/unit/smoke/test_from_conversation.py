"""A conversation's events as a suggested smoke test, and how a replay differs from it."""

from __future__ import annotations

import yaml

from operator_iac.api.models import Procedure
from operator_iac.smoke.from_conversation import (
    TurnSeen,
    differences,
    suggest_test,
    yaml_item,
)
from operator_iac.spec.models import SmokeTest

TURNS = [TurnSeen(0, None, ("Hi, this is Sam.",), ()),
         TurnSeen(1, "Is it 1e5 or no?", ("Yes.",), (("lookup", {"n": "1e5", "deep": {"a": 1}}),))]
SUMMARY = Procedure(id="trun_1", agent_id="pa_1", name="Summary", status="success",
                    output={"follow_up": True, "summary": "x" * 60, "tags": ["a"]})


def test_the_suggested_test_reads_back_exactly() -> None:
    data = suggest_test("t", TURNS, "completed", [SUMMARY], lambda p: "call-summary")
    text = yaml_item(data, TURNS, "conv_1", ["procedure Other (success): not in the project"])
    [loaded] = yaml.safe_load(text)
    assert loaded == data  # strings such as 1e5 and no stay strings
    test = SmokeTest.model_validate(loaded)
    assert test.turns[0].user is None and test.turns[1].user == "Is it 1e5 or no?"
    assert data["expect"][-1] == {"procedure": {"agent": "call-summary", "status": "success",
                                                "output": {"follow_up": True,
                                                           "summary": {"any": True},
                                                           "tags": {"any": True}}}}
    assert "  # REVIEW: not suggested: procedure Other (success): not in the project" in text
    assert "      # the agent said: Yes." in text


def test_a_run_not_ended_when_read_is_expected_to_end_as_usual() -> None:
    """A post-processing run still pending or running when the conversation was read: the
    test asserts the status a run ends with, so never ``running`` (every replay, judged once
    its run ended, would fail); ``failed`` is kept as it was."""
    for status in ("running", "pending", None):
        running = Procedure(id="trun_2", agent_id="pa_1", name="Summary", status=status,
                            output={"summary": "half"})
        data = suggest_test("t", TURNS, "completed", [running], lambda p: "call-summary")
        assert data["expect"][-1] == {"procedure": {"agent": "call-summary",
                                                    "status": "success"}}
    failed = Procedure(id="trun_3", agent_id="pa_1", name="Summary", status="FAILED")
    data = suggest_test("t", TURNS, "completed", [failed], lambda p: "call-summary")
    assert data["expect"][-1] == {"procedure": {"agent": "call-summary", "status": "failed"}}


def test_procedures_of_other_agents_are_left_out() -> None:
    data = suggest_test("t", TURNS, None, [SUMMARY], lambda p: None)
    assert data["expect"] == ["no_server_errors"]


def test_differences_of_a_replay() -> None:
    silent = [TURNS[0], TurnSeen(1, "Is it 1e5 or no?", (), ())]
    assert differences(TURNS, TURNS, "completed", "completed") == []
    assert differences(TURNS, silent, "completed", "failed") == [
        'turn 1: tool calls lookup({"n": "1e5", "deep": {"a": 1}}) before, none now',
        "turn 1: the agent replied before, is silent now",
        "end status completed before, failed now"]
    assert differences(TURNS, TURNS[:1], None, None) == ["turn 1: missing"]
