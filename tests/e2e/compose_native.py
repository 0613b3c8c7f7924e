"""docker-compose.yml's topology run as local processes: the compose wiring proved without
a container engine (none runs on the machines the tests run on).

What runs, and what stands in for what:
* our services (the image `seamless:…`: the provision job, the gateway, each worker
  replica, each agency) with **their own command and environment from the file**;
* PostgreSQL from the Debian binaries (version 15 here, the file pins the image of 17)
  in a temporary directory, with the file's own init scripts;
* the Temporal dev server stands in for `temporalio/server` and `temporalio/ui` on
  PostgreSQL (the schema job has nothing to do then), behind the mutual TLS the file
  gives the server (tests/tls_front.py, with the server's own certificate and client
  authority from its environment: the dev server has no TLS); the file's namespace and
  search-attribute job runs against it as written;
* an in-process OTLP receiver stands in for the collector and Jaeger.
Volumes are folders; a mount of a volume's subpath is that subfolder. In the services'
environment, command and health checks, container paths become the folders mounted
there, each host name of the file (and the loopback of the service's own checks)
becomes 127.0.0.1, and each (service, port) gets a free port of its own, consistently
on the side that listens and on every side that calls.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import yaml
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2

from cli.datadir import Endpoints
from tests.e2e import cli_forks
from tests.ports import free_port
from tests.postgres import PostgresServer
from tests.tls_front import TlsFront

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
BIN = Path(sys.executable).parent
OUR_IMAGE = re.compile(r"^seamless:")
# "host:port" where the host is a service of the file (or the service's own loopback).
_ADDRESS = re.compile(r"(?<![\w.-])([a-z][a-z0-9-]*|127\.0\.0\.1|0\.0\.0\.0|localhost)"
                      r":(\d{2,5})\b")


def load() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return loaded



class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """What the OpenTelemetry collector receives (OTLP over gRPC), kept in memory."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, trace_pb2.Span]] = []
        self._lock = threading.Lock()

    def Export(self, request: trace_service_pb2.ExportTraceServiceRequest,  # noqa: N802
               context: grpc.ServicerContext) -> trace_service_pb2.ExportTraceServiceResponse:
        with self._lock:
            for resource_spans in request.resource_spans:
                service = next((a.value.string_value for a in resource_spans.resource.attributes
                                if a.key == "service.name"), "")
                for scope in resource_spans.scope_spans:
                    self.spans.extend((service, span) for span in scope.spans)
        return trace_service_pb2.ExportTraceServiceResponse()

    def services(self) -> set[str]:
        with self._lock:
            return {service for service, _ in self.spans}

    def attribute_values(self, key: str) -> set[str]:
        with self._lock:
            return {a.value.string_value for _, span in self.spans for a in span.attributes
                    if a.key == key}


@dataclass
class Topology:
    """docker-compose.yml's services, mapped onto this machine under `root`."""

    compose: dict[str, Any]
    root: Path
    ports: dict[tuple[str, int], int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    fronts: list[TlsFront] = field(default_factory=list)

    @property
    def services(self) -> dict[str, Any]:
        services: dict[str, Any] = self.compose["services"]
        return services

    def ours(self) -> list[str]:
        """Our long-running services (the image's; the provision job aside)."""
        return [name for name, service in self.services.items()
                if OUR_IMAGE.match(service.get("image", ""))
                and service.get("restart") != "no"]

    def replicas(self, name: str) -> int:
        return int(self.services[name].get("deploy", {}).get("replicas", 1))

    # ----- mapping ----------------------------------------------------------------------

    def port(self, service: str, port: int) -> int:
        """The local port standing for `service`'s container port `port`."""
        if (service, port) not in self.ports:
            # The kernel may offer a port twice while nobody listens on it yet: each
            # stand-in gets one of its own.
            taken = set(self.ports.values())
            local = free_port()
            while local in taken:
                local = free_port()
            self.ports[(service, port)] = local
        return self.ports[(service, port)]

    def volume(self, name: str) -> Path:
        return self.root / "volumes" / name

    def mounts(self, service: str) -> list[tuple[str, Path]]:
        """(container path, local path) of each of the service's mounts, longest first."""
        found: list[tuple[str, Path]] = []
        for mount in self.services[service].get("volumes", []):
            if mount["type"] == "volume":
                local = self.volume(mount["source"]) / mount.get("volume", {}).get(
                    "subpath", "")
            elif mount["type"] == "bind":
                local = (REPO / mount["source"]).resolve()
            else:
                continue  # an image mount (the collector's busybox): nothing of ours
            found.append((mount["target"], local))
        return sorted(found, key=lambda m: len(m[0]), reverse=True)

    def rewrite(self, service: str, value: str) -> str:
        for target, local in self.mounts(service):
            value = re.sub(rf"(?<![\w/]){re.escape(target)}(?=/|$|\s|\")", str(local), value)

        def address(match: re.Match[str]) -> str:
            host, port = match.group(1), int(match.group(2))
            if host in self.services:
                return f"127.0.0.1:{self.port(host, port)}"
            if host in ("127.0.0.1", "localhost", "0.0.0.0"):
                return f"127.0.0.1:{self.port(service, port)}"
            return match.group(0)

        return _ADDRESS.sub(address, value)

    def environment(self, service: str) -> dict[str, str]:
        environment: dict[str, str] = {}
        for name, raw in (self.services[service].get("environment") or {}).items():
            value = self.rewrite(service, str(raw))
            if name.endswith("_PORT") and value.isdigit():
                value = str(self.port(service, int(value)))  # a port it listens on
            if value == "0.0.0.0":
                value = "127.0.0.1"
            environment[name] = value
        return environment

    def command(self, service: str, words: Sequence[str]) -> list[str]:
        local = [self.rewrite(service, str(w)) for w in words]
        if local[0] == "python":
            local[0] = sys.executable
        elif local[0] == "seamless":
            local[0] = str(BIN / "seamless")
        return local

    # ----- processes --------------------------------------------------------------------

    def run_once(self, service: str, *, adding: Sequence[str] = ()
                 ) -> subprocess.CompletedProcess[str]:
        """A one-shot job of ours (the provision job), to completion; `adding` arguments
        to the file's (as an operator would run it by hand)."""
        for _target, local in self.mounts(service):
            local.mkdir(parents=True, exist_ok=True)
        command = [*self.services[service]["command"], *adding]
        return subprocess.run(self.command(service, command),
                              env={**os.environ, **self.environment(service)},
                              capture_output=True, text=True, timeout=300, check=True)

    def start(self, service: str, replica: int = 1) -> None:
        name = service if replica == 1 else f"{service}-{replica}"
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                self.command(service, self.services[service]["command"]),
                env={**os.environ, **self.environment(service)}, stdout=log,
                stderr=subprocess.STDOUT)

    def listening(self, service: str) -> bool:
        """Whether every port the service listens on takes a connection (cheap: a
        health check is a whole `seamless` command, a second of CPU per try)."""
        for name, value in self.environment(service).items():
            if name.endswith("_PORT"):
                try:
                    socket.create_connection(("127.0.0.1", int(value)), timeout=1.0).close()
                except OSError:
                    return False
        return True

    def healthy(self, service: str) -> bool:
        """The service's own health check, as the file writes it, run here."""
        if not self.listening(service):
            return False
        test = self.services[service]["healthcheck"]["test"]
        assert test[0] == "CMD", f"{service}: a health check in exec form"
        command = self.command(service, test[1:])
        environment = {**os.environ, **self.environment(service)}
        if command[0] == cli_forks.SEAMLESS:  # the command line, forked (cli_forks)
            return cli_forks.run(command[1:], env=environment, timeout=60).returncode == 0
        result = subprocess.run(command, capture_output=True, env=environment, timeout=60)
        return result.returncode == 0

    def stop_all(self) -> None:
        for front in self.fronts:
            front.stop()
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    # ----- the parts that stand in for images -------------------------------------------

    def initialise_postgres(self, server: PostgresServer) -> None:
        """Run the file's init scripts on `server`, as the postgres image does on its
        first start (`server` listens on the port standing for postgres:5432)."""
        superuser = self.services["postgres"]["environment"]["POSTGRES_USER"]
        assert superuser == "postgres", "the test's server names its superuser postgres"
        assert server.port == self.port("postgres", 5432)
        for target, local in self.mounts("postgres"):
            if target.startswith("/docker-entrypoint-initdb.d/"):
                subprocess.run(["sh", str(local)], check=True, capture_output=True,
                               timeout=120, env={**os.environ, **self.environment("postgres"),
                                                 "PGHOST": str(server.socket_dir),
                                                 "PGPORT": str(server.port)})

    def start_temporal(self) -> None:
        """The dev server for the Temporal services (behind the server's mutual TLS when
        the file asks for it), then the file's namespace job."""
        port, ui = self.port("temporal", 7233), self.port("temporal-ui", 8080)
        server = self.environment("temporal")
        if server.get("TEMPORAL_TLS_REQUIRE_CLIENT_AUTH") == "true":
            front = TlsFront(port, free_port(),
                             certificate=Path(server["TEMPORAL_TLS_FRONTEND_CERT"]),
                             key=Path(server["TEMPORAL_TLS_FRONTEND_KEY"]),
                             client_authority=Path(server["TEMPORAL_TLS_CLIENT1_CA_CERT"]))
            front.start()
            self.fronts.append(front)
            port = front.target_port
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / "temporal.log", "ab") as log:
            self.processes["temporal"] = subprocess.Popen(
                [str(BIN / "temporal"), "server", "start-dev", "--db-filename",
                 str(self.root / "temporal.db"), "--ip", "127.0.0.1", "--port", str(port),
                 "--ui-port", str(ui), "--log-level", "warn"],
                stdout=log, stderr=subprocess.STDOUT)
        job = "temporal-namespace"
        [script] = [local for target, local in self.mounts(job)
                    if target in self.services[job]["entrypoint"]]
        subprocess.run(["sh", str(script)], check=True, capture_output=True, timeout=180,
                       env={**os.environ, **self.environment(job),
                            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})

    @staticmethod
    def start_collector(port: int) -> tuple[Collector, grpc.Server]:
        collector = Collector()
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(  # type: ignore[no-untyped-call]
            collector, server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        server.start()
        return collector, server

    # ----- for the command line ---------------------------------------------------------

    def endpoints(self) -> Endpoints:
        agencies: dict[str, str] = {}
        desks: dict[str, str] = {}
        for name in self.ours():
            if not name.startswith("agency-"):
                continue
            environment = self.environment(name)
            agency = name.removeprefix("agency-")
            agencies[agency] = f"127.0.0.1:{environment['SEAMLESS_AGENCY_PORT']}"
            desks[agency] = f"127.0.0.1:{environment['SEAMLESS_AGENCY_DESK_PORT']}"
        gateway = self.environment("gateway")
        return Endpoints(
            temporal=f"127.0.0.1:{self.port('temporal', 7233)}",
            temporal_ui=f"http://127.0.0.1:{self.port('temporal-ui', 8080)}",
            gateway=f"127.0.0.1:{gateway['SEAMLESS_GATEWAY_PORT']}",
            gateway_mtls=f"127.0.0.1:{gateway['SEAMLESS_GATEWAY_MTLS_PORT']}",
            http=f"http://127.0.0.1:{gateway['SEAMLESS_GATEWAY_HTTP_PORT']}",
            agencies=agencies, desks=desks)


def role_password(topology: Topology, role: str) -> str:
    path = topology.volume("credentials") / "postgres" / "roles" / role / "password"
    return path.read_text(encoding="utf-8").strip()


def agency_databases(topology: Topology) -> Iterator[tuple[str, str]]:
    """(agency, its database) as the file configures each agency's service."""
    for name in topology.ours():
        if name.startswith("agency-"):
            url = topology.services[name]["environment"]["SEAMLESS_AGENCY_DATABASE_URL"]
            yield name.removeprefix("agency-"), url.rpartition("/")[2]

