"""Which remote agents a project must read: what a list item (the newest revision) can prove,
what only the versions list can, and when the rest of the account must be read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from operator_iac.plan.marker import Marker, with_marker
from operator_iac.plan.scope import ProjectScope
from operator_iac.state.snapshot import ListedAgent, Snapshot

from .conftest import API_URL, PROJECT, Rev

Factory = Callable[..., Any]
OURS = with_marker("Ours.", Marker(PROJECT, "booking", "0" * 16, None))
THEIRS = with_marker("Theirs.", Marker("other-project", "booking", "0" * 16, None))


def _listed(name: str = "Someone", description: str | None = "Plain.",
            kind: str = "conversational_agent") -> ListedAgent:
    return ListedAgent(kind, "ca_1", name, description)  # type: ignore[arg-type]


def test_a_list_item_is_read_for_this_projects_marker_or_a_declared_name(
        make_desired: Factory) -> None:
    scope = ProjectScope.of(PROJECT, {"booking": make_desired(name="Front desk")})
    assert scope.claims_listed(_listed(description=OURS))
    assert scope.claims_listed(_listed(name="Front desk"))
    assert not scope.claims_listed(_listed(name="Front desk", kind="procedural_agent"))
    assert not scope.claims_listed(_listed(description=THEIRS))
    assert not scope.claims_listed(_listed(description=None))
    assert not scope.claims_listed(_listed())


def test_the_versions_list_shows_a_marker_in_any_revision(make_desired: Factory,
                                                          make_remote: Factory) -> None:
    scope = ProjectScope.of(PROJECT, {"booking": make_desired(name="Front desk")})
    hidden = make_remote("ca_1", "conversational_agent", Rev("archived", "Old", OURS),
                         Rev("released", "Renamed", "Edited in the dashboard."))
    assert scope.claims_versions(hidden)
    named = make_remote("ca_2", "conversational_agent", Rev("released", "Front desk", "x"),
                        Rev("draft", "Draft name", "y"))
    assert scope.claims_versions(named)  # its released revision has the declared name
    theirs = make_remote("ca_3", "conversational_agent", Rev("released", "Other", THEIRS))
    assert not scope.claims_versions(theirs)


def test_the_rest_is_read_when_a_key_has_no_owner_or_the_list_shows_no_descriptions(
        make_desired: Factory, managed: Factory) -> None:
    booking = make_desired()
    scope = ProjectScope.of(PROJECT, {"booking": booking})
    owner = managed(booking, "ca_1")
    others = (_listed(), _listed(name="Other"))
    complete = Snapshot(API_URL, (owner,))
    assert scope.reason_to_read_the_rest(complete, ["booking", "new-key"]) is None
    partial = Snapshot(API_URL, (owner,), unread=others)
    assert scope.reason_to_read_the_rest(partial, ["booking"]) is None
    assert scope.reason_to_read_the_rest(partial, ["booking", "new-key"]) == \
        "no agent carries the marker of new-key yet"
    blind = Snapshot(API_URL, (owner,), unread=(_listed(description=None),))
    assert scope.reason_to_read_the_rest(blind, ["booking"]) == \
        "the platform's agent list carries no descriptions"
    many = [f"k{n}" for n in range(5)]
    assert scope.reason_to_read_the_rest(partial, many) == \
        "no agent carries the marker of k0, k1, k2 and 2 more yet"
