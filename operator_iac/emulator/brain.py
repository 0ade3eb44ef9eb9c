"""The emulator's deterministic agent brain (DESIGN.md section 6): pure decisions, no I/O.

It greets as the first persona, calls an enabled tool when the user's message names it
(case-insensitive, underscores may be spaces) with ``{"text": <message>}`` as arguments and
``{"ok": true}`` as result, echoes the message in a predictable sentence, and says goodbye
when asked to. A ``RuleSet`` scripts replies, tool calls, errors, notices, context updates,
interruptions and silence per regex; ``silent`` makes the agent never speak (for timeout
tests). Rules with a ``chance`` are decided by ``Dice``, seeded draws that make a
nondeterministic agent repeatable.
"""

from __future__ import annotations

import json
import random
import re
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from operator_iac.emulator.rules import Outcome, ProcedureScript, Rule, RuleSet, ToolScript

DEFAULT_RESULT = json.dumps({"ok": True})
_GOODBYE = re.compile(r"(?i)\b(bye|goodbye)\b")


@dataclass(frozen=True)
class AgentView:
    """What the brain needs to know about the agent revision it plays."""

    name: str
    persona: str | None = None
    tools: tuple[str, ...] = ()
    # The revision's prompt text: rules with ``prompt`` apply only where it matches.
    prompt: str = ""

    @classmethod
    def from_config(cls, name: str, config: Mapping[str, Any]) -> AgentView:
        personas = config.get("personas") or []
        persona = personas[0].get("name") if personas and isinstance(personas[0], dict) else None
        listed = ((config.get("tool") or {}).get("tools")) or []
        tools = tuple(str(t["name"]) for t in listed if isinstance(t, dict) and "name" in t)
        prompt = ((config.get("runtime") or {}).get("prompt") or {}).get("text")
        return cls(name=name, persona=persona, tools=tools,
                   prompt=prompt if isinstance(prompt, str) else "")

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
    notice: str | None = None
    context: dict[str, Any] | None = None
    interrupted: bool = False


class Dice:
    """Seeded draws for ``chance``: draw *n* depends only on the seed and *n*, so N runs of a
    suite see the same hits in any interleaving (the seed is read on each draw, and a new
    seed starts the count again). Without a seed, draws are random."""

    def __init__(self, seed_of: Callable[[], int | None] = lambda: None) -> None:
        self._seed_of = seed_of
        self._lock = threading.Lock()
        self._seed: int | None = None
        self._count = 0

    def roll(self, chance: float | None) -> bool:
        """True with probability ``chance`` (always for None)."""
        if chance is None:
            return True
        return self.draw() < chance

    def draw(self) -> float:
        seed = self._seed_of()
        with self._lock:
            if seed != self._seed:
                self._seed, self._count = seed, 0
            self._count += 1
            number = self._count
        if seed is None:
            return random.random()
        return random.Random(f"{seed}:{number}").random()


@dataclass(frozen=True)
class Brain:
    rules: RuleSet = field(default_factory=RuleSet)
    silent: bool = False
    dice: Dice = field(default_factory=Dice, compare=False)

    def greet(self, agent: AgentView) -> str | None:
        if self.silent:
            return None
        template = self.rules.greeting or "Hi, this is {persona}. How can I help you today?"
        return _fill(template, {"persona": agent.speaker, "agent": agent.name})

    def respond(self, agent: AgentView, message: str) -> Turn:
        if self.silent:
            return Turn()
        scripted = self.rules.first_match(message, self.dice.roll, prompt=agent.prompt)
        if scripted is not None:
            return _scripted_turn(agent, message, *scripted)
        if _GOODBYE.search(message):
            return Turn(reply=f"Goodbye! Thank you for talking with {agent.speaker}.")
        calls = tuple(ToolCall(name, _encode({"text": message}), DEFAULT_RESULT)
                      for name in agent.tools if names_tool(message, name))
        return Turn(tool_calls=calls, reply=_echo(message, calls))

    def procedure_outcome(self, agent_id: str, name: str) -> Outcome | None:
        """The scripted outcome of a run whatever the conversation said (None: default)."""
        script = self.procedure_script(agent_id, name, "")
        return script.outcome if script is not None else None

    def procedure_script(self, agent_id: str, name: str,
                         transcript: str) -> ProcedureScript | None:
        """The first script of the procedural agent that matches the transcript and whose
        chance comes up (None: nothing scripted, the default outcome)."""
        for script in self.rules.procedure_scripts(agent_id, name):
            if script.applies(transcript) and self.dice.roll(script.chance):
                return script
        return None


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
    return Turn(tool_calls=calls, reply=reply, server_error=rule.server_error,
                notice=rule.notice, context=rule.context, interrupted=rule.interrupted)


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
