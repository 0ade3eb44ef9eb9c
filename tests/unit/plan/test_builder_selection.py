"""Selection (--target/--exclude), references between agents, and apply order."""

from __future__ import annotations

from typing import Any

import pytest

from operator_iac.errors import DeclarationError, InvalidInputError, UsageError

Factory = Any


@pytest.fixture
def project_agents(make_desired: Factory, with_config: Factory) -> dict[str, Any]:
    """A procedural agent, a front desk, and a booking agent referring to both."""
    summary = make_desired("call-summary", "procedural_agent")
    front = make_desired("front-desk")

    def transfer_to_front(config: dict[str, Any]) -> None:
        config["tool"]["transfers"] = [{"entity_id": "agent:front-desk"}]

    booking = with_config(make_desired("booking", postprocess=("call-summary",)),
                          transfer_to_front)
    return {"summary": summary, "front": front, "booking": booking}


def test_procedural_agents_come_before_the_agents_that_name_them(
        plan_for: Factory, project_agents: dict[str, Any]) -> None:
    plan = plan_for(list(project_agents.values()))

    waves = [[r.key for r in wave] for wave in plan.waves()]

    assert waves == [["call-summary", "front-desk"], ["booking"]]
    assert [r.key for r in plan.ordered_resources()] == ["call-summary", "front-desk", "booking"]
    assert plan.resource("booking").depends_on == (  # type: ignore[union-attr]
        "call-summary", "front-desk")


def test_agents_wait_for_the_procedural_agents_they_name_that_the_plan_writes(
        plan_for: Factory, project_agents: dict[str, Any], managed: Factory,
        with_config: Factory) -> None:
    """Existing agents, every one changed: the booking agent's smoke tests see the released
    revision of the procedural agent it names, so that one goes first; the agent it
    transfers to (conversational) is no reason to wait."""
    ids = {"call-summary": "pa_1", "front-desk": "ca_2"}

    def older(config: dict[str, Any]) -> None:
        config["runtime"]["prompt"]["text"] = "An older prompt."

    others = [managed(with_config(project_agents["front"], older), "ca_2"),
              managed(with_config(project_agents["booking"], older), "ca_3", ids=ids)]
    declared = list(project_agents.values())

    plan = plan_for(declared, [managed(with_config(project_agents["summary"], older), "pa_1"),
                               *others])
    unchanged = plan_for(declared, [managed(project_agents["summary"], "pa_1"), *others])

    assert [r.action for r in plan.resources] == ["update"] * 3
    assert [[r.key for r in wave] for wave in plan.waves()] == [
        ["call-summary", "front-desk"], ["booking"]]
    assert [[r.key for r in wave] for wave in unchanged.waves()] == [["booking", "front-desk"]]


def test_references_to_agents_being_created_are_labelled(
        plan_for: Factory, project_agents: dict[str, Any]) -> None:
    booking = plan_for(list(project_agents.values())).resource("booking")

    changes = {c.path: c for c in booking.changes}  # type: ignore[union-attr]
    assert changes["postprocess_agents"].after == ["agent:call-summary (created by this plan)"]
    assert "config.tool.transfers[entity_id=agent:front-desk (created by this plan)]" in changes
    assert booking.desired.postprocess_agents == ("call-summary",)  # type: ignore[union-attr]


def test_references_to_existing_agents_compare_by_id(
        plan_for: Factory, project_agents: dict[str, Any], managed: Factory) -> None:
    ids = {"call-summary": "pa_1", "front-desk": "ca_2"}
    remote = [managed(project_agents["summary"], "pa_1"),
              managed(project_agents["front"], "ca_2"),
              managed(project_agents["booking"], "ca_3", ids=ids)]

    plan = plan_for(list(project_agents.values()), remote)

    assert [r.action for r in plan.resources] == ["no-op"] * 3
    assert plan.waves() == ()


def test_a_repointed_reference_shows_ids(
        plan_for: Factory, project_agents: dict[str, Any], managed: Factory,
        make_desired: Factory) -> None:
    other = make_desired("other-summary", "procedural_agent")
    ids = {"call-summary": "pa_1", "front-desk": "ca_2", "other-summary": "pa_7"}
    remote = [managed(project_agents["summary"], "pa_1"), managed(other, "pa_7"),
              managed(project_agents["front"], "ca_2")]
    booking = project_agents["booking"]
    remote.append(managed(make_desired("booking", postprocess=("other-summary",),
                                       config=booking.config), "ca_3", ids=ids))

    resource = plan_for([*project_agents.values(), other], remote).resource("booking")

    change = {c.path: c for c in resource.changes}["postprocess_agents"]  # type: ignore[union-attr]
    assert (change.before, change.after) == (["pa_7"], ["pa_1"])


def test_a_target_pulls_in_dependencies_that_do_not_exist_yet(
        plan_for: Factory, project_agents: dict[str, Any], managed: Factory) -> None:
    remote = [managed(project_agents["front"], "ca_2")]

    plan = plan_for(list(project_agents.values()), remote, targets=("booking",))

    assert sorted(r.key for r in plan.resources) == ["booking", "call-summary"]
    assert plan.included_dependencies == ("call-summary",)
    assert plan.known_ids == {"front-desk": "ca_2"}  # not selected, but referenced


def test_excluding_a_dependency_that_must_be_created_is_an_error(
        plan_for: Factory, project_agents: dict[str, Any]) -> None:
    with pytest.raises(UsageError, match="--exclude call-summary"):
        plan_for(list(project_agents.values()), targets=("booking",), excludes=("call-summary",))


def test_exclude_removes_agents_from_the_plan(
        plan_for: Factory, project_agents: dict[str, Any]) -> None:
    plan = plan_for(list(project_agents.values()), excludes=("front-desk", "booking"))

    assert [r.key for r in plan.resources] == ["call-summary"]


def test_an_unknown_target_is_a_usage_error_with_a_hint(
        plan_for: Factory, project_agents: dict[str, Any]) -> None:
    with pytest.raises(UsageError, match="did you mean 'booking'"):
        plan_for(list(project_agents.values()), targets=("bookin",))


def test_a_reference_to_an_undeclared_key_is_a_declaration_error(
        plan_for: Factory, make_desired: Factory) -> None:
    with pytest.raises(DeclarationError, match="'missing'"):
        plan_for([make_desired(postprocess=("missing",))])


def test_prune_respects_targets_and_excludes(
        plan_for: Factory, make_desired: Factory, managed: Factory) -> None:
    remote = [managed(make_desired("gone-a"), "ca_1"), managed(make_desired("gone-b"), "ca_2")]

    targeted = plan_for([], remote, prune=True, targets=("gone-a",))
    excluded = plan_for([], remote, prune=True, excludes=("gone-a",))

    assert [r.key for r in targeted.resources] == ["gone-a"]
    assert [r.key for r in excluded.resources] == ["gone-b"]


def test_deletions_run_conversational_first_after_everything_else(
        plan_for: Factory, make_desired: Factory, managed: Factory) -> None:
    remote = [managed(make_desired("old-summary", "procedural_agent"), "pa_1"),
              managed(make_desired("old-desk"), "ca_1")]

    plan = plan_for([make_desired("new")], remote, prune=True)

    assert [r.key for r in plan.ordered_resources()] == ["new", "old-desk", "old-summary"]


def test_a_reference_cycle_between_new_agents_is_refused(
        plan_for: Factory, make_desired: Factory, with_config: Factory) -> None:
    def to(key: str) -> Any:
        def change(config: dict[str, Any]) -> None:
            config["tool"]["transfers"] = [{"entity_id": f"agent:{key}"}]
        return change

    a = with_config(make_desired("a"), to("b"))
    b = with_config(make_desired("b"), to("a"))

    with pytest.raises(InvalidInputError, match="cycle"):
        plan_for([a, b])


def test_declarations_hash_changes_with_any_declaration(
        plan_for: Factory, project_agents: dict[str, Any], make_desired: Factory) -> None:
    agents = list(project_agents.values())

    first = plan_for(agents).declarations_hash

    assert first == plan_for(agents).declarations_hash
    assert first != plan_for([*agents, make_desired("extra")],
                             excludes=("extra",)).declarations_hash
    assert first != plan_for([*agents[:2], make_desired(
        "booking", description="Other.")]).declarations_hash
