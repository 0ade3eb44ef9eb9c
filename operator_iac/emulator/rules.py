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
    procedures:                                   # outcome per procedural agent name or id
      call-summary: fail                          # success | fail | hang

Replies may use ``{message}``, ``{persona}``, ``{agent}`` and the regex's named groups.
"""

from __future__ import annotations

import re
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


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    match: str
    reply: str | None = None
    tool: ToolScript | None = None
    tools: list[ToolScript] = Field(default_factory=list)
    server_error: str | None = None
    silent: bool = False

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from exc
        return value

    @property
    def scripted_tools(self) -> list[ToolScript]:
        return ([self.tool] if self.tool else []) + self.tools

    def search(self, message: str) -> re.Match[str] | None:
        return re.search(self.match, message)


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    greeting: str | None = None
    rules: list[Rule] = Field(default_factory=list)
    procedures: dict[str, Outcome] = Field(default_factory=dict)

    def first_match(self, message: str) -> tuple[Rule, re.Match[str]] | None:
        for rule in self.rules:
            found = rule.search(message)
            if found is not None:
                return rule, found
        return None


def parse_rules(data: Any, source: str = "rules") -> RuleSet:
    """A RuleSet from parsed YAML/JSON (a bare list means ``{rules: [...]}``)."""
    if isinstance(data, list):
        data = {"rules": data}
    if data is None:
        data = {}
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
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
