"""Rules about the prompt: the AI disclosure a project may require in the greeting, the size
budget, tools and variables the prompt does not use (or uses without having them), leftover
placeholders, and an empty prompt."""

from __future__ import annotations

import re
from collections.abc import Iterator

from operator_iac.lint import examples
from operator_iac.lint.findings import Hit
from operator_iac.lint.rule import Context, Rule
from operator_iac.lint.views import AgentView
from operator_iac.spec.checks import CONTEXT_KEYS
from operator_iac.spec.prompts import PROMPT_PATH
from operator_iac.spec.references import prompt_tool_problems

GROUP = "Prompts"
# A paragraph that tells the agent how to open the conversation.
_GREETING = re.compile(r"(?i)\b(greet\w*|introduce (yourself|itself)|introduction|"
                       r"first (message|sentence)|opening (line|message|sentence)|say hello|"
                       r"(start|open|begin) (the|each|every) (call|conversation|chat))\b")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# What OIC206 looks for in users' prompts: the marks of text someone meant to finish (TODO,
# FIXME, TBD, XXX, lorem ipsum, "[insert ...]") and `{{name}}` templating the platform does not
# fill (`{{> path}}`, a fragment include, is left alone).
_PLACEHOLDER = re.compile(r"\b(TODO|FIXME|TBD|XXX)\b|(?i:lorem ipsum)|"
                          r"(?i:\[(insert|add|your|replace)\b[^\]\n]*\])|\{\{(?!>)[^{}\n]*\}\}")


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    for gap in _PARAGRAPH_BREAK.finditer(text):
        yield start, text[start:gap.start()]
        start = gap.end()
    yield start, text[start:]


def ai_disclosure(view: AgentView, ctx: Context) -> Iterator[Hit]:
    if not ctx.config.require_ai_disclosure or view.talks is None or view.prompt is None:
        return
    phrases = [re.compile(p, re.IGNORECASE) for p in ctx.config.disclosure_phrases]
    greetings = [(start, text) for start, text in _paragraphs(view.prompt.text)
                 if _GREETING.search(text)]
    if any(p.search(text) for _, text in greetings for p in phrases):
        return
    if not greetings:
        yield Hit(view.in_prompt(0), "the prompt never says how to greet, so nothing makes "
                  "the agent say it is an AI (lint.require_ai_disclosure)")
        return
    start, text = greetings[0]
    offset = start + len(text) - len(text.lstrip())
    yield Hit(view.in_prompt(offset), "the greeting instructions do not make the agent say "
              "it is an AI (lint.require_ai_disclosure; phrases: lint.disclosure_phrases)")


def prompt_budget(view: AgentView, ctx: Context) -> Iterator[Hit]:
    budget = ctx.config.max_prompt_chars
    if len(view.prompt_text) <= budget:
        return
    yield Hit(view.in_prompt(budget), f"the prompt has {len(view.prompt_text)} characters "
              f"(fragments included), over the budget of {budget} (lint.max_prompt_chars); "
              "the excess starts here")


def tool_not_referenced(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    used = view.prompt_names("tool")
    for path, entry in view.tools():
        if entry.name not in used:
            yield Hit(view.at(path), f"tool {entry.ns}/{entry.name} is enabled but the prompt "
                                     f"never mentions @{entry.name}, so nothing tells the model "
                                     "when to use it")


def tool_not_enabled(view: AgentView, ctx: Context) -> Iterator[Hit]:
    agents = {key: other.agent for key, other in ctx.views.items()}
    for start, problem in prompt_tool_problems(view.key, view.spec, view.prompt_text, agents):
        yield Hit(view.in_prompt(start), problem)


def variable_not_used(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    used = view.prompt_names("variable")
    for path, variable in view.variables():
        if variable.name not in used and variable.name not in CONTEXT_KEYS:
            yield Hit(view.at(path), f"variable {variable.name!r} is declared but the prompt "
                                     f"never uses ${variable.name}")


def placeholder(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    """Unfinished text in the effective prompt, which the model would read as instructions."""
    for found in _PLACEHOLDER.finditer(view.prompt_text):
        yield Hit(view.in_prompt(found.start()),
                  f"the prompt still holds the placeholder {found.group(0)!r}")


def empty_prompt(view: AgentView, _ctx: Context) -> Iterator[Hit]:
    if view.prompt_text.strip():
        return
    yield Hit(view.at(PROMPT_PATH), "the prompt is empty (after its fragments are included): "
                                    "the model runs on its defaults")


_NO_DISCLOSURE = examples.PROMPT.replace(" and say that you are Acme's virtual assistant", "")
_DISCLOSE = "lint:\n  require_ai_disclosure: true\n"
_VARIABLE = ("    variables:\n      - {name: customer_name, description: The caller's name, "
             "default_value: there}\n")
_BUDGET = "lint:\n  max_prompt_chars: 120\n"
_NO_TOOLS = ("environments:\n  production:\n    overrides:\n      support:\n"
             "        config: {tool: {tools: []}}\n")

RULES = (
    Rule("OIC201", "ai-disclosure-missing", "error",
         "The greeting does not disclose that the caller is talking to an AI",
         "Several jurisdictions require a bot to say it is one at the start of a conversation "
         "(California's BOT Act, the EU AI Act's transparency duty). The rule runs only when "
         "the project sets `lint.require_ai_disclosure: true`; it looks for a paragraph of "
         "the prompt about the greeting (greet, introduce yourself, first message...) that "
         "contains one of `lint.disclosure_phrases`.",
         "Tell the agent how to greet, in a paragraph of its own, and make it say what it is: "
         "\"Greet the caller and say that you are Acme's virtual assistant.\"",
         examples.support(prompt=_NO_DISCLOSURE, project=_DISCLOSE),
         examples.support(project=_DISCLOSE),
         ai_disclosure, GROUP),
    Rule("OIC202", "prompt-over-budget", "warning",
         "The effective prompt is longer than the project's budget",
         "Every character of a prompt is paid for on every turn of every conversation and "
         "slows the first answer; a prompt that grows unnoticed (a fragment included twice, "
         "pasted documentation) costs money and latency before anyone reads it. The budget "
         "is `lint.max_prompt_chars` (16000 by default), counted after fragments are "
         "included.",
         "Shorten the prompt: move reference material into a tool the agent can call, or "
         "raise the budget on purpose in the project file.",
         examples.support(project=_BUDGET),
         examples.support(prompt=examples.PROMPT, project="lint:\n  max_prompt_chars: 200\n"),
         prompt_budget, GROUP),
    Rule("OIC203", "tool-not-referenced", "warning",
         "A tool is enabled but the prompt never mentions it",
         "The model learns when to call a tool from the prompt (`@tool_name`). An enabled tool "
         "the prompt never names is either dead configuration or a tool the model calls "
         "without guidance.",
         "Say in the prompt when to use it (`Use @lookup_order to find an order.`), or remove "
         "it from `config.tool.tools`.",
         examples.support(tools=examples.TOOLS + "      - {ns: acme, name: issue_refund}\n"),
         examples.support(),
         tool_not_referenced, GROUP),
    Rule("OIC204", "tool-reference-not-enabled", "error",
         "The prompt uses a tool that is not enabled in an environment",
         "`validate` checks the declaration as written; an environment's override can still "
         "replace the tool list, and the prompt then tells the model to call a tool it does "
         "not have there.",
         "Enable the tool in that environment too, or keep the override from removing it.",
         examples.support(project=_NO_TOOLS),
         examples.support(project=_NO_TOOLS.replace("[]", "[{ns: acme, name: lookup_order}]")),
         tool_not_enabled, GROUP),
    Rule("OIC205", "variable-not-used", "warning",
         "A declared variable is never used in the prompt",
         "Every conversation must supply a variable without a default; one the prompt never "
         "reads (`$name`) is work for every caller of the API for nothing, and usually a "
         "sign that the prompt was edited and the variable forgotten.",
         "Use it in the prompt as `$name`, or remove it from `config.runtime.variables`.",
         examples.support(runtime_extra=_VARIABLE),
         examples.support(runtime_extra=_VARIABLE,
                          prompt=examples.PROMPT + "Call the caller $customer_name.\n"),
         variable_not_used, GROUP),
    Rule("OIC206", "prompt-placeholder", "warning",
         "The prompt still holds a placeholder",
         "TODO, FIXME, TBD, XXX, \"lorem ipsum\", `[insert ...]` or a `{{name}}` the platform "
         "does not fill are read by the model as instructions, and callers hear the result.",
         "Write the missing part, or remove the placeholder. A conversation value is `$name`; "
         "a value per environment is `${var:NAME}`.",
         examples.support(prompt=examples.PROMPT + "TODO: explain the returns policy.\n"),
         examples.support(prompt=examples.PROMPT + "Returns are free within 30 days.\n"),
         placeholder, GROUP),
    Rule("OIC207", "empty-prompt", "error",
         "The prompt is empty",
         "An agent without instructions runs on the model's defaults: it has no persona, no "
         "policy and no idea of its tools.",
         "Write the prompt, or check that the prompt file and its fragments hold text.",
         examples.support(prompt="\n", tools=""),
         examples.support(),
         empty_prompt, GROUP),
)
