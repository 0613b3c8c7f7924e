"""Rates at the Open311 door: token buckets per API key (its posts) and per client
address (every call, generously).

A bucket holds up to a minute's allowance and refills continuously, so a client may
burst a minute's worth and then goes at its rate. Kept in memory, per gateway process,
like `gateway.throttle`: a restart refills every bucket, and behind several gateway
replicas a client gets each replica's allowance (the quotas are a guard against one
client crowding the others out, not a bill).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

# Calls a minute from one address, whatever they are: far above a person or an app
# polling its requests, even behind one office's shared address.
ADDRESS_PER_MINUTE = 300
# Buckets remembered at once; the least recently used are forgotten first (a forgotten
# bucket starts full, which costs an abuser one minute's allowance at most).
MAX_BUCKETS = 10_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class Buckets:
    def __init__(self, max_buckets: int = MAX_BUCKETS) -> None:
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._max = max_buckets

    def take(self, key: str, per_minute: int, now: float | None = None) -> float:
        """Take one call from `key`'s bucket: 0 if it had one, otherwise the seconds to
        wait for the next (nothing is taken then)."""
        now = time.monotonic() if now is None else now
        rate, capacity = per_minute / 60.0, float(per_minute)
        bucket = self._buckets.pop(key, None) or _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        self._buckets[key] = bucket
        if len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate


@dataclass
class Open311Limits:
    """The door's rates: per address for every call, per key for posts (the key's own
    rate, from its row)."""

    address_per_minute: int = ADDRESS_PER_MINUTE
    max_buckets: int = MAX_BUCKETS

    def __post_init__(self) -> None:
        self.addresses = Buckets(self.max_buckets)
        self.keys = Buckets(self.max_buckets)
