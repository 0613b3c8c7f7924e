"""`seamless up`: start the whole platform under one process supervisor (supervisord).

Temporal's dev server (SQLite file in the data directory), one service per agency and
one for the oversight body, the case worker and the gateway. A process that dies is
restarted, with a growing pause when it keeps dying at start, while the others keep
serving; `seamless status` shows how often each was restarted (`cli.restarts` counts).
Ctrl-C stops them all, front to back. Starting again finds every case, clock and inbox
where it was, because all state lives in the data directory. Each process is given its
own key and no other.

supervisord's configuration, the table of processes it starts (`processes`, read by
`cli.run_process`) and its control socket are written to the data directory's run
folder at every start, private like everything else there.
"""

from __future__ import annotations

import configparser
import ctypes
import fcntl
import json
import os
import secrets
import shlex
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, cast

from supervisor.xmlrpc import SupervisorTransport

from cli import datadir, restarts
from cli.databases import (
    DATABASE_URL_VARIABLE,
    GATEWAY,
    LEDGER,
    WITNESS,
    Databases,
    chosen,
    migrate_all,
    on_sqlite,
)
from cli.datadir import Endpoints
from cli.health import health
from cli.provision import DUTY_OFFICER, bodies, provision
from records.participation import OVERSIGHT
from trust.files import private_dir, private_umask, write_private
from trust.pki import Role
from trust.tls import expecting
from workflows import search
from workflows.catalog_loader import load_catalog

BIN = Path(sys.executable).parent
READY_WAIT_SECONDS = 180.0


@dataclass(frozen=True)
class Ports:
    temporal: int = 7233
    temporal_ui: int = 8233
    # People (server TLS) and the agencies' services (mutual TLS).
    gateway: int = 50051
    gateway_mtls: int = 50052
    # People again, over HTTP: the HTTP/JSON API and the console.
    gateway_http: int = 8080
    # Agencies (then the oversight body) listen on consecutive ports from here, in
    # directory order: for the platform's parties, and for their officers' desks.
    agency_base: int = 50101
    desk_base: int = 50201


def prepare(data_dir: Path, ports: Ports, host: str = "127.0.0.1") -> Endpoints:
    """Identities, demo officers, agency profiles and the endpoints file; idempotent."""
    catalog = load_catalog()
    provision(data_dir, catalog, hosts=(host,), demo_officers=True)
    agencies: dict[str, str] = {}
    desks: dict[str, str] = {}
    for offset, (profile, _role) in enumerate(bodies(catalog)):
        agencies[profile.id] = f"{host}:{ports.agency_base + offset}"
        desks[profile.id] = f"{host}:{ports.desk_base + offset}"
    endpoints = Endpoints(temporal=f"{host}:{ports.temporal}",
                          temporal_ui=f"http://{host}:{ports.temporal_ui}",
                          gateway=f"{host}:{ports.gateway}",
                          gateway_mtls=f"{host}:{ports.gateway_mtls}",
                          http=f"http://{host}:{ports.gateway_http}",
                          agencies=agencies, desks=desks)
    endpoints.write(data_dir)
    return endpoints


def _temporal_command(data_dir: Path, ports: Ports, host: str) -> list[str]:
    database = data_dir / "temporal" / "temporal.db"
    private_dir(database.parent)
    return [str(BIN / "temporal"), "server", "start-dev", "--db-filename", str(database),
            "--ip", host, "--port", str(ports.temporal), "--ui-port", str(ports.temporal_ui),
            "--ui-disable-news-fetch", "--log-level", "warn",
            # The UI shows oversight staff the sealed payloads opened (gateway.codec_endpoint).
            "--ui-codec-endpoint", f"http://{host}:{ports.gateway_http}/codec",
            # Several times faster than SQLite's defaults (see CONVENTIONS.md).
            "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
            *search.dev_server_args()]


def _agency_settings(data_dir: Path, endpoints: Endpoints, databases: Databases, agency: str,
                     host: str) -> dict[str, str]:
    """One agency's settings (agencies.__main__.AgencySettings, without their prefix)."""
    folder = datadir.agency_folder(data_dir, agency)
    return {"profile_file": str(folder / "profile.json"),
            **{k.lower(): v for k, v in databases.environment(agency, "").items()},
            "host": host, "port": endpoints.agencies[agency].rpartition(":")[2],
            "desk_port": endpoints.desks[agency].rpartition(":")[2],
            "gateway_address": endpoints.gateway_mtls,
            "identity_dir": str(datadir.identity(data_dir, agency).root),
            "pki_dir": str(datadir.pki(data_dir).root),
            "roster_seed_file": str(folder / "roster-seed.json"),
            "evidence_dir": str(folder / "evidence"),
            # Officers' e-mail, through the host's mail relay when the operator names one.
            "smtp_url": os.environ.get("SEAMLESS_SMTP_URL", ""),
            "mail_from": f"{agency}@{os.environ.get('SEAMLESS_MAIL_DOMAIN', 'localhost')}"}


def processes(data_dir: Path, ports: Ports, endpoints: Endpoints,
              host: str = "127.0.0.1", databases: Databases | None = None, *,
              agencies_apart: bool = False) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Every process of the platform: name -> (command, extra environment); their
    databases are SQLite files in the data directory unless `databases` says otherwise.

    The agencies' services share one process (`agencies`), each with its own ports,
    database, key and roster; `agencies_apart` gives each its own process instead, as
    compose gives each its own container (a test that stops one agency alone)."""
    databases = databases or on_sqlite(data_dir, list(endpoints.agencies))
    python = sys.executable
    pki = str(datadir.pki(data_dir).root)
    deliverable = {a: address for a, address in endpoints.agencies.items() if a != OVERSIGHT}
    table: dict[str, tuple[list[str], dict[str, str]]] = {
        "temporal": (_temporal_command(data_dir, ports, host), {}),
    }
    settings = {agency: _agency_settings(data_dir, endpoints, databases, agency, host)
                for agency in endpoints.agencies}
    if agencies_apart:
        for agency, each in settings.items():
            table[agency] = ([python, "-m", "agencies"], {
                "PYTHONUNBUFFERED": "1",
                **{f"SEAMLESS_AGENCY_{k.upper()}": v for k, v in each.items()}})
    else:
        table[AGENCIES] = ([python, "-m", "agencies"], {
            "PYTHONUNBUFFERED": "1", "SEAMLESS_AGENCIES": json.dumps(list(settings.values()))})
    records = {**databases.environment(LEDGER, "SEAMLESS_LEDGER_"),
               **databases.environment(WITNESS, "SEAMLESS_WITNESS_"),
               # The two that talk to the engine seal what they hand it.
               "SEAMLESS_ENGINE_KEYS_FILE": str(datadir.engine_keys(data_dir))}
    table["worker"] = ([python, "-m", "workflows"], {
        "SEAMLESS_TEMPORAL_ADDRESS": endpoints.temporal, "PYTHONUNBUFFERED": "1",
        "SEAMLESS_AGENCY_ADDRESSES": json.dumps(deliverable),
        **records,
        "SEAMLESS_IDENTITY_DIR": str(datadir.identity(data_dir, "worker").root),
        "SEAMLESS_PKI_DIR": pki})
    table["gateway"] = ([python, "-m", "gateway"], {
        "SEAMLESS_TEMPORAL_ADDRESS": endpoints.temporal, "PYTHONUNBUFFERED": "1",
        "SEAMLESS_AGENCY_ADDRESSES": json.dumps(endpoints.agencies),
        "SEAMLESS_GATEWAY_HOST": host, "SEAMLESS_GATEWAY_PORT": str(ports.gateway),
        "SEAMLESS_GATEWAY_MTLS_PORT": str(ports.gateway_mtls),
        "SEAMLESS_GATEWAY_HTTP_PORT": str(ports.gateway_http),
        "SEAMLESS_GATEWAY_CODEC_UI_ORIGINS": endpoints.temporal_ui,
        **records, **databases.environment(GATEWAY, "SEAMLESS_GATEWAY_"),
        "SEAMLESS_IDENTITY_DIR": str(datadir.identity(data_dir, "gateway").root),
        "SEAMLESS_PKI_DIR": pki})
    # Without a collector, every process writes its spans as OTLP-JSON lines here.
    for name, (_command, extra) in table.items():
        if name != "temporal":
            extra["SEAMLESS_TRACES_FILE"] = str(traces_file(data_dir, name))
    return table


def traces_file(data_dir: Path, process: str) -> Path:
    return data_dir / "traces" / f"{process}.otlp.jsonl"


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return True
    except OSError:
        return False


def _announce_when_ready(endpoints: Endpoints, data_dir: Path) -> None:
    give_up = time.monotonic() + READY_WAIT_SECONDS
    while time.monotonic() < give_up:
        # A plain socket first: no gRPC channel is worth opening before the gateway
        # listens at all.
        if _listening(endpoints.gateway) and health(
                endpoints.gateway, authority=datadir.pki(data_dir),
                expect=expecting(Role.GATEWAY)) == "SERVING":
            print(f"\nSeamless is up.\n  console      {endpoints.http}/\n"  # noqa: T201
                  f"  HTTP API     {endpoints.http}/seamless.v1.CaseService/…\n"
                  f"  gateway      {endpoints.gateway} (gRPC)\n"
                  f"  Temporal UI  {endpoints.temporal_ui}\n  data         {data_dir}\n"
                  f"  sign in      any agency as {DUTY_OFFICER}; the demo officers' "
                  f"passwords are in {data_dir / datadir.DEMO_OFFICERS}\n"
                  f"  try: seamless --data-dir {shlex.quote(str(data_dir))} agencies\n",
                  flush=True)
            return
        time.sleep(0.5)
    print(f"\nthe gateway did not become healthy within {READY_WAIT_SECONDS:.0f} s; "  # noqa: T201
          "see the output above", flush=True)


# ----- supervisord ------------------------------------------------------------------

# A process that dies within STARTSECS of its start is retried after 1 s, then 2 s,
# 3 s, … and given up (FATAL, shown by `seamless status`) after START_RETRIES such tries,
# some three and a half minutes of trying; one that ran longer is restarted at once.
STARTSECS = 5
START_RETRIES = 20
# How long a process may take to stop after SIGTERM before it is killed.
STOP_WAIT_SECONDS = 20
# Started in this order and stopped in the reverse, one step after the other, so that
# nothing keeps calling a part that has gone: the gateway, the worker, the agencies (all
# at once, as one group), Temporal; the restart counter first and last of all.
AGENCIES = "agencies"
RESTARTS = "restarts"
PRIORITY = {RESTARTS: 1, "temporal": 100, AGENCIES: 200, "worker": 300, "gateway": 400}
SOCKET_PATH_MAX = 100  # AF_UNIX paths end at 107 bytes


def run_dir(data_dir: Path) -> Path:
    """supervisord's configuration, control socket and process table; the restarts."""
    return data_dir / "run"


def restarts_file(data_dir: Path) -> Path:
    return run_dir(data_dir) / restarts.COUNTS_FILE


def supervisor_config(data_dir: Path) -> Path:
    return run_dir(data_dir) / "supervisord.conf"


def _value(text: str) -> str:
    """`text` as a value of supervisord's configuration, where `%(name)s` is expanded
    (so a percent sign is written twice) and `;` or `#` may start a comment."""
    if any(c in text for c in "\n;#"):
        raise SystemExit(f"supervisord's configuration cannot carry {text!r}: choose a data "
                         "directory whose path has no ';', '#' or line break")
    return text.replace("%", "%%")


def _section(title: str, options: dict[str, object]) -> str:
    lines = [f"[{title}]", *(f"{key}={_value(str(value))}" for key, value in options.items())]
    return "\n".join(lines) + "\n"


def write_supervisor_config(data_dir: Path,
                            table: dict[str, tuple[list[str], dict[str, str]]]) -> Path:
    """supervisord's configuration for `table` (and the table itself, for
    `cli.run_process`: supervisord's own `environment=` cannot quote JSON values)."""
    run = private_dir(run_dir(data_dir))
    logs = private_dir(data_dir / "logs")
    table_file = run / "processes.json"
    write_private(table_file, json.dumps(
        {name: {"command": command, "environment": extra}
         for name, (command, extra) in table.items()}, indent=2) + "\n")
    sock = run / "supervisor.sock"
    if len(str(sock)) > SOCKET_PATH_MAX:
        raise SystemExit(f"{sock}: too long a path for a socket; choose a shorter data "
                         "directory")
    # The socket's permissions (0700, in a 0700 folder) are what keep others out; the
    # password, new at every start, spares the warning supervisord gives without one.
    credentials = {"username": "seamless", "password": secrets.token_hex(16)}
    python = sys.executable
    sections = [
        "; Written by `seamless up` at every start (cli/up.py): edits are lost.\n",
        _section("supervisord", {
            "nodaemon": "true", "logfile": logs / "supervisord.log",
            "logfile_maxbytes": "10MB", "logfile_backups": 2, "loglevel": "info",
            "pidfile": run / "supervisord.pid", "childlogdir": logs, "umask": "077"}),
        _section("unix_http_server", {"file": sock, "chmod": "0700", **credentials}),
        _section("rpcinterface:supervisor", {
            "supervisor.rpcinterface_factory":
                "supervisor.rpcinterface:make_main_rpcinterface"}),
        _section("supervisorctl", {"serverurl": f"unix://{sock}", **credentials}),
        _section(f"eventlistener:{RESTARTS}", {
            "command": shlex.join([python, "-m", "cli.restarts",
                                   str(restarts_file(data_dir))]),
            "events": "PROCESS_STATE", "buffer_size": 1000, "priority": PRIORITY[RESTARTS],
            "autorestart": "true", "umask": "077", "stdout_logfile": "NONE",
            # Its stdout is supervisord's protocol; its complaints go to the terminal.
            "stderr_logfile": "/dev/stderr", "stderr_logfile_maxbytes": 0}),
    ]
    # Agencies in processes of their own start and stop together, as one group.
    apart = [name for name in table if name not in PRIORITY]
    for name in table:
        sections.append(_section(f"program:{name}", {
            "command": shlex.join([python, "-m", "cli.run_process", str(table_file), name]),
            "priority": PRIORITY.get(name, PRIORITY[AGENCIES]),
            "autorestart": "true", "startsecs": STARTSECS, "startretries": START_RETRIES,
            "stopsignal": "TERM", "stopwaitsecs": STOP_WAIT_SECONDS,
            "stopasgroup": "true", "killasgroup": "true", "umask": "077",
            # Everything on supervisord's own output, the terminal of `make up`.
            "redirect_stderr": "true", "stdout_logfile": "/dev/stdout",
            "stdout_logfile_maxbytes": 0}))
    if apart:
        sections.append(_section(f"group:{AGENCIES}", {"programs": ",".join(apart),
                                                       "priority": PRIORITY[AGENCIES]}))
    path = supervisor_config(data_dir)
    write_private(path, "\n".join(sections))
    return path


@contextmanager
def supervisor_control(data_dir: Path) -> Iterator[Any | None]:
    """The running `seamless up`'s supervisord's XML-RPC interface (`.supervisor`), or
    None when this data directory has never been up. A call raises OSError or
    xmlrpc.client.Error when no supervisord answers."""
    config = configparser.RawConfigParser()
    if not config.read(supervisor_config(data_dir), encoding="utf-8"):
        yield None
        return
    control = {key: value.replace("%%", "%") for key, value in config["supervisorctl"].items()}
    transport = SupervisorTransport(control["username"], control["password"],
                                    control["serverurl"])
    try:
        # The URL is not used: the transport reaches the socket.
        yield xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
    finally:
        transport.close()


def supervised(data_dir: Path) -> dict[str, dict[str, Any]] | None:
    """What the running `seamless up`'s supervisord says of each process (its state
    and pid, by process name), or None when none runs for this data directory."""
    with supervisor_control(data_dir) as proxy:
        if proxy is None:
            return None
        try:
            infos = cast(list[dict[str, Any]], proxy.supervisor.getAllProcessInfo())
        except (OSError, xmlrpc.client.Error):
            return None
    return {info["name"]: {"state": info["statename"], "pid": info["pid"]}
            for info in infos if info["group"] != RESTARTS}


# ----- seamless up --------------------------------------------------------------------

PR_SET_PDEATHSIG = 1


def _stopped_with(parent: int) -> Callable[[], None] | None:
    """For supervisord's process before it starts: SIGTERM when `parent` dies, however it
    dies (Linux), so no platform is left running without a `seamless up`."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork

    def in_child() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # it died before that
            os._exit(1)
    return in_child


# supervisord itself killed (its processes stop with it: cli.run_process) is started
# again, with every process, unless it died this often within the window: then `seamless
# up` ends, saying so, rather than loop.
SUPERVISOR_CRASHES = 5
SUPERVISOR_CRASH_WINDOW_SECONDS = 60.0


def _crashed(ended: int, crashes: list[float]) -> bool:
    """Whether supervisord, which ended with `ended`, died of a signal nobody here sent
    and may be started again (`crashes`: when it did before)."""
    if ended >= 0:  # it stopped by itself (its own error, said on the output)
        return False
    now = time.monotonic()
    crashes[:] = [at for at in crashes if now - at < SUPERVISOR_CRASH_WINDOW_SECONDS]
    crashes.append(now)
    if len(crashes) > SUPERVISOR_CRASHES:
        print(f"supervisord was killed {len(crashes)} times within "  # noqa: T201
              f"{SUPERVISOR_CRASH_WINDOW_SECONDS:.0f} s; giving up", flush=True)
        return False
    print(f"supervisord was killed ({signal.strsignal(-ended) or -ended}); starting it "  # noqa: T201
          "and the platform's processes again", flush=True)
    return True


def _until_free(addresses: list[str], within: float) -> None:
    """Until nothing listens on `addresses` any more (or `within` seconds)."""
    give_up = time.monotonic() + within
    while time.monotonic() < give_up and any(_listening(a) for a in addresses):
        time.sleep(0.2)


def _appending() -> None:
    """Make every writer to this process's output append, when it is a file.

    supervisord writes the processes' output by opening /dev/stdout (and /dev/stderr)
    again, in append mode: into a terminal or a pipe that is one stream, but into a file
    given with `>` its own lines, written at an offset of their own, would overwrite the
    processes' ones."""
    for descriptor in (1, 2):
        try:
            if stat.S_ISREG(os.fstat(descriptor).st_mode):
                flags = fcntl.fcntl(descriptor, fcntl.F_GETFL)
                fcntl.fcntl(descriptor, fcntl.F_SETFL, flags | os.O_APPEND)
        except OSError:  # closed: nothing is written there anyway
            pass


def up(data_dir: Path, ports: Ports, host: str = "127.0.0.1", database_url: str = "") -> int:
    # Everything the platform's processes create is private, the Temporal server's
    # database included: they inherit this.
    private_umask()
    if supervised(data_dir) is not None:
        raise SystemExit(f"the platform of {data_dir} is already up ('seamless status'); "
                         "stop it first (Ctrl-C where it was started)")
    endpoints = prepare(data_dir, ports, host)
    databases = chosen(database_url, data_dir, list(endpoints.agencies))
    migrate_all(databases)
    # The server's URL may hold a password: no process of the platform inherits it (each
    # is given its database's URL without it, and the password as a private file).
    os.environ.pop(DATABASE_URL_VARIABLE, None)
    config = write_supervisor_config(data_dir, processes(data_dir, ports, endpoints, host,
                                                         databases))
    restarts.reset(restarts_file(data_dir))
    # supervisord in a session of its own: Ctrl-C, a closed terminal or a signal to
    # `seamless up` reach this process alone, which stops supervisord once, cleanly
    # (a SIGHUP straight to supervisord would make it reload instead).
    stop_asked: list[int] = []
    supervisor: subprocess.Popen[bytes] | None = None

    def stop(signum: int, _frame: FrameType | None) -> None:
        stop_asked.append(signum)
        if supervisor is not None and supervisor.poll() is None:
            supervisor.send_signal(signal.SIGTERM)
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM,
                                                     signal.SIGHUP)}
    try:
        _appending()
        crashes: list[float] = []
        while True:
            supervisor = subprocess.Popen(
                [sys.executable, "-m", "supervisor.supervisord", "-c", str(config)],
                start_new_session=True, preexec_fn=_stopped_with(os.getpid()))
            if stop_asked:
                supervisor.send_signal(signal.SIGTERM)
            threading.Thread(target=_announce_when_ready, args=(endpoints, data_dir),
                             daemon=True).start()
            ended = supervisor.wait()
            if stop_asked or not _crashed(ended, crashes):
                return ended
            # Its processes were told to stop (SIGTERM) as it died: the new ones need
            # their ports.
            _until_free([endpoints.temporal, endpoints.gateway, *endpoints.desks.values()],
                        STOP_WAIT_SECONDS + 5)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        # The counts are those of a running platform: none runs now.
        restarts_file(data_dir).unlink(missing_ok=True)
