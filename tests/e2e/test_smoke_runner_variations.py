"""The smoke runner against platforms that made the other choice where the contract is
silent (emulator compatibility modes), and against a lost answer to a conversation create."""

from __future__ import annotations

import time
from collections.abc import Callable

from operator_iac.api.client import OperatorClient
from operator_iac.api.models import Procedure
from operator_iac.emulator.procedures import SLOW_POSTPROCESSING_S
from operator_iac.emulator.server import EmulatorServer
from operator_iac.smoke.orphans import orphan_window, sweep_orphans
from operator_iac.smoke.postprocessing import Habits
from operator_iac.smoke.results import RunResult
from operator_iac.smoke.suite import SmokeTarget, run_smoke_tests
from operator_iac.spec.models import SmokeTest

from .test_smoke_runner import (
    AVAILABILITY,
    SUMMARY_SCHEMA,
    Deployed,
    client,
    deployed,
    make_test,
    run,
)

__all__ = ["client", "deployed", "make_test", "run"]
ENDED = {"ended_with_status": "completed"}


def test_a_session_the_server_never_closes_does_not_hold_the_run(
        emulator: EmulatorServer, run: Callable[..., RunResult],
        make_test: Callable[..., SmokeTest]) -> None:
    emulator.set_compat("ws_stays_open")
    started = time.monotonic()
    result = run(make_test(expect=[ENDED], turn_timeout_s=20, timeout_s=40))
    assert result.outcome == "passed", result.reason()
    assert time.monotonic() - started < 10  # not the turn's 20 s, nor the test's 40 s
    assert not any("after conversation.end" in note for note in result.notes)


def test_no_greeting_is_waited_for_when_turn_0_expects_nothing(
        emulator: EmulatorServer, run: Callable[..., RunResult],
        make_test: Callable[..., SmokeTest]) -> None:
    emulator.set_compat("no_greeting")
    result = run(make_test(turns=[AVAILABILITY], expect=[ENDED], turn_timeout_s=5))
    assert result.outcome == "passed", result.reason()
    expecting = run(make_test(turn_timeout_s=0.3))
    assert expecting.outcome == "timeout"
    assert expecting.error == "turn 0: the agent did not finish the greeting within 0.3s"
    assert any("do not speak first" in note for note in expecting.notes)


def test_a_greeting_not_waited_for_is_not_taken_for_the_reply(
        run: Callable[..., RunResult], make_test: Callable[..., SmokeTest]) -> None:
    reply = {"user": "Please check_availability for Tuesday",
             "expect": [{"agent_says": {"contains": "check_availability"}}]}
    result = run(make_test(turns=[reply]))
    assert result.outcome == "passed", result.reason()


def test_a_reply_flagged_as_using_tools_ends_its_turn(
        emulator: EmulatorServer, run: Callable[..., RunResult],
        make_test: Callable[..., SmokeTest]) -> None:
    emulator.set_compat("tool_flag_on_reply")
    started = time.monotonic()
    result = run(make_test(turn_timeout_s=20))
    assert result.outcome == "passed", result.reason()
    assert time.monotonic() - started < 10


def test_the_final_status_is_read_from_the_conversation(
        emulator: EmulatorServer, run: Callable[..., RunResult],
        make_test: Callable[..., SmokeTest]) -> None:
    emulator.set_compat("ended_without_status")
    result = run(make_test(expect=[ENDED]))
    assert result.outcome == "passed", result.reason()
    ended = [e for e in result.events if e.type == "conversation.ended"]
    assert ended and ended[0].payload["status"] == "completed"  # read canonically


def test_a_session_that_carries_only_the_agents_events_is_enough(
        emulator: EmulatorServer, run: Callable[..., RunResult],
        make_test: Callable[..., SmokeTest]) -> None:
    """Every turn is followed on the SSE stream; the session is only for sending."""
    emulator.set_compat("agent_events_only_ws", "ws_stays_open", "relative_session_url")
    started = time.monotonic()
    result = run(make_test(expect=[ENDED], turn_timeout_s=20, timeout_s=40))
    assert result.outcome == "passed", result.reason()
    assert time.monotonic() - started < 10
    kinds = [e.type for e in result.events]
    assert "user.message.received" in kinds and kinds[-1] == "conversation.ended"


def test_post_processing_the_environment_says_the_platform_skips_is_started_at_once(
        emulator: EmulatorServer, client: OperatorClient, run: Callable[..., RunResult],
        make_test: Callable[..., SmokeTest]) -> None:
    emulator.set_compat("no_testmode_postprocessing")
    result = run(make_test(expect=[{"procedure": {"agent": "call-summary"}}]),
                 habits=Habits(testmode_postprocessing=False), keep_conversations=True)
    assert result.outcome == "passed", result.reason()
    assert any("started call-summary with POST /procedures: the environment declares" in n
               for n in result.notes)
    assert len(_runs(client, result)) == 1


def test_a_slow_platform_s_post_processing_is_waited_for_and_never_started_twice(
        emulator: EmulatorServer, client: OperatorClient, run: Callable[..., RunResult],
        make_test: Callable[..., SmokeTest]) -> None:
    """Side effects at most once: a run that has not appeared yet may still come (a queue),
    and a run may post to Slack or a webhook, so nothing is started on a mere wait."""
    emulator.set_compat("slow_postprocessing")
    habits = Habits()
    started = time.monotonic()
    result = run(make_test(expect=[{"procedure": {"agent": "call-summary"}}]), habits=habits,
                 keep_conversations=True)
    assert result.outcome == "passed", result.reason()
    assert time.monotonic() - started >= SLOW_POSTPROCESSING_S  # it waited for the platform
    assert not any("POST /procedures" in n for n in result.notes)
    assert len(_runs(client, result)) == 1
    assert habits.testmode_postprocessing is True  # learnt: later runs never start one
    time.sleep(0.5)  # nothing started by the client is still to come either
    assert len(_runs(client, result)) == 1


def test_an_undeclared_platform_that_never_post_processes_names_the_setting_that_decides(
        emulator: EmulatorServer, client: OperatorClient, run: Callable[..., RunResult],
        make_test: Callable[..., SmokeTest]) -> None:
    emulator.set_compat("no_testmode_postprocessing")
    result = run(make_test(expect=[{"procedure": {"agent": "call-summary"}}], timeout_s=4),
                 keep_conversations=True)
    assert result.outcome != "passed"
    assert any("declare `testmode_postprocessing: false`" in n for n in result.notes)
    assert _runs(client, result) == []


def test_an_agent_the_revision_does_not_post_process_with_is_started_at_once(
        client: OperatorClient, deployed: Deployed, run: Callable[..., RunResult],
        make_test: Callable[..., SmokeTest]) -> None:
    """The platform runs only the revision's postprocess_agents: nothing else may come."""
    runtime = {"model": "openai/gpt-4o-mini", "prompt": {"type": "fixed", "text": "Help."}}
    plain = client.conversational_agents.create("Plain", "", {
        "personas": [{"name": "Amanda"}], "runtime": runtime,
        "tool": {"tools": [{"ns": "acme", "name": "check_availability"}]}})
    started = time.monotonic()
    result = run(make_test(expect=[{"procedure": {"agent": "call-summary"}}]),
                 f"{plain.id}@v0", keep_conversations=True)
    assert result.outcome == "passed", result.reason()
    assert any("started call-summary with POST /procedures: the revision does not name it"
               in n for n in result.notes)
    assert len(_runs(client, result)) == 1
    assert time.monotonic() - started < 10


def test_a_judge_the_revision_post_processes_with_is_not_run_a_second_time(
        emulator: EmulatorServer, client: OperatorClient, run: Callable[..., RunResult],
        make_test: Callable[..., SmokeTest]) -> None:
    """The judge's agent is among the revision's postprocess_agents: the platform runs it
    after the end, and that run is the judge's."""
    judged = make_test(expect=[ENDED], judge={"agent": "call-summary", "rubric": "Kind?"})
    result = run(judged, keep_conversations=True)
    assert len(_runs(client, result)) == 1
    [verdict] = [a for a in result.assertions if a.kind == "judge"]
    assert "did not finish" not in verdict.seen and "no run" not in verdict.seen


def _runs(client: OperatorClient, result: RunResult) -> list[Procedure]:
    assert result.conversation_id is not None
    return list(client.procedures.list_for_conversation(result.conversation_id))


def test_an_output_delivered_as_a_json_encoded_string_is_checked_as_the_object_it_holds(
        emulator: EmulatorServer, run: Callable[..., RunResult],
        make_test: Callable[..., SmokeTest]) -> None:
    emulator.set_compat("output_as_string")
    procedure = {"procedure": {"agent": "call-summary", "status": "success",
                               "output": {"follow_up": {"equals": True}}}}
    result = run(make_test(expect=[procedure]))
    assert result.outcome == "passed", result.reason()
    (check,) = [a for a in result.assertions if a.kind == "procedure"]
    assert check.passed


def test_drafts_refused_are_reported_with_the_status(
        emulator: EmulatorServer, run: Callable[..., RunResult],
        make_test: Callable[..., SmokeTest]) -> None:
    emulator.set_compat("released_only_conversations")
    result = run(make_test())
    assert result.outcome == "error" and result.refused_status == 409
    assert "only the released revision" in result.error


def test_a_lost_create_leaves_no_test_conversation_behind(
        emulator: EmulatorServer, client: OperatorClient, deployed: Deployed,
        make_test: Callable[..., SmokeTest]) -> None:
    emulator.lose_next_response("POST", r"^/conversations$")
    report = run_smoke_tests(client, [SmokeTarget("booking", deployed.booking,
                                                  (make_test(expect=[ENDED]),))],
                             procedural_schemas={"call-summary": SUMMARY_SCHEMA},
                             key_to_id=deployed.ids)
    assert report.passed, report.headline()
    creates = [r.status for r in emulator.requests
               if r.method == "POST" and r.path == "/conversations"]
    assert creates == [502, 200]
    assert [c.id for c in client.conversations.list()] == []


def test_a_record_s_duplicate_is_found_where_conversations_are_listed_as_summaries(
        emulator: EmulatorServer, client: OperatorClient, deployed: Deployed) -> None:
    # A retried create of a smoke record may leave its duplicate; a list that leaves the
    # override out of its items does not show which record a conversation is, the object does.
    emulator.set_compat("summary_lists")
    record = {"runtime": {"prompt": {"type": "fixed", "text": "record one"}}}
    other = {"runtime": {"prompt": {"type": "fixed", "text": "record two"}}}
    duplicate, _ = client.conversations.create_test(deployed.booking, override_config=record)
    kept, _ = client.conversations.create_test(deployed.booking, override_config=record)
    another, _ = client.conversations.create_test(deployed.booking, override_config=other)
    assert all(c.override_config is None for c in client.conversations.list())  # summaries

    window = orphan_window(client, deployed.booking, kept.id, span_s=30.0)
    assert sweep_orphans(client, window) == [duplicate.id]
    assert {c.id for c in client.conversations.list()} == {kept.id, another.id}
