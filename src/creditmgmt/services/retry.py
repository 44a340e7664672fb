"""Bounded retry with jittered exponential backoff for units of work that lose a race.

Optimistic concurrency refuses a unit whose aggregates changed since they were loaded
(`ConflictError`; nothing of it was stored). The caller then re-runs the whole unit from its
first read: `retry_on_conflict` does that a bounded number of times, sleeping a random
("full jitter") delay between tries so that competing writers spread out instead of colliding
again in lock-step. The last `ConflictError` is raised when every attempt lost.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Final, TypeVar

import attrs

from creditmgmt.ports.errors import ConflictError

T = TypeVar("T")


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"RetryPolicy.{attribute.name} must be >= 0, got {value!r}")


def _at_least_one(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"RetryPolicy.{attribute.name} must be >= 1, got {value!r}")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How often and how long to retry a conflicting unit of work.

    `attempts` counts every run, the first included (1 = never retry). Before retry k (1, 2,
    ...) the caller sleeps a uniform random time in `[0, min(max_delay, base_delay * 2**k))`.

    Raises:
        ValueError: attempts < 1 or a negative delay.
    """

    attempts: int = attrs.field(default=10, validator=_at_least_one)
    base_delay: float = attrs.field(default=0.002, validator=_positive)
    max_delay: float = attrs.field(default=0.1, validator=_positive)

    def delay(self, retry: int, draw: float) -> float:
        """The sleep before retry number `retry` (1-based) for a uniform draw in [0, 1)."""
        cap: float = min(self.max_delay, self.base_delay * float(2**retry))
        return draw * cap


#: The desk's default: up to 20 runs, backoff from 10 ms capped at 250 ms — sized for a hot
#: facility tree on a server, where a unit takes 10-20 ms (bench/bench_contention.py: 0-1
#: give-ups in 200 draws by 8 writers on one facility, where 10 runs from 2 ms gave up on 16-26).
DEFAULT_RETRY: Final = RetryPolicy(attempts=20, base_delay=0.01, max_delay=0.25)
#: The short policy: 10 runs from 2 ms capped at 100 ms (enough for the embedded stores).
SHORT_RETRY: Final = RetryPolicy()
#: Run once, never retry.
NO_RETRY: Final = RetryPolicy(attempts=1)


def retry_on_conflict(
    run: Callable[[], T],
    *,
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
    draw: Callable[[], float] = random.random,
    retry_on: tuple[type[Exception], ...] = (ConflictError,),
) -> T:
    """Call `run()` until it returns, retrying on `ConflictError` (or `retry_on`) at most
    `policy.attempts` times in all.

    `run` must be a whole unit of work (it reads again from the store on every call).

    Raises:
        ConflictError: the last conflict, when every attempt conflicted.
        Exception: anything else `run` raises, at once (never retried).
    """
    retry = 0
    while True:
        try:
            return run()
        except retry_on:
            retry += 1
            if retry >= policy.attempts:
                raise
            sleep(policy.delay(retry, draw()))
