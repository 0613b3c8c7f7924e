"""Free ports for the servers the tests start."""

from __future__ import annotations

import socket
from contextlib import ExitStack


def free_port() -> int:
    """A port nobody listens on now (the kernel's pick; free until someone binds it)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` different ports nobody listens on now (held together while picked: the
    kernel may offer a port twice while nobody listens on it)."""
    with ExitStack() as held:
        probes = [held.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
