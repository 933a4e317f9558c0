"""Request budgets for ingestion, per write key and per client address: one app (or one attacker) that
floods /v1 slows down itself, not everyone else. Token buckets in the API process, so with N API
processes behind a balancer the limits add up to N times these."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from engine.errors import TooManyRequests

TRACKED = 10_000  # buckets kept per limiter: the least recently seen go first (addresses are unbounded)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_second: float, burst: float) -> None:
        self.per_second = per_second
        self.burst = burst
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def wait(self, who: str, now: float) -> float:
        """Takes one request from `who`'s budget: 0 if it may go now, else the seconds until it may."""
        if self.per_second <= 0:
            return 0.0  # no limit configured
        bucket = self._buckets.pop(who, None) or _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        self._buckets[who] = bucket
        if len(self._buckets) > TRACKED:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.per_second


class IngestLimits:
    def __init__(self, per_key: float, per_ip: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.keys = RateLimiter(per_key, 2 * per_key)
        self.addresses = RateLimiter(per_ip, 2 * per_ip)
        self.clock = clock

    def check(self, write_key: str, address: str | None) -> None:
        """Raises TooManyRequests (with the wait) when the key's or the address's budget is spent."""
        now = self.clock()
        wait = self.keys.wait(write_key, now)
        if wait:
            raise TooManyRequests(f"this write key is over {self.keys.per_second:g} requests a second", wait)
        wait = self.addresses.wait(address or "?", now)
        if wait:
            raise TooManyRequests(
                f"this address is over {self.addresses.per_second:g} requests a second", wait
            )
