"""``build_status`` and the status renderers: pure functions of a plan and a snapshot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from operator_iac.plan.model import Plan
from operator_iac.plan.status import StatusReport, build_status
from operator_iac.render.status import (
    render_status_markdown,
    render_status_text,
    status_json,
)
from operator_iac.spec.desired import DesiredAgent
from operator_iac.state.snapshot import RemoteAgent, Snapshot

from .conftest import PROJECT

Factory = Callable[..., Any]


def status_of(plan_for: Factory, snapshot_of: Factory, desired: list[DesiredAgent],
              remote: list[RemoteAgent]) -> StatusReport:
    plan: Plan = plan_for(desired, remote)
    snapshot: Snapshot = snapshot_of(*remote)
    return build_status(plan, snapshot)


def test_an_applied_agent_is_in_sync(make_desired: Factory, managed: Factory,
                                     plan_for: Factory, snapshot_of: Factory) -> None:
    agent = make_desired()
    report = status_of(plan_for, snapshot_of, [agent], [managed(agent, "ca_1")])
    assert report.exit_code() == 0 and report.clean
    (status,) = report.agents
    assert (status.released, status.draft, status.commit) == ("ca_1@v0", None, "abc1234")
    assert status.matches and not status.drift and status.state == "in sync"


def test_a_dashboard_edit_is_drift(make_desired: Factory, make_remote: Factory,
                                   written: Factory, rev: Factory, with_config: Factory,
                                   plan_for: Factory, snapshot_of: Factory) -> None:
    agent = make_desired()
    mine = written(agent)
    edited = rev("released", mine.name, mine.description,
                 {**mine.config, "runtime": {**mine.config["runtime"], "model": "x/y"}})
    report = status_of(plan_for, snapshot_of, [agent], [make_remote("ca_1", agent.kind, edited)])
    (status,) = report.agents
    assert status.drift and not status.matches
    assert report.exit_code() == 2
    assert "no longer matches" in (status.drift_reason or "")


def test_a_released_revision_without_marker_is_drift(make_desired: Factory,
                                                     make_remote: Factory, rev: Factory,
                                                     plan_for: Factory,
                                                     snapshot_of: Factory) -> None:
    agent = make_desired()
    bare = rev("released", agent.name, agent.description, dict(agent.config))
    owned = rev("archived", *_marked(agent, plan_for))
    remote = make_remote("ca_1", agent.kind, owned, bare)
    (status,) = status_of(plan_for, snapshot_of, [agent], [remote]).agents
    assert status.drift and status.commit is None
    assert status.drift_reason == "the released revision carries no operator-iac marker"


def _marked(agent: DesiredAgent, plan_for: Factory) -> tuple[str, str, dict[str, Any]]:
    body = plan_for([agent]).resources[0].desired
    return body.name, body.description, dict(agent.config)


def test_undeployed_and_undeclared_agents_do_not_match(make_desired: Factory,
                                                       managed: Factory, plan_for: Factory,
                                                       snapshot_of: Factory) -> None:
    declared = make_desired("booking")
    gone = make_desired("old-agent", name="Old")
    report = status_of(plan_for, snapshot_of, [declared], [managed(gone, "ca_9")])
    by_key = {a.key: a for a in report.agents}
    assert by_key["booking"].state == "not on the platform"
    assert by_key["old-agent"].declared is False
    assert by_key["old-agent"].state == "owned, but no longer declared"
    assert by_key["old-agent"].released == "ca_9@v0"
    assert report.exit_code() == 2 and len(report.mismatched) == 2


def test_drafts_are_described(make_desired: Factory, make_remote: Factory, written: Factory,
                              rev: Factory, with_config: Factory, plan_for: Factory,
                              snapshot_of: Factory) -> None:
    agent = make_desired()
    newer = with_config(agent, lambda c: c["runtime"].update(model="x/y"))
    ours = make_remote("ca_1", agent.kind, written(agent), written(newer, status="draft"))
    foreign = make_remote("ca_2", agent.kind, written(agent),
                          rev("draft", "Other", "typed by hand", {}))
    (mine,) = status_of(plan_for, snapshot_of, [agent], [ours]).agents
    assert mine.draft == "ca_1@v1" and mine.matches
    assert mine.draft_note == ("unreleased draft from operator-iac (commit abc1234), never "
                               "released: promote refuses it until it is released or "
                               "discarded (apply --discard-drafts)")
    (theirs,) = status_of(plan_for, snapshot_of, [agent], [foreign]).agents
    assert theirs.draft_note == "unreleased draft not written by operator-iac"


def test_renderers_show_every_agent(make_desired: Factory, managed: Factory,
                                    make_remote: Factory, written: Factory, rev: Factory,
                                    plan_for: Factory, snapshot_of: Factory) -> None:
    clean = make_desired("booking")
    edited = make_desired("triage", name="Triage")
    mine = written(edited)
    remote = [managed(clean, "ca_1"),
              make_remote("ca_2", edited.kind, rev("released", "Triage by hand",
                                                   mine.description, mine.config))]
    report = status_of(plan_for, snapshot_of, [clean, edited], remote)
    text = render_status_text(report)
    assert text.startswith("Status: 2 agents, 1 changed outside operator-iac, "
                           "1 not matching the declarations.")
    assert f"Project {PROJECT}, environment staging" in text
    header, booking, triage = text.splitlines()[3:6]
    assert header.split() == ["AGENT", "RELEASED", "DRAFT", "COMMIT", "STATE"]
    assert booking.split()[:4] == ["booking", "ca_1@v0", "-", "abc1234"]
    assert triage.endswith("CHANGED OUTSIDE OPERATOR-IAC; differs from the declarations")
    markdown = render_status_markdown(report)
    assert "| `triage` | ca_2@v0 | - | abc1234 | :warning: CHANGED OUTSIDE OPERATOR-IAC" in markdown
    made = status_json(report)
    data = made.data
    assert report.exit_code() == 2 and [a["key"] for a in data["agents"]] == ["booking",
                                                                               "triage"]
    assert data["agents"][0]["matches"] is True
    assert made.summary == {"agents": 2, "in_sync": 1, "drifted": 1, "not_matching": 1}
    assert made.errors == ()
