"""Which secret references a change introduces, changes or removes (``plan.secret_refs``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from operator_iac.plan.model import SecretReference
from operator_iac.plan.secret_refs import secret_changes
from operator_iac.spec.desired import DesiredAgent

PROMPT = "runtime.prompt.text"
HOOK = "output.post_url"


def agent(config: dict[str, Any], *references: tuple[str, str]) -> DesiredAgent:
    return DesiredAgent(key="booking", kind="procedural_agent", source=Path("b.yaml"),
                        name="B", description="D", config=config,
                        sensitive_paths=frozenset(p for p, _ in references),
                        secret_references=frozenset(references))


def ref(change: str, path: str, name: str | None = None) -> SecretReference:
    return SecretReference.model_validate({"change": change, "path": f"config.{path}",
                                           "name": name})


CONFIG = {"runtime": {"prompt": {"text": "Use s3cret and t0ken."}},
          "output": {"post_url": "https://h.example/?t=s3cret"}}


def test_a_new_agent_introduces_every_reference() -> None:
    desired = agent(CONFIG, (PROMPT, "A"), (PROMPT, "B"), (HOOK, "A"))
    assert secret_changes(desired, None, ()) == (
        ref("introduced", HOOK, "A"), ref("introduced", PROMPT, "A"),
        ref("introduced", PROMPT, "B"))


def test_a_path_that_held_a_secret_says_nothing_while_its_value_stays() -> None:
    desired = agent(CONFIG, (PROMPT, "A"))
    assert secret_changes(desired, CONFIG, (PROMPT,)) == ()


@pytest.mark.parametrize("stored", ["Use s3cret.  \r\n", "Use s3cret.", "Use s3cret.\n"])
def test_text_the_platform_stores_normalised_is_the_same_value(stored: str) -> None:
    desired = agent({"runtime": {"prompt": {"text": "Use s3cret.  \r\n"}}}, (PROMPT, "A"))
    remote = {"runtime": {"prompt": {"text": stored}}}
    assert secret_changes(desired, remote, (PROMPT,)) == ()


def test_a_changed_value_at_a_secret_path_names_the_references_it_now_holds() -> None:
    desired = agent(CONFIG, (PROMPT, "A"), (PROMPT, "B"))
    before = {"runtime": {"prompt": {"text": "Use s3cret."}}}
    assert secret_changes(desired, before, (PROMPT,)) == (
        ref("changed", PROMPT, "A"), ref("changed", PROMPT, "B"))


def test_a_path_that_held_a_secret_and_holds_none_now_is_a_removal_by_path() -> None:
    desired = agent(CONFIG, (PROMPT, "A"))
    assert secret_changes(desired, CONFIG, (PROMPT, HOOK, "tool.transfers.0.entity_id")) == (
        ref("removed", HOOK), ref("removed", "tool.transfers.0.entity_id"))


def test_recorded_names_make_every_statement_exact() -> None:
    desired = agent(CONFIG, (PROMPT, "A"), (PROMPT, "B"))
    old = {PROMPT: frozenset({"A", "OLD"}), HOOK: frozenset({"GONE"})}
    assert secret_changes(desired, CONFIG, (PROMPT, HOOK), old) == (
        ref("introduced", PROMPT, "B"), ref("removed", HOOK, "GONE"),
        ref("removed", PROMPT, "OLD"))
