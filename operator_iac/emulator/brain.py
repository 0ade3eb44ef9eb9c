"""The emulator's deterministic agent brain (DESIGN.md section 6): pure decisions, no I/O.

It greets as the first persona, calls an enabled tool when the user's message names it
(case-insensitive, underscores may be spaces) with ``{"text": <message>}`` as arguments and
``{"ok": true}`` as result, echoes the message in a predictable sentence, and says goodbye
when asked to. A ``RuleSet`` scripts replies, tool calls, errors and silence per regex;
``silent`` makes the agent never speak (for timeout tests).
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from operator_iac.emulator.rules import Outcome, Rule, RuleSet, ToolScript

DEFAULT_RESULT = json.dumps({"ok": True})
_GOODBYE = re.compile(r"(?i)\b(bye|goodbye)\b")


@dataclass(frozen=True)
class AgentView:
    """What the brain needs to know about the agent revision it plays."""

    name: str
    persona: str | None = None
    tools: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, name: str, config: Mapping[str, Any]) -> AgentView:
        personas = config.get("personas") or []
        persona = personas[0].get("name") if personas and isinstance(personas[0], dict) else None
        listed = ((config.get("tool") or {}).get("tools")) or []
        tools = tuple(str(t["name"]) for t in listed if isinstance(t, dict) and "name" in t)
        return cls(name=name, persona=persona, tools=tools)

    @property
    def speaker(self) -> str:
        return self.persona or self.name or "your assistant"


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str
    result: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Turn:
    """The agent's reaction to one user message."""

    tool_calls: tuple[ToolCall, ...] = ()
    reply: str | None = None
    server_error: str | None = None


@dataclass(frozen=True)
class Brain:
    rules: RuleSet = field(default_factory=RuleSet)
    silent: bool = False

    def greet(self, agent: AgentView) -> str | None:
        if self.silent:
            return None
        template = self.rules.greeting or "Hi, this is {persona}. How can I help you today?"
        return _fill(template, {"persona": agent.speaker, "agent": agent.name})

    def respond(self, agent: AgentView, message: str) -> Turn:
        if self.silent:
            return Turn()
        scripted = self.rules.first_match(message)
        if scripted is not None:
            return _scripted_turn(agent, message, *scripted)
        if _GOODBYE.search(message):
            return Turn(reply=f"Goodbye! Thank you for talking with {agent.speaker}.")
        calls = tuple(ToolCall(name, _encode({"text": message}), DEFAULT_RESULT)
                      for name in agent.tools if names_tool(message, name))
        return Turn(tool_calls=calls, reply=_echo(message, calls))

    def procedure_outcome(self, agent_id: str, name: str) -> Outcome | None:
        return self.rules.procedures.get(agent_id) or self.rules.procedures.get(name)


def names_tool(message: str, tool: str) -> bool:
    """Whether the message mentions the tool (``check_availability`` ~ "check availability")."""
    words = [re.escape(part) for part in re.split(r"[_\s]+", tool.strip()) if part]
    if not words:
        return False
    return re.search(r"(?i)\b" + r"[_\s]+".join(words) + r"\b", message) is not None


def _echo(message: str, calls: tuple[ToolCall, ...]) -> str:
    said = f'You said: "{message.strip()}".'
    if not calls:
        return said
    return f"I used {', '.join(call.name for call in calls)} and it worked. {said}"


def _scripted_turn(agent: AgentView, message: str, rule: Rule, found: re.Match[str]) -> Turn:
    if rule.silent:
        return Turn()
    calls = tuple(_scripted_call(script, message) for script in rule.scripted_tools
                  if script.name in agent.tools)
    values = {"message": message, "persona": agent.speaker, "agent": agent.name,
              **{k: v for k, v in found.groupdict().items() if v is not None}}
    reply = _fill(rule.reply, values) if rule.reply is not None else _echo(message, calls)
    return Turn(tool_calls=calls, reply=reply, server_error=rule.server_error)


def _scripted_call(script: ToolScript, message: str) -> ToolCall:
    arguments = script.arguments if script.arguments is not None else {"text": message}
    if script.error is not None:
        return ToolCall(script.name, _encode(arguments), None, script.error)
    result = DEFAULT_RESULT if script.result is None else _encode(script.result)
    return ToolCall(script.name, _encode(arguments), result)


def _encode(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class _Keep(dict[str, str]):
    """Leaves unknown ``{placeholders}`` as they are."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, values: Mapping[str, str]) -> str:
    try:
        return string.Formatter().vformat(template, (), _Keep(values))
    except (ValueError, IndexError, AttributeError, KeyError):
        return template
