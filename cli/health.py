"""The standard gRPC health check, as the CLI and the process supervisor ask it (and
the HTTP port's health page), and `seamless health`, the command a container's health
check runs (docker-compose.yml).

The platform's doors for people (the gateway's public port, each agency's officers'
desk) are server TLS: checked with the platform authority's certificate alone, so a
supervisor needs no key of anybody's to see that a service is up. A worker serves no
port: it is healthy while Temporal sees it poll the case queue.
"""

from __future__ import annotations

import argparse
import json
import socket
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, service_pb2_grpc

from cli import datadir
from cli.arguments import leaf
from records.participation import role_of
from trust.pki import PkiFiles, Role
from trust.tls import expecting, server_only_channel
from workflows.connect import TemporalSettings

# A worker long-polls its queue (about a minute a poll); one silent for longer is gone.
POLLER_SILENCE = timedelta(minutes=2)


def health(address: str, service: str = "", timeout: float = 2.0,
           authority: PkiFiles | None = None,
           expect: list[tuple[str, str]] | None = None) -> str:
    """SERVING, NOT_SERVING, or DOWN with the gRPC code that said so. With `authority`
    the service is reached over TLS and must prove itself with that authority's
    certificate, as the party `expect` names (`trust.tls.expecting`); without, in
    plaintext (the Temporal dev server)."""
    if authority is None:
        channel = grpc.insecure_channel(address)
    else:
        try:
            channel = grpc.secure_channel(
                address, server_only_channel(authority.authority.read_bytes()),
                options=expect or [])
        except FileNotFoundError:
            return "DOWN (no platform authority certificate)"
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service),
                               timeout=timeout)
        except grpc.RpcError as err:
            return f"DOWN ({err.code().name})"
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def http_health(base_url: str, timeout: float = 2.0) -> str:
    """SERVING when the gateway's HTTP port answers its health page."""
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=timeout) as reply:
            return "SERVING" if reply.status == 200 else f"DOWN (HTTP {reply.status})"
    except urllib.error.HTTPError as err:
        return f"DOWN (HTTP {err.code})"
    except OSError as err:
        return f"DOWN ({type(err).__name__})"


def queue_health(temporal: TemporalSettings, *, task_queue: str, host: str | None = None,
                 timeout: float = 2.0) -> str:
    """SERVING when a worker polled `task_queue` lately, as the Temporal cluster
    `temporal` names sees it (reached as the worker reaches it: TLS, a client certificate
    or an API key as its settings say); with `host`, a worker on that host (the SDK names
    its pollers pid@hostname), so each replica of the worker answers for itself."""
    channel, metadata = _temporal_channel(temporal)
    with channel:
        stub = service_pb2_grpc.WorkflowServiceStub(channel)
        try:
            reply = stub.DescribeTaskQueue(DescribeTaskQueueRequest(
                namespace=temporal.temporal_namespace, task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW), timeout=timeout,
                metadata=tuple(metadata))
        except grpc.RpcError as err:
            return f"UNKNOWN (Temporal: {err.code().name})"
    now = datetime.now(UTC)
    recent = [p for p in reply.pollers
              if now - p.last_access_time.ToDatetime(tzinfo=UTC) < POLLER_SILENCE
              and (host is None or p.identity.rpartition("@")[2] == host)]
    where = f" from {host}" if host else ""
    return "SERVING" if recent else f"DOWN (no worker{where} polling {task_queue})"


def _temporal_channel(temporal: TemporalSettings
                      ) -> tuple[grpc.Channel, list[tuple[str, str]]]:
    """A plain gRPC channel to the cluster, and the metadata its calls carry. (Plain
    gRPC rather than the Temporal client: a short-lived process that used the client
    can crash at exit, and a health check must not.)"""
    tls, api_key = temporal.tls(), temporal.api_key()
    metadata = [("temporal-namespace", temporal.temporal_namespace)]
    if api_key is not None:
        metadata.append(("authorization", f"Bearer {api_key}"))
    if tls is False:
        return grpc.insecure_channel(temporal.temporal_address), metadata
    assert not isinstance(tls, bool)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=tls.server_root_ca_cert, private_key=tls.client_private_key,
        certificate_chain=tls.client_cert)
    options = [("grpc.ssl_target_name_override", tls.domain)] if tls.domain else []
    return grpc.secure_channel(temporal.temporal_address, credentials, options), metadata


def _expecting(party: str) -> list[tuple[str, str]]:
    if party == Role.GATEWAY.value:
        return expecting(Role.GATEWAY)
    return expecting(role_of(party), party)


def health_command(args: argparse.Namespace) -> int:
    """Exit 0 when every check asked for is SERVING (a container's health check)."""
    states: dict[str, str] = {}
    if args.task_queue:
        # TLS, a client certificate or an API key: as the worker's own settings say.
        temporal = TemporalSettings(temporal_address=args.address,
                                    temporal_namespace=args.namespace)
        states[args.address] = queue_health(
            temporal, task_queue=args.task_queue,
            host=socket.gethostname() if args.this_host else None, timeout=args.timeout)
    else:
        authority = (PkiFiles(Path(args.pki_dir)) if args.pki_dir
                     else datadir.pki(datadir.resolve(args.data_dir)))
        states[args.address] = health(
            args.address, args.service, timeout=args.timeout, authority=authority,
            expect=_expecting(args.expect) if args.expect else None)
    if args.http:
        states[args.http] = http_health(args.http, timeout=args.timeout)
    if args.json:
        print(json.dumps(states, indent=1))  # noqa: T201
    else:
        print("\n".join(f"{target}: {state}" for target, state in states.items()))  # noqa: T201
    return 0 if all(state == "SERVING" for state in states.values()) else 1


def add_command(commands: Any) -> None:
    p = leaf(commands, "health", health_command, "check one service of the platform; exit "
             "status 0 when it serves (a container's health check)", acting=False)
    p.add_argument("address", help="HOST:PORT of the service (with --task-queue: of Temporal)")
    p.add_argument("--expect", default="", metavar="PARTY",
                   help="the party that must answer: gateway, or an agency's id")
    p.add_argument("--pki-dir", default="",
                   help="the platform's public certificates (default: the data directory's)")
    p.add_argument("--service", default="", help="a service name to ask about (default: the "
                                                 "server as a whole)")
    p.add_argument("--http", default="", metavar="URL",
                   help="also the gateway's HTTP port: its /healthz must answer")
    p.add_argument("--task-queue", default="", metavar="QUEUE",
                   help="instead: whether a worker polls this queue, asked of Temporal")
    p.add_argument("--namespace", default="default", help="with --task-queue")
    p.add_argument("--this-host", action="store_true",
                   help="with --task-queue: a worker on this host (this replica)")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds per check")
