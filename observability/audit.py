"""`audit verify`: is the ledger what was recorded, and does every record hold up?

For each case, in this order, the first thing that does not hold is named:
1. the hash chain and its head (`ledger.verify_chain`): nothing edited, deleted,
   reordered, added or cut off since it was written, as far as the ledger itself shows;
2. the worker's signed checkpoints (`witness`): nothing cut off or rewritten that the
   worker had already witnessed, even with the head row fixed up to match;
3. the proofs of each event (`proofs`): the gateway's seal naming its actor, the
   agency's signed act, the receipts of a delivery, each against the certificates of
   the platform's authority;
4. the gap store (`gap_audit`): what oversight queries (the gaps, who was accountable,
   who takes part and so may see the case) is what a replay of the ledger gives;
5. the score store (`score_audit`) and the read model every list reads
   (`projection_audit`), likewise.
Beyond the cases: checkpoints that were altered, removed or forged, cases the worker
witnessed that the ledger no longer has, and cases the gap store or the read model
holds that it never had.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from observability import (
    gap_audit,
    ledger,
    projection,
    projection_audit,
    proofs,
    score_audit,
    witness,
)
from observability.ledger import LedgerHead, Verdict
from trust.pki import CertificateStore


@dataclass(frozen=True)
class Audit:
    verdicts: list[Verdict]
    witness: witness.Reading


def audit_case(session: Session, case_id: str, store: CertificateStore,
               reading: witness.Reading | None, now: datetime | None = None) -> Verdict:
    """The first thing about the case that does not hold; without a `reading` of the
    checkpoints, all but those (the timeline's quick look)."""
    rows = ledger.case_events(session=session, case_id=case_id)
    verdict = ledger.verify_chain(case_id, rows, session.get(LedgerHead, case_id))
    if not verdict.intact:
        return verdict
    found = ((None if reading is None else
              witness.compare_case(reading, case_id, rows, now or datetime.now(UTC)))
             or proofs.check_case(case_id, rows, store)
             # Last: the stores are derived from the ledger, so only a ledger that holds
             # can say what they should be.
             or gap_audit.check_case(session.connection(), case_id)
             or score_audit.check_chain(session.connection(), case_id)
             or projection_audit.check_case(session.connection(), case_id))
    return verdict if found is None else Verdict(case_id, len(rows), found[0], found[1])


def audit(session: Session, store: CertificateStore, reading: witness.Reading, *,
          cases: Iterable[str], include_missing: bool) -> Audit:
    """Audit `cases`; with `include_missing`, also name the cases the worker witnessed
    that the ledger no longer has, and those the gap store holds that it never had (for
    those who may see every case)."""
    now = datetime.now(UTC)
    verdicts = [audit_case(session, case_id, store, reading, now) for case_id in cases]
    if include_missing:
        known = ledger.case_ids(session=session)
        gone = witness.missing_cases(reading, known)
        verdicts += [Verdict(case_id, 0, sequence,
                             f"the case is gone from the ledger: the worker witnessed "
                             f"{sequence} events of it")
                     for case_id, sequence in gone]
        named = {*known, *(case_id for case_id, _ in gone)}
        verdicts += [Verdict(case_id, 0, 1, "the gap store holds a case the ledger does "
                             "not have: forged there, or deleted from the ledger")
                     for case_id in gap_audit.cases_only_in_store(session.connection(),
                                                                  named)]
        if projection.is_ready(session.connection()):
            verdicts += [Verdict(case_id, 0, 1, "the read model holds a case the ledger "
                                 "does not have: forged there, or deleted from the ledger")
                         for case_id in projection_audit.cases_only_in_read_model(
                             session.connection(), sorted(named))]
        if len(known) < reading.cases:
            reading.problems.append(f"the ledger holds {len(known)} cases; the worker "
                                    f"witnessed {reading.cases}")
    return Audit(verdicts, reading)
