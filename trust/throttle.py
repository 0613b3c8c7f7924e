"""A bound on failed sign-ins per key (a client's address; an officer id), in a window.

The gateway's HTTP door keeps one per address, so one address cannot try officer after
officer or fill the agencies' password-hashing queue with guesses: after too many
failures in a window, its next attempts get 429 and the time to wait, without reaching
an agency. The agencies' desks keep theirs (agencies.sign_in_guard). Kept in memory: a
restart forgets it, which costs an attacker nothing a restart would not cost them anyway.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque

# Twenty failures a minute from one address: far beyond people mistyping passwords,
# even behind one office's shared address.
FAILURES = 20
WINDOW_SECONDS = 60.0
# Addresses remembered at once; the oldest are forgotten first.
MAX_ADDRESSES = 10_000


class Throttle:
    def __init__(self, failures: int = FAILURES, window: float = WINDOW_SECONDS,
                 max_keys: int = MAX_ADDRESSES) -> None:
        self._failures = failures
        self._window = window
        self._max_keys = max_keys
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen.pop(key, None) or deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        self._seen[key] = times
        if len(self._seen) > self._max_keys:
            self._seen.popitem(last=False)
        return times

    def wait(self, key: str, now: float | None = None) -> float:
        """0 when `key` may try to sign in; otherwise how many seconds until it may."""
        now = time.monotonic() if now is None else now
        times = self._recent(key, now)
        return times[0] + self._window - now if len(times) >= self._failures else 0.0

    def failed(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._recent(key, now).append(now)

    def recent(self, key: str, now: float | None = None) -> tuple[int, float]:
        """How many failures of `key` the window holds, and when the last was."""
        now = time.monotonic() if now is None else now
        times = self._recent(key, now)
        return len(times), (times[-1] if times else 0.0)

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)

    def forgive(self, key: str) -> None:
        """The latest failure of `key` was none after all."""
        times = self._seen.get(key)
        if times:
            times.pop()
