"""What `seamless up` makes before it starts anything, on every start, keeping what exists:

* the platform's certificate authority, and a key and certificate for each party (the
  gateway, the worker, each agency and the oversight body), each in its own folder;
* each agency's profile;
* the demo officers: a few per agency, their initial passwords in one private file
  (for the CLI's `--as`), only their Argon2 hashes in each agency's roster seed.

In production the operator's authority issues the same files and each agency's head
adds its officers (`seamless officer add`); nothing here runs.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import json_format

from cli import datadir
from observability.participation import OVERSIGHT, OVERSIGHT_NAMES
from seamless.v1 import agency_pb2
from trust.authority import ensure_authority, ensure_party
from trust.files import tighten, write_private
from trust.passwords import hash_password
from trust.pki import Party, Role
from trust.sessions import OfficerRole
from workflows.catalog_loader import Catalog
from workflows.to_proto import agency_to_proto

ROSTER_SEED = "roster-seed.json"
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


def provision(data_dir: Path, catalog: Catalog, *, hosts: tuple[str, ...] = ()) -> None:
    tighten(data_dir)
    pki, authority_key = datadir.pki(data_dir), datadir.authority_key(data_dir)
    ensure_authority(pki, authority_key)
    for party, role in (("gateway", Role.GATEWAY), ("worker", Role.WORKER)):
        ensure_party(pki, authority_key, datadir.identity(data_dir, party),
                     Party(party, role), hosts=hosts)
    passwords = _demo_passwords(data_dir, [profile.id for profile, _ in bodies(catalog)])
    for profile, role in bodies(catalog):
        folder = datadir.agency_folder(data_dir, profile.id)
        ensure_party(pki, authority_key, datadir.identity(data_dir, profile.id),
                     Party(profile.id, role), hosts=hosts)
        write_private(folder / "profile.json",
                      json_format.MessageToJson(profile, ensure_ascii=False))
        if not (folder / ROSTER_SEED).exists():
            write_private(folder / ROSTER_SEED, json.dumps([
                {"officer_id": o.officer_id, "name": o.name,
                 "roles": sorted(r.value for r in o.roles),
                 "password_hash": hash_password(passwords[profile.id][o.officer_id])}
                for o in DEMO_OFFICERS], ensure_ascii=False, indent=1))


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
