"""Fault injection and compatibility modes: what the emulator does wrong on purpose.

``FaultState`` holds the settings (from CLI flags, the admin endpoint, or Python calls on the
running server) and decides per request, without I/O, whether to pass it, answer with an
error status, reset the connection, or perform it and then lose the response. Counted rules
("fail the next 2 PUTs with 503") make attempt counts in client tests exact; the error rate
is drawn from a seeded generator so runs repeat.

Compatibility modes switch the [decided] and undocumented parts of the contract to their
plausible alternatives (``variations``), so that the client's tolerance is tested rather than
assumed; ``list_lag`` and ``versions_lag`` make list reads trail the writes.
"""

from __future__ import annotations

import random
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from operator_iac.emulator import variations
from operator_iac.emulator.rules import Outcome

# Every compatibility mode, with what it changes: one per alternative of the registry of
# platform variations (``variations.VARIATIONS``), which documents each.
COMPAT_MODES: dict[str, str] = dict(variations.COMPAT_MODES)
# The modes that stand for the alternatives of operator-api.md section 9.
SECTION_9_MODES: tuple[str, ...] = tuple(
    mode for v in variations.VARIATIONS if v.section_9 for mode in v.modes)
BodyShape = Literal["json", "text", "html", "empty"]


class FailRule(BaseModel):
    """Answer the next ``count`` matching requests with ``status`` (0 = reset the connection)."""

    model_config = ConfigDict(extra="forbid")
    status: int = Field(ge=0, le=599)
    count: int = Field(default=1, ge=1)
    method: str = ".*"
    path: str = ".*"
    retry_after: int | None = Field(default=None, ge=0)
    body: BodyShape = "json"

    def matches(self, method: str, path: str) -> bool:
        return (re.fullmatch(self.method, method, re.IGNORECASE) is not None
                and re.search(self.path, path) is not None)


class LoseRule(BaseModel):
    """Perform the next ``count`` matching requests, then answer 502 or reset the connection,
    so the client cannot tell whether the write happened."""

    model_config = ConfigDict(extra="forbid")
    count: int = Field(default=1, ge=1)
    method: str = "POST"
    path: str = ".*"
    mode: Literal["502", "reset"] = "502"

    def matches(self, method: str, path: str) -> bool:
        return (re.fullmatch(self.method, method, re.IGNORECASE) is not None
                and re.search(self.path, path) is not None)


class FaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency_ms: int = Field(default=0, ge=0)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_statuses: list[int] = Field(default_factory=lambda: [500, 503])
    seed: int | None = None
    rate_limit_rps: float | None = Field(default=None, gt=0)
    retry_after_s: int = Field(default=1, ge=0)
    drop_sse_after: int | None = Field(default=None, ge=0)
    drop_ws_after: int | None = Field(default=None, ge=0)
    reply_delay_ms: int = Field(default=0, ge=0)
    procedure_outcome: Outcome = "success"
    compat: list[str] = Field(default_factory=list)
    """Compatibility modes (``COMPAT_MODES``)."""
    list_lag: float = Field(default=0.0, ge=0.0)
    """Seconds before the agents list shows a new agent, or stops showing a deleted one."""
    versions_lag: float = Field(default=0.0, ge=0.0)
    """Seconds before the versions lists and every status field show a new revision or a
    release. Reads of a revision by its id (``@vN``, or the bare id) are late only by
    ``read_lag``."""
    read_lag: float = Field(default=0.0, ge=0.0)
    """Seconds before a read of a revision by its id shows a write: until then a new
    revision is not found and a rewritten one shows its former content and status."""
    fail_next: list[FailRule] = Field(default_factory=list)
    lose_response: list[LoseRule] = Field(default_factory=list)

    @field_validator("compat")
    @classmethod
    def _known_modes(cls, modes: list[str]) -> list[str]:
        unknown = [mode for mode in modes if mode not in COMPAT_MODES]
        if unknown:
            raise ValueError(f"unknown compatibility mode {unknown[0]!r}")
        return modes


@dataclass(frozen=True)
class Decision:
    """What to do with one request."""

    action: Literal["pass", "respond", "reset", "lose"]
    status: int = 0
    retry_after: int | None = None
    body: BodyShape = "json"
    lose_mode: str = "502"


PASS = Decision("pass")


class FaultState:
    """The live fault settings, safe to change from any thread while requests run."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._lock = threading.Lock()
        self._settings = settings or FaultSettings()
        self._rng = random.Random(self._settings.seed)
        self._recent: deque[float] = deque()

    @property
    def settings(self) -> FaultSettings:
        """The settings now, for reading. A shallow copy (its lists of counted rules are the
        live ones), because every event a conversation streams reads the settings."""
        with self._lock:
            return self._settings.model_copy()

    def snapshot(self) -> dict[str, Any]:
        return self.settings.model_dump()

    def update(self, **changes: Any) -> FaultSettings:
        """Replace the given settings (validated); the others stay."""
        with self._lock:
            merged = {**self._settings.model_dump(), **changes}
            self._settings = FaultSettings.model_validate(merged)
            if "seed" in changes:
                self._rng = random.Random(self._settings.seed)
            return self._settings.model_copy(deep=True)

    def reset(self) -> None:
        with self._lock:
            self._settings = FaultSettings()
            self._rng = random.Random()
            self._recent.clear()

    def fail_next(self, count: int, status: int, method: str = ".*", path: str = ".*",
                  retry_after: int | None = None, body: BodyShape = "json") -> None:
        rule = FailRule(status=status, count=count, method=method, path=path,
                        retry_after=retry_after, body=body)
        with self._lock:
            self._settings.fail_next.append(rule)

    def lose_next_response(self, method: str = "POST", path: str = ".*", count: int = 1,
                           mode: Literal["502", "reset"] = "502") -> None:
        rule = LoseRule(method=method, path=path, count=count, mode=mode)
        with self._lock:
            self._settings.lose_response.append(rule)

    def set_compat(self, *modes: str) -> None:
        self.update(compat=list(modes))

    def has(self, mode: str) -> bool:
        with self._lock:
            return mode in self._settings.compat

    def modes(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._settings.compat)

    def decide(self, method: str, path: str, now: float) -> Decision:
        """The fate of one request (consumes counted rules)."""
        with self._lock:
            return (self._consume_fail_rule(method, path)
                    or self._rate_limited(now)
                    or self._random_error()
                    or self._consume_lose_rule(method, path)
                    or PASS)

    def _consume_fail_rule(self, method: str, path: str) -> Decision | None:
        for rule in self._settings.fail_next:
            if rule.count > 0 and rule.matches(method, path):
                rule.count -= 1
                self._settings.fail_next = [r for r in self._settings.fail_next if r.count > 0]
                if rule.status == 0:
                    return Decision("reset")
                retry_after = rule.retry_after
                if retry_after is None and rule.status == 429:
                    retry_after = self._settings.retry_after_s
                return Decision("respond", rule.status, retry_after, rule.body)
        return None

    def _rate_limited(self, now: float) -> Decision | None:
        limit = self._settings.rate_limit_rps
        if limit is None:
            return None
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= limit:
            return Decision("respond", 429, self._settings.retry_after_s)
        self._recent.append(now)
        return None

    def _random_error(self) -> Decision | None:
        rate = self._settings.error_rate
        if rate <= 0 or self._rng.random() >= rate:
            return None
        statuses = self._settings.error_statuses or [500]
        return Decision("respond", self._rng.choice(statuses))

    def _consume_lose_rule(self, method: str, path: str) -> Decision | None:
        for rule in self._settings.lose_response:
            if rule.count > 0 and rule.matches(method, path):
                rule.count -= 1
                self._settings.lose_response = [
                    r for r in self._settings.lose_response if r.count > 0]
                return Decision("lose", lose_mode=rule.mode)
        return None
