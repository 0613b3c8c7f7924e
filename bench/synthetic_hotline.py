"""The 12345 hotline's work on a synthetic case (bench.synthetic with `hotline=True`).

Citizens' reports merged into the case as it opens (并单), a few split off again; now and
then the lead objects to leading it (派单异议) and the coordinator upholds the dispatch,
reassigns the case or has not decided yet; after close, most reporters rate the answer
(回访/评价), each rating a ledger chain of its own. So a benchmark of the oversight
figures (bench.oversight) reads every kind of fact the scorecards count.

The shares are guesses of a plausible district's, not measured ones.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime

from bench.synthetic import COORDINATOR, OTHERS, Actor, H, M, _Draft
from records import event_schema as s
from records.event_schema import EventKind as K

AREAS = ("jinhaihu", "xinggu", "binhe", "mafang", "dahuashan", "")
CHANNELS = ("hotline", "open311", "walk-in")
SATISFACTION = (s.Satisfaction.SATISFIED, s.Satisfaction.BASICALLY_SATISFIED,
                s.Satisfaction.DISSATISFIED)
HOTLINE: Actor = (COORDINATOR, "command.officer1")


def hotline_work(rng: random.Random, case_id: str, drafts: list[_Draft]
                 ) -> tuple[list[_Draft], list[tuple[str, list[_Draft]]]]:
    """The case's drafts with its reports and objection woven in, in time order; and
    the ratings' chains (id, drafts) once it has closed."""
    opened, last = drafts[0], drafts[-1]
    lead, case_type = opened.attributes[s.OWNER], opened.attributes[s.CASE_TYPE]
    added: list[_Draft] = []

    def add(at: datetime, kind: K, actor: Actor, attributes: dict[str, str]) -> None:
        # Never past the case's last event: a stalled case records nothing after it.
        added.append(_Draft(min(at, last.at), len(drafts) + len(added), kind.value, actor,
                            "", "", attributes, ("", "")))

    reports = []
    for n in range(rng.choices((0, 1, 2, 3), weights=(3, 4, 2, 1))[0]):
        report = f"R{case_id.split(':')[2].split('@')[0]}-{n}"
        attached = {s.REPORT_ID: report, s.CHANNEL: rng.choice(CHANNELS),
                    s.SERVICE_CODE: case_type}
        area = rng.choice(AREAS)
        if area:
            attached[s.AREA] = area
        add(opened.at + rng.uniform(0, 5) * M, K.REPORT_ATTACHED, HOTLINE, attached)
        if rng.random() < 0.05:  # not this matter after all: split off
            add(opened.at + rng.uniform(1, 3) * H, K.REPORT_DETACHED, (lead, "desk"),
                {s.REPORT_ID: report})
        else:
            reports.append(report)
    if rng.random() < 0.06:
        # Objected to and decided before the first hand-off can come (half an hour).
        add(opened.at + rng.uniform(5, 15) * M, K.LEAD_OBJECTED, (lead, "desk"),
            {s.OBJECTION_ID: "O1", s.COORDINATOR: COORDINATOR,
             s.DECIDE_BY: s.timestamp(opened.at + 2 * H)})
        fate = rng.random()
        if fate < 0.9:
            decided = {s.OBJECTION_ID: "O1", s.OUTCOME: "UPHELD" if fate < 0.7 else
                       "REASSIGNED"}
            if fate >= 0.7:
                decided[s.OWNER] = rng.choice([a for a in OTHERS if a != lead])
            add(opened.at + rng.uniform(20, 29) * M, K.OBJECTION_DECIDED, HOTLINE, decided)
    ratings = []
    if last.kind == K.CLOSED:
        for report in reports:
            if rng.random() < 0.7:
                solved = rng.random() < 0.75
                chain = f"{s.rating_chain(report)}@{uuid.UUID(int=rng.getrandbits(128))}"
                ratings.append((chain, [_Draft(
                    last.at + rng.uniform(1, 72) * H, 0, K.REPORT_RATED.value, HOTLINE, "",
                    "", {s.REPORT_ID: report, s.RATED_CASE: case_id, s.CASE_TYPE: case_type,
                         s.OWNER: last.actor[0], s.SOLVED: "true" if solved else "false",
                         s.SATISFACTION: rng.choices(SATISFACTION, (5, 3, 2))[0].value},
                    ("", ""))]))
    return sorted(drafts + added), ratings
