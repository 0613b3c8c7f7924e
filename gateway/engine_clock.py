"""Whether this gateway's clock is close enough to the engine's for the commands it seals
to be believed, checked before each is sealed.

The worker refuses a command whose seal was made further than MAX_SEAL_AGE from the
engine's own moment (Temporal's time), before or after. A gateway whose host clock has
jumped would have every command refused — and every case it opened would be left behind
as a failed run, which the audit can only read as a start sent past the gateway. So while
the two clocks are too far apart the gateway refuses the command itself (UNAVAILABLE,
saying why and what to fix) and sends nothing.

Temporal's time is read from its own stamp of when a worker last polled the case queue
(DescribeTaskQueue): at most a long poll old (about a minute), ample for a bound of
minutes. It is read again every CHECK_EVERY, and at once when this host's wall clock
moves against its monotonic clock (a step), so a jump is seen before the next seal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import grpc
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from gateway.errors import GatewayError
from workflows.seals import MAX_SEAL_AGE

log = logging.getLogger(__name__)

# Beyond this the gateway refuses: the engine's bound less what the reading may be stale
# by (a poll's age), so that a command the gateway lets through is one the engine takes.
TOLERANCE = MAX_SEAL_AGE - timedelta(minutes=1)
CHECK_EVERY_SECONDS = 30.0
# A move of the wall clock against the monotonic one larger than this is a step.
STEPPED_SECONDS = 1.0
ASK_TIMEOUT = timedelta(seconds=2)


class EngineClock:
    """This gateway's clock against the engine's, as last read (`client` is set once the
    Temporal client it reads through is connected)."""

    def __init__(self, namespace: str, task_queue: str) -> None:
        self.client: Client | None = None
        self._namespace = namespace
        self._task_queue = task_queue
        # The engine's time (epoch seconds) at the monotonic moment `_read_at`, as last
        # read; None while unknown (no worker polling: nothing is refused for a clock that
        # cannot be compared).
        self._engine_time: float | None = None
        self._read_at = float("-inf")
        # This host's wall clock less its monotonic one, when last read: a step moves it.
        self._anchor: float | None = None
        self._lock = asyncio.Lock()

    def skew(self, at: datetime) -> timedelta | None:
        """How far `at`, read off this host's clock now, is from the engine's time
        (positive: ahead)."""
        if self._engine_time is None:
            return None
        engine_now = self._engine_time + (time.monotonic() - self._read_at)
        return timedelta(seconds=at.timestamp() - engine_now)

    async def check(self, at: datetime) -> None:
        """GatewayError (UNAVAILABLE) if a seal made at `at` (this host's time, read just
        now) would be too far from the engine's time to be believed."""
        if self._stale(at):
            async with self._lock:
                if self._stale(at):
                    await self._read(at)
        skew = self.skew(at)
        if skew is not None and abs(skew) > TOLERANCE:
            minutes = round(abs(skew).total_seconds() / 60)
            where = "ahead of" if skew > timedelta(0) else "behind"
            raise GatewayError(
                grpc.StatusCode.UNAVAILABLE, "CLOCK_SKEWED",
                f"this gateway's clock is about {minutes} min {where} the case engine's: "
                "the engine would refuse every command it seals. Nothing was sent; the "
                "time of the gateway's host must be corrected (NTP)",
                retry_after=CHECK_EVERY_SECONDS)

    def _stale(self, at: datetime) -> bool:
        now = time.monotonic()
        stepped = self._anchor is None or \
            abs(at.timestamp() - now - self._anchor) > STEPPED_SECONDS
        return stepped or now - self._read_at > CHECK_EVERY_SECONDS

    async def _read(self, at: datetime) -> None:
        polled = await self._last_polls()
        # Only now, with nothing awaited after: a command checked meanwhile found the
        # reading stale, and waited for it under the lock.
        self._anchor = at.timestamp() - time.monotonic()
        self._read_at = time.monotonic()
        if polled is None:  # Temporal unreachable: the command will say so itself
            return
        was = self.skew(at)
        self._engine_time = max(polled) if polled else None
        now = self.skew(at)
        if now is not None and abs(now) > TOLERANCE and (was is None or abs(was) <= TOLERANCE):
            log.error("this gateway's clock is %s off the case engine's: commands are "
                      "refused until it is corrected", now)

    async def _last_polls(self) -> list[float] | None:
        """When the server saw each worker last poll the case queue, by its own clock;
        None if it could not be asked."""
        if self.client is None:
            return None
        try:
            reply = await self.client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=self._namespace, task_queue=TaskQueue(name=self._task_queue),
                    task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
                timeout=ASK_TIMEOUT)
        except RPCError as err:
            log.debug("the engine's time could not be read: %s", err)
            return None
        return [p.last_access_time.ToDatetime(tzinfo=UTC).timestamp()
                for p in reply.pollers if p.HasField("last_access_time")]
