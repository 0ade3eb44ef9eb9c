"""The choice between two agents created at once for one key (the claim rule every concurrent
apply follows) and the order of procedure runs are made on times compared as times: a
platform may write them to different precisions, where text order is not time order."""

from __future__ import annotations

from operator_iac.api.models import Procedure
from operator_iac.plan.identity import duplicates
from operator_iac.smoke.procedure_check import procedures_of
from operator_iac.state.snapshot import RemoteAgent, RemoteVersion


def created(agent_id: str, at: str | None) -> RemoteAgent:
    return RemoteAgent("conversational_agent", agent_id, (RemoteVersion(
        f"{agent_id}@v0", 0, "draft", "Desk", "marker", created_at=at),))


def test_the_earliest_created_is_kept_whatever_the_precision_of_its_time() -> None:
    first = created("ca_z", "2026-12-05T19:53:45Z")
    second = created("ca_a", "2026-12-05T19:53:45.5Z")  # half a second later
    assert duplicates([second, first]) == (first, [second])
    assert duplicates([first, second]) == (first, [second])


def test_a_time_that_reads_as_none_ranks_after_every_known_one() -> None:
    known, unknown, absent = (created("ca_z", "2026-12-05T19:53:45Z"),
                              created("ca_a", "soon"), created("ca_b", None))
    assert duplicates([absent, unknown, known])[0] == known


def test_procedure_runs_are_ordered_by_time() -> None:
    runs = [Procedure(id=f"trun_{n}", agent_id="pa_1", created_at=at)
            for n, at in enumerate(["2026-12-05T19:53:45.5Z", "2026-12-05T19:53:45Z"])]
    assert [run.id for run in procedures_of("call-summary", "pa_1", runs)] == \
        ["trun_1", "trun_0"]


def marked(agent_id: str, at: str | None, *, released: bool = True,
           kind: str = "procedural_agent") -> RemoteAgent:
    from operator_iac.plan.marker import format_marker

    text = "Summary.\n\n" + format_marker("acme", "call-summary", "a" * 12, None)
    version = RemoteVersion(f"{agent_id}@v0", 0, "released" if released else "draft",
                            "Call summary", text, created_at=at)
    return RemoteAgent(kind, agent_id, (version,))  # type: ignore[arg-type]


def test_released_twins_are_released_claimants_of_one_key_created_together() -> None:
    from operator_iac.plan.identity import released_twins

    first, twin = marked("pa_1", "2026-12-05T19:53:45Z"), marked("pa_2", "2026-12-05T19:53:46Z")
    assert released_twins([first, twin], "acme", 30.0) == [first, twin]
    later = marked("pa_3", "2026-12-05T19:55:00Z")  # a copy made a minute on: not a twin
    assert released_twins([first, later], "acme", 30.0) == []
    assert released_twins([first, marked("pa_4", None)], "acme", 30.0) == []
    assert released_twins([first, marked("pa_5", "2026-12-05T19:53:46Z", released=False)],
                          "acme", 30.0) == []
