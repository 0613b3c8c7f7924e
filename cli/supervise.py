"""The whole platform as separate processes, each started and stopped on its own.

It runs exactly the commands `seamless up` runs (same table, same environment), but
without the process manager, so an end-to-end test can kill one process and bring it
back, and the benchmark can read each process's CPU time and memory.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from cli import datadir
from cli.databases import chosen, migrate_all
from cli.datadir import Endpoints
from cli.health import health
from cli.platform import TEMPORAL_SERVICE, worker_health
from cli.up import AGENCIES, Ports, prepare, processes
from records.participation import role_of
from trust.files import private_dir
from trust.pki import Role
from trust.tls import expecting

START_TIMEOUT = 120.0


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# Below the kernel's ephemeral range (32768 and up on Linux): a port the kernel hands out
# (an outgoing connection's, a bind to port 0) never takes one of the platform's while
# its process is down, between a stop and a start.
PORT_SPAN = (20000, 32700)


def free_ports(agencies: int = 16, span: tuple[int, int] = PORT_SPAN) -> Ports:
    """Ports nobody listens on within `span`, with consecutive runs for the agencies'
    two ports."""
    while True:
        base = random.randrange(span[0], span[1] - 100, 100)
        wanted = [base, base + 1, base + 2, base + 3, base + 4,
                  *range(base + 10, base + 10 + agencies),
                  *range(base + 50, base + 50 + agencies)]
        if all(_free(p) for p in wanted):
            return Ports(temporal=base, temporal_ui=base + 1, gateway=base + 2,
                         gateway_mtls=base + 3, gateway_http=base + 4, agency_base=base + 10,
                         desk_base=base + 50)


def up_environment(data_dir: Path, ports: Ports) -> dict[str, str]:
    """The environment in which `seamless up` (and the CLI beside it) uses `data_dir`
    and `ports`, as a user sets them."""
    return {**os.environ, "SEAMLESS_DATA_DIR": str(data_dir),
            "XDG_CONFIG_HOME": str(data_dir.parent / "config"),
            "SEAMLESS_TEMPORAL_PORT": str(ports.temporal),
            "SEAMLESS_UI_PORT": str(ports.temporal_ui),
            "SEAMLESS_GATEWAY_PORT": str(ports.gateway),
            "SEAMLESS_GATEWAY_MTLS_PORT": str(ports.gateway_mtls),
            "SEAMLESS_GATEWAY_HTTP_PORT": str(ports.gateway_http),
            "SEAMLESS_AGENCY_BASE_PORT": str(ports.agency_base),
            "SEAMLESS_DESK_BASE_PORT": str(ports.desk_base)}


def wait_for(condition: Callable[[], bool], what: str, timeout: float = START_TIMEOUT,
             interval: float = 0.25) -> None:
    give_up = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Platform:
    def __init__(self, data_dir: Path, ports: Ports | None = None, *,
                 database_url: str = "", agencies_apart: bool = False) -> None:
        """`agencies_apart`: each agency in a process of its own (as compose runs them)
        rather than all in one, as `seamless up` runs them."""
        self.data_dir = data_dir
        self.ports = ports or free_ports()
        self.endpoints: Endpoints = prepare(data_dir, self.ports)
        databases = chosen(database_url, data_dir, list(self.endpoints.agencies))
        migrate_all(databases)
        self.table = processes(data_dir, self.ports, self.endpoints, databases=databases,
                               agencies_apart=agencies_apart)
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        private_dir(data_dir / "logs")

    # ----- processes -------------------------------------------------------------------

    def start(self, name: str) -> None:
        command, extra = self.table[name]
        path = self.data_dir / "logs" / f"{name}.log"
        log = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        # As under `seamless up`: what the process creates is private (see cli.up).
        self.running[name] = subprocess.Popen(command, env={**os.environ, **extra},
                                              stdout=log, stderr=subprocess.STDOUT,
                                              umask=0o077)
        log.close()

    def kill(self, name: str) -> None:
        """SIGKILL: no chance to finish anything, as in a crash."""
        process = self.running.pop(name)
        process.kill()
        process.wait(timeout=30)

    def stop(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def start_all(self) -> None:
        for name in self.table:
            self.start(name)
        self.wait_healthy()

    def stop_all(self) -> None:
        # Front to back: nothing keeps calling a part that has gone.
        for name in ["gateway", "worker", AGENCIES, *self.endpoints.agencies, "temporal"]:
            if name in self.running:
                self.stop(name)

    def status(self, name: str) -> str:
        if name == "temporal":
            return health(self.endpoints.temporal, TEMPORAL_SERVICE)
        if name == "worker":
            return worker_health(self.endpoints.temporal)
        authority = datadir.pki(self.data_dir)
        if name == "gateway":
            return health(self.endpoints.gateway, authority=authority,
                          expect=expecting(Role.GATEWAY))
        if name == AGENCIES:  # the process every agency shares: each of them serving
            states = {self.status(agency) for agency in self.endpoints.desks}
            return states.pop() if len(states) == 1 else "NOT_SERVING"
        return health(self.endpoints.desks[name], authority=authority,
                      expect=expecting(role_of(name), name))

    def wait_healthy(self, names: list[str] | None = None) -> None:
        for name in names or list(self.table):
            wait_for(lambda name=name: self.status(name) == "SERVING",  # type: ignore[misc]
                     f"{name} to be healthy (log: {self.data_dir}/logs/{name}.log)")
