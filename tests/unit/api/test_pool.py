"""The bounded, self-throttling worker pool."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from operator_iac.api.pool import AdaptiveLimit, WorkPool
from operator_iac.errors import NotFoundError

from .conftest import FakeTime, Harness, json_response


class Concurrency:
    """Counts how many calls are inside ``track`` at once."""

    def __init__(self) -> None:
        self.now = self.peak = 0
        self._lock = threading.Lock()

    def track(self, seconds: float) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(seconds)
        with self._lock:
            self.now -= 1


def test_results_keep_the_order_of_the_items() -> None:
    def work(n: int) -> int:
        time.sleep(0.001 * (n % 5))
        return n * n
    assert WorkPool(parallelism=4).map(work, range(40)) == [n * n for n in range(40)]


def test_parallelism_bounds_concurrency_and_is_used() -> None:
    counter = Concurrency()
    WorkPool(parallelism=3).map(lambda _: counter.track(0.02), range(12))
    assert counter.peak == 3


def test_the_first_error_in_item_order_is_raised() -> None:
    def work(n: int) -> int:
        if n in (3, 7):
            raise ValueError(f"item {n}")
        return n
    with pytest.raises(ValueError, match="item 3"):
        WorkPool(parallelism=4).map(work, range(10))


def test_return_exceptions_collects_every_outcome() -> None:
    def work(n: int) -> int:
        if n == 2:
            raise KeyError(n)
        return n
    results = WorkPool(parallelism=4).map(work, range(4), return_exceptions=True)
    assert results[:2] == [0, 1] and results[3] == 3
    assert isinstance(results[2], KeyError)


def test_nested_map_runs_inline_instead_of_deadlocking() -> None:
    pool = WorkPool(parallelism=2)
    result = pool.map(lambda n: pool.map(lambda m: n * 10 + m, range(3)), range(4))
    assert result == [[n * 10 + m for m in range(3)] for n in range(4)]


def test_limit_halves_on_429_once_per_cooldown(fake_time: FakeTime) -> None:
    limit = AdaptiveLimit(8, cooldown=1.0, clock=fake_time.clock)
    limit.rate_limited()
    limit.rate_limited()  # the same burst
    assert limit.limit == 4
    fake_time.now = 1.5
    limit.rate_limited()
    assert limit.limit == 2
    for step in (3.0, 4.5, 6.0):
        fake_time.now = step
        limit.rate_limited()
    assert limit.limit == 1


def test_limit_grows_back_by_one_per_window_of_successes(fake_time: FakeTime) -> None:
    limit = AdaptiveLimit(4, clock=fake_time.clock)
    limit.rate_limited()
    assert limit.limit == 2
    limit.succeeded()
    assert limit.limit == 2
    limit.succeeded()
    assert limit.limit == 3
    for _ in range(3 + 4 + 10):
        limit.succeeded()
    assert limit.limit == 4


def test_parallelism_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WorkPool(parallelism=0)


def test_pool_slows_down_when_the_client_sees_429(harness: Callable[..., Harness]) -> None:
    counter = Concurrency()
    calls = {"n": 0}
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            calls["n"] += 1
            first = calls["n"] <= 2
        if first:
            return json_response(429, {}, **{"Retry-After": "0"})
        counter.track(0.01)
        return json_response(200, {"id": request.url.path.rsplit("/", 1)[1]})

    h = harness(handler)
    with WorkPool(h.client, parallelism=8) as pool:
        limits: list[int] = []
        ids = pool.map(lambda n: (limits.append(pool.limit.limit),
                                  h.client.customers.get(f"cus_{n}").id)[1], range(24))
    assert ids == [f"cus_{n}" for n in range(24)]
    assert [a.status for a in h.attempts].count(429) == 2
    # Tasks that started after the 429s saw the halved limit (at most one step regrown).
    assert min(limits) <= 5
    assert counter.peak <= 8
    assert pool.limit.observe not in h.client._listeners  # closed: no longer listening


def test_pools_sharing_a_limit_hear_each_attempt_once_while_one_is_open(
        harness: Callable[..., Harness]) -> None:
    h = harness(lambda request: json_response(200, {"id": "cus_1"}))
    limit = AdaptiveLimit(4)
    limit.rate_limited()  # 2: two successes in a row make it 3
    first = WorkPool(h.client, parallelism=4, limit=limit)
    with WorkPool(h.client, parallelism=4, limit=limit):
        assert h.client._listeners.count(limit.observe) == 1
        h.client.customers.get("cus_1")
        assert limit.limit == 2  # one success, heard once
    first.close()
    h.client.customers.get("cus_1")
    assert limit.limit == 2 and limit.observe not in h.client._listeners


def test_errors_from_the_client_propagate(harness: Callable[..., Harness]) -> None:
    h = harness(lambda request: json_response(404, {"message": "gone"}))
    with pytest.raises(NotFoundError, match="gone"):
        WorkPool(h.client, parallelism=2).map(h.client.customers.get, ["cus_1", "cus_2"])
