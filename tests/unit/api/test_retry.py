"""The retry policy's pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from operator_iac.api import retry

NOW = datetime(2025, 6, 19, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_idempotent_methods_retry_retryable_statuses(method: str, status: int) -> None:
    assert retry.is_retryable(method, status, None, idempotent=False)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_other_statuses_are_final(status: int) -> None:
    assert not retry.is_retryable("GET", status, None, idempotent=False)


@pytest.mark.parametrize("kind", ["connect", "network", "timeout"])
def test_connection_failures_retry_idempotent_requests(kind: retry.ExcKind) -> None:
    assert retry.is_retryable("GET", None, kind, idempotent=False)
    assert retry.is_retryable("POST", None, kind, idempotent=True)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_release_is_retried_like_a_get(status: int) -> None:
    assert retry.is_retryable("POST", status, None, idempotent=True)


@pytest.mark.parametrize(("status", "kind"), [(503, None), (502, None),
                                              (None, "network"), (None, "timeout")])
def test_creates_are_not_retried_once_they_may_have_left(
        status: int | None, kind: retry.ExcKind | None) -> None:
    assert not retry.is_retryable("POST", status, kind, idempotent=False)


def test_a_create_that_never_connected_is_retried() -> None:
    assert retry.is_retryable("POST", None, "connect", idempotent=False)


def test_a_create_refused_by_the_rate_limit_is_retried() -> None:
    # 429 rejects the request before it is carried out: sending it again cannot duplicate.
    assert retry.is_retryable("POST", 429, None, idempotent=False)


@pytest.mark.parametrize(("status", "kind", "expected"), [
    (500, None, True), (503, None, True), (None, "network", True), (None, "timeout", True),
    (None, "connect", False), (429, None, False), (409, None, False), (400, None, False)])
def test_ambiguity_of_failed_creates(status: int | None, kind: retry.ExcKind | None,
                                     expected: bool) -> None:
    assert retry.is_ambiguous("POST", status, kind, idempotent=False) is expected


def test_idempotent_requests_are_never_ambiguous() -> None:
    assert not retry.is_ambiguous("PUT", 503, None, idempotent=False)
    assert not retry.is_ambiguous("POST", None, "network", idempotent=True)


@pytest.mark.parametrize(("value", "expected"), [
    ("3", 3.0), (" 7 ", 7.0), ("1.5", 1.5), ("0", 0.0), ("-4", 0.0),
    (None, None), ("", None), ("soon", None), ("nan", None), ("inf", None)])
def test_retry_after_delta_seconds(value: str | None, expected: float | None) -> None:
    assert retry.retry_after_seconds(value, NOW) == expected


def test_retry_after_http_date() -> None:
    header = format_datetime(NOW + timedelta(seconds=12), usegmt=True)
    assert retry.retry_after_seconds(header, NOW) == pytest.approx(12.0)


def test_retry_after_date_in_the_past_means_now() -> None:
    header = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
    assert retry.retry_after_seconds(header, NOW) == 0.0


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    delays = [retry.backoff_delay(n, base=0.5, cap=8.0, rng=lambda: 0.999999) for n in
              range(1, 9)]
    assert delays[:5] == pytest.approx([0.5, 1.0, 2.0, 4.0, 8.0], rel=1e-3)
    assert max(delays) <= 8.0


def test_backoff_has_full_jitter() -> None:
    assert retry.backoff_delay(3, base=0.5, cap=8.0, rng=lambda: 0.0) == 0.0
    assert retry.backoff_delay(3, base=0.5, cap=8.0, rng=lambda: 0.5) == 1.0


def test_huge_attempt_numbers_stay_capped() -> None:
    assert retry.backoff_delay(10_000, base=0.5, cap=8.0, rng=lambda: 0.5) == 4.0


def test_retry_after_wins_over_backoff() -> None:
    policy = retry.RetryPolicy()
    assert retry.retry_delay(1, 9.0, policy, rng=lambda: 0.5) == 9.0
    assert retry.retry_delay(1, None, policy, rng=lambda: 0.5) == 0.25
    # Retry-After: 0 is no licence to retry at once.
    assert retry.retry_delay(3, 0.0, policy, rng=lambda: 0.5) == retry.retry_delay(
        3, None, policy, rng=lambda: 0.5) > 0


def test_may_retry_respects_count_and_deadline() -> None:
    policy = retry.RetryPolicy(max_retries=2, deadline=10.0)
    assert retry.may_retry(1, elapsed=0.0, delay=1.0, policy=policy)
    assert retry.may_retry(2, elapsed=8.0, delay=2.0, policy=policy)
    assert not retry.may_retry(3, elapsed=0.0, delay=0.0, policy=policy)
    assert not retry.may_retry(1, elapsed=9.5, delay=1.0, policy=policy)
