"""A lint rule: a stable id, a default severity, the words that document it, an example that
triggers it and the same example fixed, and the pure function that checks one agent."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from operator_iac.lint.config import LintConfig
from operator_iac.lint.findings import Hit
from operator_iac.lint.views import AgentView
from operator_iac.spec.lint_settings import RuleLevel


@dataclass(frozen=True)
class Context:
    """What a rule may look at besides the agent: the configuration in force, every agent of
    the same environment's view (by key), and whether those are the whole project (a rule
    about how agents relate to each other says nothing about a partial set)."""

    config: LintConfig
    views: Mapping[str, AgentView] = field(default_factory=dict)
    complete: bool = True


Check = Callable[[AgentView, Context], Iterable[Hit]]


@dataclass(frozen=True)
class Example:
    """A small project, file path -> text; ``operator-iac.yaml`` is added when absent."""

    files: Mapping[str, str]


@dataclass(frozen=True)
class Rule:
    """One rule of the table (``operator_iac.lint.catalog``)."""

    id: str
    """Stable id, `OIC` and three digits; never reused for another rule."""
    name: str
    """A short name in kebab-case, for people (`phone-number-in-text`)."""
    severity: RuleLevel
    """Default severity; the project file's `lint.rules` may change it."""
    title: str
    """One line saying what the rule finds."""
    rationale: str
    """Why the rule exists."""
    fix: str
    """How to fix what it finds."""
    example: Example
    """A project in which the rule finds something (and no other rule does)."""
    fixed: Example
    """The same project, fixed: no rule finds anything."""
    check: Check | None = None
    """The check of one agent; None for the rules about suppression comments, which the
    engine applies."""
    group: str = ""
    """The heading the documentation lists the rule under."""
    companions: tuple[str, ...] = ()
    """Rules the example triggers too (a suppression without a reason leaves the finding it
    meant to silence)."""


def rule_table(*groups: Iterable[Rule]) -> dict[str, Rule]:
    """Rules by id, in order; an id given twice is a programming error."""
    table: dict[str, Rule] = {}
    for rule in (r for group in groups for r in group):
        if rule.id in table:
            raise ValueError(f"rule id {rule.id} is used twice")
        table[rule.id] = rule
    return table
