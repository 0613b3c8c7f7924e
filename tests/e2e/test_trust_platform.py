"""Every actor proven, across the platform's real processes, as an attacker on the host
would try it: Temporal reached directly, an agency's port called without the worker's
certificate, an officer claiming to be another, a session forged or disabled, the
ledger cut short behind the platform's back. Each attempt is refused and changes
nothing; what is left in the data directory is private and holds no secret in a log."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import sqlite3
import stat
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from cli import datadir
from cli.provision import demo_password
from gateway.agency_links import STANDING_SECONDS
from observability import witness
from seamless.v1 import agency_pb2, agency_pb2_grpc, case_pb2, case_service_pb2_grpc
from seamless.v1 import case_service_pb2 as pb
from tests.e2e import cli_forks
from tests.e2e.platform import Platform, wait_for
from trust.pki import Identity, Role
from trust.tls import expecting, mutual_tls_channel, server_only_channel
from workflows.case_workflow import CaseWorkflowInput
from workflows.catalog_loader import load_catalog
from workflows.rules.commands import OpenCase
from workflows.rules.model import Actor

# The whole platform as real processes: left out of `make test-fast`.

BIN = Path(__file__).parents[2] / ".venv" / "bin"
TOWNSHIP, NR, HEALTH = "jinhaihu-township", "natural-resources", "health"
OVERSIGHT = "oversight"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    # The tests read the platform's databases as its operator would: with the umask its
    # processes run with, so a database file this process creates is private too.
    umask = os.umask(0o077)
    running = Platform(tmp_path_factory.mktemp("trust"))
    running.start_all()
    yield running
    running.stop_all()
    os.umask(umask)


def open_mining(platform: Platform) -> dict[str, Any]:
    case: dict[str, Any] = platform.cli_json(
        "case", "open", "--type", "illegal-mining", "--subject",
        f"JHH-{uuid.uuid4().hex[:8].upper()}", "--title", "Quarrying by night",
        "--jurisdiction", "jinhaihu", "--as", TOWNSHIP)
    wait_for(lambda: all(t["delivered"] for t in show(platform, case["id"])["tasks"]),
             "the opening deliveries")
    # The ledger hears of each delivery a moment after the case marks it.
    tasks = len(show(platform, case["id"])["tasks"])
    wait_for(lambda: [row[1] for row in ledger_rows(platform, case["id"])].count(
        "TASK_DELIVERED") == tasks, "the opening deliveries in the ledger")
    return case


def show(platform: Platform, case_id: str) -> dict[str, Any]:
    case: dict[str, Any] = platform.cli_json("case", "show", case_id, "--as", TOWNSHIP)
    return case


def ledger_rows(platform: Platform, case_id: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(platform.data_dir / "ledger" / "ledger.db") as database:
        return database.execute("SELECT sequence, kind, actor_agency, actor_officer FROM "
                                "ledger_entry WHERE case_id LIKE ? ORDER BY sequence",
                                (f"{case_id}%",)).fetchall()


def temporal(platform: Platform, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "temporal"), *args, "--address",
                           platform.endpoints.temporal], capture_output=True, text=True,
                          timeout=60)


def test_commands_sent_to_temporal_directly_are_refused_and_change_nothing(
        platform: Platform) -> None:
    case = open_mining(platform)
    workflow_id, _, run_id = case["id"].rpartition("@")
    before = ledger_rows(platform, case["id"])
    # What the engine holds of the case is ciphertext to anyone who reaches it.
    history = temporal(platform, "workflow", "show", "--workflow-id", workflow_id,
                       "--run-id", run_id, "--output", "json")
    assert history.returncode == 0, history.stderr
    sealed = ("binary/seamless-sealed", base64.b64encode(b"binary/seamless-sealed").decode())
    assert any(encoding in history.stdout for encoding in sealed)
    assert "Quarrying by night" not in history.stdout
    forged = temporal(platform, "workflow", "update", "execute", "--workflow-id",
                      workflow_id, "--run-id", run_id, "--name", "assign_owner",
                      "--input", json.dumps({
                          "request_id": "x", "agency": HEALTH, "reason": "taking over",
                          "actor": {"agency": "command-center", "officer": "mallory"}}))
    assert forged.returncode != 0
    assert "no seal of the gateway" in forged.stdout + forged.stderr
    assert show(platform, case["id"])["owner"] == TOWNSHIP
    assert ledger_rows(platform, case["id"]) == before

    # A case started from the host, with rules of the forger's own making, ends at once
    # having recorded and delivered nothing.
    catalog = load_catalog()
    rules = catalog.rules_for("illegal-mining")
    assert rules is not None
    subject = f"FORGED-{uuid.uuid4().hex[:6].upper()}"
    start = CaseWorkflowInput(open=OpenCase("y", Actor(HEALTH, "mallory"), "illegal-mining",
                                            subject, "forged", jurisdiction="jinhaihu",
                                            lead=HEALTH), rules=rules)
    started = temporal(platform, "workflow", "start", "--type", "CaseWorkflow",
                       "--task-queue", "seamless-cases", "--workflow-id",
                       f"case:illegal-mining:{subject}",
                       "--search-attribute", f'SeamlessOwner="{HEALTH}"',
                       "--input", json.dumps(dataclasses.asdict(start)))
    assert started.returncode == 0, started.stderr
    result = temporal(platform, "workflow", "result", "--workflow-id",
                      f"case:illegal-mining:{subject}")
    # Its input is plaintext: the worker refuses it before looking for a seal.
    assert "not sealed by the platform" in result.stdout + result.stderr
    assert ledger_rows(platform, f"case:illegal-mining:{subject}") == []
    listed = platform.cli_json("case", "list", "--owner", HEALTH, "--as", HEALTH)
    assert not [c for c in listed["cases"] if subject in c["id"]]
    run = json.loads(temporal(platform, "workflow", "describe", "--workflow-id",
                              f"case:illegal-mining:{subject}", "--output", "json").stdout)
    run_id = run["workflowExecutionInfo"]["execution"]["runId"]
    shown = platform.cli_json("case", "show", f"case:illegal-mining:{subject}@{run_id}",
                              "--as", HEALTH, check=False)
    assert shown["error"]["status"] == "NOT_FOUND"

    # What the dev server cannot refuse, anyone on the host can still do: end a case.
    # The audit names it by its number, with what the engine recorded, and the forged
    # start beside it; the oversight page shows the stall as the engine's doing.
    ended = temporal(platform, "workflow", "terminate", "--workflow-id", workflow_id,
                     "--reason", "mallory tidies up")
    assert ended.returncode == 0, ended.stderr
    audited = platform.cli("audit", "verify", check=False)
    assert audited.returncode == 1
    assert "every one holds" in audited.stdout  # the ledger itself was not touched
    [line] = [line for line in audited.stdout.splitlines()
              if line.strip().startswith(f"{case['number']}:")]
    assert "ENDED_BY_ENGINE" in line and "terminated this run of the case" in line
    assert "'mallory tidies up'" in line
    assert any("UNKNOWN_TO_LEDGER" in line and "a CaseWorkflow the ledger never heard of"
               in line for line in audited.stdout.splitlines())


def _payload_text(shown: str) -> str:
    """Every payload's data in a history `temporal workflow show` printed as JSON."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("data"), str) and "metadata" in value:
                found.append(base64.b64decode(value["data"]).decode("utf-8", "replace"))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(json.loads(shown))
    return "\n".join(found)


def _session_of(platform: Platform, agency: str) -> str:
    """The duty officer of `agency` signed in, as a bearer token."""
    platform.cli("login", "--as", agency, "--officer", "duty-officer", "--password-stdin",
                 input=demo_password(platform.data_dir, agency, "duty-officer"))
    stored = json.loads((platform.config_home / "seamless" / "sessions.json").read_text())
    token: str = next(iter(stored.values()))[agency]["session"]
    return token


def test_the_codec_endpoint_opens_the_engines_payloads_for_oversight_alone(
        platform: Platform) -> None:
    """Temporal's own CLI, pointed at the gateway's codec endpoint (as the UI is by
    `seamless up`): oversight staff read the case; an officer, or nobody, reads
    ciphertext."""
    case = open_mining(platform)
    workflow_id, _, run_id = case["id"].rpartition("@")
    codec = f"{platform.endpoints.http}/codec"

    def shown(*auth: str) -> subprocess.CompletedProcess[str]:
        return temporal(platform, "workflow", "show", "--workflow-id", workflow_id,
                        "--run-id", run_id, "--output", "json", "--codec-endpoint", codec,
                        *auth)
    overseer = _session_of(platform, OVERSIGHT)
    opened = shown("--codec-auth", f"Bearer {overseer}")
    assert opened.returncode == 0, opened.stderr
    assert "Quarrying by night" in _payload_text(opened.stdout)
    # Who opened what is in the audit log.
    log = (platform.data_dir / "logs" / "gateway.log").read_text(encoding="utf-8")
    assert "codec: oversight/duty-officer (oversight) opened" in log
    assert workflow_id in log
    for auth in (("--codec-auth", f"Bearer {_session_of(platform, TOWNSHIP)}"), ()):
        refused = shown(*auth)
        assert refused.returncode != 0 or \
            "Quarrying by night" not in _payload_text(refused.stdout)
    garbled = subprocess.run(
        ["curl", "-s", "-w", " %{http_code}", "-X", "POST", "-H", f"Authorization: Bearer "
         f"{overseer}", "-H", "Content-Type: application/json", "--data", "{not json",
         f"{codec}/decode"], capture_output=True, text=True, timeout=30)
    assert garbled.stdout.endswith(" 400") and "not a codec request" in garbled.stdout
    # From a browser, only the Temporal UI's own origin is answered.
    preflight = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "OPTIONS",
         "-H", "Origin: https://evil.example", f"{codec}/decode"],
        capture_output=True, text=True, timeout=30)
    assert preflight.stdout == "403"
    allowed = subprocess.run(
        ["curl", "-s", "-D", "-", "-o", "/dev/null", "-X", "OPTIONS",
         "-H", f"Origin: {platform.endpoints.temporal_ui}", f"{codec}/decode"],
        capture_output=True, text=True, timeout=30)
    assert f"access-control-allow-origin: {platform.endpoints.temporal_ui}" in \
        allowed.stdout.lower()


def _party(platform: Platform, party: str) -> grpc.ChannelCredentials:
    identity = Identity.load(datadir.identity(platform.data_dir, party),
                             datadir.pki(platform.data_dir))
    return mutual_tls_channel(identity)


def _code(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    code: grpc.StatusCode = refused.value.code()
    return code


def test_agency_ports_take_deliveries_and_notices_from_the_worker_alone(
        platform: Platform) -> None:
    case = open_mining(platform)
    # A task with a two-second sign-for clock: its reminder (at 1.5 s) is the case's first
    # notice, its supervision the second.
    dispatched = platform.cli_json("case", "dispatch", case["id"], "--kind", "work-safety",
                                   "--to", "emergency-management", "--sign-within", "2s",
                                   "--as", TOWNSHIP)
    key = f"{case['id']}/notice/2"
    target = platform.endpoints.agencies["emergency-management"]
    authority = datadir.pki(platform.data_dir).authority.read_bytes()
    plant = agency_pb2.ReceiveNoticeRequest(
        idempotency_key=key, recipient="emergency-management", case_id=case["id"],
        kind=case_pb2.NOTICE_KIND_SUPERVISION, text="nothing to see", task_id="T5")
    withdraw = agency_pb2.WithdrawTaskRequest(
        idempotency_key=f"{case['id']}/T5/withdraw", assignee="emergency-management",
        case_id=case["id"], task_id=dispatched["task_id"], reason="gone")
    denied, anonymous = grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED
    # (credentials, what a notice or withdrawal gets, what an inbox read gets)
    for credentials, expected, inbox in (
            (_party(platform, HEALTH), denied, denied),
            # The gateway relays inbox reads, for a signed-in officer only.
            (_party(platform, "gateway"), denied, anonymous),
            # No certificate: the handshake itself fails.
            (server_only_channel(authority), grpc.StatusCode.UNAVAILABLE,
             grpc.StatusCode.UNAVAILABLE)):
        with grpc.secure_channel(target, credentials,
                                 options=expecting(Role.AGENCY, "emergency-management")
                                 ) as channel:
            stub = agency_pb2_grpc.AgencyServiceStub(channel)  # type: ignore[no-untyped-call]
            assert _code(lambda stub=stub: stub.ReceiveNotice(plant, timeout=10)) is expected
            assert _code(lambda stub=stub: stub.WithdrawTask(withdraw, timeout=10)) is expected
            assert _code(lambda stub=stub: stub.ListInbox(
                agency_pb2.ListInboxRequest(), timeout=10)) is inbox
    database = platform.data_dir / "agencies" / "emergency-management" / "agency.db"

    def notice_arrived() -> bool:
        with sqlite3.connect(database) as agency:
            return bool(agency.execute("SELECT 1 FROM notice WHERE idempotency_key = ?",
                                       (key,)).fetchall())
    wait_for(notice_arrived, "the real supervision notice")
    with sqlite3.connect(database) as agency:
        [(text, phrase)] = agency.execute(
            "SELECT text, phrase FROM notice WHERE idempotency_key = ?", (key,)).fetchall()
        [(withdrawn,)] = agency.execute("SELECT withdrawn FROM inbox_item WHERE task_id = ? "
                                        "AND case_id = ?", (dispatched["task_id"],
                                                            case["id"])).fetchall()
    # The worker's notice (the sign-for clock missed), not the planted one.
    assert "sign-for missed" in text and '"clock_missed"' in phrase and not withdrawn


def test_people_act_as_themselves_with_the_roles_they_hold(platform: Platform,
                                                          tmp_path: Path) -> None:
    claimed = platform.cli_json("case", "open", "--type", "illegal-mining", "--subject",
                                "Q-CLAIM", "--title", "x", "--jurisdiction", "jinhaihu",
                                "--as", TOWNSHIP, "--officer", "field-officer", check=False)
    assert (claimed["error"]["status"], claimed["error"]["reason"]) == (
        "PERMISSION_DENIED", "OFFICER_MISMATCH")
    # A field officer, signed in in a config of their own, may not open a case.
    password = demo_password(platform.data_dir, TOWNSHIP, "field-officer")
    env_home = tmp_path / "field-officer"

    def as_field(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return cli_forks.run(
            args, timeout=120, input=f"{password}\n", check=check,
            env={**os.environ, "SEAMLESS_DATA_DIR": str(platform.data_dir),
                 "XDG_CONFIG_HOME": str(env_home)})

    as_field("login", "--as", TOWNSHIP, "--officer", "field-officer", "--password-stdin")
    refused = json.loads(as_field("case", "open", "--type", "illegal-mining", "--subject",
                                  "Q-ROLE", "--title", "x", "--jurisdiction", "jinhaihu",
                                  "--as", TOWNSHIP, "--json", check=False).stdout)
    assert (refused["error"]["status"], refused["error"]["reason"]) == (
        "PERMISSION_DENIED", "ROLE_REQUIRED")
    assert as_field("agencies", "--as", TOWNSHIP).returncode == 0
    # Their head disables them: the session ends at their agency at once, and the gateway,
    # which keeps the agency's word for STANDING_SECONDS, refuses it once that has passed.
    platform.cli("officer", "disable", "field-officer", "--reason", "left", "--as", TOWNSHIP)
    time.sleep(STANDING_SECONDS)
    after = json.loads(as_field("agencies", "--as", TOWNSHIP, "--json", check=False).stdout)
    assert after["error"]["status"] == "UNAUTHENTICATED"
    # A session edited in the config file is worth nothing either.
    sessions = env_home / "seamless" / "sessions.json"
    stored = json.loads(sessions.read_text())
    [[platform_key, agencies]] = stored.items()
    header, claims, signature = agencies[TOWNSHIP]["session"].split(".")
    agencies[TOWNSHIP]["session"] = f"{header}.{claims}.{signature[::-1]}"
    sessions.write_text(json.dumps(stored))
    forged = json.loads(as_field("agencies", "--as", TOWNSHIP, "--json", check=False).stdout)
    assert forged["error"]["status"] == "UNAUTHENTICATED"
    assert platform_key


def test_an_unbounded_clock_is_refused_at_once(platform: Platform) -> None:
    case = open_mining(platform)
    authority = datadir.pki(platform.data_dir).authority.read_bytes()
    session = json.loads(platform.cli("login", "--as", TOWNSHIP, "--officer",
                                      "duty-officer", "--password-stdin", "--json",
                                      input=demo_password(platform.data_dir, TOWNSHIP,
                                                          "duty-officer")).stdout)
    assert session["officer"] == "duty-officer"
    token = json.loads((platform.config_home / "seamless" / "sessions.json").read_text())
    bearer = next(iter(token.values()))[TOWNSHIP]["session"]
    with grpc.secure_channel(platform.endpoints.gateway, server_only_channel(authority),
                             options=expecting(Role.GATEWAY)) as channel:
        stub = case_service_pb2_grpc.CaseServiceStub(channel)  # type: ignore[no-untyped-call]
        metadata = (("authorization", f"Bearer {bearer}"),)
        stub.GetCase(pb.GetCaseRequest(case_id=case["id"]), metadata=metadata, timeout=30)
        started = time.perf_counter()
        with pytest.raises(grpc.RpcError) as refused:
            stub.DispatchTask(pb.DispatchTaskRequest(
                request_id="far", case_id=case["id"], kind="work-safety",
                assignee="emergency-management", sign_within="999999wd"),
                metadata=metadata, timeout=30)
        elapsed = time.perf_counter() - started
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "at most 366d (or 250wd)" in (refused.value.details() or "")
    assert elapsed < 0.1, f"refused in {elapsed * 1000:.0f} ms"
    # The case goes on as before.
    assert len(show(platform, case["id"])["tasks"]) == 4


def test_the_data_directory_is_private_and_no_log_or_trace_holds_a_secret(
        platform: Platform) -> None:
    platform.cli_json("demo", "mining")
    for path in [platform.data_dir, *platform.data_dir.rglob("*")]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"
    secrets = []
    for key in platform.data_dir.rglob("*.key"):
        secrets += [line for line in key.read_text().splitlines() if "PRIVATE" not in line]
    for key in platform.data_dir.rglob("key.pem"):
        secrets += [line for line in key.read_text().splitlines() if "PRIVATE" not in line]
    passwords = json.loads((platform.data_dir / datadir.DEMO_OFFICERS).read_text())
    secrets += [p for officers in passwords.values() for p in officers.values()]
    sessions = json.loads((platform.config_home / "seamless" / "sessions.json").read_text())
    secrets += [s["session"].split(".")[2] for agencies in sessions.values()
                for s in agencies.values()]
    assert len(secrets) > 50
    written = [p for folder in ("logs", "traces")
               for p in (platform.data_dir / folder).glob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in written)
    for path in written:
        content = path.read_text(encoding="utf-8", errors="replace")
        leaked = [s for s in secrets if s in content]
        assert not leaked, f"{path.name} holds a secret"


def test_audit_names_a_tail_cut_behind_its_back_and_a_deleted_case(
        platform: Platform) -> None:
    """Last: it leaves the ledger broken on purpose."""
    cut, gone = open_mining(platform), open_mining(platform)
    witness_db = platform.data_dir / "witness" / "witness.db"
    engine = witness.open_witness(f"sqlite:///{witness_db}")

    def witnessed() -> bool:
        heads = witness.witnessed_heads(engine)
        return all(heads.get(case["id"], (0, ""))[0] == len(ledger_rows(platform, case["id"]))
                   for case in (cut, gone))
    wait_for(witnessed, "the worker's checkpoint of both cases", timeout=60)
    engine.dispose()
    # (The engine's findings of the first test stand; the chains all hold.)
    assert "every one holds" in platform.cli("audit", "verify", check=False).stdout
    ledger = platform.data_dir / "ledger" / "ledger.db"
    with sqlite3.connect(ledger) as database:
        last = database.execute("SELECT max(sequence) FROM ledger_entry WHERE case_id = ?",
                                (cut["id"],)).fetchone()[0]
        database.execute("DELETE FROM ledger_entry WHERE case_id = ? AND sequence = ?",
                         (cut["id"], last))
        [(new_last, new_hash)] = database.execute(
            "SELECT sequence, hash FROM ledger_entry WHERE case_id = ? ORDER BY sequence "
            "DESC LIMIT 1", (cut["id"],)).fetchall()
        database.execute("UPDATE ledger_head SET sequence = ?, hash = ? WHERE case_id = ?",
                         (new_last, new_hash, cut["id"]))
        for table in ("ledger_entry", "ledger_head", "case_gap", "case_participant"):
            database.execute(f"DELETE FROM {table} WHERE case_id = ?", (gone["id"],))
    audited = platform.cli("audit", "verify", check=False)
    assert audited.returncode == 1
    assert f"{cut['id']}: broken at event {last}" in audited.stdout
    assert "which the worker witnessed, is gone" in audited.stdout
    assert f"{gone['id']}: broken at event" in audited.stdout
    assert "gone from the ledger" in audited.stdout


def test_forged_forwarded_addresses_do_not_reset_the_sign_in_throttle(
        platform: Platform) -> None:
    """What a guesser tries next, with curl: a fresh X-Forwarded-For on every
    try. The gateway believes no proxy (none is configured), so every try is the
    connection's own address, and the throttle holds. (Last in the module: it leaves
    this host's address held for a while.)"""
    statuses = []
    for n in range(25):
        answer = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
             "-H", "Content-Type: application/json",
             "-H", f"X-Forwarded-For: 203.0.113.{n}",
             "--data", json.dumps({"agency": TOWNSHIP, "officer_id": f"guess-{n}",
                                   "password": "not-a-password"}),
             f"{platform.endpoints.http}/auth/sign-in"],
            capture_output=True, text=True, timeout=30)
        statuses.append(answer.stdout)
    assert statuses[0] == "401"
    assert statuses[-1] == "429", statuses
