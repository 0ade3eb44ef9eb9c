"""Verdicts of smoke tests against a nondeterministic agent, end to end: the emulator's rules
carry a ``chance`` (seeded), and the real CLI turns the attempts into ``flaky``, ``failed``,
``incomplete`` and quarantined verdicts, exit codes, JSON, JUnit and apply's gate."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from operator_iac.emulator.brain import Dice
from operator_iac.emulator.rules import parse_rules
from operator_iac.emulator.server import EmulatorServer

from .conftest import Cli, ProjectCopy

XSD = Path(__file__).resolve().parents[1] / "unit" / "render" / "junit-10.xsd"
REFUSAL = "Refunds are never possible."
REFUND_TEST: dict[str, Any] = {
    "name": "answers about refunds",
    "turns": [{"expect": [{"agent_says": {"contains": "Robin"}}]},
              {"user": "Can I get a refund?",
               "expect": [{"agent_says": {"not_contains": "never possible"}}]}],
    "expect": ["no_server_errors"],
}


def seed_for(hits: int, draws: int, chance: float) -> int:
    """A seed under which exactly ``hits`` of the first ``draws`` draws come up."""
    def count(seed: int) -> int:
        dice = Dice(lambda: seed)
        return sum(dice.roll(chance) for _ in range(draws))

    return next(seed for seed in range(10_000) if count(seed) == hits)


def agent_file(tests: list[dict[str, Any]]) -> str:
    agent = {"kind": "conversational_agent", "name": "Shop chat", "description": "Shop help.",
             "config": {"personas": [{"name": "Robin"}],
                        "runtime": {"model": "openai/gpt-4o-mini",
                                    "prompt": {"type": "fixed", "text": "Help visitors."}}},
             "smoke": tests}
    return yaml.safe_dump(agent, sort_keys=False)


@pytest.fixture
def chat_project(tmp_path: Path, emulator: EmulatorServer, cli: Cli,
                 monkeypatch: pytest.MonkeyPatch) -> Callable[..., ProjectCopy]:
    """A one-agent project (``shop``) with the given smoke tests, applied without smoke."""

    def make(*tests: dict[str, Any], project_extra: str = "",
             agents: dict[str, dict[str, Any]] | None = None) -> ProjectCopy:
        root = tmp_path / "shop-project"
        (root / "agents").mkdir(parents=True)
        (root / "operator-iac.yaml").write_text(textwrap.dedent("""\
            project: shop
            environments:
              staging: {api_key_env: OPERATOR_API_KEY}
            """) + project_extra, encoding="utf-8")
        (root / "agents" / "shop.yaml").write_text(agent_file(list(tests)), encoding="utf-8")
        for key, data in (agents or {}).items():
            (root / "agents" / f"{key}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
        monkeypatch.setenv("OPERATOR_API_KEY", emulator.api_key)
        monkeypatch.chdir(root)
        copy = ProjectCopy(root, emulator, cli)
        applied = copy.apply()
        assert applied.exit_code == 0, applied.stderr
        return copy

    return make


def refuse_sometimes(emulator: EmulatorServer, chance: float | None, seed: int = 0) -> None:
    """The agent refuses refunds in the given share of conversations."""
    rule: dict[str, Any] = {"match": "(?i)refund", "reply": REFUSAL}
    if chance is not None:
        rule["chance"] = chance
    emulator.set_faults(seed=seed)
    emulator.set_brain(rules=parse_rules({"rules": [rule]}))


def test_four_of_five_under_rate_is_flaky_and_passes(chat_project: Callable[..., ProjectCopy],
                                                      emulator: EmulatorServer,
                                                      tmp_path: Path) -> None:
    import xmlschema

    copy = chat_project({**REFUND_TEST, "repeat": 5, "pass_rule": "rate:0.8"})
    refuse_sometimes(emulator, 0.5, seed_for(1, 5, 0.5))
    junit = tmp_path / "smoke.xml"
    result = copy.run("smoke", "--format", "json", "--junit", str(junit), "--parallelism", "2")
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    test = data["tests"][0]
    assert (test["verdict"], test["passes"], test["attempts"]) == ("flaky", 4, 5)
    assert test["pass_hat"]["5"] == 0.0 and test["pass_rate"] == 0.8
    failing = next(run for run in test["runs"] if run["outcome"] != "passed")
    assert REFUSAL in json.dumps(failing["transcript"])
    assert "warning: shop: 'answers about refunds' is flaky: 4/5 attempts passed" in \
        result.stderr
    assert xmlschema.XMLSchema(XSD).is_valid(str(junit))
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case is not None and case.get("name") == "answers about refunds [flaky]"


def test_none_of_five_fails(chat_project: Callable[..., ProjectCopy],
                            emulator: EmulatorServer) -> None:
    copy = chat_project({**REFUND_TEST, "repeat": 5, "pass_rule": "rate:0.8"})
    refuse_sometimes(emulator, None)
    result = copy.run("smoke")
    assert result.exit_code == 4, result.stdout + result.stderr
    assert result.stdout.startswith("Smoke tests: 1 failed")
    assert "0/5 attempts passed (0%, 95% interval 0%-43%, pass^5 0%; rule rate:0.8)" in \
        result.stdout
    assert f"Agent: {REFUSAL}" in result.stdout  # the failing attempt's transcript


def test_three_of_five_fails_a_majority_only_when_below_it(
        chat_project: Callable[..., ProjectCopy], emulator: EmulatorServer) -> None:
    copy = chat_project({**REFUND_TEST, "repeat": 5, "pass_rule": "majority"})
    refuse_sometimes(emulator, 0.5, seed_for(2, 5, 0.5))
    result = copy.run("smoke")
    assert result.exit_code == 0 and "FLAKY" in result.stdout
    refuse_sometimes(emulator, 0.5, seed_for(3, 5, 0.5))
    result = copy.run("smoke")
    assert result.exit_code == 4 and "2/5 attempts passed" in result.stdout


def test_a_silent_agent_is_incomplete(chat_project: Callable[..., ProjectCopy],
                                      emulator: EmulatorServer) -> None:
    copy = chat_project({**REFUND_TEST, "turn_timeout_s": 0.5})
    emulator.set_brain(silent=True)
    result = copy.run("smoke", "--format", "json")
    assert result.exit_code == 6, result.stdout + result.stderr
    test = json.loads(result.stdout)["tests"][0]
    assert test["verdict"] == "incomplete" and test["runs"][0]["outcome"] == "timeout"
    assert test["reason"] == "turn 0: the agent did not finish the greeting within 0.5s"


def test_apply_never_releases_on_incomplete(chat_project: Callable[..., ProjectCopy],
                                            emulator: EmulatorServer) -> None:
    copy = chat_project({**REFUND_TEST, "turn_timeout_s": 0.5})
    copy.replace_in("shop.yaml", "Help visitors.", "Help visitors kindly.")
    emulator.set_brain(silent=True)
    result = copy.run("apply", "--yes")
    assert result.exit_code == 6, result.stdout + result.stderr
    assert "shop: SMOKE TEST INCOMPLETE (update)" in result.stdout
    assert "smoke tests incomplete on the draft revision" in result.stdout
    assert "released" not in result.stdout.split("SMOKE TEST INCOMPLETE")[1].split("\n")[0]
    status = copy.run("status", "--format", "json")
    agent = json.loads(status.stdout)["agents"][0]
    assert agent["draft"] is not None  # the draft was left unreleased


@pytest.mark.parametrize("where", ["test", "project"])
def test_quarantined_tests_run_without_gating(chat_project: Callable[..., ProjectCopy],
                                              emulator: EmulatorServer, where: str) -> None:
    test = {**REFUND_TEST, "quarantine": True} if where == "test" else REFUND_TEST
    extra = "quarantine:\n  - {agent: shop, test: answers about refunds}\n" \
        if where == "project" else ""
    copy = chat_project(test, project_extra=extra)
    refuse_sometimes(emulator, None)
    result = copy.run("smoke")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Smoke tests: 1 quarantined")
    assert "[quarantined: does not gate]" in result.stdout
    assert "warning: shop: 'answers about refunds' is quarantined and failed" in result.stderr


JUDGE_AGENT = {
    "kind": "procedural_agent", "name": "Quality judge", "description": "Judges chats.",
    "config": {"runtime": {"model": "openai/gpt-4o", "reasoning_effort": "medium",
                           "prompt": {"type": "fixed", "text": "Judge by the rubric."}},
               "output": {"output_schema": {
                   "type": "object", "required": ["pass", "score", "reason"],
                   "properties": {"pass": {"type": "boolean"}, "score": {"type": "number"},
                                  "reason": {"type": "string"}}}}},
}
JUDGED_TEST = {"name": "is kind about refunds",
               "turns": [{"user": "Can I get a refund?"}],
               "judge": {"agent": "quality-judge", "rubric": "Is the agent kind?"}}


def judge_rules(emulator: EmulatorServer, **first: Any) -> None:
    """The judge fails conversations with the refusal, and passes the others."""
    emulator.set_brain(rules=parse_rules({
        "rules": [{"match": "(?i)refund", "reply": REFUSAL, **first}],
        "procedures": {"Quality judge": [
            {"match": "never possible", "output": {"pass": False, "score": 0.2,
                                                   "reason": "it refused bluntly"}},
            {"output": {"pass": True, "score": 0.9, "reason": "kind and clear"}}]}}))


def test_a_judge_agents_verdict_gates_a_test(chat_project: Callable[..., ProjectCopy],
                                             emulator: EmulatorServer) -> None:
    copy = chat_project(JUDGED_TEST, agents={"quality-judge": JUDGE_AGENT})
    judge_rules(emulator)
    result = copy.run("smoke")
    assert result.exit_code == 4, result.stdout + result.stderr
    assert ("whole conversation: judge quality-judge: expected the judge to say pass; saw pass "
            'false: "it refused bluntly"') in result.stdout
    judge_rules(emulator, chance=0.5)
    emulator.set_faults(seed=seed_for(0, 1, 0.5))  # the agent does not refuse this time
    result = copy.run("smoke", "--format", "json")
    assert result.exit_code == 0, result.stdout
    [verdict] = [a for a in json.loads(result.stdout)["tests"][0]["runs"][0]["assertions"]
                 if a["kind"] == "judge"]
    assert verdict["passed"] and verdict["seen"] == 'pass true: "kind and clear"'


def test_judge_attempts_count_in_the_pass_rule(chat_project: Callable[..., ProjectCopy],
                                               emulator: EmulatorServer) -> None:
    test = {**JUDGED_TEST, "repeat": 4, "pass_rule": "rate:0.75",
            "judge": {**JUDGED_TEST["judge"], "min_score": 0.5}}
    copy = chat_project(test, agents={"quality-judge": JUDGE_AGENT})
    judge_rules(emulator, chance=0.5)
    emulator.set_faults(seed=seed_for(1, 4, 0.5))
    result = copy.run("smoke")
    assert result.exit_code == 0 and "3/4 attempts passed" in result.stdout
    assert "saw score 0.2, pass false: \"it refused bluntly\"" in result.stdout
