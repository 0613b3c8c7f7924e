"""What vouches for each event of the ledger, and whether it holds.

Beside the hash chain (which shows the ledger was not edited since it was written), the
ledger keeps the signed statements that make each event provable to a party that does
not trust the platform's operator:

* an event a person caused carries the gateway's seal on the command: the actor (agency
  and officer), the case, a command that can cause such an event (on the same task),
  made shortly before the event; one an agency forwarded also carries the agency's
  signature over the officer's act of that kind on that task (the seal names it);
* a delivery carries the assignee's signed receipt for that task and round, and a
  notice's delivery a receipt from every recipient;
* a clock's events carry nothing: the worker's signed checkpoints witness them
  (`observability.witness`); only the kinds of event a clock records may be the
  platform's.

`check_case` names the first event whose proofs do not hold; an event of a person with
no proof at all is named too (recorded before signatures, or written by someone else).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from observability.ledger import LedgerEntry, utc
from records import event_schema as schema
from records.event_schema import EventKind as K
from trust.attestations import verify_receipt
from trust.pki import CertificateStore, Role
from trust.statements import COMMAND_SEAL_LIFETIME, StatementError, StatementType, verify

# The platform's own actor (a clock); its events are witnessed, not signed.
PLATFORM = schema.PLATFORM_ACTOR
# What the platform itself records: a clock that passed, and what reached an agency.
PLATFORM_KINDS = frozenset({K.NOTICE, K.ESCALATION, K.HANDOFF_EXPIRED, K.LINE_MISSED,
                            K.DEEMED_CONSENT, K.TASK_DELIVERED, K.NOTICE_DELIVERED})
# The commands (the case's updates, and the start) that can cause each kind of event a
# person's command records; a test holds it to the workflow's updates.
CAUSES: dict[str, frozenset[str]] = {
    K.OPENED: frozenset({"start"}),
    K.TASK_DISPATCHED: frozenset({"start", "dispatch_task", "review_decline"}),
    K.TASK_SIGNED: frozenset({"sign_task"}),
    K.TASK_ON_SCENE: frozenset({"arrive_on_scene"}),
    K.TASK_DONE: frozenset({"complete_task"}),
    K.TASK_DECLINED: frozenset({"decline_task"}),
    K.DECLINE_REVIEWED: frozenset({"review_decline"}),
    K.EXTENSION_REQUESTED: frozenset({"request_extension"}),
    K.EXTENSION_DECIDED: frozenset({"decide_extension"}),
    K.TASK_WITHDRAWN: frozenset({"withdraw_task"}),
    K.HANDOFF_OFFERED: frozenset({"offer_handoff"}),
    K.HANDOFF_ACCEPTED: frozenset({"accept_handoff"}),
    K.HANDOFF_DECLINED: frozenset({"decline_handoff"}),
    K.HANDOFF_WITHDRAWN: frozenset({"withdraw_handoff"}),
    K.OWNER_ASSIGNED: frozenset({"assign_owner"}),
    K.ESCALATION_RESOLVED: frozenset({"resolve_escalation", "assign_owner"}),
    K.CLOSED: frozenset({"close_case"}),
    K.REPORT_ATTACHED: frozenset({"start", "attach_report"}),
    K.REPORT_DETACHED: frozenset({"detach_report"}),
    K.LEAD_OBJECTED: frozenset({"object_to_lead"}),
    K.OBJECTION_DECIDED: frozenset({"decide_objection"}),
    # A rating is its own chain, recorded by a run started for it (workflows.ratings).
    K.REPORT_RATED: frozenset({"start"}),
}
# Events about the task the command named (a dispatch makes a new task instead).
_ON_THE_TASK = frozenset({K.TASK_SIGNED, K.TASK_ON_SCENE, K.TASK_DONE, K.TASK_DECLINED,
                          K.DECLINE_REVIEWED, K.EXTENSION_REQUESTED, K.EXTENSION_DECIDED,
                          K.TASK_WITHDRAWN})
# The act an agency signs for each kind of event it forwards.
_ACT_OF: dict[str, str] = {K.TASK_SIGNED: "SIGN", K.TASK_ON_SCENE: "ARRIVE",
                           K.TASK_DONE: "COMPLETE", K.TASK_DECLINED: "DECLINE"}
# The gateway's and the engine's clocks may differ a little.
_SKEW = timedelta(minutes=1)


class _Case:
    """What checking a case's events needs to remember: each task's assignee, and the
    statements already checked (one seal covers every event its command caused)."""

    def __init__(self, case_id: str, store: CertificateStore) -> None:
        self.case_id = case_id
        self.workflow_id, _, self.run_id = case_id.rpartition("@")
        self.store = store
        self.assignees: dict[str, str] = {}
        self._checked: dict[str, dict[str, Any]] = {}

    def statement(self, token: str, kind: StatementType, roles: tuple[Role, ...],
                  signer: str | None = None) -> dict[str, Any]:
        key = f"{kind}|{signer}|{token}"
        if key not in self._checked:
            self._checked[key] = verify(token, self.store, kind, roles=roles, of_record=True,
                                        signer=signer).claims
        return self._checked[key]


def check_case(case_id: str, rows: Sequence[LedgerEntry], store: CertificateStore
               ) -> tuple[int, str] | None:
    """(sequence, problem) of the first event whose proofs do not hold, or None."""
    case = _Case(case_id, store)
    for row in rows:
        try:
            _check(case, row)
        except (StatementError, ValueError, KeyError, TypeError) as err:
            return row.sequence, (f"event {row.sequence} ({row.kind} by {row.actor_agency}"
                                  f"{'/' + row.actor_officer if row.actor_officer else ''})"
                                  f": {err}")
    return None


def _check(case: _Case, row: LedgerEntry) -> None:
    attributes = row.attribute_map()
    if row.kind in (K.TASK_DISPATCHED, K.DECLINE_REVIEWED) and schema.ASSIGNEE in attributes:
        case.assignees[row.task_id] = attributes[schema.ASSIGNEE]
    proofs = row.proof_list()
    if row.actor_agency == PLATFORM:
        _check_platform_event(case, row, attributes, proofs)
        return
    if not proofs:
        raise StatementError("no signature vouches for its actor (recorded before "
                             "signatures, or written outside the platform)")
    seal = case.statement(proofs[0], StatementType.COMMAND, (Role.GATEWAY,))
    if seal.get("actor") != {"agency": row.actor_agency, "officer": row.actor_officer}:
        raise StatementError("the gateway's seal names another actor")
    if seal.get("wf") != case.workflow_id or seal.get("run") not in ("", case.run_id):
        raise StatementError("the gateway's seal is for another case")
    if seal.get("op") not in CAUSES.get(row.kind, ()):
        raise StatementError(f"the gateway's seal is on a command ({seal.get('op')}) that "
                             "records no such event")
    if row.kind in _ON_THE_TASK and seal.get("task") != row.task_id:
        raise StatementError("the gateway's seal is on a command about another task")
    sealed = datetime.fromtimestamp(float(seal["iat"]), UTC)
    if not -_SKEW <= utc(row.at) - sealed <= COMMAND_SEAL_LIFETIME + _SKEW:
        raise StatementError(f"the gateway's seal was made at {sealed.isoformat()}, not "
                             "for an event at this time")
    forwarded = seal.get("act", "")
    if not forwarded:
        if len(proofs) != 1:
            raise StatementError("it carries an act the gateway's seal does not vouch for")
        return
    if len(proofs) != 2 or hashlib.sha256(proofs[1].encode()).hexdigest() != forwarded:
        raise StatementError("the agency's act is not the one the gateway's seal names")
    act = case.statement(proofs[1], StatementType.ACT, (Role.AGENCY,),
                         signer=row.actor_agency)
    if (act.get("officer"), act.get("task"), act.get("case"), act.get("action")) != (
            row.actor_officer, row.task_id, case.case_id, _ACT_OF.get(row.kind)):
        raise StatementError(f"the act {row.actor_agency} signed is another officer's, or "
                             "on another task, case or kind of act")


def _check_platform_event(case: _Case, row: LedgerEntry, attributes: dict[str, str],
                          proofs: list[str]) -> None:
    if row.kind not in PLATFORM_KINDS:
        raise StatementError("the platform records no such event itself: a person's act "
                             "needs the gateway's seal")
    if row.kind == K.TASK_DELIVERED:
        if not proofs:
            raise StatementError("no receipt of the assignee vouches for the delivery")
        assignee = case.assignees.get(row.task_id, "")
        verify_receipt(proofs[0], case.store, agency=assignee, expected={
            "what": "task", "case": case.case_id, "task": row.task_id,
            "round": int(attributes.get(schema.ROUND, "0"))})
    elif row.kind == K.NOTICE_DELIVERED:
        recipients = [r for r in attributes.get(schema.RECIPIENTS, "").split(",") if r]
        if len(proofs) != len(recipients):
            raise StatementError("it lacks a recipient's receipt")
        for recipient, receipt in zip(recipients, proofs, strict=True):
            verify_receipt(receipt, case.store, agency=recipient, expected={
                "what": "notice", "case": case.case_id,
                "key": attributes.get(schema.NOTICE, "")})
    elif proofs:
        raise StatementError("a clock's event carries signatures it cannot have")
