"""`step:clock@NAME`: one process's clock stepped forward by an hour while it runs, as a
host's clock jumps when it is corrected or a paused machine resumes, then stepped back.

The process runs under libfaketime (Debian's libfaketime, preloaded): the suite takes it
over from supervisord for the fault — stopped there, started by the suite with the same
command and environment (`cli.run_process` and the table `seamless up` wrote) and the
library preloaded, its offset zero — steps it, and hands it back to supervisord after.
Only the wall clock moves (CLOCK_REALTIME: what `time.time()` and `datetime.now()` read);
the monotonic clock that timeouts and sleeps run on does not, as when a real clock is
stepped. The machine's own clock never changes.
"""

from __future__ import annotations

import asyncio
import glob
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bench.faults.up import Up
from cli.databases import DATABASE_URL_VARIABLE
from cli.up import run_dir

STEP_SECONDS = 3600
# An hour ahead, in libfaketime's notation (an offset in seconds from the real time).
STEP = f"+{STEP_SECONDS}"
# libfaketime reads the offset file again at most this often (seconds): reading it at
# every call of the clock would slow the process down.
READ_EVERY = "1"
# So a step takes effect, and ends, up to this long after the file says (its cache
# expires once more than READ_EVERY whole seconds passed).
TAKES_EFFECT_WITHIN = 3.0
START_SECONDS = 120.0


def library() -> str:
    """libfaketime's multi-threaded build ('' if it is not installed)."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
    return found[0] if found else ""


class FakedClock:
    """The process `name` running under libfaketime, its offset in a file."""

    def __init__(self, up: Up, name: str) -> None:
        self.up = up
        self.name = name
        self.offset_file = run_dir(up.data_dir) / f"clock-{name}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None else 0

    def step(self, offset: str) -> None:
        self.offset_file.write_text(offset + "\n")

    def start(self) -> None:
        preload = library()
        if not preload:
            raise RuntimeError("step:clock needs libfaketime (`make fault-tools`)")
        self.step("+0")
        log = (self.up.data_dir.parent / f"{self.up.data_dir.name}-{self.name}-faked.log"
               ).open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.run_process",
             str(run_dir(self.up.data_dir) / "processes.json"), self.name],
            # As supervisord starts it: `seamless up` keeps the server's URL to itself.
            env={**{k: v for k, v in self.up.env.items() if k != DATABASE_URL_VARIABLE},
                 "LD_PRELOAD": preload,
                 "FAKETIME_TIMESTAMP_FILE": str(self.offset_file),
                 "FAKETIME_CACHE_DURATION": READ_EVERY,
                 "FAKETIME_DONT_FAKE_MONOTONIC": "1"},
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        give_up = time.monotonic() + START_SECONDS
        while self.up.status(self.name) != "SERVING":
            if self.process.poll() is not None or time.monotonic() > give_up:
                raise RuntimeError(f"{self.name} did not start under libfaketime; see "
                                   f"{log.name}")
            time.sleep(0.25)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@asynccontextmanager
async def faked(up: Up, name: str) -> AsyncIterator[FakedClock]:
    """`name` taken over from supervisord and run under libfaketime for the block, then
    handed back."""
    clock = FakedClock(up, name)
    await asyncio.to_thread(up.supervisor_call, "stopProcess", name)
    try:
        await asyncio.to_thread(clock.start)
        yield clock
    finally:
        await asyncio.to_thread(clock.stop)
        await asyncio.to_thread(up.supervisor_call, "startProcess", name)


def as_real(stamp: float, steps: list[tuple[float, float]]) -> float:
    """A time the stepped process wrote down, as the real time it meant: within a step
    (real `(began, ended)`), it wrote STEP_SECONDS ahead. Unambiguous: a real time an
    hour later than the step is after the suite's checks."""
    for began, ended in steps:
        if began + STEP_SECONDS <= stamp <= ended + STEP_SECONDS + TAKES_EFFECT_WITHIN:
            return stamp - STEP_SECONDS
    return stamp
