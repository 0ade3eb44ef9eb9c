"""The deterministic brain and its rules file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from operator_iac.emulator.brain import AgentView, Brain, Dice, names_tool
from operator_iac.emulator.rules import RulesError, load_rules, parse_rules


@pytest.fixture
def agent() -> Callable[..., AgentView]:
    def make(persona: str | None = "Amanda", tools: tuple[str, ...] = ("check_availability",),
             name: str = "Booking") -> AgentView:
        return AgentView(name=name, persona=persona, tools=tools)

    return make


def test_agent_view_reads_first_persona_and_listed_tools() -> None:
    config: dict[str, Any] = {
        "personas": [{"name": "Amanda"}, {"name": "Bob"}],
        "tool": {"tools": [{"ns": "syscall", "name": "end_call"}, {"ns": "x", "name": "lookup"}]}}
    view = AgentView.from_config("Booking", config)
    assert view == AgentView("Booking", "Amanda", ("end_call", "lookup"))
    assert AgentView.from_config("Bare", {}).speaker == "Bare"


def test_greets_as_the_first_persona(agent: Callable[..., AgentView]) -> None:
    assert Brain().greet(agent()) == "Hi, this is Amanda. How can I help you today?"


@pytest.mark.parametrize("message", ["Please CHECK_AVAILABILITY now",
                                     "can you check availability on friday?"])
def test_calls_a_tool_the_message_names(agent: Callable[..., AgentView], message: str) -> None:
    turn = Brain().respond(agent(), message)
    assert [c.name for c in turn.tool_calls] == ["check_availability"]
    call = turn.tool_calls[0]
    assert json.loads(call.arguments) == {"text": message}
    assert json.loads(call.result or "") == {"ok": True} and call.error is None
    assert turn.reply is not None and message.strip() in turn.reply


def test_tools_not_listed_are_never_called(agent: Callable[..., AgentView]) -> None:
    turn = Brain().respond(agent(tools=()), "check availability please")
    assert turn.tool_calls == ()
    assert turn.reply == 'You said: "check availability please".'


def test_tool_name_match_needs_whole_words() -> None:
    assert names_tool("lookup the order", "lookup")
    assert not names_tool("lookups are fun", "lookup")


def test_goodbye_is_answered_with_a_farewell(agent: Callable[..., AgentView]) -> None:
    assert Brain().respond(agent(), "ok, bye!").reply == (
        "Goodbye! Thank you for talking with Amanda.")


def test_silent_brain_never_speaks(agent: Callable[..., AgentView]) -> None:
    brain = Brain(silent=True)
    assert brain.greet(agent()) is None
    turn = brain.respond(agent(), "check availability")
    assert turn.reply is None and turn.tool_calls == ()


def test_rules_script_replies_tools_errors_and_silence(agent: Callable[..., AgentView]) -> None:
    rules = parse_rules([
        {"match": "(?i)(?P<day>tuesday)", "reply": "{persona}: {day} at 10:00 is available.",
         "tool": {"name": "check_availability", "arguments": {"day": "Tuesday"},
                  "result": {"slots": ["10:00"]}}},
        {"match": "(?i)broken", "tool": {"name": "check_availability", "error": "timeout"},
         "server_error": "backend failed"},
        {"match": "(?i)hello", "silent": True},
    ])
    brain = Brain(rules)
    booked = brain.respond(agent(), "Next Tuesday please")
    assert booked.reply == "Amanda: Tuesday at 10:00 is available."
    assert json.loads(booked.tool_calls[0].arguments) == {"day": "Tuesday"}
    assert json.loads(booked.tool_calls[0].result or "") == {"slots": ["10:00"]}
    broken = brain.respond(agent(), "it is broken")
    assert broken.tool_calls[0].error == "timeout" and broken.tool_calls[0].result is None
    assert broken.server_error == "backend failed" and broken.reply
    assert brain.respond(agent(), "hello?").reply is None


def test_scripted_tool_not_enabled_is_skipped_but_reply_stays(
        agent: Callable[..., AgentView]) -> None:
    brain = Brain(parse_rules([{"match": "x", "reply": "ok", "tool": {"name": "other"}}]))
    turn = brain.respond(agent(), "x")
    assert turn.tool_calls == () and turn.reply == "ok"


def test_rules_greeting_and_procedure_outcomes() -> None:
    rules = parse_rules({"greeting": "Yo from {agent}", "procedures": {"summary": "fail"}})
    brain = Brain(rules)
    assert brain.greet(AgentView("Desk")) == "Yo from Desk"
    assert brain.procedure_outcome("pa_1", "summary") == "fail"
    assert brain.procedure_outcome("pa_1", "other") is None


def test_unknown_placeholders_and_braces_survive(agent: Callable[..., AgentView]) -> None:
    brain = Brain(parse_rules([{"match": "a", "reply": "{unknown} {\"json\": 1}"}]))
    assert brain.respond(agent(), "a").reply == "{unknown} {\"json\": 1}"


def test_load_rules_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - match: '(?i)hi'\n    reply: hello\n", encoding="utf-8")
    assert load_rules(path).rules[0].reply == "hello"


@pytest.mark.parametrize(("text", "message"), [
    ("rules: [{match: '('}]", "invalid regular expression"),
    ("rules: [{match: a, colour: red}]", "rules.0.colour"),
    ("rules: [unclosed", "not valid YAML"),
    ("procedures: {x: explode}", "procedures.x"),
])
def test_bad_rules_files_are_invalid_input(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=message) as caught:
        load_rules(path)
    assert caught.value.exit_code == 3


def test_missing_rules_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read rules file"):
        load_rules(tmp_path / "absent.yaml")


def test_example_rules_files_load() -> None:
    examples = Path(__file__).resolve().parents[3] / "examples"
    for path in sorted(examples.glob("*rules*.y*ml")):
        assert load_rules(path).rules, path


def test_chance_draws_depend_on_the_seed_and_the_count_only() -> None:
    from operator_iac.emulator.brain import Dice

    seed = [7]
    dice = Dice(lambda: seed[0])
    first = [dice.draw() for _ in range(5)]
    assert len(set(first)) == 5
    again = Dice(lambda: 7)
    assert [again.draw() for _ in range(5)] == first
    seed[0] = 8  # a new seed starts the count again
    other = [dice.draw() for _ in range(5)]
    fresh = Dice(lambda: 8)
    assert other != first and other == [fresh.draw() for _ in range(5)]
    assert Dice().roll(None) and not Dice(lambda: 1).roll(0.0)


def test_a_rule_with_a_chance_falls_through_when_it_does_not_come_up() -> None:
    from operator_iac.emulator.brain import Dice

    rules = parse_rules({"rules": [{"match": "(?i)refund", "chance": 0.5, "reply": "No."}]})
    hits = 0
    for seed in range(40):
        turn = Brain(rules, dice=Dice(lambda s=seed: s)).respond(AgentView("Desk"), "refund?")
        hits += turn.reply == "No."
        assert turn.reply in ("No.", 'You said: "refund?".')
    assert 10 < hits < 30  # about half, and both outcomes happen


def test_procedure_scripts_match_the_transcript() -> None:
    rules = parse_rules({"procedures": {"judge": [
        {"match": "refund", "output": {"pass": False}}, {"outcome": "fail"}]}})
    brain = Brain(rules)
    first = brain.procedure_script("pa_1", "judge", "user: a refund please")
    assert first is not None and first.output == {"pass": False}
    other = brain.procedure_script("pa_1", "judge", "user: hello")
    assert other is not None and other.outcome == "fail"
    assert brain.procedure_script("pa_2", "other", "") is None


def test_rules_with_a_prompt_apply_to_the_revisions_whose_prompt_matches() -> None:
    rules = parse_rules({"rules": [
        {"match": "order", "prompt": "(?i)hasty", "chance": 0.5, "reply": "Lost it."},
        {"match": "order", "reply": "It ships Friday."}]})
    dice = Dice(lambda: 3)
    brain = Brain(rules, dice=dice)
    careful = AgentView.from_config("Desk", {"runtime": {"prompt": {"text": "Be careful."}}})
    hasty = AgentView.from_config("Desk", {"runtime": {"prompt": {"text": "Be HASTY."}}})
    assert (careful.prompt, hasty.prompt) == ("Be careful.", "Be HASTY.")
    assert [brain.respond(careful, "my order").reply for _ in range(5)] == \
        ["It ships Friday."] * 5
    # The careful revision drew nothing: the hasty one meets the seed's first draws.
    fresh = Dice(lambda: 3)
    expected = [fresh.roll(0.5) for _ in range(6)]
    assert len(set(expected)) == 2  # both outcomes happen in these six
    assert [brain.respond(hasty, "my order").reply == "Lost it." for _ in range(6)] == expected
    with pytest.raises(RulesError, match="prompt"):
        parse_rules({"rules": [{"match": "x", "prompt": "(unclosed"}]})
