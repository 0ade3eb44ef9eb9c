"""The retry policy, as small pure functions the client's send loop consults.

Which failures are worth another attempt depends on whether repeating the request is safe:

- GET, HEAD, PUT, DELETE and the POSTs a resource marks idempotent (``release``, token
  refresh, context update; ``idempotent`` below) are idempotent on this API, so they are
  retried after connection errors, timeouts and the statuses in ``RETRYABLE_STATUSES``
  (408, 429, 500, 502, 503, 504: a 500 on a read is often a passing fault that a second
  attempt does not meet).
- Every other POST creates something, and the API has no idempotency keys: it is retried only
  when the request provably was not carried out: it never reached the server (``connect``
  failures), or the server refused it with 429 (a rate limit rejects a request before doing
  it). Any other failure of a create is *ambiguous* (it may have been applied) and is
  reported as such, so the caller can look for its own marker before trying again.
- A POST whose duplicate is harmless and can be cleaned up afterwards (a testmode
  conversation, a procedure run: ``duplicates_harmless`` below) is retried like an
  idempotent request; the caller is told that an earlier attempt may have been applied.

Delays are capped exponential backoff with full jitter, overridden by ``Retry-After``, and
no retry starts once it would run past the total deadline.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

from operator_iac import defaults

# What went wrong when no response arrived:
#   connect  the request never left (connection refused, DNS, connect timeout, pool timeout)
#   network  the connection broke after the request may have been sent (reset, protocol error)
#   timeout  the server did not answer in time after the request was sent
ExcKind = Literal["connect", "network", "timeout"]

RATE_LIMITED = 429
RETRYABLE_STATUSES = frozenset({408, RATE_LIMITED, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """Limits of the retry loop: attempts, backoff shape, and the total time budget."""

    max_retries: int = defaults.MAX_RETRIES
    base_delay: float = 0.5
    max_delay: float = 8.0
    deadline: float = defaults.RETRY_DEADLINE_S


def is_idempotent(method: str, idempotent: bool) -> bool:
    """Whether sending the request twice has the same effect as sending it once.

    ``idempotent`` marks a POST known to be idempotent (release, token refresh, context
    update); the other methods are judged by their name alone.
    """
    return method.upper() in IDEMPOTENT_METHODS or (method.upper() == "POST" and idempotent)


def is_retryable(method: str, status: int | None, exc_kind: ExcKind | None,
                 idempotent: bool) -> bool:
    """Whether a failed attempt may be repeated without risking a duplicate write."""
    if exc_kind == "connect" or status == RATE_LIMITED:
        return True
    if not is_idempotent(method, idempotent):
        return False
    if exc_kind is not None:
        return True
    return status in RETRYABLE_STATUSES


def is_ambiguous(method: str, status: int | None, exc_kind: ExcKind | None,
                 idempotent: bool) -> bool:
    """Whether a failed non-idempotent request may nevertheless have been applied."""
    if is_idempotent(method, idempotent) or exc_kind == "connect":
        return False
    if exc_kind is not None:
        return True
    return status is not None and status >= 500


def is_throttle(status: int | None, headers: Mapping[str, str] | None) -> bool:
    """Whether an answer asks the client to slow down: 429, or a 503 that says when to come
    back (``Retry-After``), as a gateway in front of a platform may answer its rate limit.
    Either narrows the client's parallelism (``api.pool``), not only the one request."""
    return status == RATE_LIMITED or (
        status == 503 and headers is not None and "retry-after" in headers)


def retry_after_seconds(header_value: str | None, now: datetime) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header (delta-seconds or HTTP date).

    Returns None when the header is absent or unreadable; a date in the past means 0.
    """
    if header_value is None or not header_value.strip():
        return None
    text = header_value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until_http_date(text, now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _seconds_until_http_date(text: str, now: datetime) -> float | None:
    when = http_date(text)
    return None if when is None else max(0.0, (when - now).total_seconds())


def http_date(text: str | None) -> datetime | None:
    """An HTTP date (``Retry-After``, ``Date``: RFC 9110, always GMT) as an aware datetime;
    None when absent or unreadable."""
    try:
        when = parsedate_to_datetime(text or "")
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def backoff_delay(attempt: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Capped exponential backoff with full jitter for the retry after attempt ``attempt``.

    ``attempt`` counts from 1; ``rng`` returns a float in [0, 1).
    """
    exponent = min(max(attempt - 1, 0), 32)  # the cap applies long before 2**32
    return rng() * min(cap, base * (2.0**exponent))


def retry_delay(attempt: int, retry_after: float | None, policy: RetryPolicy,
                rng: Callable[[], float]) -> float:
    """The wait before the next attempt: the server's ``Retry-After`` when it asks for one;
    backoff otherwise, and also for ``Retry-After: 0``, which under a rate limit would
    otherwise burn every retry within a moment."""
    if retry_after:
        return retry_after
    return backoff_delay(attempt, policy.base_delay, policy.max_delay, rng)


def may_retry(attempt: int, elapsed: float, delay: float, policy: RetryPolicy) -> bool:
    """Whether another attempt fits in the retry count and the total deadline."""
    return attempt <= policy.max_retries and elapsed + delay <= policy.deadline
