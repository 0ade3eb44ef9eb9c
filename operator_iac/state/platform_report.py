"""What ``operator-iac doctor`` found on a platform, as values: the checks of what operator-iac
relies on, and the undocumented behaviours it adapts to (every variation of the registry,
``operator_iac.emulator.variations``, which docs/platform-behaviours.md lists), each with
what this platform does. Pure data; ``services.doctor`` fills it, ``render.doctor`` shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from operator_iac.emulator.variations import BY_KEY, VARIATIONS, Stance

Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class Check:
    """Something operator-iac relies on, and whether this platform shows it."""

    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class Behaviour:
    """One undocumented point: what this platform does (``seen``; None when it could not be
    observed), whether that is the emulator's choice (``usual``) or the alternative."""

    key: str
    point: str
    seen: str | None
    usual: bool | None
    adapts: str
    stance: Stance = "adapts"
    """``your call`` where operator-iac stops and names the setting that decides."""


@dataclass(frozen=True)
class DoctorReport:
    """Every check and behaviour, in the order they were looked at."""

    api_url: str
    checks: tuple[Check, ...]
    behaviours: tuple[Behaviour, ...]

    @property
    def ok(self) -> bool:
        return all(check.status != "failed" for check in self.checks)

    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def alternatives(self) -> list[Behaviour]:
        """The behaviours where this platform made the other choice."""
        return [b for b in self.behaviours if b.usual is False]


@dataclass
class Findings:
    """What the checks found so far (filled in step by step). A behaviour seen twice keeps
    the first sighting, unless the second one is the alternative."""

    checks: list[Check] = field(default_factory=list)
    behaviours: list[Behaviour] = field(default_factory=list)

    def check(self, name: str, status: Status, detail: str) -> None:
        self.checks.append(Check(name, status, detail))

    def saw(self, key: str, seen: str | None, usual: bool | None) -> None:
        variation = BY_KEY[key]
        found = Behaviour(key, variation.point, seen, usual, variation.adapts,
                          variation.stance)
        for i, known in enumerate(self.behaviours):
            if known.key == key:
                if known.seen is None or (usual is False and known.usual is not False):
                    self.behaviours[i] = found
                return
        self.behaviours.append(found)

    def adapted(self, notices: dict[str, str]) -> None:
        """What the reading boundary had to adapt to: each is the alternative, seen."""
        for key, seen in notices.items():
            if key in BY_KEY:
                self.saw(key, seen, False)

    def complete(self) -> None:
        """Every variation of the registry reported, the ones not looked at as not observed,
        in the registry's order."""
        for variation in VARIATIONS:
            self.saw(variation.key, None, None)
        order = {v.key: i for i, v in enumerate(VARIATIONS)}
        self.behaviours.sort(key=lambda b: order[b.key])
