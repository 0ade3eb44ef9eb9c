"""Checks of one agent file that the models cannot express field by field: names listed twice,
smoke tests that cannot work as written, prompt variables, ``${...}`` syntax, and whether
``output_schema`` is itself a valid JSON Schema.

Each check is a small function from an ``AgentFile`` to diagnostics; ``check_agent`` runs
them all. Checks that need other files live in ``operator_iac.spec.references``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, get_args

from operator_iac.errors import Diagnostic
from operator_iac.spec.agent_file import AgentFile
from operator_iac.spec.assertions import (
    WHOLE_CONVERSATION_ONLY,
    ConversationStatus,
    assertion_kind,
)
from operator_iac.spec.base import did_you_mean
from operator_iac.spec.loader import DataPath
from operator_iac.spec.models import ConversationalAgentSpec, ProceduralAgentSpec
from operator_iac.spec.owned import path_problem
from operator_iac.spec.prompts import PROMPT_PATH, PROMPT_TEXT
from operator_iac.spec.schema_dialect import as_json_schema
from operator_iac.spec.templates import (
    Substitution,
    find_prompt_references,
    find_substitutions,
    walk_strings,
)

# Documented keys of a conversation's context usable in prompts as `$name`.
CONTEXT_KEYS = ("customer",)
CONVERSATION_STATUSES: tuple[str, ...] = get_args(ConversationStatus)
MAX_SCHEMA_ERRORS = 10

Check = Callable[[AgentFile], Iterable[Diagnostic]]


def check_agent(agent: AgentFile) -> list[Diagnostic]:
    checks: list[Check] = [_duplicate_names, _substitution_syntax, _prompt_variables,
                           _extra_conflicts, _owned_paths]
    if isinstance(agent.spec, ConversationalAgentSpec):
        checks += [_smoke_structure, _smoke_variables]
    else:
        checks += [_filter_statuses, _output_schema]
    return [d for check in checks for d in check(agent)]


def declared_variables(spec: ConversationalAgentSpec | ProceduralAgentSpec) -> list[str]:
    if isinstance(spec, ProceduralAgentSpec):
        return []
    return [v.name for v in spec.config.runtime.variables or []]


def enabled_tools(spec: ConversationalAgentSpec | ProceduralAgentSpec) -> list[str]:
    return [t.name for t in (spec.config.tool.tools or [])] if spec.config.tool else []


def _repeats(items: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    seen: set[Any] = set()
    for index, item in enumerate(items):
        if item in seen:
            yield index, item
        seen.add(item)


def _duplicate_names(agent: AgentFile) -> Iterator[Diagnostic]:
    spec, doc = agent.spec, agent.document
    runtime = ("config", "runtime", "variables")
    for i, name in _repeats(declared_variables(spec)):
        yield doc.diagnostic((*runtime, i, "name"), f"variable {name!r} is declared twice")
    tools = spec.config.tool.tools if spec.config.tool else None
    for i, (ns, name) in _repeats((t.ns, t.name) for t in tools or []):
        yield doc.diagnostic(("config", "tool", "tools", i), f"tool {ns}/{name} is listed twice")
    if isinstance(spec, ConversationalAgentSpec):
        for i, key in _repeats(spec.postprocess_agents):
            yield doc.diagnostic(("postprocess_agents", i), f"{key!r} is listed twice")
        for i, name in _repeats(t.name for t in spec.smoke):
            yield doc.diagnostic(("smoke", i, "name"), f"smoke test name {name!r} is used twice")


def _substitution_syntax(agent: AgentFile) -> Iterator[Diagnostic]:
    for path, sub in substitutions_of(agent):
        if sub.kind == "invalid":
            yield agent.diagnostic_at(path, sub.start, f"invalid substitution {sub.text}: write "
                                      "${var:NAME} or ${env:NAME} ($${ for a literal ${)")
        elif sub.kind == "env" and path[0] != "config":
            yield agent.diagnostic_at(path, sub.start, f"{sub.text} is a secret and may be used "
                                      f"only inside config, not in {path[0]}")


def substitutions_of(agent: AgentFile, data: Any = None) -> Iterator[tuple[DataPath, Substitution]]:
    """Every ``${...}`` of the parts sent to the platform, the effective prompt included (its
    file and fragments); ``data``, when given, is read instead of the file's own (an
    environment's override merged)."""
    data = agent.document.data if data is None else data
    # The loaded prompt is the effective one unless an override replaced the prompt.
    own_prompt = agent.prompt is not None and \
        _at(data, PROMPT_PATH) == _at(agent.document.data, PROMPT_PATH)
    for path, text in sent_strings(data):
        if path == PROMPT_TEXT and own_prompt:
            continue
        for sub in find_substitutions(text):
            yield path, sub
    if own_prompt and agent.prompt is not None:
        for sub in find_substitutions(agent.prompt.text):
            yield PROMPT_TEXT, sub


def sent_strings(data: Any) -> Iterator[tuple[DataPath, str]]:
    """Every string of a declaration's data that is sent to the platform (its name,
    description and config), with its path."""
    return walk_strings({k: data.get(k) for k in ("name", "description", "config")})


def _at(data: Any, path: DataPath) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _prompt_variables(agent: AgentFile) -> Iterator[Diagnostic]:
    prompt = agent.prompt
    if prompt is None:
        return
    declared = declared_variables(agent.spec)
    allowed = [*declared, *CONTEXT_KEYS]
    for ref in find_prompt_references(prompt.text):
        if ref.kind == "variable" and ref.name not in allowed:
            yield prompt.diagnostic(ref.start, _undeclared_variable(ref.name, declared))


def _undeclared_variable(name: str, declared: list[str]) -> str:
    listed = ", ".join(declared) or "none"
    return (f"prompt uses ${name}, which is neither a declared variable "
            f"(config.runtime.variables: {listed}) nor a context key "
            f"(${', $'.join(CONTEXT_KEYS)}){did_you_mean(name, declared)}")


def _extra_conflicts(agent: AgentFile) -> Iterator[Diagnostic]:
    config = agent.document.data.get("config") or {}
    extra = config.get("extra")
    if not isinstance(extra, dict):
        return
    declared = {k: v for k, v in config.items() if k != "extra"}
    for path in _overlaps(declared, extra):
        yield agent.document.diagnostic(
            ("config", "extra", *path),
            f"config.extra sets {'.'.join(map(str, path))}, which config already declares; "
            "declare it in one place", at_key=True)


def _owned_paths(agent: AgentFile) -> Iterator[Diagnostic]:
    """``dashboard_owned`` names fields agent files have (``spec.owned``)."""
    extra = list((agent.spec.config.extra or {}).keys())
    for index, path in enumerate(agent.spec.dashboard_owned):
        problem = path_problem(path, agent.spec.kind, extra)
        if problem:
            yield agent.document.diagnostic(("dashboard_owned", index), problem)


def _overlaps(declared: dict[str, Any], extra: dict[str, Any],
              path: DataPath = ()) -> Iterator[DataPath]:
    for key, value in extra.items():
        if key not in declared:
            continue
        if isinstance(value, dict) and isinstance(declared[key], dict):
            yield from _overlaps(declared[key], value, (*path, key))
        else:
            yield (*path, key)


def _smoke_structure(agent: AgentFile) -> Iterator[Diagnostic]:
    assert isinstance(agent.spec, ConversationalAgentSpec)
    doc = agent.document
    for t, test in enumerate(agent.spec.smoke):
        for i, turn in enumerate(test.turns):
            if i > 0 and turn.user is None:
                yield doc.diagnostic(("smoke", t, "turns", i), "only the first turn (the "
                                     "greeting) may leave out 'user'")
            for a, assertion in enumerate(turn.expect):
                kind = assertion_kind(assertion)
                if kind in WHOLE_CONVERSATION_ONLY:
                    yield doc.diagnostic(("smoke", t, "turns", i, "expect", a),
                                         f"{kind} is about the whole conversation: move it "
                                         "to the test's own 'expect'")


def _smoke_variables(agent: AgentFile) -> Iterator[Diagnostic]:
    spec = agent.spec
    assert isinstance(spec, ConversationalAgentSpec)
    doc = agent.document
    variables = spec.config.runtime.variables or []
    for v, variable in enumerate(variables):
        if variable.default_value is not None:
            continue
        missing = [t.name for t in spec.smoke if variable.name not in t.context.variables]
        if not spec.smoke or missing:
            which = "no smoke test supplies it" if len(missing) == len(spec.smoke) else \
                "smoke test(s) " + ", ".join(map(repr, missing)) + " do not supply it"
            yield doc.diagnostic(("config", "runtime", "variables", v, "name"),
                                 f"variable {variable.name!r} has no default_value and "
                                 f"{which} in context.$variables", severity="warning")
    declared = {v.name for v in variables}
    for t, test in enumerate(spec.smoke):
        for name in test.context.variables:
            if name not in declared:
                yield doc.diagnostic(("smoke", t, "context", "$variables", name),
                                     f"smoke test supplies {name!r}, which is not a declared "
                                     "variable", severity="warning", at_key=True)


def _filter_statuses(agent: AgentFile) -> Iterator[Diagnostic]:
    assert isinstance(agent.spec, ProceduralAgentSpec)
    for i, status in enumerate(agent.spec.config.filter_statuses or []):
        if status not in CONVERSATION_STATUSES:
            yield agent.document.diagnostic(
                ("config", "filter_statuses", i),
                f"{status!r} is not a documented conversation status ("
                f"{', '.join(CONVERSATION_STATUSES)}){did_you_mean(status, CONVERSATION_STATUSES)}",
                severity="warning")


def _output_schema(agent: AgentFile) -> Iterator[Diagnostic]:
    assert isinstance(agent.spec, ProceduralAgentSpec)
    output = agent.spec.config.output
    if output is None or output.output_schema is None:
        return
    # jsonschema is imported only when a schema needs checking: it is slow to import.
    from jsonschema.validators import Draft202012Validator, validator_for

    schema = output.output_schema
    where: DataPath = ("config", "output", "output_schema")
    declared = schema.get("$schema")
    validator = validator_for(schema, default=Draft202012Validator)
    if declared is not None and validator is Draft202012Validator and \
            "2020-12" not in str(declared):
        yield agent.document.diagnostic((*where, "$schema"), f"unknown $schema {declared!r}; "
                                        "checked as JSON Schema draft 2020-12",
                                        severity="warning")
    # OpenAPI 3.0 spellings (``nullable``, boolean exclusive bounds) are checked as the JSON
    # Schema they stand for: the platform documents its schemas as OpenAPI 3 compatible.
    for path, message in _schema_errors(validator, json.dumps(as_json_schema(schema),
                                                              sort_keys=True)):
        yield agent.document.diagnostic((*where, *path),
                                        f"output_schema is not a valid JSON Schema: {message}")


@functools.lru_cache(maxsize=256)
def _schema_errors(validator: Any, schema_json: str) -> tuple[tuple[tuple[str | int, ...], str],
                                                             ...]:
    """The first ``MAX_SCHEMA_ERRORS`` errors of a schema against its meta-schema, by path.
    Cached by content: a command loads the same declarations more than once, and checking a
    schema against its meta-schema costs milliseconds each time."""
    errors = _meta_validator(validator).iter_errors(json.loads(schema_json))
    ordered = sorted(errors, key=lambda e: list(map(str, e.path)))[:MAX_SCHEMA_ERRORS]
    return tuple((tuple(error.path), error.message) for error in ordered)


@functools.cache
def _meta_validator(validator: Any) -> Any:
    return validator(validator.META_SCHEMA)
