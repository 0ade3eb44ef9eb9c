"""What a reader trailing the writes saw: statuses over time and agents deleted lately."""

from __future__ import annotations

from operator_iac.emulator.agents import Revision
from operator_iac.emulator.consistency import Gone, History, as_seen, status_as_seen


def revision(number: int, status: str) -> Revision:
    return Revision("ca_x", number, "A", "", {}, None, status, 0.0, 0.0)


def test_statuses_at_a_moment_are_the_last_recorded_before_it() -> None:
    history = History()
    assert history.statuses_at("ca_x", 100.0) is None  # nothing known: consistent
    history.record("ca_x", 10.0, {0: "draft"})
    history.record("ca_x", 20.0, {0: "released"})
    history.record("ca_x", 30.0, {0: "released", 1: "draft"})
    assert history.statuses_at("ca_x", 5.0) == {}
    assert history.statuses_at("ca_x", 15.0) == {0: "draft"}
    assert history.statuses_at("ca_x", 25.0) == {0: "released"}
    assert history.statuses_at("ca_x", 35.0) == {0: "released", 1: "draft"}


def test_versions_as_seen_drop_newer_revisions_and_keep_old_statuses() -> None:
    now = [revision(0, "archived"), revision(1, "released")]
    assert as_seen(now, None) == now
    assert [(r.number, r.status) for r in as_seen(now, {0: "released"})] == [(0, "released")]
    assert as_seen(now, {}) == []
    assert status_as_seen(now[1], {0: "released"}).status == "released"  # too new: as it is
    assert status_as_seen(now[0], {0: "released"}).status == "released"


def test_deleted_agents_are_listed_until_the_moment_passes_their_delete() -> None:
    history = History()
    history.record("ca_x", 1.0, {0: "draft"})
    history.bury("ca_x", Gone(7, "ca", 1.0, 50.0, revision(0, "draft")))
    assert history.statuses_at("ca_x", 60.0) is None
    assert [g.seq for g in history.still_listed("ca", 40.0)] == [7]
    assert history.still_listed("pa", 40.0) == []
    assert history.still_listed("ca", 50.0) == []  # the delete is visible
    assert history.still_listed("ca", 0.5) == []  # it did not exist yet
