"""The pure pieces of a write: body, staleness checks, read-back verification."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from operator_iac.errors import RemoteChangedError, StalePlanError
from operator_iac.plan.marker import parse_marker
from operator_iac.plan.writes import (
    carries_cut_marker,
    carries_marker,
    check_declarations,
    remote_moved,
    remote_state,
    stored_differences,
    write_body,
)
from operator_iac.state.snapshot import RemoteRevision

Factory = Any


@pytest.fixture
def booking(make_desired: Factory, with_config: Factory) -> Any:
    def secret_transfer(config: dict[str, Any]) -> None:
        config["tool"]["transfers"] = [{"entity_id": "agent:front-desk"},
                                       {"entity_id": "+1555SECRET"}]
    return with_config(make_desired(postprocess=("call-summary",),
                                    sensitive=frozenset({"tool.transfers.1.entity_id"})),
                       secret_transfer)


def test_the_body_resolves_references_keeps_server_fields_and_carries_the_marker(
        plan_for: Factory, booking: Any, make_desired: Factory, managed: Factory) -> None:
    ids = {"call-summary": "pa_1", "front-desk": "ca_2"}
    remote = managed(make_desired(), "ca_3", server_fields={"analytics": {"on": True}})
    plan = plan_for([booking, make_desired("call-summary", "procedural_agent"),
                     make_desired("front-desk")], [remote])
    resource = plan.resource("booking")
    assert resource is not None

    body = write_body(resource, booking, ids, remote.released)

    assert body["postprocess_agents"] == ["pa_1"]
    assert body["config"]["tool"]["transfers"] == [{"entity_id": "ca_2"},
                                                   {"entity_id": "+1555SECRET"}]
    assert body["config"]["analytics"] == {"on": True}
    marker = parse_marker(body["description"])
    assert marker is not None and marker.content_hash == resource.desired_hash


def test_an_unresolvable_reference_refuses_to_write(plan_for: Factory, booking: Any,
                                                    make_desired: Factory) -> None:
    plan = plan_for([booking, make_desired("call-summary", "procedural_agent"),
                     make_desired("front-desk")])

    resource = plan.resource("booking")
    assert resource is not None

    with pytest.raises(RemoteChangedError, match="'call-summary'"):
        write_body(resource, booking, {"front-desk": "ca_2"}, None)


def test_changed_declarations_or_secrets_make_the_plan_stale(
        plan_for: Factory, booking: Any, make_desired: Factory, with_config: Factory) -> None:
    plan = plan_for([booking, make_desired("call-summary", "procedural_agent"),
                     make_desired("front-desk")])
    resource = plan.resource("booking")
    assert resource is not None

    def rotate(config: dict[str, Any]) -> None:
        config["tool"]["transfers"][1]["entity_id"] = "+1555ROTATED"

    check_declarations(resource, booking)
    with pytest.raises(StalePlanError, match="declarations changed"):
        check_declarations(resource, with_config(booking, rotate))


def test_remote_moved_reports_what_changed(make_desired: Factory, make_remote: Factory,
                                           written: Factory, rev: Factory) -> None:
    agent = make_desired()
    before = make_remote("ca_1", agent.kind, written(agent))
    recorded = remote_state(before)
    drafted = make_remote("ca_1", agent.kind, written(agent), rev("draft", "X", "Y"))
    assert before.released is not None
    edited_in_place = replace(before, released=replace(before.released, config={"x": 1}))

    assert remote_moved(recorded, before) is None
    assert "list of revisions" in (remote_moved(recorded, drafted) or "")
    assert "content of its released revision" in (remote_moved(recorded, edited_in_place) or "")
    assert "deleted" in (remote_moved(recorded, None) or "")
    assert "appeared" in (remote_moved(None, before) or "")
    assert remote_moved(None, None) is None


def test_read_back_verification_names_fields_that_did_not_persist(
        make_desired: Factory, written: Factory) -> None:
    agent = make_desired()
    good = written(agent, status="draft")
    revision = RemoteRevision("ca_1@v1", "draft", good.name, good.description, good.config)
    dropped = replace(revision, config={k: v for k, v in good.config.items() if k != "voice"})

    assert stored_differences(agent, {}, revision) == []
    found = stored_differences(agent, {}, dropped)
    assert [(d.dotted, d.lost) for d in found] == [("config.voice", True)]


def test_a_write_of_this_content_whose_marker_a_limit_cut_is_told_from_another_writers(
        plan_for: Factory, make_desired: Factory) -> None:
    """Another apply's write of this very content, its marker cut at a platform's limit
    before that apply fitted it, is this content (``carries_cut_marker``) wherever the cut
    leaves the identity and content hash whole; never a cut that names less, another key's
    marker, or another description before it."""
    resource = plan_for([make_desired()], []).resource("booking")
    assert resource.desired is not None
    described = resource.desired.description
    whole = described.index(" env=staging ") + len(" env=staging ")
    assert len(described) - 40 < whole < len(described)  # cuts on either side are tried
    for end in range(len(described) - 40, len(described)):
        cut = RemoteRevision("ca_1@v1", "draft", "Booking", described[:end], {})
        assert not carries_marker(cut, resource)
        assert carries_cut_marker(cut, resource) == (end >= whole), described[:end]
        other = replace(cut, description=described[:end].replace("key=booking", "key=desk"))
        assert not carries_cut_marker(other, resource)
        edited = replace(cut, description="Edited. " + described[:end])
        assert not carries_cut_marker(edited, resource)
    assert not carries_cut_marker(RemoteRevision("ca_1@v1", "draft", "Booking", described,
                                                 {}), resource)  # whole: carries_marker's
