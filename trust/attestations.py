"""What an agency signs: its officers' acts, and receipts for what reached it.

* An **act**: officer X of the agency did ACTION on task T of case C (request R, session
  S), with this content (a digest of the findings, evidence references, reason and
  suggested agency). The agency signs it before forwarding the act to the gateway; the
  gateway checks it against the request, and the ledger keeps it with the event.
* A **receipt**: task T of case C, round N (or notice K) reached the agency at time t.
  The worker keeps it with the delivery's event, so "we never got that task" can be
  answered with the agency's own signature.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trust.pki import CertificateStore, Role
from trust.statements import Signer, Statement, StatementError, StatementType, verify

# Where an agency's signed act travels beside the request (gRPC metadata, and the
# Temporal header the gateway passes it on in).
ACT_HEADER = "seamless-act"


def content_digest(action: str, *, findings: str = "", evidence_refs: Sequence[str] = (),
                   reason: str = "", suggested_agency: str = "") -> str:
    """What an act said beyond its kind, as a digest (the text stays with the agency):
    a completion's findings and evidence, a decline's reason and suggestion."""
    said = ([findings, list(evidence_refs)] if action == "COMPLETE" else
            [reason, suggested_agency] if action == "DECLINE" else [])
    text = json.dumps([action, *said], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Act:
    case_id: str
    task_id: str
    action: str
    officer: str
    request_id: str
    session_id: str
    content: str

    def claims(self) -> dict[str, Any]:
        return {"case": self.case_id, "task": self.task_id, "action": self.action,
                "officer": self.officer, "rid": self.request_id, "sid": self.session_id,
                "content": self.content}


def sign_act(signer: Signer, act: Act, *, at: datetime) -> str:
    return signer.sign(StatementType.ACT, act.claims(), at=at)


def verify_act(token: str, store: CertificateStore, *, agency: str, expected: Act
               ) -> Statement:
    """The act if `agency` signed exactly `expected`; StatementError otherwise."""
    statement = verify(token, store, StatementType.ACT, roles=(Role.AGENCY,), signer=agency)
    for claim, value in expected.claims().items():
        if claim != "sid" and statement.claims.get(claim) != value:
            raise StatementError(f"the signed act differs from the request ({claim})")
    return statement


def task_receipt(signer: Signer, *, case_id: str, task_id: str, round: int,
                 delivery: str, received_at: datetime) -> str:
    return signer.sign(StatementType.RECEIPT, {
        "what": "task", "case": case_id, "task": task_id, "round": round,
        "key": delivery, "received": received_at.isoformat()}, at=received_at)


def notice_receipt(signer: Signer, *, case_id: str, notice: str, kind: str,
                   received_at: datetime) -> str:
    return signer.sign(StatementType.RECEIPT, {
        "what": "notice", "case": case_id, "key": notice, "kind": kind,
        "received": received_at.isoformat()}, at=received_at)


def verify_receipt(token: str, store: CertificateStore, *, agency: str,
                   expected: dict[str, Any]) -> Statement:
    """The receipt if `agency` signed it and it says `expected`; StatementError
    otherwise."""
    statement = verify(token, store, StatementType.RECEIPT, roles=(Role.AGENCY,),
                       signer=agency)
    for claim, value in expected.items():
        if statement.claims.get(claim) != value:
            raise StatementError(f"the receipt is for something else ({claim})")
    return statement
