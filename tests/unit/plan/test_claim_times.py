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
