"""Small builders for rule tests: a fixed clock, actors, and cases of each playbook."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timedelta, timezone

from records.subjects import normalize_subject, subject_identity
from workflows.catalog_loader import Catalog
from workflows.rules.case import CaseEngine
from workflows.rules.commands import OpenCase
from workflows.rules.model import Actor
from workflows.rules.opening import open_case

# A Wednesday morning in Beijing.
T0 = datetime(2026, 11, 18, 9, 0, tzinfo=timezone(timedelta(hours=8)))
_ids = itertools.count(1)


def rid() -> str:
    """A fresh request id."""
    return f"req-{next(_ids)}"


def actor(agency: str, officer: str = "") -> Actor:
    return Actor(agency=agency, officer=officer)


def mining_open(subject: str = "JHH-QUARRY-7", agency: str = "jinhaihu-township") -> OpenCase:
    return OpenCase(request_id=rid(), actor=actor(agency, "zhang.wei"), type="illegal-mining",
                    subject_key=subject, title="Night-time digging at the old quarry",
                    jurisdiction="jinhaihu", location="Jinhaihu, north slope")


def open_mining(catalog: Catalog, now: datetime = T0) -> CaseEngine:
    rules = catalog.rules_for("illegal-mining")
    assert rules is not None
    return open_case(mining_open(), rules, now=now)


def open_food(catalog: Catalog, stage: str = "circulation", agency: str = "market-regulation",
              lead: str = "", now: datetime = T0) -> CaseEngine:
    rules = catalog.rules_for("food-supply-chain")
    assert rules is not None
    cmd = OpenCase(request_id=rid(), actor=actor(agency, "li.na"), type="food-supply-chain",
                   subject_key="BATCH-2026-1118", title="Clenbuterol in pork batch",
                   stage=stage, jurisdiction="pinggu", lead=lead)
    return open_case(cmd, rules, now=now)


def open_approval(catalog: Catalog, stage: str = "project-approval",
                  now: datetime = T0) -> CaseEngine:
    rules = catalog.rules_for("parallel-approval")
    assert rules is not None
    cmd = OpenCase(request_id=rid(), actor=actor("development-reform"),
                   type="parallel-approval", subject_key="PRJ-PG-0042",
                   title="Logistics park, phase 1", stage=stage, jurisdiction="pinggu")
    return open_case(cmd, rules, now=now)


def stranger_guesses(case_type: str, subject_key: str) -> set[str]:
    """The locks a stranger reading the engine's workflow ids could compute for a subject
    they suspect: the subject in clear and its bare hash, as typed and in the very form
    the lock is made of (`subject_identity`)."""
    guesses = set()
    for subject in (normalize_subject(subject_key), subject_identity(subject_key)):
        bare = hashlib.sha256(f"{case_type}\n{subject}".encode()).hexdigest()[:20]
        guesses |= {f"case:{case_type}:{subject}", f"case:{case_type}:{bare}"}
    return guesses
