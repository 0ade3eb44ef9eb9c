"""The rules file that scripts the emulator's brain for richer demos and failure tests.

YAML or JSON; either a list of rules or a mapping::

    greeting: "Hello, {persona} speaking."        # optional
    rules:                                        # first match wins
      - match: "(?i)tuesday"                      # regex searched in the user's message
        reply: "Tuesday at 10:00 is available."
        tool: {name: check_availability, arguments: {day: Tuesday}, result: {slots: ["10:00"]}}
      - match: "(?i)order"
        tool: {name: lookup_order, error: "order service unavailable"}
        server_error: "upstream failure"          # emitted as a server.error event
      - match: "(?i)are you there"
        silent: true                              # the agent does not answer at all
      - match: "(?i)order"
        prompt: "(?i)hasty"                       # only revisions whose prompt matches
        chance: 0.4
        tool: {name: lookup_order, error: "timeout"}
      - match: "(?i)refund"
        chance: 0.5                               # applies to half the messages (--seed)
        reply: "Refunds take five days."
        notice: "This conversation is recorded."  # an agent.notice.sent event
        context: {refund_requested: true}         # a conversation.context.updated event
        interrupted: true                         # the reply is marked interrupted
    start_notice: "This chat is with an AI agent."  # sent right after conversation.started
    procedures:                                   # outcome per procedural agent name or id
      call-summary: fail                          # success | fail | hang
      quality-judge:                              # or scripts: the first that applies wins
        - {match: "(?i)refund", output: {pass: false, reason: "promised a refund"}}
        - {chance: 0.8, output: {pass: true, reason: "polite and correct"}}
        - {output: {pass: false, reason: "off topic"}}

Replies may use ``{message}``, ``{persona}``, ``{agent}`` and the regex's named groups.
A rule with ``prompt`` applies only to agent revisions whose prompt text the regex is found
in, so that two revisions of one agent can behave differently (a release gate's candidate
and its baseline). A rule or procedure script with ``chance`` applies to that share of the
messages (or runs) it matches; otherwise the next one is tried. The draws come from the
emulator's ``--seed``: the n-th draw of a server is the same in every run with that seed,
so a suite of N conversations sees the same number of hits however its conversations
interleave.
A procedure script's ``match`` is searched in the conversation's transcript (user and agent
lines); its ``output`` replaces the output generated from the ``output_schema``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from operator_iac.errors import InvalidInputError

Outcome = Literal["success", "fail", "hang"]


class RulesError(InvalidInputError):
    """The rules file cannot be read or does not have the documented shape."""


class ToolScript(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    arguments: Any = None
    result: Any = None
    error: str | None = None


Chance = Field(default=None, gt=0.0, le=1.0)


def _compiles(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from exc
    return value


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    match: str
    prompt: str | None = None
    reply: str | None = None
    tool: ToolScript | None = None
    tools: list[ToolScript] = Field(default_factory=list)
    server_error: str | None = None
    silent: bool = False
    chance: float | None = Chance
    notice: str | None = None
    context: dict[str, Any] | None = None
    interrupted: bool = False

    @field_validator("match", "prompt")
    @classmethod
    def _match_compiles(cls, value: str | None) -> str | None:
        return _compiles(value)

    @property
    def scripted_tools(self) -> list[ToolScript]:
        return ([self.tool] if self.tool else []) + self.tools

    def search(self, message: str, prompt: str = "") -> re.Match[str] | None:
        """The match in the message, if the rule applies to a revision with ``prompt``."""
        if self.prompt is not None and re.search(self.prompt, prompt) is None:
            return None
        return re.search(self.match, message)


class ProcedureScript(BaseModel):
    """How one run of a procedural agent ends, when its ``match`` and ``chance`` apply."""

    model_config = ConfigDict(extra="forbid")
    match: str | None = None
    outcome: Outcome = "success"
    output: Any = None
    chance: float | None = Chance

    @field_validator("match")
    @classmethod
    def _match_compiles(cls, value: str | None) -> str | None:
        return _compiles(value)

    def applies(self, transcript: str) -> bool:
        return self.match is None or re.search(self.match, transcript) is not None


ProcedureRule = Outcome | ProcedureScript | list[ProcedureScript]
Roll = Callable[[float | None], bool]


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    greeting: str | None = None
    start_notice: str | None = None
    rules: list[Rule] = Field(default_factory=list)
    procedures: dict[str, ProcedureRule] = Field(default_factory=dict)

    def first_match(self, message: str, roll: Roll = lambda _chance: True, *,
                    prompt: str = "") -> tuple[Rule, re.Match[str]] | None:
        """The first rule for a revision with ``prompt`` whose regex matches and whose
        ``chance`` (``roll``) comes up."""
        for rule in self.rules:
            found = rule.search(message, prompt)
            if found is not None and roll(rule.chance):
                return rule, found
        return None

    def procedure_scripts(self, agent_id: str, name: str) -> list[ProcedureScript]:
        """The scripts for a procedural agent (by id, else by name), in order."""
        scripted = self.procedures.get(agent_id) or self.procedures.get(name)
        if scripted is None:
            return []
        if isinstance(scripted, str):
            return [ProcedureScript(outcome=scripted)]
        return scripted if isinstance(scripted, list) else [scripted]


def parse_rules(data: Any, source: str = "rules") -> RuleSet:
    """A RuleSet from parsed YAML/JSON (a bare list means ``{rules: [...]}``)."""
    if isinstance(data, list):
        data = {"rules": data}
    if data is None:
        data = {}
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        # The deepest error names the field at fault (not a union member that did not fit).
        first = max(exc.errors(), key=lambda error: len(error["loc"]))
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise RulesError(f"{source}: {where}: {first['msg']}") from exc


def load_rules(path: Path) -> RuleSet:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"cannot read rules file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise RulesError(f"rules file {path} is not valid YAML or JSON: {exc}") from exc
    return parse_rules(data, str(path))
