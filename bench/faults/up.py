"""`seamless up` as the fault suite runs it: a real supervisor over real processes, each
of which can be killed, frozen or stopped a while, and told apart by its pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path

from bench.faults.records import Records, Server, topology
from cli import datadir
from cli.databases import DATABASE_URL_VARIABLE
from cli.datadir import Endpoints
from cli.health import health
from cli.platform import TEMPORAL_SERVICE, worker_health
from cli.supervise import free_ports, up_environment
from cli.up import AGENCIES, run_dir, supervised, supervisor_control
from records.participation import role_of
from trust.pki import Role
from trust.tls import expecting

# The command line of the environment this runs in (its virtualenv's).
SEAMLESS = str(Path(sys.executable).parent / "seamless")
START_SECONDS = 180.0
STOP_SECONDS = 60.0
# The processes `seamless up` supervises under its embedded default.
PROCESSES = ("temporal", "worker", "gateway", AGENCIES)


class Up:
    """One `seamless up` of a data directory of its own, on free ports, its records in
    SQLite files there or on `postgres`."""

    def __init__(self, data_dir: Path, postgres: Server | None = None) -> None:
        self.data_dir = data_dir
        self.postgres = postgres
        self.env = up_environment(data_dir, free_ports())
        if postgres is not None:
            self.env[DATABASE_URL_VARIABLE] = postgres.url
        self.process: subprocess.Popen[bytes] | None = None
        self.endpoints: Endpoints | None = None
        self._records: Records | None = None

    @property
    def topology(self) -> str:
        return topology(self.postgres is not None)

    @property
    def records(self) -> Records:
        """Each owner's records, read-only (once the platform has started)."""
        if self._records is None:
            self._records = Records(self.data_dir,
                                    self.postgres.url if self.postgres is not None else "")
        return self._records

    # ----- the whole -------------------------------------------------------------------

    def start(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir.parent / f"{self.data_dir.name}-up.log").open("ab")
        self.process = subprocess.Popen([SEAMLESS, "up"], env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        give_up = time.monotonic() + START_SECONDS
        while not (self.data_dir / datadir.ENDPOINTS).exists() or not self.serving():
            if self.process.poll() is not None:
                raise RuntimeError(f"seamless up ended ({self.process.returncode}); see "
                                   f"{log.name}")
            if time.monotonic() > give_up:
                raise RuntimeError(f"the platform was not up within {START_SECONDS:.0f} s")
            time.sleep(1.0)

    def stop(self) -> int | None:
        """Ctrl-C, as its user stops it (killed if it does not end); its exit status."""
        if self._records is not None:
            self._records.close()
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def serving(self) -> bool:
        return all(self.status(name) == "SERVING" for name in PROCESSES)

    def status(self, name: str) -> str:
        if self.endpoints is None:
            self.endpoints = Endpoints.read(self.data_dir)
        endpoints = self.endpoints
        if name == "temporal":
            return health(endpoints.temporal, TEMPORAL_SERVICE)
        if name == "worker":
            return worker_health(endpoints.temporal)
        authority = datadir.pki(self.data_dir)
        if name == "gateway":
            return health(endpoints.gateway, authority=authority,
                          expect=expecting(Role.GATEWAY))
        states = {health(address, authority=authority, expect=expecting(role_of(agency), agency))
                  for agency, address in endpoints.desks.items()}
        return states.pop() if len(states) == 1 else "NOT_SERVING"

    # ----- one process -----------------------------------------------------------------

    def pid(self, name: str, *, starting: bool = False) -> int:
        """The running pid of a supervised process (`starting`: or one supervisord has
        just started, not yet counted as running), or of supervisord ("supervisor"); 0
        while there is none."""
        if name == "supervisor":
            try:
                return int((run_dir(self.data_dir) / "supervisord.pid").read_text())
            except (OSError, ValueError):
                return 0
        processes = supervised(self.data_dir) or {}
        entry = processes.get(name, {})
        states = ("RUNNING", "STARTING") if starting else ("RUNNING",)
        return int(entry.get("pid") or 0) if entry.get("state") in states else 0

    def signal(self, name: str, signum: signal.Signals) -> int:
        """Send `signum` to the process (one just started too); its pid (0: none was
        running)."""
        pid = self.pid(name, starting=True)
        if pid:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                return 0
        return pid

    def supervisor_call(self, method: str, name: str) -> None:
        """stopProcess or startProcess of supervisord, waiting until it is done."""
        with supervisor_control(self.data_dir) as proxy:
            if proxy is None:
                raise RuntimeError("no supervisord for this data directory")
            try:
                getattr(proxy.supervisor, method)(name, True)
            except xmlrpc.client.Fault as fault:
                # Already stopped or started: what was asked holds.
                if "NOT_RUNNING" not in fault.faultString and \
                        "ALREADY_STARTED" not in fault.faultString:
                    raise
