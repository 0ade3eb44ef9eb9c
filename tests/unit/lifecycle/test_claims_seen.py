"""The concurrent-create rule's listings on a platform whose list items carry no description
(``apply.claims``): a claim is read from the versions list once per agent and list item, and
never for the run's own new agents; a versions list behind the agents list leaves the claim
pending, and the run lists again until it is known."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from operator_iac.api.models import Agent, AgentSummary, VersionEntry
from operator_iac.apply.claims import (
    ClaimsBoard,
    SeenClaims,
    _keep_for_own,
    _remove_yielding,
    agent_to_keep,
    claims,
    list_claims,
    settle,
)
from operator_iac.errors import NotFoundError
from operator_iac.plan.marker import Owner, format_marker, parse_marker
from operator_iac.state.lag import caught_up_versions
from operator_iac.state.snapshot import ListedAgent, RemoteAgent, RemoteRevision, RemoteVersion

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
    # id -> how many more reads of its versions list answer as before its newest write: empty
    # for a new agent, else its first revision only (a versions list that catches up late)
    behind: dict[str, int] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)  # id -> its first revision's time
    removed: list[str] = field(default_factory=list)  # ids deleted through ``delete``
    removed_by_others: set[str] = field(default_factory=set)  # a delete of these finds 404

    def delete(self, agent_id: str) -> None:
        if agent_id in self.removed_by_others:
            raise NotFoundError(404, "DELETE", f"/conversational_agents/{agent_id}")
        self.removed.append(agent_id)

    def list(self) -> Iterator[AgentSummary]:
        for agent_id, (version_id, _) in self.newest.items():
            yield AgentSummary.model_validate({"id": agent_id, "version_id": version_id,
                                               "name": agent_id,
                                               "created_at": self.created.get(agent_id)})

    def list_versions(self, agent_id: str) -> list[VersionEntry]:
        self.read.append(agent_id)
        if agent_id in self.deleted:
            raise NotFoundError(404, "GET", f"/conversational_agents/{agent_id}/versions")
        version_id, description = self.newest[agent_id]
        if self.behind.get(agent_id, 0) > 0:
            self.behind[agent_id] -= 1
            return [] if version_id.endswith("@v0") else [VersionEntry.model_validate(
                {"version_id": f"{agent_id}@v0", "name": agent_id, "description": "Theirs.",
                 "version_status": "released"})]
        return [VersionEntry.model_validate({"version_id": version_id, "name": agent_id,
                                             "description": description,
                                             "version_status": "draft",
                                             "created_at": self.created.get(agent_id)})]

    def get(self, version_id: str, **_options: bool) -> Agent:
        agent_id = version_id.partition("@")[0]
        return Agent.model_validate({"id": agent_id, "version_id": version_id, "name": agent_id,
                                     "description": self.newest[agent_id][1], "config": {}})


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


def test_a_versions_list_behind_the_list_leaves_the_claim_pending_and_unremembered() -> None:
    agents = Agents({"ca_new": ("ca_new@v0", marked("desk")),
                     "ca_old": ("ca_old@v1", marked("front"))},
                    behind={"ca_new": 1, "ca_old": 1})
    seen = SeenClaims()
    first = list_claims(agents, OWNER, seen)  # type: ignore[arg-type]
    # neither versions list shows the revision its list item describes: nothing is known
    assert first.claims == {} and first.pending == {"ca_new", "ca_old"}
    second = list_claims(agents, OWNER, seen)  # type: ignore[arg-type]
    assert second.claims == {"desk": ["ca_new"], "front": ["ca_old"]} and not second.pending


def test_the_board_lists_again_until_every_claim_is_known() -> None:
    agents = Agents({"ca_mine": ("ca_mine@v0", marked("desk")),
                     "ca_theirs": ("ca_theirs@v0", marked("desk"))}, behind={"ca_theirs": 2})
    board = ClaimsBoard(None, OWNER, sleep=lambda _s: None)  # type: ignore[arg-type]
    board.seen.own("ca_mine", "desk")
    board.client = _Client(agents)  # type: ignore[assignment]
    listing = board.listing_after("conversational_agent", time.monotonic(), "ca_mine")
    # the other run's create is seen, so the claim rule can decide between the two
    assert listing.claims == {"desk": ["ca_mine", "ca_theirs"]} and not listing.pending
    assert agents.read == ["ca_theirs"] * 3


def test_the_claim_rule_ranks_no_agent_on_a_versions_list_that_has_not_caught_up() -> None:
    agents = Agents({"ca_mine": ("ca_mine@v0", marked("desk")),
                     "ca_theirs": ("ca_theirs@v0", marked("desk"))},
                    behind={"ca_theirs": 2},
                    created={"ca_mine": "2026-12-05T10:00:02Z",
                             "ca_theirs": "2026-12-05T10:00:01Z"})
    client = _Client(agents)
    listing = list_claims(agents, OWNER)  # type: ignore[arg-type]
    agents.behind["ca_theirs"] = 2
    keep, same = agent_to_keep(client, "conversational_agent",  # type: ignore[arg-type]
                               {"ca_mine", "ca_theirs"}, "ca_mine", HASH, listing=listing,
                               sleep=lambda _s: None)
    # read as it was (no revision yet), the other run's agent would rank last and both
    # runs would keep their own; read once it caught up, it was created first
    assert keep == "ca_theirs" and same


@dataclass
class _Client:
    conversational_agents: Agents


def test_the_claims_before_a_create_wait_for_a_versions_list_that_lags() -> None:
    """The listing a run reads before its first create: another run's agent, just written,
    whose versions list does not show that revision yet, is neither taken as nobody's (its
    key would be created twice) nor waited for without end."""
    agents = Agents({"ca_theirs": ("ca_theirs@v1", marked("desk"))}, behind={"ca_theirs": 2})
    pauses: list[float] = []
    found = claims(agents, OWNER, SeenClaims(), sleep=pauses.append)  # type: ignore[arg-type]
    assert found == {"desk": ["ca_theirs"]} and len(pauses) == 2

    never = Agents({"ca_theirs": ("ca_theirs@v1", marked("desk"))}, behind={"ca_theirs": 99})
    waited: list[float] = []
    assert claims(never, OWNER, SeenClaims(), timeout_s=1.0,  # type: ignore[arg-type]
                  sleep=waited.append) == {}
    assert 1.0 <= sum(waited) < 2.0


def test_a_listed_agent_is_read_once_its_versions_list_shows_what_the_list_described(
) -> None:
    """The reading of the account (``state.lag``): an agent whose versions list lags is read
    again until it shows the revision its list item described, then read as it is."""
    agents = Agents({"ca_theirs": ("ca_theirs@v1", marked("desk"))}, behind={"ca_theirs": 1})
    pauses: list[float] = []
    client = type("Client", (), {"conversational_agents": agents, "pause": pauses.append})()
    listed = ListedAgent("conversational_agent", "ca_theirs", "ca_theirs", None, "ca_theirs@v1",
                         "draft")
    versions = caught_up_versions(client, listed)  # type: ignore[arg-type]
    assert [v.version_id for v in versions] == ["ca_theirs@v1"] and len(pauses) == 1
    assert parse_marker(versions[0].description) is not None


def an_agent(agent_id: str, *statuses: str) -> RemoteAgent:
    """A claimant of ``desk`` created in the same second as the others, its revisions'
    statuses in order."""
    return RemoteAgent("conversational_agent", agent_id, tuple(
        RemoteVersion(f"{agent_id}@v{n}", n, status, agent_id, marked("desk"),  # type: ignore[arg-type]
                      created_at="2026-12-05T23:26:14Z") for n, status in enumerate(statuses)))


def test_a_run_yields_to_an_agent_another_run_released_on_a_platform_that_releases_on_create(
) -> None:
    """Every new agent is released by the platform, and their creation times tie to the
    second: another run's agent that it has released since (a later revision) is kept, even
    where the ids alone would keep this run's; that run may never have seen this one."""
    mine = an_agent("ca_a", "released", "draft")  # this run's, its v0 released on create
    theirs = an_agent("ca_z", "archived", "released")  # another run finished and released v1
    assert _keep_for_own([mine, theirs], "ca_a", HASH)[0] == "ca_z"
    # Neither released by a run yet: the rule as before (ties broken by id).
    fresh = an_agent("ca_z", "released")
    assert _keep_for_own([mine, fresh], "ca_a", HASH)[0] == "ca_a"
    # Where only runs release (this run's v0 is a draft), "ever released first" decides.
    drafted = an_agent("ca_a", "draft")
    assert _keep_for_own([drafted, an_agent("ca_z", "draft")], "ca_a", HASH)[0] == "ca_a"
    assert _keep_for_own([drafted, an_agent("ca_z", "released")], "ca_a", HASH)[0] == "ca_z"


def _keeping(created: str, tied: str) -> tuple[list[float], list[str]]:
    """A run's own new agent ``ca_mine`` (created at ``created``) is listed alone; another
    run's ``ca_a``, created at ``tied``, shows only afterwards. The pauses the final
    decision waited, and the claimants its listing shows."""
    agents = Agents({"ca_mine": ("ca_mine@v0", marked("desk"))},
                    created={"ca_mine": created, "ca_a": tied})
    pauses: list[float] = []
    board = ClaimsBoard(_Client(agents), OWNER, sleep=pauses.append)  # type: ignore[arg-type]
    board.seen.own("ca_mine", "desk")
    first = board.listing_after("conversational_agent", time.monotonic(), "ca_mine")
    assert first.claims == {"desk": ["ca_mine"]}
    agents.newest["ca_a"] = ("ca_a@v0", marked("desk"))  # the other run's create shows
    final = board.listing_for_keeping("conversational_agent", time.monotonic(), "ca_mine")
    return pauses, final.claims["desk"]


def test_a_run_keeps_its_agent_only_on_a_listing_that_shows_any_agent_of_the_same_second(
) -> None:
    """Creation times with whole seconds: another run's agent created in the same second
    ties, and its id ranks it first. The run that created the other one may have decided
    on a listing that did not show this run's, so this run decides to keep its own only on
    a listing begun a second after one first showed it: that listing shows the other
    agent, which the rule keeps (as its run does). Deciding on the first listing, both
    runs released their own."""
    pauses, shown = _keeping("2026-12-05T10:00:01Z", "2026-12-05T10:00:01Z")
    assert len(pauses) == 1 and 0.9 < pauses[0] <= 1.0
    assert sorted(shown) == ["ca_a", "ca_mine"]
    client = _Client(Agents({"ca_mine": ("ca_mine@v0", marked("desk")),
                             "ca_a": ("ca_a@v0", marked("desk"))},
                            created={"ca_mine": "2026-12-05T10:00:01Z",
                                     "ca_a": "2026-12-05T10:00:01Z"}))
    keep, _ = agent_to_keep(client, "conversational_agent",  # type: ignore[arg-type]
                            set(shown), "ca_mine", HASH, sleep=lambda _s: None)
    assert keep == "ca_a"


def test_creation_times_with_milliseconds_need_no_wait_before_keeping() -> None:
    pauses, _ = _keeping("2026-12-05T10:00:01.250Z", "2026-12-05T10:00:01.900Z")
    assert sum(pauses) <= 0.001


def test_a_run_keeping_its_agent_deletes_the_same_content_creates_that_yield_to_it() -> None:
    """At its final decision a run that keeps its own agent deletes the other claimants
    written for the same content that no run released: their runs would, had they lived
    (killed before their release, on a machine whose journal the next run never reads).
    Where the platform releases what it creates, only a run's release counts; another
    content is another apply's conflict, left to the next plan."""
    other = with_content(an_agent("ca_other", "draft"), "Answers.\n" + format_marker(
        "shop", "desk", "b" * 64, None, environment="staging"))
    agents = Agents()
    claimants = [with_content(an_agent("ca_dead", "released")),
                 with_content(an_agent("ca_run", "archived", "released")), other]
    _remove_yielding(_Client(agents), "conversational_agent", claimants,  # type: ignore[arg-type]
                     HASH, releases_on_create=True)
    assert agents.removed == ["ca_dead"]
    agents.removed.clear()
    _remove_yielding(_Client(agents), "conversational_agent",  # type: ignore[arg-type]
                     [with_content(an_agent("ca_dead", "draft")),
                      with_content(an_agent("ca_released", "released"))],
                     HASH, releases_on_create=False)
    assert agents.removed == ["ca_dead"]


def with_content(agent: RemoteAgent, description: str = marked("desk")) -> RemoteAgent:
    """``agent`` with the content of its newest revision read (as ``fetch_agent`` reads it)."""
    newest = max(agent.versions, key=lambda v: v.number)
    revision = RemoteRevision(newest.version_id, newest.status, agent.id, description, {})
    return dataclasses.replace(agent, **{
        "released" if newest.status == "released" else "draft": revision})


def test_a_run_yielding_finds_its_agent_deleted_already_by_the_run_that_keeps_the_other(
) -> None:
    """The run keeping the other agent deletes the ones that yield to it at its final
    decision, at the same moment as this run's own delete: a 404 is the deletion the rule
    wants, not a failure that leaves the key a conflict."""
    created = "2026-12-05T10:00:01.250Z"
    agents = Agents({"ca_mine": ("ca_mine@v0", marked("desk")),
                     "ca_a": ("ca_a@v0", marked("desk"))},
                    created={"ca_mine": created, "ca_a": created},
                    removed_by_others={"ca_mine"})
    board = ClaimsBoard(_Client(agents), OWNER, sleep=lambda _s: None)  # type: ignore[arg-type]
    board.seen.own("ca_mine", "desk")
    yielded = settle(_Client(agents), board, "conversational_agent",  # type: ignore[arg-type]
                     "desk", "ca_mine", since=time.monotonic(), created_here=True,
                     content_hash=HASH)
    assert yielded is not None and yielded.keep == "ca_a"
    assert yielded.deleted and yielded.same_content and yielded.problem is None


def test_an_agent_kept_whose_marker_the_platform_cut_is_written_for_this_content() -> None:
    """Another apply's write whose marker the platform cut at its limit on descriptions (that
    apply fits it a moment later) still names the key's identity and content hash whole:
    the agent kept holds this content, so a run yielding to it converges rather than report
    a conflict. A cut that leaves the hash torn tells nothing."""
    whole = marked("desk") + " smoke=conv_releaseRecord,conv_proofRecord]"
    whole = whole.replace("] smoke=", " smoke=")  # the marker with its records named
    assert parse_marker(whole) is not None
    cut = whole[:-12]  # cut at the platform's limit, inside the records' ids
    assert parse_marker(cut) is None
    kept = with_content(an_agent("ca_z", "draft"), cut)
    assert _keep_for_own([kept], "ca_a", HASH) == ("ca_z", True)
    torn = marked("desk")[:marked("desk").index("hash=") + 12]
    assert _keep_for_own([with_content(an_agent("ca_z", "draft"), torn)], "ca_a",
                         HASH) == ("ca_z", False)
