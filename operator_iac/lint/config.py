"""The lint configuration in force for one environment: the project file's ``lint:`` section,
the environment's section over it field by field, and the defaults of
``operator_iac.spec.lint_settings`` under both."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from operator_iac.spec.lint_settings import (
    DEFAULT_DISCLOSURE_PHRASES,
    DEFAULT_MAX_PROMPT_CHARS,
    LintSettings,
    RuleLevel,
)


@dataclass(frozen=True)
class LintConfig:
    """Effective lint settings; ``levels`` holds only the rules the project configured."""

    levels: Mapping[str, RuleLevel] = field(default_factory=dict)
    allowed_models: tuple[str, ...] | None = None
    allowed_transfer_numbers: tuple[str, ...] | None = None
    max_prompt_chars: int = DEFAULT_MAX_PROMPT_CHARS
    require_ai_disclosure: bool = False
    disclosure_phrases: tuple[str, ...] = DEFAULT_DISCLOSURE_PHRASES

    def level(self, rule_id: str, default: RuleLevel) -> RuleLevel:
        return self.levels.get(rule_id, default)


def effective_config(project: LintSettings | None,
                     environment: LintSettings | None = None) -> LintConfig:
    """The environment's settings over the project's, over the defaults."""
    layers = [s for s in (project, environment) if s is not None]
    levels: dict[str, RuleLevel] = {}
    for layer in layers:
        levels.update(layer.rules)

    def last(name: str) -> object:
        values = [getattr(s, name) for s in layers if getattr(s, name) is not None]
        return values[-1] if values else None

    models, numbers, budget, disclose, phrases = (
        last(n) for n in ("allowed_models", "allowed_transfer_numbers", "max_prompt_chars",
                          "require_ai_disclosure", "disclosure_phrases"))
    return LintConfig(
        levels=levels,
        allowed_models=tuple(models) if isinstance(models, list) else None,
        allowed_transfer_numbers=tuple(numbers) if isinstance(numbers, list) else None,
        max_prompt_chars=budget if isinstance(budget, int) else DEFAULT_MAX_PROMPT_CHARS,
        require_ai_disclosure=disclose is True,
        disclosure_phrases=tuple(phrases) if isinstance(phrases, list)
        else DEFAULT_DISCLOSURE_PHRASES,
    )
