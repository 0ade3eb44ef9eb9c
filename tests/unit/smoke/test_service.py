"""Choosing what ``operator-iac smoke`` tests: keys, revisions, and what cannot be tested."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from operator_iac.errors import UsageError
from operator_iac.services.smoke import parse_version, select_targets
from operator_iac.spec.desired import DesiredAgent
from operator_iac.spec.models import SmokeTest
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision, RemoteVersion

TEST = SmokeTest(name="greets")


def declared(key: str, kind: str = "conversational_agent", tests: bool = True) -> DesiredAgent:
    return DesiredAgent(key=key, kind=kind, source=Path(f"{key}.yaml"),  # type: ignore[arg-type]
                        name=key, description="", config={}, smoke=(TEST,) if tests else ())


def remote(agent_id: str, statuses: list[str]) -> RemoteAgent:
    versions = tuple(RemoteVersion(f"{agent_id}@v{n}", n, s, "n", "d")  # type: ignore[arg-type]
                     for n, s in enumerate(statuses))

    def revision(status: str) -> RemoteRevision | None:
        found = [v for v in versions if v.status == status]
        return RemoteRevision(found[-1].version_id, found[-1].status, "n", "d", {}) \
            if found else None

    return RemoteAgent("conversational_agent", agent_id, versions, revision("released"),
                       revision("draft"))


DESIRED = {"booking": declared("booking"), "triage": declared("triage"),
           "summary": declared("summary", "procedural_agent", tests=False),
           "quiet": declared("quiet", tests=False)}
OWNED = {"booking": remote("ca_b", ["archived", "released", "draft"]),
         "quiet": remote("ca_q", ["released"])}


@pytest.mark.parametrize(("text", "expected"), [("released", "released"), ("Draft", "draft"),
                                                ("v12", "v12")])
def test_parse_version(text: str, expected: str) -> None:
    assert parse_version(text) == expected


def test_parse_version_refuses_anything_else() -> None:
    with pytest.raises(UsageError, match="released, draft or vN"):
        parse_version("latest")


@pytest.mark.parametrize(("version", "version_id"), [
    ("released", "ca_b@v1"), ("draft", "ca_b@v2"), ("v0", "ca_b@v0")])
def test_the_chosen_revision_is_pinned(version: str, version_id: str) -> None:
    selection = select_targets(DESIRED, OWNED, ["booking"], version)
    assert [(t.key, t.version_id, t.tests) for t in selection.targets] == [
        ("booking", version_id, (TEST,))]


def test_every_agent_with_tests_by_default_and_problems_for_the_missing() -> None:
    selection = select_targets(DESIRED, OWNED, [], "released", "staging")
    assert [t.key for t in selection.targets] == ["booking"]
    assert [(p.agent_key, p.message) for p in selection.problems] == [
        ("triage", "triage is not deployed in environment 'staging'; run apply first")]
    assert selection.skipped == ()


def test_named_agents_without_tests_are_skipped() -> None:
    selection = select_targets(DESIRED, OWNED, ["quiet", "summary"], "released")
    assert [p.message for p in selection.skipped] == ["quiet has no smoke tests",
                                                       "summary has no smoke tests"]
    assert selection.targets == () and selection.problems == ()


@pytest.mark.parametrize(("owned", "version", "message"), [
    ({"booking": remote("ca_b", ["draft"])}, "released",
     "booking (ca_b) has no released revision; apply it first, or test the draft with "
     "--version draft"),
    ({"booking": remote("ca_b", ["released"])}, "draft", "booking (ca_b) has no draft"),
    ({"booking": remote("ca_b", ["released"])}, "v4",
     "booking (ca_b) has no revision v4 (the newest is v0)"),
])
def test_a_missing_revision_is_a_problem(owned: dict[str, Any], version: str,
                                         message: str) -> None:
    selection = select_targets(DESIRED, owned, ["booking"], version)
    assert [p.message for p in selection.problems] == [message]


def test_unknown_keys_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="no agent 'boking' is declared; did you mean"):
        select_targets(DESIRED, OWNED, ["boking"], "released")


COMPARED = SmokeTest(name="looks up orders", compare="released")


def test_tests_that_say_compare_are_compared_with_the_release_by_the_default_gate() -> None:
    from dataclasses import replace

    from operator_iac.spec.gate import GateSettings

    desired = {"booking": replace(declared("booking"), smoke=(TEST, COMPARED))}
    [target] = select_targets(desired, OWNED, [], "draft").targets
    assert target.version_id == "ca_b@v2" and target.baseline is not None
    assert (target.baseline.version_id, target.baseline.tests) == (
        "ca_b@v1", frozenset({"looks up orders"}))
    assert target.baseline.gate == GateSettings()
    # Testing the released revision compares nothing: it is the baseline itself.
    [released] = select_targets(desired, OWNED, [], "released").targets
    assert released.baseline is None


def test_compare_on_the_command_line_compares_every_test_and_needs_its_revision() -> None:
    [target] = select_targets(DESIRED, OWNED, ["booking"], "released", compare="v0").targets
    assert target.baseline is not None
    assert (target.version_id, target.baseline.version_id) == ("ca_b@v1", "ca_b@v0")
    assert target.baseline.tests == frozenset({"greets"})
    selection = select_targets(DESIRED, OWNED, ["booking"], "draft", compare="v7")
    assert [p.message for p in selection.problems] == [
        "booking (ca_b) has no revision v7 (the newest is v2): nothing to compare with"]
    # An agent without a draft has no change to compare: skipped, not a problem.
    owned = {**OWNED, "triage": remote("ca_t", ["released"])}
    unchanged = select_targets(DESIRED, owned, ["booking", "triage"], "draft",
                               compare="released")
    assert [t.key for t in unchanged.targets] == ["booking"] and unchanged.problems == ()
    assert [p.message for p in unchanged.skipped] == ["triage (ca_t) has no draft"]


def test_the_environment_bounds_how_many_conversations_run_at_once() -> None:
    from dataclasses import replace

    from operator_iac.services.smoke import conversation_parallelism

    assert conversation_parallelism(DESIRED, 8) == 8
    bounded = {k: replace(a, smoke_concurrency=3) for k, a in DESIRED.items()}
    assert conversation_parallelism(bounded, 8) == 3
    assert conversation_parallelism(bounded, 2) == 2
