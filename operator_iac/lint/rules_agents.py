"""Rules about an agent as a whole: smoke tests that exist and assert something, procedural
agents whose output is constrained, sent somewhere safe and actually run, and the
descriptions people read in the dashboard and in the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from operator_iac.lint import examples
from operator_iac.lint.findings import Hit
from operator_iac.lint.rule import Context, Rule
from operator_iac.lint.views import AgentView
from operator_iac.spec.assertions import ToolCalled, ToolSequence
from operator_iac.spec.models import ProceduralAgentSpec

GROUP_SMOKE = "Smoke tests"
GROUP_PROCEDURAL = "Procedural agents"
GROUP_DESCRIPTIONS = "Descriptions"
_OUTPUT = ("config", "output", "output_schema")


def no_smoke_tests(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    if view.talks is not None and not view.talks.smoke:
        yield Hit(view.at(("smoke",)), f"conversational agent {view.key!r} has no smoke test: "
                                       "apply releases it without one conversation to prove it")


def smoke_without_assertions(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    for index, test in enumerate(view.talks.smoke if view.talks else []):
        if not test.expect and test.judge is None and not any(t.expect for t in test.turns):
            yield Hit(view.at(("smoke", index, "name")),
                      f"smoke test {test.name!r} asserts nothing: it passes whatever the "
                      "agent says")


def _tested_tools(view: AgentView) -> set[str]:
    names: set[str] = set()
    for test in view.talks.smoke if view.talks else []:
        for assertion in [*test.expect, *(a for t in test.turns for a in t.expect)]:
            if isinstance(assertion, ToolCalled):
                names.add(assertion.tool_called.name)
            elif isinstance(assertion, ToolSequence):
                names.update(assertion.tool_sequence)
    return names


def tool_not_tested(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    if view.talks is None:
        return
    tested = _tested_tools(view)
    for path, entry in view.tools():
        if entry.name not in tested:
            yield Hit(view.at(path), f"no smoke test expects a call of {entry.name} "
                                     "(tool_called or tool_sequence)")


def _allows_anything(schema: Any) -> bool:
    if schema is None or schema is True or schema == {}:
        return True
    if not isinstance(schema, dict):
        return False
    constrained = ("properties", "required", "enum", "const", "items", "anyOf", "oneOf",
                   "allOf", "$ref", "pattern", "patternProperties")
    closed = schema.get("additionalProperties") is False
    return not closed and not any(key in schema for key in constrained) and \
        schema.get("type") in (None, "object")


def output_allows_anything(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    if not isinstance(view.spec, ProceduralAgentSpec):
        return
    output = view.spec.config.output
    schema = output.output_schema if output is not None else None
    what = "has no output_schema" if schema is None else "has an output_schema that allows " \
                                                          "any value"
    if _allows_anything(schema):
        yield Hit(view.at(_OUTPUT), f"procedural agent {view.key!r} {what}: its results "
                                    "cannot be relied on by whatever reads them")


def post_url_not_https(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    if not isinstance(view.spec, ProceduralAgentSpec) or view.spec.config.output is None:
        return
    url = view.spec.config.output.post_url or ""
    if url.lower().startswith("http://"):
        yield Hit(view.at(("config", "output", "post_url")),
                  "post_url is plain http: every result (a summary of a customer's call) "
                  "crosses the internet unencrypted; use https://")


def never_runs(view: AgentView, ctx: Context) -> Iterator[Hit]:
    if view.talks is not None or not ctx.complete:
        return
    if not any(view.key in (v.talks.postprocess_agents if v.talks else ())
               for v in ctx.views.values()):
        yield Hit(view.at(("kind",)), f"no conversational agent lists {view.key!r} in "
                                      "postprocess_agents: it runs only when started by hand")


def missing_description(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    if not view.spec.description.strip():
        found = "description" in (view.data or {})
        yield Hit(view.at(("description",) if found else ("name",)),
                  f"agent {view.key!r} has no description: the dashboard and the API show "
                  "nothing about what it is for")


def variable_without_description(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    for path, variable in view.variables():
        if not (variable.description or "").strip():
            yield Hit(view.at(path), f"variable {variable.name!r} has no description: whoever "
                                     "starts a conversation cannot tell what to give it")


_ANY = "    output_schema: {type: object}\n"
_TESTED = ("smoke:\n"
           "  - name: looks up an order\n"
           "    turns:\n"
           "      - expect: [{agent_says: {contains: Sam}}]\n"
           "      - user: Where is order AC-104233? Please lookup_order.\n"
           "        expect: [{tool_called: {name: lookup_order}}]\n")
_VARIABLE = "    variables:\n      - {name: customer_name, default_value: there}\n"
_NAMED = examples.PROMPT + "Call the caller $customer_name.\n"

RULES = (
    Rule("OIC501", "no-smoke-tests", "warning",
         "A conversational agent has no smoke test",
         "Apply smoke-tests a draft before releasing it and the release after; an agent "
         "without a test is released on faith, and a broken prompt reaches callers first.",
         "Add at least one test under `smoke:` that checks the greeting and one task "
         "(see the smoke test reference).",
         examples.support(smoke=""),
         examples.support(),
         no_smoke_tests, GROUP_SMOKE),
    Rule("OIC502", "smoke-test-without-assertions", "error",
         "A smoke test asserts nothing",
         "A test without `expect` (on the test or on a turn) and without a judge passes "
         "whatever the agent does: it gives the release gate a green light it has not "
         "earned.",
         "Add assertions: `agent_says`, `tool_called`, `no_server_errors`, "
         "`ended_with_status`...",
         examples.support(smoke="smoke:\n  - name: greets\n    turns:\n      - user: Hello\n"),
         examples.support(),
         smoke_without_assertions, GROUP_SMOKE),
    Rule("OIC503", "tool-not-tested", "off",
         "An enabled tool is never expected by a smoke test (off by default)",
         "A tool call is where an agent acts on the world; a release that breaks the call "
         "(renamed tool, prompt that no longer leads to it) goes unnoticed unless a test "
         "expects it. Off by default: turn it on with `lint.rules: {OIC503: warning}`.",
         "Add a smoke test turn whose user message leads to the tool, expecting "
         "`tool_called: {name: ...}`.",
         examples.support(project="lint:\n  rules: {OIC503: warning}\n"),
         examples.support(smoke=_TESTED, project="lint:\n  rules: {OIC503: warning}\n"),
         tool_not_tested, GROUP_SMOKE),
    Rule("OIC601", "output-schema-allows-anything", "warning",
         "A procedural agent's output schema constrains nothing",
         "Whatever reads a procedural agent's results (a Slack channel, a webhook, a smoke "
         "test's `procedure` assertion) relies on their shape; without a schema, or with "
         "`{type: object}` and nothing else, the model may return anything.",
         "Declare the properties, which are required, and `additionalProperties: false`.",
         examples.with_summary(output=_ANY),
         examples.with_summary(),
         output_allows_anything, GROUP_PROCEDURAL),
    Rule("OIC602", "post-url-not-https", "error",
         "A procedural agent posts its results over plain http",
         "Results summarise customers' conversations; over `http://` anyone on the path can "
         "read or change them.",
         "Use an `https://` URL.",
         examples.with_summary(output=examples.SCHEMA + "    post_url: "
                                                        "http://hooks.acme-support.com/calls\n"),
         examples.with_summary(output=examples.SCHEMA + "    post_url: "
                                                        "https://hooks.acme-support.com/calls\n"),
         post_url_not_https, GROUP_PROCEDURAL),
    Rule("OIC603", "procedural-agent-never-runs", "warning",
         "No conversational agent runs the procedural agent",
         "A procedural agent runs after the conversations of the agents that list it in "
         "`postprocess_agents`; one that nobody lists runs only when started through the "
         "API, which is usually an agent left behind by a refactoring. Checked only when "
         "the whole project is linted.",
         "List it in the `postprocess_agents` of the conversational agents it analyses, or "
         "delete it.",
         examples.with_summary(listed=False),
         examples.with_summary(),
         never_runs, GROUP_PROCEDURAL),
    Rule("OIC701", "missing-description", "warning",
         "An agent has no description",
         "The description is what the dashboard and the API show about an agent; without one "
         "nobody outside the repository can tell what an agent is for or who owns it.",
         "Write one line: what the agent does, for whom.",
         examples.support(description='""'),
         examples.support(),
         missing_description, GROUP_DESCRIPTIONS),
    Rule("OIC702", "variable-without-description", "warning",
         "A prompt variable has no description",
         "Whoever starts conversations through the API supplies variables by name; the "
         "description is the only place that says what the value is.",
         "Add `description:` to the variable.",
         examples.support(runtime_extra=_VARIABLE, prompt=_NAMED),
         examples.support(runtime_extra=_VARIABLE.replace(
             "customer_name,", "customer_name, description: The caller's first name,"),
             prompt=_NAMED),
         variable_without_description, GROUP_DESCRIPTIONS),
)
