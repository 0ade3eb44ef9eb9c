"""Read your writes: the wait for a lagging platform's lists, on a fake clock and platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from operator_iac.api.models import Agent, AgentSummary, Conversation, VersionEntry
from operator_iac.apply.visibility import Write, await_visible
from operator_iac.errors import NotFoundError
from operator_iac.smoke.record import SmokeRecord, record_text


@dataclass
class LaggingAgents:
    """An agents resource whose lists show each write ``lag`` reads after it was made."""

    lag: int
    shown: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # id -> versions
    reads: int = 0

    def list(self) -> list[AgentSummary]:
        self.reads += 1
        return [AgentSummary(id=agent_id, version_id=f"{agent_id}@v0")
                for agent_id in self.shown if self.reads > self.lag]

    def list_versions(self, agent_id: str) -> list[VersionEntry]:
        self.reads += 1
        if self.reads <= self.lag:
            return [VersionEntry(version_id=f"{agent_id}@v0", version_status="draft")]
        return [VersionEntry(version_id=v, version_status=status)
                for _, (v, status) in enumerate(self.shown[agent_id])]  # type: ignore[misc]

    def get(self, version_id: str, **_options: bool) -> Agent:
        """A revision read by its id: never late (as the truth, ``fresh``, says)."""
        agent_id = version_id.partition("@")[0]
        status = dict(self.fresh.get(agent_id, self.shown[agent_id]))[version_id]
        return Agent(id=agent_id, version_id=version_id, name="n", version_status=status)

    fresh: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


@dataclass
class FakeClient:
    conversational_agents: Any
    procedural_agents: Any


def test_a_consistent_platform_costs_one_listing_and_no_wait() -> None:
    agents = LaggingAgents(lag=0, shown={"ca_1": [("ca_1@v0", "released")]})
    pauses: list[float] = []

    late = await_visible(FakeClient(agents, None),
                         [Write("created", "conversational_agent", "ca_1", "ca_1@v0"),
                          Write("released", "conversational_agent", "ca_1", "ca_1@v0")],
                         sleep=pauses.append)

    assert late == [] and pauses == [] and agents.reads == 2  # the listing, the versions


def test_a_lagging_platform_is_waited_for_with_growing_pauses() -> None:
    agents = LaggingAgents(lag=3, shown={"ca_1": [("ca_1@v0", "released")]})
    pauses: list[float] = []

    late = await_visible(FakeClient(agents, None),
                         [Write("released", "conversational_agent", "ca_1", "ca_1@v0")],
                         sleep=pauses.append)

    assert late == []
    assert len(pauses) >= 2 and pauses == sorted(pauses) and pauses[0] < pauses[-1]


def test_past_the_bound_the_run_ends_saying_what_is_not_shown() -> None:
    agents = LaggingAgents(lag=10**6, shown={"ca_1": [("ca_1@v0", "released")]})

    late = await_visible(FakeClient(agents, None),
                         [Write("created", "conversational_agent", "ca_1", "ca_1@v0"),
                          Write("deleted", "conversational_agent", "ca_2")],
                         timeout_s=0.0, sleep=lambda _: None)

    assert late == ["ca_1 not listed yet"]


def test_a_release_of_an_agent_that_existed_reads_no_listing() -> None:
    agents = LaggingAgents(lag=0, shown={"ca_1": [("ca_1@v3", "released")]})

    late = await_visible(FakeClient(agents, None),
                         [Write("drafted", "conversational_agent", "ca_1", "ca_1@v3"),
                          Write("released", "conversational_agent", "ca_1", "ca_1@v3")],
                         sleep=lambda _: None)

    assert late == [] and agents.reads == 1  # its versions list alone


def test_a_release_superseded_by_another_runs_later_one_is_not_waited_for() -> None:
    # this run released @v1 over @v0; another run released @v2 since: @v1 stays archived
    agents = LaggingAgents(lag=0, shown={"ca_1": [("ca_1@v0", "archived"),
                                                  ("ca_1@v1", "archived"),
                                                  ("ca_1@v2", "released")]})
    pauses: list[float] = []

    late = await_visible(FakeClient(agents, None),
                         [Write("released", "conversational_agent", "ca_1", "ca_1@v1",
                                replaced="ca_1@v0")],
                         sleep=pauses.append)

    assert late == [] and pauses == []


@pytest.mark.parametrize(("shown", "fresh", "released", "replaced"), [
    # a rollback to @v0 while the list still shows @v1 (released before it): not yet shown
    ([("ca_1@v0", "archived"), ("ca_1@v1", "released")], None, "ca_1@v0", "ca_1@v1"),
    # a create the platform released at once (@v0), then this run's own @v1 released: the
    # run knew of no release before its own (replaced ""), yet @v0 still shown released is
    # the list behind, as @v1 read by its id says (released)
    ([("ca_1@v0", "released"), ("ca_1@v1", "draft")],
     [("ca_1@v0", "archived"), ("ca_1@v1", "released")], "ca_1@v1", ""),
], ids=["release-before-still-shown", "over-the-platforms-own-release"])
def test_a_release_the_list_does_not_show_yet_is_a_lag_and_waited_for(
        shown: list[tuple[str, str]], fresh: list[tuple[str, str]] | None, released: str,
        replaced: str) -> None:
    agents = LaggingAgents(lag=0, shown={"ca_1": shown},
                           fresh={"ca_1": fresh} if fresh is not None else {})
    pauses: list[float] = []

    late = await_visible(FakeClient(agents, None),
                         [Write("released", "conversational_agent", "ca_1", released,
                                replaced=replaced)],
                         timeout_s=0.2, sleep=pauses.append)

    assert late == [f"{released} not shown as released in its versions list yet"] and pauses


@dataclass
class ListedLate(LaggingAgents):
    """Lists that show each agent once ``late[agent_id]`` listings of the agents were read
    (0: at once), its versions as ``shown``."""

    late: dict[str, int] = field(default_factory=dict)
    listings: int = 0

    def list(self) -> list[AgentSummary]:
        self.listings += 1
        return [AgentSummary(id=agent_id, version_id=f"{agent_id}@v0") for agent_id in self.shown
                if self.listings > self.late.get(agent_id, 0)]


@pytest.mark.parametrize("noted", ["after this run's create", "before this run's create"])
def test_another_applys_create_reported_as_the_outcome_is_waited_for_on_its_own(
        noted: str) -> None:
    """The run created ca_1, and reports another apply's create of another key (ca_2) as that
    key's outcome. When that create was made is not known, only when the run learnt of it:
    noted after ca_1, it must not stand for ca_1 as the newest creation (listed first, it
    would end the wait with ca_1 not listed yet); noted before, ca_1 listed must not stand
    for it. Each is waited for until listed."""
    late_one = "ca_1" if noted == "after this run's create" else "ca_2"
    agents = ListedLate(lag=0, shown={"ca_1": [("ca_1@v0", "released")],
                                      "ca_2": [("ca_2@v0", "released")]},
                        late={late_one: 2})
    mine = [Write("created", "conversational_agent", "ca_1", "ca_1@v0"),
            Write("released", "conversational_agent", "ca_1", "ca_1@v0")]
    others = [Write("created", "conversational_agent", "ca_2", by_other=True),
              Write("released", "conversational_agent", "ca_2", "ca_2@v0", replaced="",
                    by_other=True)]
    pauses: list[float] = []

    late = await_visible(FakeClient(agents, None),
                         [*mine, *others] if late_one == "ca_1" else [*others, *mine],
                         sleep=pauses.append)

    assert late == [] and pauses, pauses  # waited until both were listed
    assert agents.listings == 3


def test_an_agent_deleted_by_someone_else_is_not_waited_for() -> None:
    """The run wrote into an agent that was there before it, and someone deleted it since:
    no list will show the write, so the run does not wait out its bound for it."""

    class Deleted(LaggingAgents):
        def list_versions(self, agent_id: str) -> list[VersionEntry]:
            raise NotFoundError(404, "GET", f"/conversational_agents/{agent_id}/versions")

    pauses: list[float] = []
    late = await_visible(FakeClient(Deleted(lag=0), None),
                         [Write("drafted", "conversational_agent", "ca_1", "ca_1@v3")],
                         sleep=pauses.append)

    assert late == [] and pauses == []
    # An agent this run created may not be readable yet: that is waited for.
    late = await_visible(FakeClient(Deleted(lag=0, shown={"ca_1": []}), None),
                         [Write("created", "conversational_agent", "ca_1", "ca_1@v0")],
                         timeout_s=0.0, sleep=pauses.append)
    assert late == ["ca_1@v0 not shown as written in its versions list yet"]


# ---- smoke records written after a release ---------------------------------------------------


@dataclass
class LaggingConversations:
    """Record conversations whose listing shows, read after read, what ``listings`` says;
    read by id, only those in ``existing``."""

    listings: list[list[str]]
    existing: set[str]
    reads: int = 0

    def list(self, **_filters: str) -> list[Conversation]:
        shown = self.listings[min(self.reads, len(self.listings) - 1)]
        self.reads += 1
        return [_record_conversation(conversation_id) for conversation_id in shown]

    def get(self, conversation_id: str) -> Conversation:
        if conversation_id not in self.existing:
            raise NotFoundError(404, "GET", f"/conversations/{conversation_id}")
        return _record_conversation(conversation_id)

    def in_full(self, listed: Conversation) -> Conversation:
        return listed  # the items carry their override: the conversation itself


def _record_conversation(conversation_id: str) -> Conversation:
    record = SmokeRecord("acme", "booking", "ca_1@v0", False, "s", "2026-01-01T00:00:00Z",
                         stage="release" if conversation_id == "conv_r" else "proof")
    return Conversation(id=conversation_id, livemode=False, status="queued",
                        created_at="2026-01-01T00:00:01Z", agent_id="ca_1@v0",
                        override_config={"runtime": {"prompt": {
                            "type": "fixed", "text": record_text(record)}}})


@dataclass
class Dated:
    reads: int = 0

    def created_at(self, _version_id: str) -> str:
        self.reads += 1
        return "2026-01-01T00:00:00Z"


@dataclass
class RecordsClient:
    conversations: LaggingConversations
    conversational_agents: Any = field(default_factory=Dated)
    procedural_agents: Any = None


RECORDED = Write("recorded", "conversational_agent", "ca_1", "ca_1@v0",
                 records=("conv_r", "conv_p"))


def test_records_written_after_a_release_are_waited_for_until_listed_as_they_are() -> None:
    """The release record not listed yet, then the deleted proof record still listed: both
    are the listing behind; the run waits until it shows the release record alone."""
    conversations = LaggingConversations([[], ["conv_r", "conv_p"], ["conv_r"]], {"conv_r"})
    pauses: list[float] = []

    client = RecordsClient(conversations)
    late = await_visible(client, [RECORDED], sleep=pauses.append)

    assert late == [] and len(pauses) == 2 and conversations.reads == 3
    assert client.conversational_agents.reads == 1  # the revision's creation, read once


@pytest.mark.parametrize(("listing", "existing", "why"), [
    ([], {"conv_r", "conv_p"}, "the release record conv_r of ca_1@v0 not listed yet"),
    (["conv_r", "conv_p"], {"conv_r"},
     "the proof record conv_p of ca_1@v0 still listed after its deletion"),
    (["conv_r"], {"conv_r", "conv_p"}, "the proof record conv_p of ca_1@v0 not listed yet"),
])
def test_past_the_bound_the_run_says_which_record_is_not_listed_as_it_is(
        listing: list[str], existing: set[str], why: str) -> None:
    conversations = LaggingConversations([listing], existing)

    late = await_visible(RecordsClient(conversations), [RECORDED], timeout_s=0.0,
                         sleep=lambda _: None)

    assert late == [why]


@dataclass
class TrailingReads(LaggingAgents):
    """Lists that are never late, and reads by id that show the revision's former
    description for the first ``stale`` of them."""

    stale: int = 0
    gets: int = 0

    def get(self, version_id: str, **_options: bool) -> Agent:
        self.gets += 1
        read = super().get(version_id)
        return read.model_copy(update={"description": "before" if self.gets <= self.stale
                                       else "after"})


def test_a_revision_whose_read_by_id_still_shows_what_it_held_before_is_waited_for() -> None:
    from operator_iac.state.fetch import revision_of
    from operator_iac.state.snapshot import read_state, state_digest

    agents = TrailingReads(lag=0, shown={"ca_1": [("ca_1@v0", "draft")]}, stale=3)
    before = read_state(revision_of(
        Agent(id="ca_1", version_id="ca_1@v0", name="n", description="before",
              version_status="draft"), "ca_1@v0", "draft"))
    pauses: list[float] = []

    late = await_visible(FakeClient(agents, None),
                         [Write("drafted", "conversational_agent", "ca_1", "ca_1@v0")],
                         superseded={"ca_1@v0": frozenset({state_digest(before)})},
                         sleep=pauses.append)

    assert late == [] and agents.gets == 4 and len(pauses) == 2
    # Without anything superseded, a read by id that finds the revision is enough.
    agents = TrailingReads(lag=0, shown={"ca_1": [("ca_1@v0", "draft")]}, stale=3)
    assert await_visible(FakeClient(agents, None),
                         [Write("drafted", "conversational_agent", "ca_1", "ca_1@v0")],
                         sleep=pauses.append) == [] and agents.gets == 1
