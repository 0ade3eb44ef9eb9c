"""The secret values of this run, masked by value wherever text leaves operator-iac.

Values resolved from ``${env:...}`` and the API key are secrets. Where operator-iac knows
that a field holds one, it never shows it (``normalise.seal``, ``(sensitive)``). That is not
enough: the platform holds the value in clear, and once a declaration stops marking the
field, or the value moves to another field, or an agent says it in a smoke conversation, the
text reaches a diff, a report or a log unmarked. So every secret resolved in this run is also
registered here, and everything written out (stdout, stderr, plan files, JUnit, the step
summary) goes through ``SECRETS.mask``, which replaces each value, raw or JSON-escaped, by
``(sensitive)``.

Values shorter than ``MIN_LENGTH`` characters are not masked by value (masking ``"on"``
everywhere would garble every line); they are still hidden wherever their field is known.
The CLI opens one ``scope`` per command, so values never outlive the run that resolved them.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

MASK = "(sensitive)"
MIN_LENGTH = 4


class SecretValues:
    """A thread-safe set of secret values and the masking of text and data by them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: frozenset[str] = frozenset()
        self._forms: tuple[str, ...] = ()

    def add(self, value: str) -> None:
        """Register a secret; too short ones are ignored (see the module docstring)."""
        if not isinstance(value, str) or len(value) < MIN_LENGTH:
            return
        with self._lock:
            if value in self._values:
                return
            self._values = self._values | {value}
            self._forms = _forms(self._values)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def mask(self, text: str) -> str:
        """``text`` with every registered secret, raw or JSON-escaped, as ``(sensitive)``."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def mask_data(self, value: Any) -> Any:
        """``value`` (JSON-like data) with every string, mapping keys included, masked."""
        if not self._forms:
            return value
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, dict):
            return {self.mask_data(k): self.mask_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.mask_data(v) for v in value)
        return value

    @contextlib.contextmanager
    def scope(self) -> Iterator[SecretValues]:
        """Start with no secrets and forget the ones registered inside, on exit."""
        with self._lock:
            saved = self._values
            self._values, self._forms = frozenset(), ()
        try:
            yield self
        finally:
            with self._lock:
                self._values, self._forms = saved, _forms(saved)


def _forms(values: frozenset[str]) -> tuple[str, ...]:
    """Every spelling of the values that output may contain, longest first (so that a value
    containing another is masked whole)."""
    forms = set(values)
    for value in values:
        forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
        forms.add(json.dumps(value)[1:-1])
    return tuple(sorted((f for f in forms if len(f) >= MIN_LENGTH), key=len, reverse=True))


# The secrets of this process's run (the CLI scopes it to one command).
SECRETS = SecretValues()
