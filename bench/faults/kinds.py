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
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.faults.up import Up
from workflows.agency_activities import CALL_TIMEOUT_SECONDS

KILLED = ("temporal", "worker", "gateway", "agencies", "supervisor")
# The worker killed a moment before a clock is due, while the officers keep reading the
# case: the timer fires while no worker runs (the moment the fault suite found a fault).
AT_CLOCK = "kill:worker@clock"
KINDS = (*(f"kill:{name}" for name in KILLED), AT_CLOCK, "freeze:agencies",
         "stop:temporal")
# Frozen for longer than a delivery's deadline.
FREEZE_SECONDS = CALL_TIMEOUT_SECONDS + 5.0
STOP_SECONDS = 30.0
# How long the platform may take to answer again before the suite says it did not.
RECOVERY_LIMIT_SECONDS = 300.0


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
                 stop_seconds: float = STOP_SECONDS) -> Injected:
    action, _, name = kind.partition(":")
    name = name.partition("@")[0]
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
        await asyncio.sleep(stop_seconds)
        ended = time.time()  # the recovery counts its start
        await asyncio.to_thread(up.supervisor_call, "startProcess", name)
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
