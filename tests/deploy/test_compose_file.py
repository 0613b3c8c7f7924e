"""docker-compose.yml, held without a Docker daemon to the Compose specification's schema
and to the code it runs: every agency of the directory has its service, every variable a
service sets is one its process reads (and its settings accept them all), addresses and
ports agree across services, every long-running service has a health check, images are
pinned, ours run unprivileged on a read-only root, each mounts only its own keys and
passwords, and no secret is written in the file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema  # type: ignore[import-untyped]  # no stubs installed (types-jsonschema)
import pytest
import yaml
from opentelemetry.sdk import environment_variables as otel_sdk
from pydantic_settings import BaseSettings

from agencies.__main__ import AgencySettings
from cli import datadir
from cli.health import health_command
from cli.main import build_parser, main
from cli.provision import (
    DATABASE_FOLDER,
    PASSWORD_FILE,
    ROLES_FOLDER,
    SUPERUSER_FOLDER,
    agency_database,
    bodies,
    database_roles,
    provision_command,
)
from gateway.__main__ import GatewaySettings
from observability.telemetry import TelemetrySettings
from records.participation import OVERSIGHT
from trust import engine_tls
from workflows import search
from workflows.__main__ import WorkerSettings
from workflows.catalog_loader import load_catalog
from workflows.client import TASK_QUEUE

ROOT = Path(__file__).parents[2]
# The Compose specification's schema (source and licence: README.md here).
SCHEMA = Path(__file__).with_name("compose-spec.json")
Service = dict[str, Any]

AGENCY = ("python", "-m", "agencies")
WORKER = ("python", "-m", "workflows")
GATEWAY = ("python", "-m", "gateway")
# The settings each of our processes reads from its environment.
READERS: dict[tuple[str, ...], tuple[type[BaseSettings], ...]] = {
    AGENCY: (AgencySettings, TelemetrySettings),
    WORKER: (WorkerSettings, TelemetrySettings),
    GATEWAY: (GatewaySettings, TelemetrySettings),
}
# The party each process other than an agency's is, by the folder of its key.
PARTY = {WORKER: "worker", GATEWAY: "gateway"}
# Variables read by a library or the interpreter rather than by our settings: the
# OpenTelemetry SDK's own (OTEL_RESOURCE_ATTRIBUTES and the like, as the SDK lists them),
# and the interpreter's, each with why it is set.
OTEL_SDK_VARIABLES = frozenset(value for name, value in vars(otel_sdk).items()
                               if name.startswith("OTEL_") and isinstance(value, str))
INTERPRETER_VARIABLES = {
    "PYTHONUNBUFFERED": "log lines reach `docker compose logs` as they are written",
}
CREDENTIALS = "credentials"  # the volume the provision job fills
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY", re.I)


@cache
def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def services() -> dict[str, Service]:
    found: dict[str, Service] = compose()["services"]
    return found


def our_image() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return f"seamless:{project['project']['version']}"


def ours() -> dict[str, Service]:
    return {name: s for name, s in services().items() if s.get("image") == our_image()}


def running(command: tuple[str, ...]) -> dict[str, Service]:
    return {name: s for name, s in ours().items() if tuple(s["command"]) == command}


def the(command: tuple[str, ...]) -> Service:
    (service,) = running(command).values()
    return service


def env(service: Service) -> dict[str, str]:
    values = service.get("environment", {})
    assert isinstance(values, dict), "environment as a mapping"
    return {name: str(value) for name, value in values.items()}


def port(address: str) -> int:
    return int(address.rpartition(":")[2])


def credentials(service: Service) -> dict[str, str]:
    """Mount target -> the part of the credentials volume mounted there."""
    return {m["target"]: m.get("volume", {}).get("subpath", "")
            for m in service.get("volumes", []) if m.get("source") == CREDENTIALS}


def health_args(service: Service) -> Any:
    """The `seamless health` invocation of a health check, as the CLI parses it."""
    test = service["healthcheck"]["test"]
    assert test[:2] == ["CMD", "seamless"], test
    args = build_parser().parse_args(test[2:])
    assert args.handler is health_command
    return args


def agency_of(name: str) -> str:
    return name.removeprefix("agency-")


ENGINE_TLS = str(datadir.engine_tls(Path()))


def engine_holder(name: str) -> str:
    """The part of the credentials volume holding `name`'s engine certificate."""
    return str(engine_tls.holder(Path(ENGINE_TLS), name).folder)


def role_dir(role: str) -> str:
    return f"{DATABASE_FOLDER}/{ROLES_FOLDER}/{role}"


def databases_of(service: Service) -> dict[str, tuple[str, str, str]]:
    """Each database URL variable -> (role, database, host:port)."""
    found = {}
    for name, value in env(service).items():
        if name.endswith("_DATABASE_URL"):
            url = urlsplit(value)
            assert url.password is None, f"{name} carries a password"
            found[name] = (url.username or "", url.path.lstrip("/"), url.netloc.split("@")[1])
    return found


def variables_read(*settings: type[BaseSettings]) -> set[str]:
    """The environment variables settings classes read: prefix + field, or its alias."""
    names: set[str] = set()
    for cls in settings:
        prefix = cls.model_config.get("env_prefix", "")
        for field_name, field in cls.model_fields.items():
            alias = field.validation_alias or field.alias
            assert alias is None or isinstance(alias, str), f"{cls.__name__}.{field_name}"
            names.add((alias or f"{prefix}{field_name}").upper())
    return names


def jobs() -> set[str]:
    """One-shot services: what others wait on to have completed."""
    return {target for s in services().values() for target, rule in s.get("depends_on", {}).items()
            if rule.get("condition") == "service_completed_successfully"}


# ----- the file ---------------------------------------------------------------------------

def test_the_file_follows_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(compose()))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                                 for e in errors)
    # No interpolation: the file means the same on every host, and to a native run of it.
    assert "$" not in (ROOT / "docker-compose.yml").read_text(encoding="utf-8")


def test_every_file_mounted_from_the_repository_exists_and_its_scripts_are_posix() -> None:
    for name, service in services().items():
        for mount in service.get("volumes", []):
            if mount.get("type") != "bind":
                continue
            source = ROOT / mount["source"]
            assert source.is_file(), f"{name}: {mount['source']}"
            if source.suffix == ".sh":
                # Executable: the postgres image would otherwise source it with bash.
                assert os.access(source, os.X_OK), f"{source} is not executable"
                checked = subprocess.run(["sh", "-n", str(source)], capture_output=True,
                                         text=True)
                assert checked.returncode == 0, checked.stderr


# ----- agencies and settings ------------------------------------------------------------------

def test_every_agency_of_the_directory_has_a_service_of_its_own() -> None:
    directory = {profile.id for profile, _role in bodies(load_catalog())}
    served = {agency_of(name) for name in running(AGENCY)}
    assert served == directory, (f"no service: {sorted(directory - served)}; "
                                 f"not in the directory: {sorted(served - directory)}")
    for name, service in running(AGENCY).items():
        agency = agency_of(name)
        assert credentials(service)["/run/seamless/agency"] == str(
            datadir.agency_folder(Path(), agency))
        assert health_args(service).expect == agency
        (role, database, _host), = databases_of(service).values()
        assert role == database == agency_database(agency)


@pytest.mark.parametrize("name", sorted(ours()))
def test_every_variable_a_service_sets_is_read_by_its_process(name: str) -> None:
    service = ours()[name]
    command = tuple(service["command"])
    if command[0] == "seamless":
        assert not env(service), "a `seamless` job takes its arguments, not variables"
        return
    unread = (set(env(service)) - variables_read(*READERS[command]) - OTEL_SDK_VARIABLES
              - set(INTERPRETER_VARIABLES))
    assert not unread, f"{name} sets variables nothing reads: {sorted(unread)}"


@pytest.mark.parametrize("name", sorted(n for n, s in ours().items()
                                        if tuple(s["command"]) in READERS))
def test_each_process_s_settings_accept_its_environment(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    service = ours()[name]
    for variable in os.environ:
        if variable.startswith(("SEAMLESS_", "OTEL_")):
            monkeypatch.delenv(variable)
    for variable, value in env(service).items():
        monkeypatch.setenv(variable, value)
    for settings in READERS[tuple(service["command"])]:
        settings()  # every required setting is there, each value of its type


# ----- addresses and ports -----------------------------------------------------------------

def test_the_agencies_addresses_are_their_services_ports() -> None:
    addresses = {agency_of(name): f"{name}:{env(s)['SEAMLESS_AGENCY_PORT']}"
                 for name, s in running(AGENCY).items()}
    gateway = json.loads(env(the(GATEWAY))["SEAMLESS_AGENCY_ADDRESSES"])
    worker = json.loads(env(the(WORKER))["SEAMLESS_AGENCY_ADDRESSES"])
    assert gateway == addresses
    # Only the worker delivers, and the oversight body is given no tasks.
    assert worker == {a: address for a, address in addresses.items() if a != OVERSIGHT}
    gateway_mtls = f"gateway:{env(services()['gateway'])['SEAMLESS_GATEWAY_MTLS_PORT']}"
    assert services()["gateway"]["command"] == list(GATEWAY)
    for name, service in running(AGENCY).items():
        assert env(service)["SEAMLESS_AGENCY_GATEWAY_ADDRESS"] == gateway_mtls, name


def test_everyone_reaches_temporal_the_collector_and_postgres_where_they_listen() -> None:
    temporal = f"temporal:{health_port(services()['temporal'])}"
    namespace = env(services()["temporal-namespace"])
    assert namespace["TEMPORAL_ADDRESS"] == env(services()["temporal-ui"])["TEMPORAL_ADDRESS"]
    assert namespace["TEMPORAL_ADDRESS"] == temporal
    worker_check = health_args(the(WORKER))
    assert (worker_check.address, worker_check.namespace) == (
        temporal, namespace["TEMPORAL_NAMESPACE"])
    for process in (the(GATEWAY), the(WORKER)):
        assert env(process)["SEAMLESS_TEMPORAL_ADDRESS"] == temporal
        assert env(process)["SEAMLESS_TEMPORAL_NAMESPACE"] == namespace["TEMPORAL_NAMESPACE"]

    collector = yaml.safe_load((ROOT / "deploy/otel-collector.yaml").read_text())
    jaeger = yaml.safe_load((ROOT / "deploy/jaeger.yaml").read_text())
    receiver = collector["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    for name, service in ours().items():
        if tuple(service["command"]) in READERS:
            assert env(service)["OTEL_EXPORTER_OTLP_ENDPOINT"] == \
                f"http://otel-collector:{port(receiver)}", name
    (exporter,) = collector["service"]["pipelines"]["traces"]["exporters"]
    jaeger_receiver = jaeger["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    assert collector["exporters"][exporter]["endpoint"] == f"jaeger:{port(jaeger_receiver)}"

    postgres = f"postgres:{health_port(services()['postgres'])}"
    for name, service in ours().items():
        for variable, (_role, _db, host) in databases_of(service).items():
            assert host == postgres, f"{name}: {variable}"


def health_port(service: Service) -> int:
    """The port a (non-`seamless`) health check asks, after its --port or as nc's last."""
    test: list[str] = service["healthcheck"]["test"]
    return int(test[test.index("--port") + 1] if "--port" in test else test[-1])


def test_published_ports_and_health_checks_are_the_ports_the_services_listen_on() -> None:
    gateway = env(the(GATEWAY))
    check = health_args(the(GATEWAY))
    assert (check.address, check.expect) == (f"127.0.0.1:{gateway['SEAMLESS_GATEWAY_PORT']}",
                                             "gateway")
    assert check.http == f"http://127.0.0.1:{gateway['SEAMLESS_GATEWAY_HTTP_PORT']}"
    # gRPC (TLS) for anyone; the plain-HTTP port for this host only (a TLS proxy).
    grpc_port, http_port = gateway["SEAMLESS_GATEWAY_PORT"], gateway["SEAMLESS_GATEWAY_HTTP_PORT"]
    assert the(GATEWAY)["ports"] == [f"{grpc_port}:{grpc_port}",
                                     f"127.0.0.1:{http_port}:{http_port}"]
    for name, service in running(AGENCY).items():
        desk = env(service)["SEAMLESS_AGENCY_DESK_PORT"]
        assert health_args(service).address == f"127.0.0.1:{desk}", name
        assert service["ports"] == [f"{desk}:{desk}"], name  # officers sign in there


def test_the_platform_s_ports_are_distinct() -> None:
    """So the same commands run side by side on one host, as well as in containers."""
    listening = [int(value) for service in ours().values()
                 for variable, value in env(service).items() if variable.endswith("_PORT")]
    assert len(listening) == len(set(listening)), sorted(listening)


def test_the_worker_runs_replicated_and_answers_for_each_replica() -> None:
    worker = the(WORKER)
    assert worker["deploy"]["replicas"] >= 2
    check = health_args(worker)
    assert (check.task_queue, check.this_host) == (TASK_QUEUE, True)


# ----- keys, passwords and databases -------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ours()))
def test_each_service_mounts_only_its_own_keys_and_passwords(name: str) -> None:
    service = ours()[name]
    mounted = credentials(service)
    command = tuple(service["command"])
    if command[0] == "seamless":  # the provision job writes the whole volume
        assert list(mounted.values()) == [""]
        return
    roles = {role for role, _db, _host in databases_of(service).values()}
    own = (str(datadir.agency_folder(Path(), agency_of(name))) if command == AGENCY
           else str(datadir.identity(Path(), PARTY[command]).root))
    # The gateway and the worker, who talk to the engine, seal what they hand it and
    # hold its certificates.
    engine = ({str(datadir.engine_keys(Path()).parent), engine_holder(PARTY[command])}
              if command in (GATEWAY, WORKER) else set())
    assert set(mounted.values()) == {str(datadir.pki(Path()).root), own, *engine,
                                     *(role_dir(role) for role in roles)}
    # Read only, but for an agency's own evidence store (agencies.evidence).
    writable = [m for m in service["volumes"] if not m.get("read_only")]
    if command == AGENCY:
        assert writable == [{"type": "volume", "source": f"evidence-{agency_of(name)}",
                             "target": env(service)["SEAMLESS_AGENCY_EVIDENCE_DIR"]}], name
    else:
        assert not writable, name
    # Every key, certificate, profile and password file it is given lies in those mounts.
    for variable, value in env(service).items():
        if variable.endswith(("_DIR", "_FILE")) and variable != "SEAMLESS_AGENCY_EVIDENCE_DIR":
            assert any(value == t or value.startswith(f"{t}/") for t in mounted), variable
    for variable, (role, _db, _host) in databases_of(service).items():
        password = env(service)[variable.replace("_URL", "_PASSWORD_FILE")]
        assert mounted[str(Path(password).parent)] == role_dir(role), variable
        assert Path(password).name == PASSWORD_FILE


def test_postgres_makes_every_role_the_services_sign_in_as_and_no_other() -> None:
    roles = database_roles(load_catalog())
    used = {(role, db) for s in ours().values() for role, db, _host in databases_of(s).values()}
    temporal = env(services()["temporal"])
    used |= {(temporal["POSTGRES_USER"], temporal[key]) for key in ("DBNAME", "VISIBILITY_DBNAME")}
    assert used == {(role, db) for role, databases in roles.items() for db in databases}
    postgres = services()["postgres"]
    (folder,) = [t for t, part in credentials(postgres).items() if part == DATABASE_FOLDER]
    assert env(postgres)["SEAMLESS_DATABASE_ROLES_DIR"] == f"{folder}/{ROLES_FOLDER}"
    assert env(postgres)["POSTGRES_PASSWORD_FILE"] == \
        f"{folder}/{SUPERUSER_FOLDER}/{PASSWORD_FILE}"
    for name in ("temporal", "temporal-schema"):
        mounted = {target: part for target, part in credentials(services()[name]).items()
                   if not part.startswith(ENGINE_TLS)}
        assert list(mounted.values()) == [role_dir(temporal["POSTGRES_USER"])], name
        assert env(services()[name])["TEMPORAL_DATABASE_PASSWORD_FILE"] == \
            f"{next(iter(mounted))}/{PASSWORD_FILE}"


def test_every_part_of_the_credentials_a_service_mounts_is_one_provision_makes(
        tmp_path: Path) -> None:
    """Docker mounts a volume's subpath only if it exists: the job must have made it."""
    command = services()["provision"]["command"]
    assert command[:2] == ["seamless", "provision"]
    args = build_parser().parse_args(command[1:])
    assert args.handler is provision_command
    # Every certificate names the host names the platform's servers are reached by.
    assert set(args.host) == {"gateway", *running(AGENCY)}
    data_dir = command.index("--data-dir") + 1
    assert main([*command[1:data_dir], str(tmp_path), *command[data_dir + 1:]]) == 0
    for name, service in services().items():
        for target, part in credentials(service).items():
            assert (tmp_path / part).is_dir(), f"{name}: {part} for {target}"


def test_no_secret_is_written_in_the_file() -> None:
    for name, service in services().items():
        for variable, value in env(service).items():
            if SECRET_NAME.search(variable):
                assert variable.endswith(("_FILE", "_DIR")), \
                    f"{name}: {variable} holds a secret; give the path of a file instead"
            if "://" in value:
                assert urlsplit(value).password is None, f"{name}: {variable}"
        for argument in [*service.get("command", []), *service.get("entrypoint", [])]:
            assert not re.search(r"(?i)(--pw|--password|--token)\b", str(argument)), name
    assert "secrets" not in compose()  # the passwords are the provision job's, in a volume


# ----- health, restarts, order -------------------------------------------------------------

def test_every_long_running_service_has_a_health_check_and_a_restart_policy() -> None:
    for name, service in services().items():
        if name in jobs():
            assert re.fullmatch(r"no|on-failure(:\d+)?", service["restart"]), name
            continue
        test = service.get("healthcheck", {}).get("test", ["NONE"])
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
        assert not service["healthcheck"].get("disable"), name
        assert service["restart"] in ("unless-stopped", "always"), name


def test_every_dependency_waits_on_a_condition_its_target_can_meet() -> None:
    for name, service in services().items():
        for target, rule in service.get("depends_on", {}).items():
            condition = rule["condition"]
            if condition == "service_completed_successfully":
                assert target in jobs()
            elif condition == "service_healthy":
                assert "healthcheck" in services()[target], f"{name} -> {target}"
            else:  # started: only where the dependent copes with its target starting late
                assert (condition, target) == ("service_started", "otel-collector"), name


def test_the_namespace_job_registers_the_search_attributes_the_workflows_use() -> None:
    wanted = search.dev_server_args()[1::2]  # --search-attribute NAME=Type, …
    assert env(services()["temporal-namespace"])["SEARCH_ATTRIBUTES"].split() == wanted


def test_the_collector_and_jaeger_are_checked_where_their_health_extensions_listen() -> None:
    collector = yaml.safe_load((ROOT / "deploy/otel-collector.yaml").read_text())
    endpoint = collector["extensions"]["health_check"]["endpoint"]
    assert f"http://{endpoint}{collector['extensions']['health_check']['path']}" in \
        services()["otel-collector"]["healthcheck"]["test"]
    http = yaml.safe_load((ROOT / "deploy/jaeger.yaml").read_text())[
        "extensions"]["healthcheckv2"]["http"]
    assert f"http://{http['endpoint']}{http['status']['path']}" in \
        services()["jaeger"]["healthcheck"]["test"]


# ----- images and users --------------------------------------------------------------------

def images() -> dict[str, str]:
    found = {name: s["image"] for name, s in services().items()}
    found |= {f"{name} (mount)": m["source"] for name, s in services().items()
              for m in s.get("volumes", []) if m.get("type") == "image"}
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    found |= {f"Dockerfile {arg}": image
              for arg, image in re.findall(r"^ARG (\w+_IMAGE)=(\S+)", dockerfile, re.M)}
    return found


def test_every_image_is_pinned_to_a_version() -> None:
    for where, image in images().items():
        tag = image.rpartition(":")[2] if ":" in image else ""
        assert re.search(r"\d+\.\d+", tag), f"{where}: {image} is not pinned to a version"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for base in re.findall(r"^FROM (\S+)", dockerfile, re.M):
        assert base == "${PYTHON_IMAGE}", f"Dockerfile: FROM {base}, not the pinned base"
    assert running(GATEWAY) and all(s["image"] == our_image() for s in ours().values())


def test_our_containers_run_unprivileged_on_a_read_only_root() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    runtime = dockerfile.rpartition("\nFROM ")[2]
    (image_user,) = re.findall(r"^USER (\S+)", runtime, re.M)
    for name, service in ours().items():
        assert service["user"] == image_user, name
        assert int(service["user"].split(":")[0]) > 0, name
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name


def _reachable_from(name: str) -> set[str]:
    """The services `name` can reach: those that share a network with it."""
    mine = set(services()[name].get("networks", []))
    return {other for other, service in services().items()
            if other != name and mine & set(service.get("networks", []))}


def test_only_the_gateway_the_workers_and_temporal_s_jobs_reach_temporal() -> None:
    """Temporal's API has no sign-in of its own: an agency (or anything but the gateway,
    the workers and Temporal's own jobs) must not reach it at all."""
    assert all(service.get("networks") or service.get("network_mode") == "none"
               for service in services().values()), "a service on the default network"
    reaching = {name for name in services() if "temporal" in _reachable_from(name)}
    assert reaching == {"gateway", "worker", "postgres", "temporal-schema",
                        "temporal-namespace", "temporal-ui"}
    for name in running(AGENCY):
        assert {"gateway", "worker", "postgres"} <= _reachable_from(name), name


def test_the_platform_reaches_the_collector_and_not_the_traces_it_holds() -> None:
    """Traces name agencies and cases: only the collector may reach Jaeger (its query
    API and its intake); the platform's processes reach the collector alone."""
    assert {name for name in services() if "jaeger" in _reachable_from(name)} == \
        {"otel-collector"}
    for name in ("gateway", "worker", *running(AGENCY)):
        assert "otel-collector" in _reachable_from(name), name


# Each client of the engine, and the variables naming its certificate, key and the
# authority it checks the cluster's certificate against (as its program reads them).
ENGINE_CLIENTS = {
    "gateway": ("SEAMLESS_TEMPORAL_TLS_CERT_FILE", "SEAMLESS_TEMPORAL_TLS_KEY_FILE",
                "SEAMLESS_TEMPORAL_TLS_CA_FILE", "SEAMLESS_TEMPORAL_TLS_SERVER_NAME"),
    "worker": ("SEAMLESS_TEMPORAL_TLS_CERT_FILE", "SEAMLESS_TEMPORAL_TLS_KEY_FILE",
               "SEAMLESS_TEMPORAL_TLS_CA_FILE", "SEAMLESS_TEMPORAL_TLS_SERVER_NAME"),
    "temporal-namespace": ("TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH",
                           "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_SERVER_NAME"),
    "temporal-ui": ("TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA",
                    "TEMPORAL_TLS_SERVER_NAME"),
}
ENGINE_HOLDER = {"gateway": "gateway", "worker": "worker", "temporal-namespace": "admin",
                 "temporal-ui": "ui"}


def _in_mount(service: Service, path: str) -> str:
    """The part of the credentials volume `path` lies in, in `service`'s mounts."""
    for target, part in credentials(service).items():
        if path.startswith(f"{target}/"):
            return part
    raise AssertionError(f"{path} is in no mount of the credentials volume")


def test_the_engine_takes_calls_only_from_holders_of_its_own_authority() -> None:
    """Mutual TLS on Temporal's frontend and between its services, under the engine's
    authority alone: every service that reaches the cluster holds a certificate of it,
    checks the cluster's name, and nobody else holds one (the agencies' certificates,
    of the platform's authority, open nothing there)."""
    temporal = services()["temporal"]
    settings = env(temporal)
    assert settings["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"] == "true"
    server = engine_holder(engine_tls.SERVER)
    for variable in ("TEMPORAL_TLS_SERVER_CERT", "TEMPORAL_TLS_SERVER_KEY",
                     "TEMPORAL_TLS_FRONTEND_CERT", "TEMPORAL_TLS_FRONTEND_KEY",
                     "TEMPORAL_TLS_SERVER_CA_CERT", "TEMPORAL_TLS_CLIENT1_CA_CERT"):
        assert _in_mount(temporal, settings[variable]) == server, variable
    for variable in ("TEMPORAL_TLS_CLIENT1_CA_CERT", "TEMPORAL_TLS_SERVER_CA_CERT"):
        assert Path(settings[variable]).name == "ca.pem", variable
    assert "TEMPORAL_TLS_CLIENT2_CA_CERT" not in settings
    assert settings["TEMPORAL_TLS_FRONTEND_SERVER_NAME"] == \
        settings["TEMPORAL_TLS_INTERNODE_SERVER_NAME"] == "temporal"
    reaching = {name for name in services() if "temporal" in _reachable_from(name)}
    assert set(ENGINE_CLIENTS) == reaching - {"postgres", "temporal-schema"}
    for name, (cert, key, authority, server_name) in ENGINE_CLIENTS.items():
        client = env(services()[name])
        holder = engine_holder(ENGINE_HOLDER[name])
        for variable in (cert, key, authority):
            assert _in_mount(services()[name], client[variable]) == holder, (name, variable)
        assert client[server_name] == "temporal", name
    if "TEMPORAL_TLS_ENABLE_HOST_VERIFICATION" in env(services()["temporal-ui"]):
        assert env(services()["temporal-ui"])["TEMPORAL_TLS_ENABLE_HOST_VERIFICATION"] == "true"
    holders = {name: part for name, service in services().items()
               for part in credentials(service).values() if part.startswith(ENGINE_TLS)}
    assert holders == {**{name: engine_holder(h) for name, h in ENGINE_HOLDER.items()},
                       "temporal": server}
    # The provision job makes them all (the whole volume is its).
    assert "--engine-tls-host=temporal" in services()["provision"]["command"]
