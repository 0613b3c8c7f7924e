"""The suite's run: rounds of faults of one kind each, at random moments of live cases,
every round's cases then run to their end and checked (`bench.faults.checks`).

Rounds rather than a check after every single fault: the engine, the ledger and the read
model agree only once a case is at rest (the ledger follows the engine by a moment), so
a round stops starting cases after its faults, lets those under way finish and compares
then. `round_size` 1 checks after every fault.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.faults import checks, isolation, kinds
from bench.faults.kinds import IN_PLACE_KINDS, Holds, Injected
from bench.faults.records import server_if
from bench.faults.up import SEAMLESS, Up
from bench.faults.work import Journal, Officers, keep_busy

AUDIT_SECONDS = 600.0


@dataclass
class Settings:
    data_dir: Path
    seed: int
    per_kind: int
    kinds: tuple[str, ...] = IN_PLACE_KINDS
    round_size: int = 5
    concurrency: int = 4
    # A fault comes at a random moment between 1 s and this long after the last one
    # answered again (the first, once cases are under way).
    most_between_seconds: float = 6.0
    holds: Holds = field(default_factory=Holds)
    # The records on a PostgreSQL server of the suite's own rather than in SQLite files.
    postgres: bool = False


@dataclass
class Round:
    kind: str
    faults: list[Injected]
    journal: Journal
    findings: checks.Findings
    seconds: float

    def cases_affected(self) -> int:
        """Cases with an act under way while the platform did not answer."""
        touched = {a.case_id for a in self.journal.acts for f in self.faults
                   if a.case_id and a.started <= f.answered and (a.ended or 1e18) >= f.began}
        return len(touched)


@dataclass
class Outcome:
    settings: Settings
    rounds: list[Round] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    seconds: float = 0.0
    # How `seamless up` ended when stopped with Ctrl-C at the end (0: cleanly).
    stopped_with: int | None = None

    def failed(self) -> dict[str, list[str]]:
        """Every problem found, by check, over all rounds (empty: all held)."""
        found: dict[str, list[str]] = {}
        for one in self.rounds:
            for name, problems in one.findings.problems().items():
                found.setdefault(name, []).extend(f"[{one.kind}] {p}" for p in problems)
            for case, step in one.journal.stuck.items():
                found.setdefault("cases_stuck", []).append(
                    f"[{one.kind}] {case} at {step} ({one.journal.why_stuck(case)})")
        return found


def schedule(settings: Settings, rng: random.Random) -> list[tuple[str, int]]:
    """(kind, how many faults) per round, the rounds of every kind shuffled together."""
    rounds = []
    for kind in settings.kinds:
        left = settings.per_kind
        while left > 0:
            rounds.append((kind, min(settings.round_size, left)))
            left -= settings.round_size
    rng.shuffle(rounds)
    return rounds


async def run(settings: Settings, say: Any = print,  # noqa: T201
              before_stop: Callable[[Up], Awaitable[None]] | None = None) -> Outcome:
    """The whole suite; `before_stop` sees the platform once every round is done."""
    with server_if(settings.postgres) as server:
        return await _run(settings, Up(settings.data_dir, server), say, before_stop)


async def _run(settings: Settings, up: Up, say: Any,
               before_stop: Callable[[Up], Awaitable[None]] | None) -> Outcome:
    rng = random.Random(settings.seed)
    say(f"fault suite: seed {settings.seed}, {settings.per_kind} of each of "
        f"{', '.join(settings.kinds)}, records {up.topology}; data in {settings.data_dir}")
    outcome = Outcome(settings)
    officers: Officers | None = None
    if isolation.needed(settings.kinds):
        isolation.prepare(settings.data_dir)
    try:
        await asyncio.to_thread(up.start)
        officers = Officers(settings.data_dir, Journal(), up.records, seed=settings.seed)
        probe = await officers.open_probe("FAULTS-PROBE")

        plan = schedule(settings, rng)
        for number, (kind, count) in enumerate(plan, start=1):
            one = await _round(up, officers, probe, kind, count, settings, rng)
            outcome.rounds.append(one)
            problems = sum(len(p) for p in one.findings.problems().values()) + \
                len(one.journal.stuck)
            say(f"round {number}/{len(plan)}: {count} x {kind}, "
                f"{len(one.journal.cases)} cases, {len(one.journal.acts)} acts, "
                f"recovery {max(f.recovery for f in one.faults):.1f} s at most, "
                f"{problems} problems ({one.seconds:.0f} s)")
        if before_stop is not None:
            await before_stop(up)
    finally:
        if officers is not None:
            await officers.aclose()
        outcome.stopped_with = await asyncio.to_thread(up.stop)
        outcome.seconds = time.time() - outcome.started
    return outcome


async def _round(up: Up, officers: Officers, probe: kinds.Probe, kind: str, count: int,
                 settings: Settings, rng: random.Random) -> Round:
    began = time.monotonic()
    journal = officers.journal = Journal()
    until = asyncio.Event()
    busy = asyncio.create_task(keep_busy(officers, concurrency=settings.concurrency,
                                         until=until))
    faults = []
    try:
        for _ in range(count):
            await asyncio.sleep(rng.uniform(1.0, settings.most_between_seconds))
            if kind == kinds.AT_CLOCK:
                await until_a_clock_is_near(journal)
            moment = journal.moment(time.time())
            faults.append(await kinds.inject(kind, up, probe, moment,
                                             holds=settings.holds))
    finally:
        until.set()
        await busy
    findings = checks.Findings()
    outages = [f.outage for f in faults]
    await checks.check_cases(officers, journal, findings, outages,
                             agencies_were_down=kinds.agencies_unreachable(kind),
                             agency_clock_steps=kinds.agency_clock_steps(faults))
    await checks.check_replays(up.data_dir, journal.cases, findings)
    checks.audit_verify(await asyncio.to_thread(audit, up), findings)
    return Round(kind, faults, journal, findings, time.monotonic() - began)


async def until_a_clock_is_near(journal: Journal, within: float = 60.0) -> None:
    """Until a clock's reminder or deadline is less than a second away (or `within`
    seconds passed: the fault then strikes where it is)."""
    give_up = time.monotonic() + within
    while time.monotonic() < give_up:
        now = time.time()
        for clock in journal.clocks:
            moments = (clock.deadline - checks.REMINDER_BEFORE_SECONDS, clock.deadline)
            if any(0.2 < moment - now < 1.0 for moment in moments):
                return
        await asyncio.sleep(0.05)


def audit(up: Up) -> dict[str, Any]:
    """`seamless audit verify --json` of the running platform, as its report."""
    result = subprocess.run([SEAMLESS, "audit", "verify", "--json"], env=up.env,
                            capture_output=True, text=True, timeout=AUDIT_SECONDS,
                            check=False)
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        return {"verdicts": [{"case_id": "(all)", "intact": False, "broken_at": 0,
                              "problem": f"audit verify said: {result.stdout[-500:]}"
                                         f"{result.stderr[-500:]}"}]}
    return report


def moments(faults: list[Injected]) -> Counter[str]:
    """How often each command (or a clock) was under way when a fault struck."""
    counted: Counter[str] = Counter()
    for fault in faults:
        for what in fault.moment or ["(nothing in flight)"]:
            counted[what] += 1
    return counted
