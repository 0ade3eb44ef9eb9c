"""Sharding a smoke run across CI jobs: ``smoke --shard K/N`` runs a deterministic share of
the conversations, and ``smoke --merge`` puts the shares together again.

The unit of work is one attempt of a test (for a compared test, one *pair*: the attempt on
the candidate and the same attempt on the baseline, which always run in the same job). Attempt
n of a test goes to shard ((n - 1 + offset) mod N) + 1, where the offset is a hash of the
agent key and the test's name: every job computes the same split from the declarations
alone, and tests with a single attempt spread over the shards instead of all landing in the
first. Pure.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from operator_iac.errors import UsageError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """One job's share: shard ``index`` (from 1) of ``count``."""

    index: int
    """Which shard, from 1."""
    count: int
    """How many shards the run is split into."""

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N`` with 1 <= K <= N; anything else is a usage error."""
        found = _SHARD.match(text)
        if found is None or not 1 <= int(found[1]) <= int(found[2]):
            raise UsageError(f"--shard must be K/N with 1 <= K <= N (like 2/4), not {text!r}")
        return cls(int(found[1]), int(found[2]))

    def owns(self, key: str, test_name: str, attempt: int) -> bool:
        """Whether attempt ``attempt`` (from 1) of this test runs in this shard."""
        return (attempt - 1 + _offset(key, test_name)) % self.count == self.index - 1

    def attempts(self, key: str, test_name: str, total: int) -> tuple[int, ...]:
        """The attempts of ``total`` that run in this shard, in order."""
        return tuple(n for n in range(1, total + 1) if self.owns(key, test_name, n))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _offset(key: str, test_name: str) -> int:
    digest = hashlib.sha256(f"{key}\0{test_name}".encode()).hexdigest()
    return int(digest[:8], 16)
