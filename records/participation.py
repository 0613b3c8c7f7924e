"""Who takes part in a case, and who may see it: the one rule every door asks.

An agency takes part in a case once it opened it, owned it, was given a task in it or was
offered it; having taken part, it keeps seeing the case (its own work is in it). The
coordinator sees every case (it settles what the others cannot), and so does the
oversight body (督查), which reads and changes nothing. To anyone else a case does not
exist.

The case engine (its refusals, the case list's search attribute), the gateway (reads,
the case list, oversight) and the ledger's replay (the gap store, exports, verification)
all decide with these functions: the engine from the case's state, the replay from the
case's events, and a test holds the two to the same answer for every scenario.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from trust.pki import Role

# The oversight body: its staff sign in at its own service and read every case.
OVERSIGHT = "oversight"
# Its names, as the agencies' are in the directory (Chinese, English).
OVERSIGHT_NAMES = ("区督查室", "District Oversight Office")


def role_of(body: str) -> Role:
    """The role of the service of `body` (an agency, or the oversight body)."""
    return Role.OVERSIGHT if body == OVERSIGHT else Role.AGENCY


def participants(*, opener: str, owners: Iterable[str], assignees: Iterable[str],
                 offered: Iterable[str]) -> list[str]:
    """The agencies taking part, in this order: the opener, every owner, every assignee
    and every agency offered the case, each once."""
    return list(dict.fromkeys([opener, *owners, *assignees, *offered]))


def sees_every_case(viewer: str, *, coordinator: str) -> bool:
    return viewer in (coordinator, OVERSIGHT)


def may_see(viewer: str, taking_part: Collection[str], *, coordinator: str) -> bool:
    """Whether `viewer` (an agency, or the oversight body) may see a case whose
    participants are `taking_part`."""
    return sees_every_case(viewer, coordinator=coordinator) or viewer in taking_part
