"""The ``procedure`` assertion: did the post-processing of a named procedural agent run on the
test conversation, end with the expected status, and produce output that fits the agent's
``output_schema`` and the test's field matchers?

The agent is named as the test wrote it: a project key (resolved to its platform id), a
``pa_...`` id, or the agent's name as the procedure reports it. Pure: the runner fetched the
procedures; this module only judges them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from operator_iac.api.models import Procedure, agent_id_of
from operator_iac.smoke.matchers import check_fields, describe, show
from operator_iac.spec.assertions import ProcedureExpect
from operator_iac.spec.schema_dialect import as_json_schema
from operator_iac.state.times import parse_time

_UNKNOWN = datetime.min.replace(tzinfo=UTC)  # a run whose creation time reads as none

# Procedure statuses after which the run will not change (pending and running will).
FINAL_PROCEDURE_STATUSES = frozenset({"success", "failed", "skipped", "cancelled"})


@dataclass(frozen=True)
class ProcedureVerdict:
    """The judgement of one ``procedure`` assertion, in the words of an ``AssertionResult``."""

    description: str
    passed: bool
    expected: str
    seen: str


def procedures_of(agent: str, agent_id: str | None,
                  procedures: Sequence[Procedure]) -> list[Procedure]:
    """The procedures run by ``agent`` (key, id or name), oldest first."""
    ids = {agent_id_of(i) for i in (agent_id, agent) if i and i.startswith("pa_")}

    def runs_agent(procedure: Procedure) -> bool:
        ran = {agent_id_of(v) for v in (procedure.agent_id, procedure.agent_version_id) if v}
        return bool(ids & ran) or procedure.name == agent

    # Oldest first by time, not by text (precisions differ); a run with no readable time
    # keeps its place at the start, as the platform listed it.
    return sorted((p for p in procedures if runs_agent(p)),
                  key=lambda p: parse_time(p.created_at) or _UNKNOWN)


def is_final(procedure: Procedure) -> bool:
    return (procedure.status or "").lower() in FINAL_PROCEDURE_STATUSES


def check_procedure(expect: ProcedureExpect, procedures: Sequence[Procedure],
                    agent_id: str | None, schema: Mapping[str, Any] | None,
                    waited_s: float | None = None) -> ProcedureVerdict:
    """Judge the newest procedure of ``expect.agent`` among the conversation's procedures."""
    conditions = [f"output {path} {describe(m)}" for path, m in expect.output.items()]
    description = f"procedure {expect.agent} {expect.status}" + (
        f" with {' and '.join(conditions)}" if conditions else "")
    expected = f"a procedure of {expect.agent} with status {expect.status}" + (
        f" and {' and '.join(conditions)}" if conditions else "")
    runs = procedures_of(expect.agent, agent_id, procedures)
    if not runs:
        return ProcedureVerdict(description, False, expected, _none_ran(expect.agent,
                                                                        procedures, waited_s))
    procedure = runs[-1]
    problem = _status_problem(expect, procedure, waited_s) or _output_problem(
        expect, procedure, schema)
    seen = problem or f"status {procedure.status} ({procedure.id})"
    return ProcedureVerdict(description, problem is None, expected, seen)


def _none_ran(agent: str, procedures: Sequence[Procedure], waited_s: float | None) -> str:
    others = sorted({p.name or p.agent_id or p.id for p in procedures})
    after = f" after waiting {waited_s:g}s" if waited_s is not None else ""
    also = f" (procedures seen: {', '.join(others)})" if others else ""
    return f"no procedure of {agent} for this conversation{after}{also}"


def _status_problem(expect: ProcedureExpect, procedure: Procedure,
                    waited_s: float | None) -> str | None:
    status = (procedure.status or "").lower()
    if status == expect.status:
        return None
    if not is_final(procedure):
        after = f" after waiting {waited_s:g}s" if waited_s is not None else ""
        return f"status {status or '(none)'}{after}: the procedure did not finish"
    error = f" (error: {show(procedure.error, 160)})" if procedure.error else ""
    return f"status {status}{error}"


def _output_problem(expect: ProcedureExpect, procedure: Procedure,
                    schema: Mapping[str, Any] | None) -> str | None:
    if expect.status != "success":
        return None
    output = procedure.output
    if schema is not None:
        invalid = schema_problem(output, schema)
        if invalid is not None:
            return f"output {show(output, 160)} does not match the output_schema: {invalid}"
    failures = check_fields(expect.output, output if output is not None else {})
    if failures:
        return f"output {failures[0]}" + (f" (and {len(failures) - 1} more)"
                                          if len(failures) > 1 else "")
    return None


def schema_problem(instance: Any, schema: Mapping[str, Any]) -> str | None:
    """The most relevant violation of ``instance`` against ``schema`` (JSON Schema, or an
    OpenAPI 3.0 schema object: ``nullable``), or None when it is valid."""
    # jsonschema is slow to import; only runs with a procedure assertion need it.
    from jsonschema.exceptions import best_match
    from jsonschema.validators import Draft202012Validator, validator_for

    schema = as_json_schema(schema)
    validator_class = validator_for(schema, default=Draft202012Validator)
    error = best_match(validator_class(schema).iter_errors(instance))
    if error is None:
        return None
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"{error.message} (at ${where})"
