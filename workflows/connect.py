"""Connecting to Temporal from a long-running process that may start before it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from temporalio.client import Client, Interceptor
from temporalio.service import RPCError

from observability import telemetry
from workflows import type_hints

log = logging.getLogger(__name__)


async def connect(address: str, namespace: str = "default", *,
                  interceptors: Sequence[Interceptor] = (),
                  wait_seconds: float = 120.0) -> Client:
    """A traced client for `address`, retrying while the server is still starting.

    Its tracing interceptor also applies to workers built on it: trace context travels
    in Temporal headers from the gateway into the workflow and its activities.
    `interceptors` come after it (the gateway's seal on its commands)."""
    type_hints.cache_converter_type_hints()
    give_up = time.monotonic() + wait_seconds
    while True:
        try:
            return await Client.connect(address, namespace=namespace,
                                        interceptors=[telemetry.temporal_interceptor(),
                                                      *interceptors])
        except (RPCError, RuntimeError, OSError) as err:
            if time.monotonic() > give_up:
                raise RuntimeError(f"Temporal at {address} did not answer within "
                                   f"{wait_seconds:.0f} s: {err}") from err
            log.info("waiting for Temporal at %s: %s", address, err)
            await asyncio.sleep(1.0)
