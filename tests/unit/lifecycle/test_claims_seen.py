"""The concurrent-create rule's listings on a platform whose list items carry no description
(``apply.claims``): a claim is read from the versions list once per agent and list item, and
never for the run's own new agents."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from operator_iac.api.models import AgentSummary, VersionEntry
from operator_iac.apply.claims import SeenClaims, list_claims
from operator_iac.errors import NotFoundError
from operator_iac.plan.marker import Owner, format_marker

OWNER = Owner("shop", "staging")
HASH = "a" * 64


def marked(key: str) -> str:
    return "Answers.\n" + format_marker("shop", key, HASH, None, environment="staging")


@dataclass
class Agents:
    """An agents list without descriptions; each agent's newest description is kept apart,
    and the versions lists read are counted."""

    newest: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> version, text
    read: list[str] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)  # listed, then deleted before the read

    def list(self) -> Iterator[AgentSummary]:
        for agent_id, (version_id, _) in self.newest.items():
            yield AgentSummary.model_validate({"id": agent_id, "version_id": version_id,
                                               "name": agent_id})

    def list_versions(self, agent_id: str) -> list[VersionEntry]:
        self.read.append(agent_id)
        if agent_id in self.deleted:
            raise NotFoundError(404, "GET", f"/conversational_agents/{agent_id}/versions")
        version_id, description = self.newest[agent_id]
        return [VersionEntry.model_validate({"version_id": version_id, "name": agent_id,
                                             "description": description,
                                             "version_status": "draft"})]


def test_each_agent_is_read_once_until_its_list_item_changes() -> None:
    agents = Agents({"ca_a": ("ca_a@v0", "Theirs."), "ca_b": ("ca_b@v1", marked("desk"))})
    seen = SeenClaims()
    first = list_claims(agents, OWNER, seen)  # type: ignore[arg-type]
    assert first.claims == {"desk": ["ca_b"]} and sorted(agents.read) == ["ca_a", "ca_b"]
    agents.read.clear()
    agents.newest["ca_c"] = ("ca_c@v0", marked("desk"))  # another run's create
    agents.newest["ca_a"] = ("ca_a@v1", marked("front"))  # a new draft of a listed agent
    second = list_claims(agents, OWNER, seen)  # type: ignore[arg-type]
    assert second.claims == {"desk": ["ca_b", "ca_c"], "front": ["ca_a"]}
    assert sorted(agents.read) == ["ca_a", "ca_c"]


def test_the_runs_own_agents_and_unstamped_items() -> None:
    agents = Agents({"ca_mine": ("ca_mine@v0", marked("desk")), "ca_x": ("", "Theirs.")})
    seen = SeenClaims()
    seen.own("ca_mine", "desk")
    for _ in range(2):
        assert list_claims(agents, OWNER, seen).claims == {"desk": ["ca_mine"]}  # type: ignore[arg-type]
    # an item that says nothing of its state is read every time; the run's own, never
    assert agents.read == ["ca_x", "ca_x"]


def test_an_agent_deleted_between_the_listing_and_its_read_claims_nothing() -> None:
    agents = Agents({"ca_gone": ("ca_gone@v0", marked("desk")),
                     "ca_b": ("ca_b@v0", marked("desk"))}, deleted={"ca_gone"})
    assert list_claims(agents, OWNER, SeenClaims()).claims == {"desk": ["ca_b"]}  # type: ignore[arg-type]
