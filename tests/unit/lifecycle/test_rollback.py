"""Choosing the revision a rollback releases, the preview it shows, and history: pure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from operator_iac.errors import UsageError
from operator_iac.plan.history import NO_MARKER, LoadedAgent, agent_history, find_agent
from operator_iac.plan.rollback import choose_revision, plan_rollback
from operator_iac.render.history import render_history_text, render_rollback_text
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision

from .conftest import PROJECT

Factory = Callable[..., Any]


@pytest.fixture
def history_of(make_desired: Factory, make_remote: Factory, written: Factory,
               with_config: Factory) -> Callable[..., RemoteAgent]:
    """An agent with one revision per status given, each with another model."""

    def build(*statuses: str) -> RemoteAgent:
        agent = make_desired()
        revisions = [written(with_config(agent, lambda c, n=n: c["runtime"].update(
            model=f"x/model-{n}")), status=status) for n, status in enumerate(statuses)]
        remote: RemoteAgent = make_remote("ca_1", agent.kind, *revisions)
        return remote

    return build


def test_steps_count_back_through_archived_revisions(history_of: Factory) -> None:
    agent = history_of("archived", "archived", "released", "draft")
    assert choose_revision(agent, "booking").version_id == "ca_1@v1"
    assert choose_revision(agent, "booking", steps=2).version_id == "ca_1@v0"
    with pytest.raises(UsageError, match="only 2 earlier released revisions; --steps 3"):
        choose_revision(agent, "booking", steps=3)


def test_after_a_rollback_steps_go_further_back(history_of: Factory) -> None:
    agent = history_of("archived", "released", "archived")
    assert choose_revision(agent, "booking").version_id == "ca_1@v0"


def test_a_single_revision_cannot_be_rolled_back(history_of: Factory) -> None:
    with pytest.raises(UsageError, match="no revision released before ca_1@v0"):
        choose_revision(history_of("released"), "booking")
    with pytest.raises(UsageError, match="no released revision to roll back from"):
        choose_revision(history_of("draft"), "booking")


@pytest.mark.parametrize("to", ["v0", "0", "ca_1@v0", " v0 "])
def test_to_names_a_revision(history_of: Factory, to: str) -> None:
    agent = history_of("archived", "released")
    assert choose_revision(agent, "booking", to=to).version_id == "ca_1@v0"


@pytest.mark.parametrize(("to", "message"), [
    ("v9", r"has no revision v9 \(it has v0, v1, v2\)"),
    ("ca_2@v0", "name a revision of booking as vN"),
    ("latest", "name a revision of booking as vN"),
    ("v2", "is the unreleased draft"),
])
def test_to_refuses_what_it_cannot_release(history_of: Factory, to: str,
                                           message: str) -> None:
    with pytest.raises(UsageError, match=message):
        choose_revision(history_of("archived", "released", "draft"), "booking", to=to)


def _loaded(agent: RemoteAgent) -> LoadedAgent:
    return LoadedAgent("booking", agent, {"booking": agent.id})


def _with_model(agent: RemoteAgent, number: int, model: str) -> RemoteRevision:
    """Revision ``number`` of ``agent`` with the released revision's content but ``model``."""
    current = agent.released
    assert current is not None
    version = agent.versions[number]
    config = {**current.config, "runtime": {**current.config["runtime"], "model": model}}
    return RemoteRevision(version.version_id, version.status, current.name,
                          version.description, config)


def test_the_preview_shows_what_changes(history_of: Factory, make_desired: Factory) -> None:
    agent = history_of("archived", "released")
    target = _with_model(agent, 0, "x/model-0")
    plan = plan_rollback(_loaded(agent), target, make_desired(), project=PROJECT)
    assert (plan.current, plan.target, plan.already_released) == ("ca_1@v1", "ca_1@v0", False)
    assert [c.path for c in plan.changes] == ["config.runtime.model"]
    assert plan.target_marker is not None and plan.target_marker.commit == "abc1234"
    text = render_rollback_text(plan)
    assert "released ca_1@v1 -> ca_1@v0" in text
    assert '~ config.runtime.model: "x/model-1" -> "x/model-0"' in text


def test_secrets_stay_hidden_in_the_preview(history_of: Factory, make_desired: Factory) -> None:
    agent = history_of("archived", "released")
    declared = make_desired(sensitive=frozenset({"runtime.prompt.text"}))
    current = agent.released
    assert current is not None
    target = RemoteRevision("ca_1@v0", "archived", current.name, current.description,
                            {**current.config, "runtime": {
                                **current.config["runtime"],
                                "prompt": {"type": "fixed", "text": "old-secret-value"}}})
    plan = plan_rollback(_loaded(agent), target, declared, project=PROJECT)
    text = render_rollback_text(plan)
    assert "old-secret-value" not in text and plan.prompt_diff is None
    assert "(sensitive)" in text


def test_releasing_the_released_revision_is_a_no_op(history_of: Factory) -> None:
    agent = history_of("archived", "released")
    assert agent.released is not None
    plan = plan_rollback(_loaded(agent), agent.released, None, project=PROJECT)
    assert plan.already_released and plan.changes == ()
    assert "already the released revision: nothing to do" in render_rollback_text(plan)


def test_history_reads_markers(history_of: Factory, make_remote: Factory, rev: Factory,
                               written: Factory, make_desired: Factory) -> None:
    agent = make_desired()
    mine = written(agent, status="archived")
    other = written(make_desired("triage"), status="archived", project="other-project")
    remote = make_remote("ca_1", agent.kind, mine, other,
                         rev("released", "x", "typed by hand", {}))
    history = agent_history(LoadedAgent("booking", remote), PROJECT)
    assert [r.number for r in history.revisions] == [2, 1, 0]
    assert history.revisions[0].note == NO_MARKER
    assert history.revisions[1].note == "marker of project other-project, key triage"
    assert history.revisions[2].marker is not None and history.revisions[2].note == ""
    text = render_history_text(history)
    assert text.splitlines()[0] == "booking: conversational_agent ca_1, 3 revisions"
    assert text.splitlines()[3].split()[:2] == ["v2", "released"]
    assert text.splitlines()[5].split()[4] == "abc1234"


def test_find_agent_by_marker(make_desired: Factory, managed: Factory,
                              snapshot_of: Factory) -> None:
    booking, triage = make_desired("booking"), make_desired("triage")
    snapshot = snapshot_of(managed(booking, "ca_1"), managed(triage, "ca_2"))
    found = find_agent(snapshot, PROJECT, "booking")
    assert found.agent.id == "ca_1" and found.ids == {"booking": "ca_1", "triage": "ca_2"}
    with pytest.raises(UsageError, match=r"key 'nope' \(keys found there: booking, triage\)"):
        find_agent(snapshot, PROJECT, "nope")
    twice = snapshot_of(managed(booking, "ca_1"), managed(booking, "ca_3"))
    with pytest.raises(UsageError, match="several agents carry the marker of key 'booking': "
                                         "ca_1, ca_3"):
        find_agent(twice, PROJECT, "booking")
