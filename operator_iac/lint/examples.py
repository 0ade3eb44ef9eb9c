"""Builders of the small projects the rules' documentation shows: a clean conversational
agent (``agents/support.yaml`` with its prompt file) and a clean procedural agent, each with
one part changed to show a rule at work. Pure text, so that the documentation shows exactly
the files the tests lint."""

from __future__ import annotations

from collections.abc import Mapping

from operator_iac.lint.rule import Example

AGENT = "agents/support.yaml"
PROMPT_FILE = "agents/prompts/support.md"
SUMMARY = "agents/call-summary.yaml"
PROJECT_FILE = "operator-iac.yaml"

PROMPT = ("You are Sam, who answers questions about Acme orders.\n"
          "Greet the caller and say that you are Acme's virtual assistant.\n"
          "Use @lookup_order to find the status of an order.\n")
TOOLS = "  tool:\n    tools:\n      - {ns: acme, name: lookup_order}\n"
SMOKE = ("smoke:\n"
         "  - name: greets\n"
         "    turns:\n"
         "      - expect: [{agent_says: {contains: Sam}}]\n")
SCHEMA = ("    output_schema:\n"
          "      type: object\n"
          "      additionalProperties: false\n"
          "      properties:\n"
          "        summary: {type: string}\n")


def project_file(body: str = "") -> str:
    return "project: acme\n" + body


def conversational(*, description: str = "Answers questions about Acme orders.",
                   model: str = "openai/gpt-4o", runtime_extra: str = "", tools: str = TOOLS,
                   config_extra: str = "", smoke: str = SMOKE, extra: str = "") -> str:
    """The text of ``agents/support.yaml``, with the parts given replaced."""
    return ("kind: conversational_agent\n"
            "name: Support\n"
            f"description: {description}\n"
            "config:\n"
            "  personas: [{name: Sam}]\n"
            "  runtime:\n"
            f"    model: {model}\n"
            "    prompt: {file: prompts/support.md}\n"
            f"{runtime_extra}{tools}{config_extra}{extra}{smoke}")


def procedural(*, output: str = SCHEMA, extra: str = "") -> str:
    """The text of ``agents/call-summary.yaml``, with the parts given replaced."""
    return ("kind: procedural_agent\n"
            "name: Call summary\n"
            "description: Summarises each call for the front desk.\n"
            "config:\n"
            "  runtime:\n"
            "    model: openai/gpt-4o-mini\n"
            "    prompt: {text: Summarise the call in two sentences.}\n"
            f"{extra}"
            "  output:\n"
            f"{output}")


def support(*, prompt: str = PROMPT, project: str = "", **agent: str) -> Example:
    """The conversational agent and its prompt file (and a project file when ``project``
    adds to it)."""
    files = {AGENT: conversational(**agent), PROMPT_FILE: prompt}
    return Example(_with_project(files, project))


def with_summary(*, output: str = SCHEMA, listed: bool = True, extra: str = "",
                 project: str = "") -> Example:
    """The conversational agent running the procedural one after its conversations (or not,
    when ``listed`` is false)."""
    runs = "postprocess_agents: [call-summary]\n" if listed else ""
    files = {AGENT: conversational(extra=runs), PROMPT_FILE: PROMPT,
             SUMMARY: procedural(output=output, extra=extra)}
    return Example(_with_project(files, project))


def _with_project(files: Mapping[str, str], project: str) -> dict[str, str]:
    return {PROJECT_FILE: project_file(project), **files} if project else dict(files)
