"""How a smoke test with repeats is judged: its pass rule, and the LLM judge it may ask for.

A pass rule says how many of a test's attempts must pass: ``all`` (the default), ``majority``
(more than half) or ``rate:0.8`` (at least that share). ``min_pass_rate: 0.8`` is the older
spelling of ``rate:0.8``. A ``judge`` names a procedural agent of the project that reads each
finished test conversation and answers with a pass or a score and a reason. Declarations and
pure arithmetic only; running either is ``operator_iac.smoke``'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import comb
from typing import Literal

from operator_iac.spec.base import NonEmptyStr, StrictModel

PASS_RULE_PATTERN = r"^(all|majority|rate:(0(\.\d+)?|1(\.0+)?))$"
_RATE = re.compile(r"^rate:(?P<rate>[01](\.\d+)?)$")
# Tolerance for shares written in decimals (0.67 of 3 attempts is 2 attempts).
_EPSILON = 1e-9


@dataclass(frozen=True)
class PassRule:
    """How many of a test's attempts must pass for the test to pass."""

    kind: Literal["all", "majority", "rate"] = "all"
    rate: float = 1.0

    @classmethod
    def parse(cls, text: str | None, min_pass_rate: float | None = None) -> PassRule:
        """``all`` | ``majority`` | ``rate:X``; a bare ``min_pass_rate`` means ``rate:X``."""
        if text is None:
            return ALL if min_pass_rate is None else cls("rate", min_pass_rate)
        if text in ("all", "majority"):
            return cls(text)  # type: ignore[arg-type]
        found = _RATE.match(text)
        if found is None:
            raise ValueError(f"pass_rule must be all, majority or rate:X (0 to 1), not {text!r}")
        return cls("rate", float(found["rate"]))

    def holds(self, passes: int, attempts: int) -> bool:
        if attempts <= 0:
            return False
        if self.kind == "all":
            return passes == attempts
        if self.kind == "majority":
            return passes * 2 > attempts
        return passes / attempts + _EPSILON >= self.rate

    @property
    def required_share(self) -> float:
        """The share of attempts that must pass (majority: just over a half)."""
        return {"all": 1.0, "majority": 0.5}.get(self.kind, self.rate)

    def __str__(self) -> str:
        return f"rate:{self.rate:g}" if self.kind == "rate" else self.kind


ALL = PassRule()


def pass_hat(passes: int, attempts: int, k: int) -> float:
    """pass^k: the chance that k attempts drawn from these, without replacement, all passed
    (the unbiased estimate used for agent reliability; pass^1 is the pass rate, and pass^N
    over N attempts says whether every one passed)."""
    if not 0 < k <= attempts:
        return 0.0
    return comb(passes, k) / comb(attempts, k)


class JudgeSpec(StrictModel):
    """A procedural agent of the project that judges each finished test conversation."""

    agent: NonEmptyStr
    """Key of a procedural agent of this project; its output_schema must have a boolean
    `pass` (or `passed`) or a number `score`, and a string `reason`."""
    rubric: NonEmptyStr
    """What the judge should check; given to it in the test conversation's context as
    `judge_rubric`."""
    min_score: float | None = None
    """The lowest score that passes (needs a `score` in the judge's output); without it the
    judge's `pass` decides."""


# Output fields a judge answers with: a verdict (either name), a score, a reason.
JUDGE_PASS_FIELDS = ("pass", "passed")
JUDGE_SCORE_FIELD = "score"
JUDGE_REASON_FIELD = "reason"


def judge_schema_problem(schema: object, min_score: float | None) -> str | None:
    """Why an ``output_schema`` cannot serve a judge (None when it can): it needs a boolean
    ``pass`` (or ``passed``) or a number ``score`` (a score when ``min_score`` is given),
    and a string ``reason``."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return "has no output_schema with properties"
    types = {name: _types(value) for name, value in properties.items()}
    has_pass = any("boolean" in types.get(name, ()) for name in JUDGE_PASS_FIELDS)
    has_score = bool({"number", "integer"} & set(types.get(JUDGE_SCORE_FIELD, ())))
    if min_score is not None and not has_score:
        return "has no number property 'score' in its output_schema, which min_score needs"
    if not (has_pass or has_score):
        return ("has neither a boolean property 'pass' nor a number property 'score' in its "
                "output_schema")
    if "string" not in types.get(JUDGE_REASON_FIELD, ()):
        return "has no string property 'reason' in its output_schema"
    return None


def _types(schema: object) -> tuple[str, ...]:
    """The JSON types a property schema allows (``type`` as a string or a list)."""
    declared = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(declared, str):
        return (declared,)
    return tuple(t for t in declared if isinstance(t, str)) if isinstance(declared, list) else ()
