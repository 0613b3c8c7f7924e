"""Signed statements and sessions: what holds, and every way a forgery fails."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.trust.kit import Kit, new_kit
from trust.pki import Role
from trust.sessions import OfficerRole, SessionError, issue, verify_session
from trust.statements import StatementError, StatementType, verify

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return new_kit(tmp_path)


def test_a_statement_verifies_with_its_signer_and_claims(kit: Kit) -> None:
    signer = kit.signer("natural-resources", Role.AGENCY)
    token = signer.sign(StatementType.RECEIPT, {"case": "C1", "task": "T1"}, at=NOW)
    statement = verify(token, kit.store(), StatementType.RECEIPT, roles=(Role.AGENCY,),
                       signer="natural-resources")
    assert statement.signer.id == "natural-resources"
    assert statement.claims["case"] == "C1"
    assert statement.issued_at == NOW


def _tampered(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


def test_an_edited_claim_breaks_the_signature(kit: Kit) -> None:
    token = kit.signer("natural-resources", Role.AGENCY).sign(
        StatementType.RECEIPT, {"round": 1}, at=NOW)
    with pytest.raises(StatementError, match="signature of agency natural-resources"):
        verify(_tampered(token, round=2), kit.store(), StatementType.RECEIPT,
               roles=(Role.AGENCY,))


def test_a_statement_of_another_kind_or_role_or_signer_is_refused(kit: Kit) -> None:
    token = kit.signer("natural-resources", Role.AGENCY).sign(
        StatementType.RECEIPT, {}, at=NOW)
    store = kit.store()
    with pytest.raises(StatementError, match="kind seamless.command"):
        verify(token, store, StatementType.COMMAND, roles=(Role.AGENCY,))
    with pytest.raises(StatementError, match="may not make it"):
        verify(token, store, StatementType.RECEIPT, roles=(Role.GATEWAY,))
    with pytest.raises(StatementError, match="not by public-security"):
        verify(token, store, StatementType.RECEIPT, roles=(Role.AGENCY,),
               signer="public-security")


def test_a_certificate_from_another_authority_is_unknown(kit: Kit, tmp_path: Path) -> None:
    stranger = new_kit(tmp_path / "elsewhere").signer("natural-resources", Role.AGENCY)
    token = stranger.sign(StatementType.RECEIPT, {}, at=NOW)
    with pytest.raises(StatementError, match="did not issue"):
        verify(token, kit.store(), StatementType.RECEIPT, roles=(Role.AGENCY,))


@pytest.mark.parametrize("token", ["", "x", "a.b.c", "e30.e30.", "x" * 10_000])
def test_garbage_is_not_a_statement(kit: Kit, token: str) -> None:
    with pytest.raises(StatementError):
        verify(token, kit.store(), StatementType.RECEIPT, roles=(Role.AGENCY,))


def test_a_session_names_the_agency_that_signed_it(kit: Kit) -> None:
    signer = kit.signer("jinhaihu-township", Role.AGENCY)
    token, issued = issue(signer, officer="li-wei", roles=frozenset({OfficerRole.HEAD}),
                          now=NOW)
    session = verify_session(token, kit.store(), now=NOW + timedelta(hours=1))
    assert (session.agency, session.officer, session.roles) == (
        "jinhaihu-township", "li-wei", frozenset({OfficerRole.HEAD}))
    assert session.session_id == issued.session_id
    with pytest.raises(SessionError, match="expired"):
        verify_session(token, kit.store(), now=NOW + timedelta(hours=8))


def test_a_session_with_edited_roles_or_officer_is_refused(kit: Kit) -> None:
    token, _ = issue(kit.signer("jinhaihu-township", Role.AGENCY), officer="li-wei",
                     roles=frozenset({OfficerRole.OFFICER}), now=NOW)
    for forged in (_tampered(token, roles=["head"]), _tampered(token, sub="boss"),
                   _tampered(token, iss="command-center")):
        with pytest.raises(SessionError, match="not valid"):
            verify_session(forged, kit.store(), now=NOW)


def test_only_agencies_and_the_oversight_body_sign_sessions(kit: Kit) -> None:
    token, _ = issue(kit.signer("gateway", Role.GATEWAY), officer="admin",
                     roles=frozenset({OfficerRole.HEAD}), now=NOW)
    with pytest.raises(SessionError, match="may not make it"):
        verify_session(token, kit.store(), now=NOW)
