"""Checks across agent files: every reference to another agent names a declared agent of the
right kind, and no agent references itself or forms a cycle where that cannot be applied.

References are: ``postprocess_agents`` (procedural agents, by key), transfers to
``agent:<key>`` (conversational agents, created before the agents that transfer to them, so a
cycle cannot be applied), ``@name`` in prompts (an enabled tool or a procedural agent), and a
smoke test's ``procedure: {agent: key}`` (one of the agent's post-processing agents) and
``judge: {agent: key}`` (a procedural agent whose output can carry a verdict).

A reference to an agent whose file has errors that kept it from being built (``unchecked``)
is not reported: the agent is declared, and its own errors are reported at its file.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping

from operator_iac.errors import Diagnostic
from operator_iac.spec.agent_file import AgentFile, AgentModel
from operator_iac.spec.assertions import (
    ProcedureRan,
    ToolCalled,
    ToolNotCalled,
    ToolReturnedError,
    ToolSequence,
)
from operator_iac.spec.base import did_you_mean
from operator_iac.spec.checks import enabled_tools
from operator_iac.spec.desired import AGENT_REF_PREFIX
from operator_iac.spec.loader import DataPath
from operator_iac.spec.models import ConversationalAgentSpec, ProceduralAgentSpec
from operator_iac.spec.smoke_rules import JudgeSpec, judge_schema_problem
from operator_iac.spec.templates import find_prompt_references

Agents = Mapping[str, AgentFile]
KIND_WORDS = {"conversational_agent": "conversational", "procedural_agent": "procedural"}


def check_references(agents: Agents, unchecked: Collection[str] = ()) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for agent in agents.values():
        found += _prompt_tools(agent, agents, unchecked)
        if isinstance(agent.spec, ConversationalAgentSpec):
            found += _postprocess_agents(agent, agents, unchecked)
            found += _transfers(agent, agents, unchecked)
            found += _smoke_references(agent, agents, unchecked)
    return found + list(_transfer_cycles(agents))


def transfer_targets(spec: ConversationalAgentSpec) -> list[tuple[int, str]]:
    """``(index, key)`` of each transfer to a declared agent (``agent:<key>``)."""
    transfers = spec.config.tool.transfers if spec.config.tool else None
    return [(i, t.entity_id.removeprefix(AGENT_REF_PREFIX)) for i, t in enumerate(transfers or [])
            if t.entity_id.startswith(AGENT_REF_PREFIX)]


def _reference_problem(source: AgentFile, key: str, agents: Agents, wanted: str,
                       role: str) -> str | None:
    """Why ``key`` cannot be referenced as ``role`` (wanting a ``wanted`` agent), if it can't."""
    if key == source.key:
        return f"{role} {key!r} is this agent itself; an agent cannot reference itself here"
    target = agents.get(key)
    if target is None:
        candidates = [k for k, a in agents.items() if a.kind == wanted]
        return f"{role} {key!r} is not a declared agent{did_you_mean(key, candidates)}"
    if target.kind != wanted:
        return (f"{role} {key!r} is a {KIND_WORDS[target.kind]} agent; "
                f"expected a {KIND_WORDS[wanted]} agent")
    return None


def _postprocess_agents(agent: AgentFile, agents: Agents,
                        unchecked: Collection[str]) -> Iterator[Diagnostic]:
    assert isinstance(agent.spec, ConversationalAgentSpec)
    for i, key in enumerate(agent.spec.postprocess_agents):
        if key in unchecked:
            continue
        problem = _reference_problem(agent, key, agents, "procedural_agent",
                                     "postprocess_agents entry")
        if problem:
            yield agent.document.diagnostic(("postprocess_agents", i), problem)


def _transfers(agent: AgentFile, agents: Agents,
               unchecked: Collection[str]) -> Iterator[Diagnostic]:
    assert isinstance(agent.spec, ConversationalAgentSpec)
    for i, key in transfer_targets(agent.spec):
        if key in unchecked:
            continue
        problem = _reference_problem(agent, key, agents, "conversational_agent", "transfer to")
        if problem:
            path: DataPath = ("config", "tool", "transfers", i, "entity_id")
            yield agent.document.diagnostic(path, problem)


def _prompt_tools(agent: AgentFile, agents: Agents,
                  unchecked: Collection[str]) -> Iterator[Diagnostic]:
    if agent.prompt is None:
        return
    for start, problem in prompt_tool_problems(agent.key, agent.spec, agent.prompt.text,
                                               agents, unchecked):
        yield agent.prompt.diagnostic(start, problem)


def prompt_tool_problems(key: str, spec: AgentModel, text: str, agents: Agents,
                         unchecked: Collection[str] = ()) -> Iterator[tuple[int, str]]:
    """Each ``@name`` in ``text`` (the prompt of agent ``key`` declared as ``spec``) that names
    neither an enabled tool nor another procedural agent: its offset, and why. ``lint`` asks
    the same of each environment's view, whose override may replace the tools."""
    tools = enabled_tools(spec)
    procedural = [k for k, a in agents.items() if isinstance(a.spec, ProceduralAgentSpec)]
    for ref in find_prompt_references(text):
        if ref.kind != "tool" or ref.name in tools or ref.name in unchecked:
            continue
        if ref.name in procedural and ref.name != key:
            continue
        yield ref.start, _prompt_tool_problem(key, ref.name, agents, tools, procedural)


def _prompt_tool_problem(key: str, name: str, agents: Agents, tools: list[str],
                         procedural: list[str]) -> str:
    if name == key:
        return f"prompt references @{name}, which is this agent itself"
    if name in agents:
        return f"prompt references @{name}, a conversational agent; @ names an enabled tool " \
               "or a procedural agent"
    listed = ", ".join(tools) or "none"
    return (f"prompt references @{name}, which is neither an enabled tool (config.tool.tools: "
            f"{listed}) nor a procedural agent{did_you_mean(name, [*tools, *procedural])}")


def _smoke_references(agent: AgentFile, agents: Agents,
                      unchecked: Collection[str]) -> Iterator[Diagnostic]:
    spec = agent.spec
    assert isinstance(spec, ConversationalAgentSpec)
    tools = [*enabled_tools(spec), *(k for k, a in agents.items() if a.kind == "procedural_agent"),
             *unchecked]
    for t, test in enumerate(spec.smoke):
        if test.judge is not None and test.judge.agent not in unchecked:
            yield from _judge_reference(agent, test.judge, ("smoke", t, "judge"), agents)
        lists: list[tuple[DataPath, list[object]]] = [(("smoke", t, "expect"), list(test.expect))]
        lists += [(("smoke", t, "turns", i, "expect"), list(turn.expect))
                  for i, turn in enumerate(test.turns)]
        for where, assertions in lists:
            for a, assertion in enumerate(assertions):
                path = (*where, a)
                if isinstance(assertion, ProcedureRan):
                    yield from _procedure_reference(agent, assertion, path, agents, unchecked)
                else:
                    yield from _tool_names(agent, assertion, path, tools)


def _procedure_reference(agent: AgentFile, assertion: ProcedureRan, path: DataPath,
                         agents: Agents, unchecked: Collection[str]) -> Iterator[Diagnostic]:
    assert isinstance(agent.spec, ConversationalAgentSpec)
    key = assertion.procedure.agent
    where = (*path, "procedure", "agent")
    problem = None if key in unchecked else _reference_problem(agent, key, agents,
                                                               "procedural_agent",
                                                               "procedure agent")
    if problem:
        yield agent.document.diagnostic(where, problem)
        return
    if key not in agent.spec.postprocess_agents:
        yield agent.document.diagnostic(where, f"procedure agent {key!r} is not in this agent's "
                                               "postprocess_agents, so it never runs")
    if key in unchecked:
        return
    target = agents[key].spec
    assert isinstance(target, ProceduralAgentSpec)
    schema = target.config.output.output_schema if target.config.output else None
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if isinstance(properties, dict):
        for field in assertion.procedure.output:
            if field not in properties:
                yield agent.document.diagnostic(
                    (*path, "procedure", "output", field),
                    f"{key!r} output_schema has no property {field!r}"
                    f"{did_you_mean(field, properties)}", severity="warning", at_key=True)


def _judge_reference(agent: AgentFile, judge: JudgeSpec, path: DataPath,
                     agents: Agents) -> Iterator[Diagnostic]:
    """A judge is a declared procedural agent whose output has a pass or score and a reason."""
    where = (*path, "agent")
    problem = _reference_problem(agent, judge.agent, agents, "procedural_agent", "judge agent")
    if problem:
        yield agent.document.diagnostic(where, problem)
        return
    target = agents[judge.agent].spec
    assert isinstance(target, ProceduralAgentSpec)
    schema = target.config.output.output_schema if target.config.output else None
    unfit = judge_schema_problem(schema, judge.min_score)
    if unfit:
        yield agent.document.diagnostic(where, f"judge agent {judge.agent!r} {unfit}")


def _tool_names(agent: AgentFile, assertion: object, path: DataPath,
                tools: list[str]) -> Iterator[Diagnostic]:
    named: list[tuple[DataPath, str | None]] = []
    if isinstance(assertion, ToolCalled):
        named.append(((*path, "tool_called", "name"), assertion.tool_called.name))
    elif isinstance(assertion, ToolNotCalled):
        named.append(((*path, "tool_not_called", "name"), assertion.tool_not_called.name))
    elif isinstance(assertion, ToolReturnedError):
        named.append(((*path, "tool_returned_error", "name"), assertion.tool_returned_error.name))
    elif isinstance(assertion, ToolSequence):
        named += [((*path, "tool_sequence", i), n) for i, n in enumerate(assertion.tool_sequence)]
    for where, name in named:
        if name is not None and name not in tools:
            yield agent.document.diagnostic(
                where, f"tool {name!r} is not enabled for this agent{did_you_mean(name, tools)}",
                severity="warning")


def _transfer_cycles(agents: Agents) -> Iterator[Diagnostic]:
    graph = {key: [t for _, t in transfer_targets(a.spec) if t != key and t in agents]
             for key, a in sorted(agents.items()) if isinstance(a.spec, ConversationalAgentSpec)}
    reported: set[frozenset[str]] = set()
    for cycle in _cycles(graph):
        members = frozenset(cycle)
        if members in reported:
            continue
        reported.add(members)
        first = agents[cycle[0]]
        assert isinstance(first.spec, ConversationalAgentSpec)
        index = next(i for i, t in transfer_targets(first.spec) if t == cycle[1])
        chain = " -> ".join([*cycle, cycle[0]])
        yield first.document.diagnostic(
            ("config", "tool", "transfers", index, "entity_id"),
            f"transfers form a cycle ({chain}); an agent referenced as agent:<key> is created "
            "before the agents that reference it, so references cannot go round in a circle; "
            "use the platform id for one of them")


def _cycles(graph: Mapping[str, list[str]]) -> Iterator[list[str]]:
    """Each cycle found by depth-first search, as the list of its nodes."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> Iterator[list[str]]:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                yield stack[stack.index(nxt):]
            elif nxt not in state:
                yield from visit(nxt)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            yield from visit(node)
