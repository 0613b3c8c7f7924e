"""`audit verify`: is the ledger what was recorded, and does every record hold up?

For each case, in this order, the first thing that does not hold is named:
1. the hash chain and its head (`ledger.verify_chain`): nothing edited, deleted,
   reordered, added or cut off since it was written, as far as the ledger itself shows;
2. the worker's signed checkpoints (`witness`): nothing cut off or rewritten that the
   worker had already witnessed, even with the head row fixed up to match;
3. the proofs of each event (`proofs`): the gateway's seal naming its actor, the
   agency's signed act, the receipts of a delivery, each against the certificates of
   the platform's authority.
Beyond the cases: checkpoints that were altered, removed or forged, and cases the worker
witnessed that the ledger no longer has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from observability import ledger, proofs, witness
from observability.ledger import LedgerHead, Verdict
from trust.pki import CertificateStore


@dataclass(frozen=True)
class Audit:
    verdicts: list[Verdict]
    witness: witness.Reading


def audit_case(session: Session, case_id: str, store: CertificateStore,
               reading: witness.Reading | None, now: datetime | None = None) -> Verdict:
    """The first thing about the case that does not hold; without a `reading` of the
    checkpoints, its chain and its signatures only (the timeline's quick look)."""
    rows = ledger.case_events(session=session, case_id=case_id)
    verdict = ledger.verify_chain(case_id, rows, session.get(LedgerHead, case_id))
    if not verdict.intact:
        return verdict
    witnessed = (None if reading is None else
                 witness.compare_case(reading, case_id, rows, now or datetime.now(UTC)))
    for found in (witnessed, proofs.check_case(case_id, rows, store)):
        if found is not None:
            return Verdict(case_id, len(rows), found[0], found[1])
    return verdict


def audit(session: Session, store: CertificateStore, reading: witness.Reading, *,
          cases: Iterable[str], include_missing: bool) -> Audit:
    """Audit `cases`; with `include_missing`, also name the cases the worker witnessed
    that the ledger no longer has (for those who may see every case)."""
    now = datetime.now(UTC)
    verdicts = [audit_case(session, case_id, store, reading, now) for case_id in cases]
    if include_missing:
        known = ledger.case_ids(session=session)
        verdicts += [Verdict(case_id, 0, sequence,
                             f"the case is gone from the ledger: the worker witnessed "
                             f"{sequence} events of it")
                     for case_id, sequence in witness.missing_cases(reading, known)]
        if len(known) < reading.cases:
            reading.problems.append(f"the ledger holds {len(known)} cases; the worker "
                                    f"witnessed {reading.cases}")
    return Audit(verdicts, reading)
