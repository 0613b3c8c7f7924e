"""The faults the suite injects, each into the running `seamless up`, and how long the
platform took to answer again after each.

* `kill:NAME`: SIGKILL, no chance to finish anything, as a crash; supervisord restarts
  the process (`kill:supervisor` kills supervisord itself: `seamless up` starts it again,
  and with it every process, which stopped with it).
* `kill:worker@clock`: the worker killed a moment before a clock (or its reminder) is
  due, the case read all the while.
* `freeze:agencies`: SIGSTOP of the process serving every agency for longer than a
  delivery's deadline, then SIGCONT: calls to it hang, then time out, rather than fail.
* `stop:temporal`: Temporal's server stopped cleanly for half a minute, then started.
* `restart:postgres` (with the records on PostgreSQL, `--postgres`): the server holding
  the ledger, the read model, the witness and every agency's database ended at once
  (as a crash: `pg_ctl stop -m immediate`), started again after a while on what it had
  written (its WAL replayed).
* `step:clock@NAME`: the process's wall clock stepped an hour ahead a while, then back
  (bench.faults.clock, libfaketime).
* `fill:ledger-disk`, `partition:agency`: see bench.faults.isolation (the suite runs in
  namespaces of its own for them).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.faults import clock, isolation
from bench.faults.up import Up
from bench.faults.work import MISSED_BY
from cli.datadir import Endpoints
from workflows.agency_activities import CALL_TIMEOUT_SECONDS

KILLED = ("temporal", "worker", "gateway", "agencies", "supervisor")
# The worker killed a moment before a clock is due, while the officers keep reading the
# case: the timer fires while no worker runs (the moment the fault suite found a fault).
AT_CLOCK = "kill:worker@clock"
# The processes whose clock is stepped (Temporal's is Go's own: libfaketime cannot).
STEPPED = ("worker", "gateway", "agencies")
# The faults struck at the platform as it runs on the machine.
IN_PLACE_KINDS = (*(f"kill:{name}" for name in KILLED), AT_CLOCK, "freeze:agencies",
                  "stop:temporal", *(f"step:clock@{name}" for name in STEPPED))
KINDS = (*IN_PLACE_KINDS, *isolation.ISOLATED_KINDS)
# Only where the records live on PostgreSQL.
POSTGRES_KINDS = ("restart:postgres",)
# Frozen for longer than a delivery's deadline.
FREEZE_SECONDS = CALL_TIMEOUT_SECONDS + 5.0


@dataclass(frozen=True)
class Holds:
    """How long each fault that lasts lasts, in seconds (`make test`'s sample holds
    them shorter)."""

    stop: float = 30.0  # Temporal stopped
    partition: float = 60.0  # an agency cut off
    full: float = 20.0  # the ledger's disk full
    step: float = 30.0  # a process's clock an hour ahead
    postgres: float = 10.0  # the records' server down

    @classmethod
    def parse(cls, given: list[str]) -> Holds:
        """From `NAME=SECONDS` each (`--hold partition=15`)."""
        values: dict[str, float] = {}
        for one in given:
            name, _, seconds = one.partition("=")
            if name not in cls.__dataclass_fields__:
                raise ValueError(f"no such hold: {name} (of "
                                 f"{', '.join(cls.__dataclass_fields__)})")
            values[name] = float(seconds)
        return cls(**values)


# The agency cut off by a partition: the one whose sign-for clock is missed, so that its
# task, reminder and supervision notice all have to cross the cut.
PARTITIONED = MISSED_BY[1]
# How long the platform may take to answer again before the suite says it did not.
RECOVERY_LIMIT_SECONDS = 300.0


def agency_clock_steps(faults: list[Injected]) -> list[tuple[float, float]]:
    """When the agencies' clock ran ahead (real times)."""
    return [(f.began, f.ended) for f in faults if f.kind == "step:clock@agencies"]


def agencies_unreachable(kind: str) -> bool:
    """Whether the fault leaves an agency unable to take a delivery (their process, the
    server of their databases, the way to one): a notice then waits for its retry's
    backoff."""
    return kind.endswith(":agencies") or kind in ("restart:postgres", "partition:agency")


@dataclass
class Injected:
    """One fault: when it began, when the fault itself ended (the process dead, thawed or
    started again), when the platform answered again; what was under way."""

    kind: str
    began: float  # epoch seconds
    ended: float
    answered: float
    moment: list[str]
    pid: int

    @property
    def recovery(self) -> float:
        return self.answered - self.ended

    @property
    def outage(self) -> tuple[float, float]:
        return self.began, self.answered


Probe = Callable[[], Awaitable[bool]]


async def inject(kind: str, up: Up, probe: Probe, moment: list[str], *,
                 holds: Holds = Holds()) -> Injected:
    action, _, name = kind.partition(":")
    name = name.partition("@")[2 if action == "step" else 0]
    if action in ("kill", "freeze"):
        await _running(up, name)
    began = time.time()
    pid = 0
    if action == "kill":
        pid = await asyncio.to_thread(up.signal, name, signal.SIGKILL)
        await _gone(pid)
        ended = time.time()
    elif action == "freeze":
        pid = await asyncio.to_thread(up.signal, name, signal.SIGSTOP)
        await asyncio.sleep(FREEZE_SECONDS)
        await asyncio.to_thread(up.signal, name, signal.SIGCONT)
        ended = time.time()
    elif action == "stop":
        await asyncio.to_thread(up.supervisor_call, "stopProcess", name)
        await asyncio.sleep(holds.stop)
        ended = time.time()  # the recovery counts its start
        await asyncio.to_thread(up.supervisor_call, "startProcess", name)
    elif action == "restart":
        if up.postgres is None:
            raise ValueError(f"{kind} needs the records on PostgreSQL (--postgres)")
        await asyncio.to_thread(up.postgres.running.stop)
        await asyncio.sleep(holds.postgres)
        await asyncio.to_thread(up.postgres.running.start_again)
        ended = time.time()
    elif action == "step":
        async with clock.faked(up, name) as faked:
            began = time.time()
            faked.step(clock.STEP)
            await asyncio.sleep(holds.step)
            faked.step("+0")
            ended = time.time()
            # Answering again is timed before the process is handed back to supervisord
            # (a restart of the suite's making, not the fault's).
            await _answers(up, "", 0, probe)
            answered = time.time()
        await _answers(up, "", 0, probe)
        return Injected(kind, began, ended, answered, moment, faked.pid)
    elif action == "fill":
        await asyncio.to_thread(isolation.fill, up.data_dir)
        try:
            await asyncio.sleep(holds.full)
        finally:
            isolation.free(up.data_dir)
        ended = time.time()
    elif action == "partition":
        port = int(Endpoints.read(up.data_dir).agencies[PARTITIONED].rpartition(":")[2])
        await asyncio.to_thread(isolation.cut, port)
        try:
            await asyncio.sleep(holds.partition)
        finally:
            await asyncio.to_thread(isolation.heal, port)
        ended = time.time()
    else:
        raise ValueError(f"no such fault: {kind}")
    await _answers(up, name if action == "kill" else "", pid, probe)
    return Injected(kind, began, ended, time.time(), moment, pid)


async def _running(up: Up, name: str, within: float = 60.0) -> None:
    """Until the process runs (restarted by a fault before, it may not yet): a fault
    that finds nothing to strike is not counted as struck."""
    give_up = time.monotonic() + within
    while not await asyncio.to_thread(lambda: up.pid(name, starting=True)):
        if time.monotonic() > give_up:
            raise RuntimeError(f"no {name} process to strike within {within:.0f} s")
        await asyncio.sleep(0.1)


async def _gone(pid: int) -> None:
    """Until the killed process is reaped (its ports free again)."""
    while pid and _alive(pid):
        await asyncio.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


async def _answers(up: Up, killed: str, old_pid: int, probe: Probe) -> None:
    """Until the killed process runs again under a new pid, every process serves, and
    the probe (a read through the whole platform) answers."""
    give_up = time.monotonic() + RECOVERY_LIMIT_SECONDS
    while time.monotonic() < give_up:
        restarted = not killed or \
            (await asyncio.to_thread(lambda: up.pid(killed, starting=True))) not in (0, old_pid)
        if restarted and await asyncio.to_thread(up.serving) and await probe():
            return
        await asyncio.sleep(0.25)
    raise RuntimeError(f"the platform did not answer within {RECOVERY_LIMIT_SECONDS:.0f} s "
                       f"after {killed or 'the fault'}")
