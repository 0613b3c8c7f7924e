"""What `seamless up` makes before it starts anything, on every start, keeping what exists:

* the platform's certificate authority, and a key and certificate for each party (the
  gateway, the worker, each agency and the oversight body), each in its own folder;
* each agency's profile;
* with `--engine-tls-host` (docker-compose.yml), the engine's own authority and the
  certificates of the Temporal cluster and of its only clients (`trust.engine_tls`);
* the demo officers: a few per agency, their initial passwords in one private file
  (for the CLI's `--as`), only their Argon2 hashes in each agency's roster seed.

`seamless provision` makes the same files for docker-compose.yml's one-shot job, with
certificates that name the compose host names, and (`--database-passwords`) a random
password for each PostgreSQL role, each in a folder of its own that only its service
mounts; PostgreSQL's init script (deploy/postgres) creates a role and its databases for
each such folder.

In production the operator's authority issues the same files and each agency's head
adds its officers (`seamless officer add`); nothing here runs.
"""

from __future__ import annotations

import argparse
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from cli import datadir
from cli.arguments import leaf
from records.participation import OVERSIGHT, OVERSIGHT_NAMES
from seamless.v1 import agency_pb2
from trust import engine_keys, engine_tls
from trust.authority import ensure_authority, ensure_party, retire_key
from trust.files import private_dir, private_umask, tighten, write_private
from trust.passwords import hash_password
from trust.pki import Party, Role
from trust.sessions import OfficerRole
from workflows.catalog_loader import DEFAULT_CATALOG, Catalog, load_catalog
from workflows.to_proto import agency_to_proto

ROSTER_SEED = "roster-seed.json"
# The platform's own parties (beside the bodies of the catalog's directory).
PLATFORM_PARTIES = (("gateway", Role.GATEWAY), ("worker", Role.WORKER))
DUTY_OFFICER = "duty-officer"


@dataclass(frozen=True)
class DemoOfficer:
    officer_id: str
    name: str
    roles: frozenset[OfficerRole]


# The duty officer holds every role, so the README's commands work with `--as` alone;
# the others show what a role without the right is refused.
DEMO_OFFICERS = (
    DemoOfficer(DUTY_OFFICER, "值班员 Duty officer", frozenset(OfficerRole)),
    DemoOfficer("field-officer", "外勤人员 Field officer", frozenset({OfficerRole.OFFICER})),
    DemoOfficer("dispatcher", "派单员 Dispatcher", frozenset({OfficerRole.DISPATCHER})),
)


def oversight_profile() -> agency_pb2.Agency:
    name_zh, name_en = OVERSIGHT_NAMES
    return agency_pb2.Agency(id=OVERSIGHT, name_zh=name_zh, name_en=name_en)


def bodies(catalog: Catalog) -> list[tuple[agency_pb2.Agency, Role]]:
    """Every service that signs its people's sessions: the agencies, then oversight."""
    return [*((agency_to_proto(a), Role.AGENCY) for a in catalog.directory.agencies),
            (oversight_profile(), Role.OVERSIGHT)]


def provision(data_dir: Path, catalog: Catalog, *, hosts: tuple[str, ...] = (),
              demo_officers: bool = False) -> None:
    """Keys, certificates and profiles; with `demo_officers` (the demo district that
    `seamless up` starts), the demo officers of an agency whose roster seed does not
    exist yet. Otherwise none: an operator adds each agency's first head
    (`first_head`)."""
    tighten(data_dir)
    pki, authority_key = datadir.pki(data_dir), datadir.authority_key(data_dir)
    ensure_authority(pki, authority_key)
    for party, role in PLATFORM_PARTIES:
        ensure_party(pki, authority_key, datadir.identity(data_dir, party),
                     Party(party, role), hosts=hosts)
    engine_keys.ensure(datadir.engine_keys(data_dir))
    passwords = _demo_passwords(data_dir, [profile.id for profile, _ in bodies(catalog)]) \
        if demo_officers else {}
    for profile, role in bodies(catalog):
        folder = datadir.agency_folder(data_dir, profile.id)
        ensure_party(pki, authority_key, datadir.identity(data_dir, profile.id),
                     Party(profile.id, role), hosts=hosts)
        write_private(folder / "profile.json",
                      json_format.MessageToJson(profile, ensure_ascii=False))
        if demo_officers and not (folder / ROSTER_SEED).exists():
            _add_to_seed(folder, [
                {"officer_id": o.officer_id, "name": o.name,
                 "roles": sorted(r.value for r in o.roles),
                 "password_hash": hash_password(passwords[profile.id][o.officer_id])}
                for o in DEMO_OFFICERS])


def first_head(data_dir: Path, catalog: Catalog, head: str) -> str:
    """`--first-head AGENCY:OFFICER`: the agency's first head, with a one-time password
    they must change at their first sign-in (returned, to give them; only its hash is
    kept). The agency adds them at its next start."""
    agency, _, officer_id = head.partition(":")
    known = [profile.id for profile, _ in bodies(catalog)]
    if agency not in known or not officer_id:
        raise SystemExit(f"--first-head: say AGENCY:OFFICER_ID with an agency of "
                         f"{', '.join(known)}")
    one_time = secrets.token_urlsafe(15)
    if not _add_to_seed(datadir.agency_folder(data_dir, agency), [{
            "officer_id": officer_id[:64], "name": officer_id[:64], "roles": ["head"],
            "password_hash": hash_password(one_time), "must_change_password": True}]):
        raise SystemExit(f"--first-head: {agency} already seeds {officer_id}")
    return one_time


def _add_to_seed(folder: Path, entries: list[dict[str, object]]) -> bool:
    """The officers of `entries` the agency's roster seed lacks, added to it; whether
    any was."""
    path = folder / ROSTER_SEED
    seeded: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8")) \
        if path.exists() else []
    have = {entry["officer_id"] for entry in seeded}
    added = [entry for entry in entries if entry["officer_id"] not in have]
    if added or not path.exists():
        write_private(path, json.dumps(seeded + added, ensure_ascii=False, indent=1))
    return bool(added)


def _demo_passwords(data_dir: Path, agencies: list[str]) -> dict[str, dict[str, str]]:
    path = data_dir / datadir.DEMO_OFFICERS
    known: dict[str, dict[str, str]] = (
        json.loads(path.read_text(encoding="utf-8")) if path.exists() else {})
    changed = False
    for agency in agencies:
        for officer in DEMO_OFFICERS:
            if officer.officer_id not in known.setdefault(agency, {}):
                known[agency][officer.officer_id] = secrets.token_urlsafe(15)
                changed = True
    if changed:
        write_private(path, json.dumps(known, indent=1, sort_keys=True))
    return known


def demo_password(data_dir: Path, agency: str, officer: str) -> str | None:
    """A demo officer's initial password, on a platform `seamless up` seeded."""
    path = data_dir / datadir.DEMO_OFFICERS
    if not path.exists():
        return None
    known = json.loads(path.read_text(encoding="utf-8"))
    password = known.get(agency, {}).get(officer)
    return password if isinstance(password, str) else None


# ----- PostgreSQL roles (docker-compose.yml) --------------------------------------------

# Under the data directory: the superuser's password, and a folder per role holding its
# password and the names of the databases it owns (one mount each, read by nobody else).
DATABASE_FOLDER = "postgres"
SUPERUSER_FOLDER = "superuser"
ROLES_FOLDER = "roles"
PASSWORD_FILE = "password"
DATABASES_FILE = "databases"


def agency_database(agency: str) -> str:
    """The database of an agency's (or the oversight body's) service, and the role that
    owns it: its id, with the dashes SQL names do not take unquoted as underscores."""
    return "agency_" + agency.replace("-", "_")


def record_databases(agencies: Iterable[str]) -> dict[str, str]:
    """The database of each owner of records, by owner: the ledger (with the gap store),
    its witness (kept apart from what it witnesses), the gateway's case numbers, and
    each agency's service (by the agency's id)."""
    return {"ledger": "ledger", "witness": "witness", "gateway": "gateway",
            **{agency: agency_database(agency) for agency in agencies}}


def database_roles(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """Every PostgreSQL role of the platform and the databases it owns: Temporal's two,
    and each owner of records its own (a role named as its database)."""
    agencies = [profile.id for profile, _role in bodies(catalog)]
    return {"temporal": ("temporal", "temporal_visibility"),
            **{name: (name,) for name in record_databases(agencies).values()}}


def role_folder(data_dir: Path, role: str) -> Path:
    return data_dir / DATABASE_FOLDER / ROLES_FOLDER / role


def database_passwords(data_dir: Path, roles: dict[str, tuple[str, ...]]) -> None:
    """A random password for the superuser and for each role, kept once made (the
    database knows them from its first start)."""
    private_dir(private_dir(data_dir / DATABASE_FOLDER) / ROLES_FOLDER)
    for folder in (data_dir / DATABASE_FOLDER / SUPERUSER_FOLDER,
                   *(role_folder(data_dir, role) for role in roles)):
        if not (folder / PASSWORD_FILE).exists():
            write_private(folder / PASSWORD_FILE, secrets.token_urlsafe(32))
    for role, databases in roles.items():
        write_private(role_folder(data_dir, role) / DATABASES_FILE, " ".join(databases) + "\n")


def retire(data_dir: Path, catalog: Catalog, party_id: str, *,
           hosts: tuple[str, ...] = ()) -> str:
    """Retire a party's key (`--retire-key`), giving it a new one."""
    parties = {**dict(PLATFORM_PARTIES),
               **{profile.id: role for profile, role in bodies(catalog)}}
    if party_id not in parties:
        raise SystemExit(f"--retire-key: no party {party_id!r} "
                         f"({', '.join(sorted(parties))})")
    return retire_key(datadir.pki(data_dir), datadir.authority_key(data_dir),
                      datadir.identity(data_dir, party_id),
                      Party(party_id, parties[party_id]), hosts=hosts)


def provision_command(args: argparse.Namespace) -> int:
    private_umask()
    data_dir = datadir.resolve(args.data_dir)
    catalog = load_catalog(Path(args.catalog_dir))
    provision(data_dir, catalog, hosts=tuple(args.host), demo_officers=args.demo_officers)
    if args.engine_tls_host:
        engine_tls.ensure(datadir.engine_tls(data_dir), args.engine_tls_host)
    for head in args.first_head:
        one_time = first_head(data_dir, catalog, head)
        print(f"{head}: one-time password {one_time} (to be changed at the first "  # noqa: T201
              "sign-in; restart the agency's service to add them)")
    if args.database_passwords:
        database_passwords(data_dir, database_roles(catalog))
    for party_id in args.retire_key:
        kid = retire(data_dir, catalog, party_id, hosts=tuple(args.host))
        print(f"retired {party_id}'s key {kid[:16]}…: it has a new key; restart the "  # noqa: T201
              "platform's processes, which refuse the old one from then on")
    if args.rotate_engine_key:
        keys = engine_keys.rotate(datadir.engine_keys(data_dir))
        print(f"engine key {keys.current} seals from now on; restart the gateway and "  # noqa: T201
              f"the worker ({len(keys.keys) - 1} older key(s) still open what they sealed)")
    print(f"provisioned {data_dir}")  # noqa: T201
    return 0


def add_command(commands: Any) -> None:
    p = leaf(commands, "provision", provision_command, "issue the platform's certificates, "
             "profiles and demo officers into the data directory (docker-compose.yml's job)",
             acting=False)
    p.add_argument("--host", action="append", default=[], metavar="NAME",
                   help="a host name every certificate names (repeat; localhost always)")
    p.add_argument("--engine-tls-host", action="append", default=[], metavar="NAME",
                   help="also the engine's authority for mutual TLS with a Temporal cluster "
                        "called by NAME (repeat), and the certificates of the cluster and "
                        "its only clients: the gateway, the worker, the admin tools, the UI")
    p.add_argument("--rotate-engine-key", action="store_true",
                   help="a new key seals what the platform hands Temporal from the next start "
                        "of the gateway and the worker; the older keys still open")
    p.add_argument("--demo-officers", action="store_true",
                   help="the demo district's officers (duty-officer with every role, "
                        "field-officer, dispatcher), for agencies without a roster seed "
                        "yet; without it no officer is seeded (add first heads with "
                        "--first-head)")
    p.add_argument("--first-head", action="append", default=[], metavar="AGENCY:OFFICER",
                   help="add an agency's first head with a one-time password, printed "
                        "once, that they must change at their first sign-in (repeat)")
    p.add_argument("--retire-key", action="append", default=[], metavar="PARTY",
                   help="retire a party's key (gateway, worker or an agency id; repeat): "
                        "it gets a new one, and every party refuses the old one in a "
                        "handshake and in every signature made from now on")
    p.add_argument("--database-passwords", action="store_true",
                   help="also a random password per PostgreSQL role, under postgres/")
    p.add_argument("--catalog-dir", default=str(DEFAULT_CATALOG),
                   help="the catalog whose directory lists the agencies")
