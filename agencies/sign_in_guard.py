"""Where password guessing at an agency's desk is slowed down, and no officer is locked
out from everywhere.

Locking an officer out after a few failures lets anyone lock any officer out (five
guesses every quarter hour keep the duty officer from signing in). Instead, three
bounds, each counted alike for an officer id that exists and one that does not (so
neither the answer nor its time says which ids exist), and kept in memory (a restart
forgets them, which costs a guesser nothing a restart would not cost them anyway):

* **an address**: ADDRESS_FAILURES failures in WINDOW, then its attempts are refused
  until the window has passed: one address cannot try officer after officer;
* **an officer from one address**: PAIR_FAILURES failures in WINDOW, then that address
  may not try that officer until the window has passed; from any other address (the
  officer's own desk) nothing changes;
* **an officer from anywhere**: past SLOW_AFTER failures in WINDOW, each next attempt
  on the id waits a little longer after the last failure (doubling, at most MAX_DELAY):
  a guesser with many addresses gets a couple of guesses a minute, and the officer
  signs in, a few seconds later at worst.

A refusal by a bound is RESOURCE_EXHAUSTED with the time to wait; the password is not
checked then. The address is the connection's, or, for a sign-in the gateway relays
(its certificate says so), the address the gateway names in `CLIENT_ADDRESS_HEADER`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from trust.throttle import Throttle

ADDRESS_FAILURES = 20
PAIR_FAILURES = 5
SLOW_AFTER = 5
WINDOW_SECONDS = 15 * 60.0
MAX_DELAY_SECONDS = 30.0
# The gateway names the client it relays a sign-in for (trusted from the gateway alone).
CLIENT_ADDRESS_HEADER = "seamless-client-address"
MAX_ADDRESS = 100


@dataclass(frozen=True)
class Held:
    """Why an attempt is refused before its password is checked, and for how long."""

    message: str
    wait_seconds: float


class SignInGuard:
    def __init__(self) -> None:
        self._addresses = Throttle(ADDRESS_FAILURES, WINDOW_SECONDS, max_keys=50_000)
        self._pairs = Throttle(PAIR_FAILURES, WINDOW_SECONDS, max_keys=100_000)
        # (The officer bound counts; it never refuses by count alone: see `held`.)
        self._officers = Throttle(10**9, WINDOW_SECONDS, max_keys=100_000)

    def held(self, address: str, officer_id: str, now: float | None = None) -> Held | None:
        now = time.monotonic() if now is None else now
        wait = self._addresses.wait(address, now)
        if wait:
            return Held(f"too many failed sign-ins from your address; try again in "
                        f"{_minutes(wait)}", wait)
        wait = self._pairs.wait(_pair(address, officer_id), now)
        if wait:
            return Held(f"too many failed sign-ins for {officer_id} from your address; try "
                        f"again in {_minutes(wait)}", wait)
        failures, last = self._officers.recent(officer_id, now)
        if failures >= SLOW_AFTER:
            wait = last + min(2.0 ** (failures - SLOW_AFTER), MAX_DELAY_SECONDS) - now
            if wait > 0:
                return Held(f"several failed sign-ins for {officer_id}; try again in "
                            f"{wait:.0f} s", wait)
        return None

    def attempt(self, address: str, officer_id: str, now: float | None = None) -> None:
        """An attempt about to be checked, counted as failed until it succeeds: counted
        before the password's slow check, so attempts sent all at once are held as
        they arrive, not after the first of them has been judged."""
        now = time.monotonic() if now is None else now
        self._addresses.failed(address, now)
        self._pairs.failed(_pair(address, officer_id), now)
        self._officers.failed(officer_id, now)

    def signed_in(self, address: str, officer_id: str) -> None:
        """The officer proved their password: the attempt was no failure, and their own
        slowdown ends."""
        self._addresses.forgive(address)
        self._officers.forget(officer_id)
        self._pairs.forget(_pair(address, officer_id))


def peer_address(peer: str) -> str:
    """The address of a gRPC peer ("ipv4:10.0.0.7:51234", "ipv6:[::1]:5", "unix:…"),
    without its port."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0] or rest
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]") or rest
    return peer[:MAX_ADDRESS]


def _pair(address: str, officer_id: str) -> str:
    return f"{address}\n{officer_id}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
