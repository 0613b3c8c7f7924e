"""`seamless up` and `seamless status`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cli import databases, datadir, render, restarts
from cli.health import health, http_health, queue_health
from cli.up import AGENCIES, Ports, restarts_file, supervised, up
from records.participation import role_of
from trust.pki import Role
from trust.tls import expecting
from workflows.client import TASK_QUEUE
from workflows.connect import TemporalSettings

TEMPORAL_SERVICE = "temporal.api.workflowservice.v1.WorkflowService"


def up_command(args: argparse.Namespace) -> int:
    ports = Ports(temporal=args.temporal_port, temporal_ui=args.ui_port,
                  gateway=args.gateway_port, gateway_mtls=args.gateway_mtls_port,
                  gateway_http=args.gateway_http_port,
                  agency_base=args.agency_base_port, desk_base=args.desk_base_port)
    return up(datadir.resolve(args.data_dir), ports,
              database_url=databases.from_command_line(args.database_url))


def worker_health(temporal: str, timeout: float = 2.0) -> str:
    """SERVING when a worker polled the case queue recently (asked of Temporal)."""
    return queue_health(TemporalSettings(temporal_address=temporal), task_queue=TASK_QUEUE,
                        timeout=timeout)


def _supervision(data_dir: Path) -> dict[str, dict[str, Any]]:
    """Per process of a running `seamless up`: its restarts, supervisord's state of it
    and its pid. Empty when the platform was started some other way (or is down)."""
    processes = supervised(data_dir)
    if processes is None:
        return {}
    counts = restarts.read(restarts_file(data_dir)) or {}
    return {name: {"restarts": counts.get(name, 0), "process_state": info["state"],
                   "pid": info["pid"]} for name, info in processes.items()}


def _restarts_text(process: dict[str, Any] | None) -> str:
    if process is None:
        return "-"
    state = process["process_state"]
    return str(process["restarts"]) + ("" if state == "RUNNING" else f" ({state})")


def status_command(args: argparse.Namespace) -> Any:
    data_dir = datadir.resolve(args.data_dir)
    endpoints = datadir.Endpoints.read(data_dir)
    authority = datadir.pki(data_dir)
    # component, the process serving it, address, health
    rows = [("temporal", "temporal", endpoints.temporal,
             health(endpoints.temporal, TEMPORAL_SERVICE)),
            ("worker", "worker", TASK_QUEUE, worker_health(endpoints.temporal)),
            ("gateway", "gateway", endpoints.gateway,
             health(endpoints.gateway, authority=authority, expect=expecting(Role.GATEWAY))),
            ("http api + console", "gateway", endpoints.http, http_health(endpoints.http))]
    supervision = _supervision(data_dir)
    # An agency is asked at its officers' desk (server TLS): no key needed to ask. Its
    # process is its own, or the one every agency of the host shares.
    rows += [(agency, agency if agency in supervision else AGENCIES, address,
              health(address, authority=authority, expect=expecting(role_of(agency), agency)))
             for agency, address in endpoints.desks.items()]
    healthy = all(state == "SERVING" for _, _, _, state in rows)
    if args.json:
        print(render.dumps({"healthy": healthy, "temporal_ui": endpoints.temporal_ui,  # noqa: T201
                            "console": f"{endpoints.http}/",
                            "components": [{"name": n, "address": a, "status": s,
                                            **supervision.get(p, {})}
                                           for n, p, a, s in rows]}))
    else:
        print(render.table(["component", "address", "status", "restarts"],  # noqa: T201
                           [(n, a, s, _restarts_text(supervision.get(p)))
                            for n, p, a, s in rows]))
        print(f"Console: {endpoints.http}/\nTemporal UI: {endpoints.temporal_ui}")  # noqa: T201
    return 0 if healthy else 1
