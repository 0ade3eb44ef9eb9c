"""Identity and ownership: markers, adoption, ambiguity, prune and protection."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from operator_iac.errors import DeclarationError
from operator_iac.plan.identity import read_name
from operator_iac.plan.marker import Marker, with_marker

Factory = Any


def test_ownership_survives_a_newest_revision_without_the_marker(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        rev: Factory) -> None:
    agent = make_desired(name="Booking")
    first = replace(written(agent), status="archived")
    edit = rev("released", "Booking", "Dashboard edit", first.config)
    remote = make_remote("ca_1", agent.kind, first, edit)
    same_name_stranger = make_remote("ca_2", agent.kind, rev("released", "Booking", "x"))

    resource = plan_for([agent], [remote, same_name_stranger]).resources[0]

    assert resource.action == "update"
    assert resource.agent_id == "ca_1"
    assert resource.drift is True


def test_the_newest_marker_decides_when_the_key_changed(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory) -> None:
    old_key, new_key = make_desired("old-key"), make_desired("new-key")
    remote = make_remote("ca_1", old_key.kind, replace(written(old_key), status="archived"),
                         written(new_key))

    plan = plan_for([new_key], [remote])

    assert [(r.key, r.action, r.agent_id) for r in plan.resources] == [
        ("new-key", "no-op", "ca_1")]
    assert plan.unpruned == ()


def test_a_same_named_unmanaged_agent_is_an_adoption_candidate(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, rev: Factory) -> None:
    agent = make_desired(name="Booking")
    stranger = make_remote("ca_9", agent.kind, rev("released", "Booking", "Hand made",
                                                   {"runtime": {"model": "x"}}))

    without = plan_for([agent], [stranger]).resources[0]
    adopted = plan_for([agent], [stranger], adopt=True).resources[0]

    assert (without.action, without.blocked, without.agent_id) == ("adopt", "needs_adopt", "ca_9")
    assert (adopted.action, adopted.blocked) == ("adopt", None)
    assert adopted.drift is False
    assert "config.runtime.model" in {c.path for c in adopted.changes}


def test_adopting_a_never_released_agent_diffs_against_its_draft(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, rev: Factory) -> None:
    # A dashboard agent whose v0 was never released, holding exactly the declared content.
    agent = make_desired(name="Booking")
    stranger = make_remote("ca_9", agent.kind,
                           rev("draft", agent.name, agent.description, dict(agent.config)))

    adopted = plan_for([agent], [stranger], adopt=True).resources[0]

    assert (adopted.action, adopted.agent_id) == ("adopt", "ca_9")
    assert adopted.changes == ()
    assert adopted.prompt_diff is None


def test_the_prompt_diff_of_a_never_released_agent_names_its_draft(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, rev: Factory) -> None:
    agent = make_desired(name="Booking")
    config = dict(agent.config)
    config["runtime"] = {**config["runtime"], "prompt": {"type": "fixed", "text": "Old words."}}
    stranger = make_remote("ca_9", agent.kind, rev("draft", agent.name, agent.description,
                                                  config))

    adopted = plan_for([agent], [stranger], adopt=True).resources[0]

    assert adopted.prompt_diff is not None
    assert f"--- {agent.key} (draft)" in adopted.prompt_diff, adopted.prompt_diff


def test_two_adoption_candidates_are_an_error_listing_both(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, rev: Factory) -> None:
    agent = make_desired(name="Booking")
    remotes = [make_remote(i, agent.kind, rev("released", "Booking", "x")) for i in
               ("ca_1", "ca_2")]

    with pytest.raises(DeclarationError, match="ca_1, ca_2") as caught:
        plan_for([agent], remotes, adopt=True)
    assert "agents/booking.yaml" in str(caught.value)


def test_agents_of_another_project_or_kind_are_not_adopted(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        rev: Factory) -> None:
    agent = make_desired(name="Booking")
    other_project = make_remote("ca_1", agent.kind, written(agent, project="other-team"))
    other_kind = make_remote("pa_1", "procedural_agent", rev("released", "Booking", "x"))

    resource = plan_for([agent], [other_project, other_kind], adopt=True).resources[0]

    assert resource.action == "create"


def test_two_remote_agents_with_one_key_are_an_error(
        plan_for: Factory, make_desired: Factory, managed: Factory) -> None:
    agent = make_desired()

    with pytest.raises(DeclarationError, match="ca_1, ca_2"):
        plan_for([agent], [managed(agent, "ca_1"), managed(agent, "ca_2")])


def test_a_key_owned_by_an_agent_of_another_kind_is_an_error(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory) -> None:
    procedural = make_desired("booking", "procedural_agent")
    conversational = make_desired("booking")

    with pytest.raises(DeclarationError, match="procedural_agent"):
        plan_for([conversational], [make_remote("pa_1", "procedural_agent",
                                                written(procedural))])


def test_two_keys_cannot_adopt_the_same_agent(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, rev: Factory) -> None:
    first, second = make_desired("a", name="Same"), make_desired("b", name="Same")

    with pytest.raises(DeclarationError, match="would both adopt ca_1"):
        plan_for([first, second], [make_remote("ca_1", first.kind, rev("released", "Same", ""))])


def test_prune_deletes_only_this_projects_undeclared_agents(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, managed: Factory,
        written: Factory, rev: Factory) -> None:
    kept = make_desired("kept")
    gone = make_desired("gone")
    remote = [managed(kept, "ca_1"), managed(gone, "ca_2"),
              make_remote("ca_3", "conversational_agent", written(gone, project="other-team")),
              make_remote("ca_4", "conversational_agent", rev("released", "Gone", "unmanaged"))]

    listed = plan_for([kept], remote)
    pruned = plan_for([kept], remote, prune=True)

    assert [(u.key, u.agent_id) for u in listed.unpruned] == [("gone", "ca_2")]
    assert [r.action for r in listed.resources] == ["no-op"]
    delete = pruned.resource("gone")
    assert delete is not None
    assert (delete.action, delete.agent_id, delete.risks, delete.blocked) == (
        "delete", "ca_2", ("deletion",), None)
    assert [r.key for r in pruned.resources if r.action == "delete"] == ["gone"]
    assert pruned.unpruned == ()


def test_prune_in_a_protected_environment_needs_allow_delete(
        plan_for: Factory, make_desired: Factory, managed: Factory) -> None:
    gone = make_desired("gone")

    blocked = plan_for([], [managed(gone, "ca_2")], prune=True, protect=True)
    allowed = plan_for([], [managed(gone, "ca_2")], prune=True, allow_delete=True, protect=True)

    assert blocked.resources[0].blocked == "needs_allow_delete"
    assert allowed.resources[0].blocked is None
    assert blocked.protected is True


def test_a_marker_written_outside_a_marker_line_does_not_own(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, rev: Factory) -> None:
    agent = make_desired(name="Booking")
    line = str(Marker("acme-support", "booking", "0" * 16))
    remote = make_remote("ca_1", agent.kind, rev("released", "Other", f"see {line} here"))

    assert plan_for([agent], [remote]).resources[0].action == "create"
    assert with_marker("x", Marker("acme-support", "booking", "0" * 16)).endswith(line)


# ---- environments as identities ------------------------------------------------------------


def in_environment(revision: Any, environment: str | None) -> Any:
    """``revision`` with its marker naming ``environment`` (None: written before markers
    named one)."""
    from operator_iac.plan.marker import parse_marker

    marker = parse_marker(revision.description)
    assert marker is not None
    return replace(revision, description=with_marker(
        revision.description, replace(marker, environment=environment)))


def test_an_agent_another_environment_wrote_is_never_this_one_s_even_by_name(
        plan_for: Factory, make_desired: Factory, make_remote: Factory,
        written: Factory) -> None:
    agent = make_desired(name="Booking")
    production = make_remote("ca_9", agent.kind, in_environment(written(agent), "production"))

    plan = plan_for([agent], [production], prune=True)

    # Not owned, not adoptable (it is managed), not pruned: staging creates its own.
    assert [(r.key, r.action, r.agent_id) for r in plan.resources] == [
        ("booking", "create", None)]
    assert plan.unrecorded_environment == ()
    assert "env=staging" in (plan.resources[0].desired.description if plan.resources[0].desired
                             else "")


def test_the_newest_marker_decides_the_environment_too(
        plan_for: Factory, make_desired: Factory, make_remote: Factory,
        written: Factory) -> None:
    agent = make_desired()
    legacy = replace(in_environment(written(agent), None), status="archived")
    remote = make_remote("ca_1", agent.kind, legacy, in_environment(written(agent), "production"))

    assert plan_for([agent], [remote]).resources[0].action == "create"


def test_markers_without_an_environment_are_read_as_this_one_s_with_a_note(
        plan_for: Factory, make_desired: Factory, make_remote: Factory,
        written: Factory) -> None:
    agent = make_desired()
    legacy = make_remote("ca_1", agent.kind, in_environment(written(agent), None))
    staged = make_remote("ca_2", agent.kind, in_environment(written(make_desired("faq")),
                                                             "staging"))

    plan = plan_for([agent, make_desired("faq")], [legacy, staged])

    assert [(r.key, r.action, r.agent_id) for r in plan.resources] == [
        ("booking", "no-op", "ca_1"), ("faq", "no-op", "ca_2")]
    assert plan.unrecorded_environment == ("booking",)


def test_an_agent_of_this_environment_beats_one_claimed_through_an_old_marker(
        plan_for: Factory, make_desired: Factory, make_remote: Factory,
        written: Factory) -> None:
    agent = make_desired()
    legacy = make_remote("ca_1", agent.kind, in_environment(written(agent), None))
    own = make_remote("ca_2", agent.kind, in_environment(written(agent), "staging"))

    plan = plan_for([agent], [legacy, own], prune=True)

    assert [(r.key, r.action, r.agent_id) for r in plan.resources] == [
        ("booking", "no-op", "ca_2")]
    assert plan.unrecorded_environment == ()


@pytest.mark.parametrize("stored", [
    "Joe&#x27;s caf\u00e9 Q&amp;A", "Joe's cafe\u0301 Q&A", "  Joe's   café Q&A\n",
    "Joe&#39;s caf&eacute; Q&amp;A",
])
def test_a_name_the_platform_holds_in_its_own_form_is_the_same_name(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, rev: Factory,
        stored: str) -> None:
    """Encoded, decomposed or spaced otherwise, the name a person reads is the declared
    one: an adoption candidate, not a create beside it. Case still tells names apart."""
    agent = make_desired(name="Joe's café Q&A")
    stranger = make_remote("ca_9", agent.kind, rev("released", stored, "Hand made", {}))
    other = make_remote("ca_8", agent.kind, rev("released", "joe's café q&a", "Hand made", {}))

    planned = plan_for([agent], [stranger, other]).resources[0]

    assert (planned.action, planned.agent_id) == ("adopt", "ca_9")
    assert read_name(stored) == "Joe's café Q&A"


def test_an_agent_this_machine_created_whose_marker_was_cut_off_is_that_key_s(
        make_desired: Factory, make_remote: Factory, rev: Factory) -> None:
    """A create whose marker the platform cut off at its limit, the run killed before it
    fitted one: an agent without any marker. Where this machine's journal names the create
    (``Snapshot.created_here``), it is that key's, never one to adopt; an agent carrying
    another project's marker is never taken so, and one the journal does not name stays an
    adoption candidate."""
    from operator_iac.plan.builder import build_plan
    from operator_iac.plan.options import PlanOptions
    from operator_iac.state.snapshot import Snapshot

    agent = make_desired(name="Booking")
    cut = make_remote("ca_1", agent.kind, rev("draft", agent.name,
                                              agent.description + "\n\n[operator-iac proj",
                                              dict(agent.config)))
    other = make_remote("ca_2", agent.kind, rev("draft", agent.name, with_marker(
        agent.description, Marker("someone-else", "booking", "0" * 16, None)),
        dict(agent.config)))

    def resource(remote: Any, created: frozenset[tuple[str, str]]) -> Any:
        # The journal's create names the first revision it wrote too.
        drafted = frozenset(remote.draft.version_id for agent_id, _ in created
                            if agent_id == remote.id)
        snapshot = Snapshot(api_url="https://api.example.test", agents=(remote,),
                            created_here=created, drafted_here=drafted)
        return build_plan({agent.key: agent}, snapshot, project="acme",
                          environment="staging", options=PlanOptions(), commit="abc1234",
                          protect=False, created_at="2025-06-19T00:00:00Z").resources[0]

    here = resource(cut, frozenset({("ca_1", agent.key)}))
    assert (here.action, here.agent_id, here.blocked) == ("update", "ca_1", None)
    assert resource(cut, frozenset()).action == "adopt"
    assert resource(other, frozenset({("ca_2", agent.key)})).action == "create"
