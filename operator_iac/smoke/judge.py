"""The judge of a smoke test: a procedural agent of the project, run on the platform's own LLM
over the finished test conversation (``POST /procedures`` with the conversation's id), whose
structured output says pass or a score, and why.

Deterministic assertions stay the default; a judge runs only where a test declares one, once
per attempt, and its verdict is one more assertion of that attempt (so it counts in the pass
rule). The rubric reaches the judge in the conversation's context (``judge_rubric``), the one
channel the API gives a procedure besides the conversation itself. A judge that cannot be
reached, does not finish, or answers without a verdict leaves the attempt incomplete, never
passed. ``judge_verdict`` is pure; ``run_judge`` does the requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from operator_iac.smoke.matchers import decode_json, show
from operator_iac.smoke.procedure_check import is_final
from operator_iac.smoke.results import AssertionResult
from operator_iac.spec.smoke_rules import (
    JUDGE_PASS_FIELDS,
    JUDGE_REASON_FIELD,
    JUDGE_SCORE_FIELD,
    JudgeSpec,
)

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.models import Procedure

RUBRIC_KEY = "judge_rubric"


def judge_context(judge: JudgeSpec | None) -> dict[str, Any]:
    """The context keys a test conversation carries for its judge."""
    return {RUBRIC_KEY: judge.rubric} if judge is not None else {}


def _expected(judge: JudgeSpec) -> str:
    if judge.min_score is not None:
        return f"the judge's score to be at least {judge.min_score:g}"
    return "the judge to say pass"


def _result(judge: JudgeSpec, passed: bool, seen: str, evaluable: bool = True
            ) -> AssertionResult:
    return AssertionResult("judge", f"judge {judge.agent}", passed, None, _expected(judge),
                           seen, evaluable)


def judge_verdict(judge: JudgeSpec, output: Any) -> AssertionResult:
    """The judge's structured output as an assertion result (its reason in ``seen``)."""
    data = decode_json(output)
    if not isinstance(data, dict):
        return _result(judge, False, f"judge output {show(data, 120)} is not an object",
                       evaluable=False)
    verdict = next((data[f] for f in JUDGE_PASS_FIELDS if isinstance(data.get(f), bool)), None)
    score = data.get(JUDGE_SCORE_FIELD)
    score = score if isinstance(score, int | float) and not isinstance(score, bool) else None
    reason = data.get(JUDGE_REASON_FIELD)
    because = f": {show(reason, 300)}" if isinstance(reason, str) and reason else \
        " (no reason given)"
    if judge.min_score is not None:
        if score is None:
            return _result(judge, False, f"no score in the judge's output{because}",
                           evaluable=False)
        passed = score >= judge.min_score and verdict is not False
        return _result(judge, passed, f"score {score:g}"
                       f"{'' if verdict is None else f', pass {str(verdict).lower()}'}{because}")
    if verdict is None:
        return _result(judge, False, f"no pass or passed in the judge's output{because}",
                       evaluable=False)
    return _result(judge, verdict, f"pass {str(verdict).lower()}{because}")


def run_judge(client: OperatorClient, judge: JudgeSpec, conversation_id: str,
              agent_id: str | None, *, remaining: Callable[[], float], poll_interval_s: float,
              sleep: Callable[[float], None]) -> AssertionResult:
    """Run the judge on the finished conversation and wait for its verdict (until
    ``remaining()`` runs out). Platform errors propagate: the attempt is then an error."""
    if agent_id is None:
        return _result(judge, False, f"the judge agent {judge.agent} is not deployed here",
                       evaluable=False)
    started = client.procedures.create(agent_id, conversation_id, livemode=False)
    while True:
        procedure = client.procedures.get(started.id)
        if is_final(procedure) or remaining() <= poll_interval_s:
            return verdict_of_run(judge, procedure)
        sleep(poll_interval_s)


def verdict_of_run(judge: JudgeSpec, procedure: Procedure | None) -> AssertionResult:
    """The judge's verdict from its run (``procedure``: None when none came): its output
    once it succeeded, else why there is none."""
    if procedure is None:
        return _result(judge, False, f"no run of the judge {judge.agent} came in time",
                       evaluable=False)
    if not is_final(procedure):
        return _result(judge, False, f"the judge's run {procedure.id} did not finish in "
                       f"time (status {procedure.status})", evaluable=False)
    if (procedure.status or "").lower() != "success":
        error = f" ({show(procedure.error, 160)})" if procedure.error else ""
        return _result(judge, False, f"the judge's run {procedure.id} ended "
                       f"{procedure.status}{error}", evaluable=False)
    return judge_verdict(judge, procedure.output)
