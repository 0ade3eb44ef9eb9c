"""The one pool for bounded parallel work over the client (snapshot reads, apply's waves,
smoke conversations, promotion checks), that backs off on its own.

``WorkPool.map(fn, items)`` runs ``fn`` on up to ``parallelism`` items at once and returns
the results in the order of ``items``; ``submit`` starts one task as soon as a slot is free,
for work that arrives while other work runs (the pages of a listing). With a client, how
many may run at once is an adaptive limit
(additive increase, multiplicative decrease): every throttle the client sees (429, or 503
with ``Retry-After``) halves it, at most
once per ``cooldown`` seconds so that one burst of 429s counts once, and each run of
``limit`` successful requests raises it by one again, up to ``parallelism``.

A task that itself calls ``map`` (from a pool thread) runs its items inline, one after the
other: the slots are all held by outer tasks, and waiting for one would deadlock.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Literal, TypeVar, overload

from operator_iac.defaults import PARALLELISM

if TYPE_CHECKING:
    from operator_iac.api.client import Attempt, OperatorClient

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)


class AdaptiveLimit:
    """A concurrency limit that halves on rate limiting and creeps back up on success."""

    def __init__(self, maximum: int, *, cooldown: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if maximum < 1:
            raise ValueError("parallelism must be at least 1")
        self.maximum = maximum
        self.limit = maximum
        self.in_flight = 0
        self._cooldown, self._clock = cooldown, clock
        self._last_decrease: float | None = None
        self._successes = 0
        self._cond = threading.Condition()
        # The clients heard, with how many open pools asked for each: pools sharing this
        # limit hear each attempt once, and only while one of them is open.
        self._heard: dict[OperatorClient, int] = {}

    def acquire(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1

    def release(self) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def hear(self, client: OperatorClient) -> None:
        """Listen to ``client``'s attempts until as many ``unhear`` calls as ``hear``."""
        with self._cond:
            self._heard[client] = self._heard.get(client, 0) + 1
            if self._heard[client] == 1:
                client.add_listener(self.observe)

    def unhear(self, client: OperatorClient) -> None:
        with self._cond:
            self._heard[client] -= 1
            if self._heard[client] == 0:
                del self._heard[client]
                client.remove_listener(self.observe)

    def observe(self, attempt: Attempt) -> None:
        """Client listener: a throttle (429, or 503 with ``Retry-After``) halves the limit,
        any other answer below 500 counts as success."""
        if attempt.throttled:
            self.rate_limited(attempt.status or 429)
        elif attempt.status is not None and attempt.status < 500:
            self.succeeded()

    def rate_limited(self, status: int = 429) -> None:
        """Halve the limit (not below 1), once per cooldown period; ``status`` is how the
        platform said so (429, or 503 with ``Retry-After``)."""
        with self._cond:
            now = self._clock()
            if self._last_decrease is not None and now - self._last_decrease < self._cooldown:
                return
            self._last_decrease = now
            self.limit = max(1, self.limit // 2)
            self._successes = 0
            log.info("the platform answered %s (rate limited): at most %d request(s) at "
                     "once from now, more again after successes",
                     "429" if status == 429 else f"{status} with Retry-After", self.limit)

    def succeeded(self) -> None:
        """Count a success; after ``limit`` in a row, allow one more concurrent task."""
        with self._cond:
            if self.limit >= self.maximum:
                return
            self._successes += 1
            if self._successes >= self.limit:
                self._successes = 0
                self.limit += 1
                self._cond.notify_all()


class WorkPool:
    """Bounded parallel work; with a client, it also slows down when rate limited, from its
    creation until it is closed. Use it as a context manager when calling ``submit``, or
    when giving a client, so that its threads and its listening end with it."""

    def __init__(self, client: OperatorClient | None = None, *,
                 parallelism: int = PARALLELISM, cooldown: float = 1.0,
                 limit: AdaptiveLimit | None = None) -> None:
        self.parallelism = parallelism
        # A limit shared with another pool bounds the work of both together (the test
        # conversations of one run, however many suites open them), and hears the client
        # once for both.
        self.limit = limit or AdaptiveLimit(parallelism, cooldown=cooldown)
        self._local = threading.local()
        self._client = client
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        if client is not None:
            self.limit.hear(client)

    def close(self) -> None:
        """Wait for submitted tasks, then stop listening to the client's attempts."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._client is not None:
            self.limit.unhear(self._client)
            self._client = None

    def __enter__(self) -> WorkPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @overload
    def map(self, fn: Callable[[T], R], items: Iterable[T], *,
            return_exceptions: Literal[False] = False) -> list[R]: ...

    @overload
    def map(self, fn: Callable[[T], R], items: Iterable[T], *,
            return_exceptions: Literal[True]) -> list[R | BaseException]: ...

    def map(self, fn: Callable[[T], R], items: Iterable[T], *,
            return_exceptions: bool = False) -> list[R] | list[R | BaseException]:
        """``[fn(item) for item in items]``, concurrently, in order.

        The first failure (in item order) is raised once every started task has finished,
        and tasks not yet started are cancelled. With ``return_exceptions`` every task runs
        and failures take their item's place in the result instead.
        """
        work = list(items)
        if getattr(self._local, "inside", False) or len(work) <= 1:
            return _run_inline(fn, work, return_exceptions)
        workers = min(self.parallelism, len(work))
        with ThreadPoolExecutor(max_workers=workers,
                                thread_name_prefix="operator-iac-work") as executor:
            futures = [executor.submit(self._run, fn, item) for item in work]
            return _collect(futures, return_exceptions)

    def submit(self, fn: Callable[[T], R], item: T) -> Future[R]:
        """Run ``fn(item)`` in the pool, within its limit; the result as a future."""
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.parallelism,
                                                    thread_name_prefix="operator-iac-work")
            return self._executor.submit(self._run, fn, item)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot of the limit (for work done in the calling thread)."""
        self.limit.acquire()
        try:
            yield
        finally:
            self.limit.release()

    def _run(self, fn: Callable[[T], R], item: T) -> R:
        self.limit.acquire()
        self._local.inside = True
        try:
            return fn(item)
        finally:
            self._local.inside = False
            self.limit.release()


def _run_inline(fn: Callable[[T], R], work: list[T],
                return_exceptions: bool) -> list[R] | list[R | BaseException]:
    if not return_exceptions:
        return [fn(item) for item in work]
    results: list[R | BaseException] = []
    for item in work:
        try:
            results.append(fn(item))
        except Exception as exc:
            results.append(exc)
    return results


def _collect(futures: list[Future[R]],
             return_exceptions: bool) -> list[R] | list[R | BaseException]:
    if return_exceptions:
        return [f.exception() or f.result() for f in futures]
    return results_in_order(futures)


def results_in_order(futures: list[Future[R]]) -> list[R]:
    """Every result in order; the first failure cancels what has not started and is raised."""
    results: list[R] = []
    for future in futures:
        error = future.exception()
        if error is not None:
            for pending in futures:
                pending.cancel()
            raise error
        results.append(future.result())
    return results
