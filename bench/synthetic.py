"""Synthetic case ledgers for benchmarks: realistic cases written straight into SQLite.

Cases follow the catalog's playbooks (clocks in calendar time, not working days) and
record the events, actors and attributes the workflow rules record (workflows/rules/):
opening tasks dispatched, delivered (some after failed tries), signed (some late, with a
supervision notice and then an escalation), on scene, done (some overdue or extended);
declines reviewed late or on time, overruled back to the assignee or upheld and sent on
(so bounce chains form); hand-offs accepted, declined, withdrawn or expired and escalated;
approvals deemed consented; missed lines; closes. A few cases are left stalled, open.
With `hotline=True` cases also carry the 12345 hotline's work (bench.synthetic_hotline):
reports merged in, objections to the lead, and the reporters' ratings, chains of their
own; without it the ledger is the same as before that option existed.

Rows go in as the real ledger fills, interleaved across cases in time order, each case's
chain linked with `ledger.link_hash` and ended by its `ledger_head` row, so `verify`
holds. The same seed gives the same ledger.
"""

from __future__ import annotations

import heapq
import random
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from observability.ledger import GENESIS, LedgerEntryBase, encode_attributes, link_hash, open_ledger
from records import event_schema as s
from records.event_schema import EventKind as K

START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
COORDINATOR = "command-center"
PLATFORM = ("seamless", "clock")  # what records clock firings and deliveries
M, H, D = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
# Agencies that receive what others decline or hand off.
OTHERS = ("market-regulation", "quality-inspection", "health", "urban-management",
          "natural-resources", "emergency-management", "housing-construction", "fire-rescue")
Actor = tuple[str, str]
Trace = tuple[str, str]


@dataclass(frozen=True)
class TaskKind:
    id: str
    assignee: str
    sign: timedelta
    due: timedelta
    on_scene: timedelta | None = None
    approval: bool = False


@dataclass(frozen=True)
class Playbook:
    case_type: str
    lead: str
    tasks: tuple[TaskKind, ...]
    legal: timedelta
    promised: timedelta
    handoff_expires: timedelta
    review_within: timedelta


PLAYBOOKS = (
    Playbook("illegal-mining", "jinhaihu-township", (
        TaskKind("mining-investigation", "natural-resources", H, 3 * D, 30 * M),
        TaskKind("criminal-investigation", "public-security", H, 3 * D, 30 * M),
        TaskKind("work-safety", "emergency-management", H, 3 * D, 30 * M),
        TaskKind("environmental-damage", "ecology-environment", H, 5 * D, 30 * M)),
        18 * D, 6 * D, 2 * H, H),
    Playbook("food-supply-chain", "urban-management", (
        TaskKind("trace-production", "agriculture-rural", H, 3 * D),
        TaskKind("trace-processing", "quality-inspection", H, 3 * D),
        TaskKind("trace-circulation", "market-regulation", H, 3 * D),
        TaskKind("unlicensed-stalls", "urban-management", H, 2 * D, 2 * H)),
        15 * D, 7 * D, 4 * H, 2 * H),
    Playbook("highway-emissions", "traffic-police", (
        TaskKind("emission-test", "ecology-environment", 15 * M, D, 30 * M),
        TaskKind("stop-vehicles", "traffic-police", 15 * M, 4 * H, 30 * M),
        TaskKind("emission-test", "ecology-environment", 15 * M, D, 30 * M)),
        15 * D, 3 * D, H, H),
    Playbook("parallel-approval", "development-reform", (
        TaskKind("land-review", "natural-resources", D, 7 * D, approval=True),
        TaskKind("environmental-review", "ecology-environment", D, 7 * D, approval=True),
        TaskKind("safety-review", "emergency-management", D, 7 * D, approval=True),
        TaskKind("fire-safety-review", "fire-rescue", D, 7 * D, approval=True)),
        28 * D, 14 * D, D, D),
)


@dataclass(order=True)
class _Draft:
    at: datetime
    order: int
    kind: str = field(compare=False)
    actor: Actor = field(compare=False)
    task_id: str = field(compare=False)
    detail: str = field(compare=False)
    attributes: dict[str, str] = field(compare=False)
    trace: Trace = field(compare=False)


# A ledger_entry row as inserted, in column order (see INSERT below).
Row = tuple[str, int, str, str, str, str, str, str, str, str, str, str, str, str]


@dataclass
class SyntheticCase:
    case_id: str
    opened_at: datetime
    rows: list[tuple[datetime, Row]]
    # Chains of their own that follow from the case: its reporters' ratings.
    followers: list[SyntheticCase] = field(default_factory=list)


def _sql_time(at: datetime) -> str:
    # The text SQLAlchemy writes for a DateTime column on SQLite (UTC, no offset).
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class _CaseBuilder:
    """Plays one case forward, drafting the events the rules would record."""

    def __init__(self, rng: random.Random, book: Playbook, opened_at: datetime) -> None:
        self.rng, self.book, self.t0 = rng, book, opened_at
        self.drafts: list[_Draft] = []
        self.tasks = self.escalations = 0
        self.owners: list[tuple[datetime, str]] = [(opened_at, book.lead)]

    def officer(self, agency: str) -> Actor:
        return agency, f"{agency.split('-')[0]}.officer{self.rng.randrange(1, 9)}"

    def request(self) -> Trace:
        return f"{self.rng.getrandbits(128):032x}", f"{self.rng.getrandbits(64):016x}"

    def add(self, at: datetime, kind: K, actor: Actor, *, task_id: str = "", detail: str = "",
            attributes: dict[str, str] | None = None, trace: Trace = ("", "")) -> datetime:
        self.drafts.append(_Draft(at, len(self.drafts), kind.value, actor, task_id, detail,
                                  attributes or {}, trace))
        return at

    def owner_at(self, at: datetime) -> str:
        return next(owner for since, owner in reversed(self.owners) if since <= at)

    def share(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def escalate(self, at: datetime, reason: str, *, task_id: str = "", handoff_id: str = ""
                 ) -> str:
        self.escalations += 1
        escalation = f"E{self.escalations}"
        self.add(at, K.ESCALATION, PLATFORM, task_id=task_id, detail=f"{escalation}: {reason}",
                 attributes={s.ESCALATION_ID: escalation, s.COORDINATOR: COORDINATOR,
                             **({s.HANDOFF_ID: handoff_id} if handoff_id else {})})
        return escalation

    def resolve(self, at: datetime, escalation: str, *, task_id: str = "") -> None:
        self.add(at, K.ESCALATION_RESOLVED, self.officer(COORDINATOR), task_id=task_id,
                 detail=f"{escalation}: settled", attributes={s.ESCALATION_ID: escalation},
                 trace=self.request())

    # ----- ownership ----------------------------------------------------------------

    def handoff(self, number: int, at: datetime) -> datetime:
        owner = self.owner_at(at)
        to = self.rng.choice([a for a in OTHERS if a != owner])
        hid = f"H{number}"
        parties = {s.HANDOFF_ID: hid, s.FROM_AGENCY: owner, s.TO_AGENCY: to}
        expires = at + self.book.handoff_expires
        self.add(at, K.HANDOFF_OFFERED, self.officer(owner), detail=f"{hid} to {to}: theirs",
                 attributes={**parties, s.EXPIRES_AT: s.timestamp(expires)},
                 trace=self.request())
        fate, answer = self.rng.random(), at + self.share(0.05, 0.95) * self.book.handoff_expires
        if fate < 0.5:
            self.add(answer, K.HANDOFF_ACCEPTED, self.officer(to), detail=f"{hid}: {owner} -> {to}",
                     attributes=parties, trace=self.request())
            self.owners.append((answer, to))
        elif fate < 0.7:
            self.add(answer, K.HANDOFF_DECLINED, self.officer(to), detail=f"{hid}: not ours",
                     attributes=parties, trace=self.request())
        elif fate < 0.8:
            self.add(answer, K.HANDOFF_WITHDRAWN, self.officer(owner), detail=hid,
                     attributes=parties, trace=self.request())
        else:
            self.add(expires, K.HANDOFF_EXPIRED, PLATFORM,
                     detail=f"{hid} to {to} expired unanswered", attributes=parties)
            escalation = self.escalate(expires, f"hand-off {hid} to {to} expired unanswered",
                                       handoff_id=hid)
            answer = expires + self.share(0.2, 3) * H
            if self.rng.random() < 0.5:
                assigned, trace = self.rng.choice([owner, to]), self.request()
                if assigned != owner:
                    self.add(answer, K.OWNER_ASSIGNED, self.officer(COORDINATOR),
                             detail=f"{assigned}: decided", attributes={s.OWNER: assigned},
                             trace=trace)
                    self.owners.append((answer, assigned))
                    self.add(answer, K.ESCALATION_RESOLVED, self.officer(COORDINATOR),
                             detail=f"{escalation}: owner assigned",
                             attributes={s.ESCALATION_ID: escalation}, trace=trace)
                    return answer
            self.resolve(answer, escalation)
        return answer

    # ----- tasks --------------------------------------------------------------------

    def clocks(self, kind: TaskKind, assignee: str, round_: int, at: datetime
               ) -> dict[str, str]:
        clocks = {s.ASSIGNEE: assignee, s.ROUND: str(round_),
                  s.SIGN_BY: s.timestamp(at + kind.sign), s.DUE_BY: s.timestamp(at + kind.due)}
        if kind.on_scene is not None:
            clocks[s.ON_SCENE_BY] = s.timestamp(at + kind.on_scene)
        return clocks

    def dispatch(self, kind: TaskKind, assignee: str, at: datetime, actor: Actor, trace: Trace,
                 *, source: str = "", depth: int = 0) -> datetime:
        self.tasks += 1
        task = f"T{self.tasks}"
        self.add(at, K.TASK_DISPATCHED, actor, task_id=task, detail=f"{kind.id} to {assignee}",
                 attributes={s.TASK_KIND: kind.id, **self.clocks(kind, assignee, 1, at),
                             **({s.REDISPATCHED_FROM: source} if source else {})}, trace=trace)
        return self.run(kind, task, assignee, 1, at, depth)

    def missed(self, at: datetime, task: str, assignee: str, what: str) -> None:
        self.add(at, K.NOTICE, PLATFORM, task_id=task,
                 detail=f"task {task} ({assignee}) {what} missed (deadline {at.isoformat()})")

    def run(self, kind: TaskKind, task: str, assignee: str, round_: int, start: datetime,
            depth: int) -> datetime:
        """One round of a task at its assignee, from dispatch to its end; returns the end."""
        rng, share = self.rng, self.share
        attempts = rng.choice((2, 3, 4)) if rng.random() < 0.04 else 1
        t = self.add(start + timedelta(seconds=share(0.2, 3) + 40 * (attempts - 1)),
                     K.TASK_DELIVERED, PLATFORM, task_id=task,
                     detail=f"round {round_} in the inbox of {assignee}",
                     attributes={s.ROUND: str(round_), s.ATTEMPTS: str(attempts)})
        # On-scene work is signed for at once: the half-hour arrival clock is running.
        lag = share(1.0, 2.6) if rng.random() < 0.15 else share(
            0.03, 0.3 if kind.on_scene is not None else 0.95)
        if lag > 1:
            self.missed(start + kind.sign, task, assignee, "sign-for")
        t = max(t + 10 * timedelta(seconds=1), start + lag * kind.sign)
        if lag > 2:
            escalation = self.escalate(start + 2 * kind.sign, f"task {task} sign-for missed twice",
                                       task_id=task)
            self.resolve(t + share(5, 60) * M, escalation, task_id=task)
        fate = rng.random()
        if fate < 0.14 / (1 + depth):
            return self.decline(kind, task, assignee, round_, t, depth)
        self.add(t, K.TASK_SIGNED, self.officer(assignee), task_id=task, trace=self.request())
        if fate > 0.98:
            end = t + share(0.1, 0.5) * kind.due
            self.add(end, K.TASK_WITHDRAWN, self.officer(self.owner_at(end)), task_id=task,
                     detail="no longer needed", trace=self.request())
            return end
        if kind.on_scene is not None:
            lag = share(1.0, 2.2) if rng.random() < 0.12 else share(0.3, 0.95)
            if lag > 1:
                self.missed(start + kind.on_scene, task, assignee, "on-scene")
            t = self.add(max(t + share(1, 20) * M, start + lag * kind.on_scene),
                         K.TASK_ON_SCENE, self.officer(assignee), task_id=task,
                         trace=self.request())
        due = start + kind.due
        if rng.random() < 0.07:
            asked = max(t + M, start + 0.6 * kind.due)
            self.add(asked, K.EXTENSION_REQUESTED, self.officer(assignee), task_id=task,
                     detail="to later: waiting for lab results", trace=self.request())
            decided, granted = asked + share(0.5, 4) * H, rng.random() < 0.8
            if granted:
                due += kind.due / 2
            self.add(decided, K.EXTENSION_DECIDED, self.officer(self.owner_at(decided)),
                     task_id=task, detail="granted" if granted else "refused",
                     attributes={s.GRANTED: "true", s.DUE_BY: s.timestamp(due)} if granted
                     else {s.GRANTED: "false"}, trace=self.request())
        if kind.approval and rng.random() < 0.15:
            issue_by = due + D
            self.add(due, K.DEEMED_CONSENT, PLATFORM, task_id=task,
                     detail=f"{assignee} silent past {due.isoformat()}",
                     attributes={s.DUE_BY: s.timestamp(issue_by)})
            t, due = due, issue_by
        lag = share(1.02, 1.5) if rng.random() < 0.1 else share(0.2, 0.95)
        done = max(t + share(10, 120) * M, start + lag * (due - start))
        if done > due:
            self.missed(due, task, assignee, "completion")
        return self.add(done, K.TASK_DONE, self.officer(assignee), task_id=task,
                        trace=self.request())

    def decline(self, kind: TaskKind, task: str, assignee: str, round_: int, at: datetime,
                depth: int) -> datetime:
        rng, within = self.rng, self.book.review_within
        suggested = rng.choice([a for a in OTHERS if a != assignee]) if rng.random() < 0.8 else ""
        self.add(at, K.TASK_DECLINED, self.officer(assignee), task_id=task,
                 detail=f"not ours (suggests {suggested or 'nobody'})",
                 attributes={s.REVIEW_BY: s.timestamp(at + within), s.SUGGESTED: suggested},
                 trace=self.request())
        lag = self.share(1.0, 1.8) if rng.random() < 0.15 else self.share(0.05, 0.9)
        reviewed = at + lag * within
        if lag > 1:
            escalation = self.escalate(at + within, f"decline of task {task} by {assignee} "
                                       "left unreviewed", task_id=task)
            self.resolve(reviewed + self.share(1, 30) * M, escalation, task_id=task)
        reviewer, trace = self.officer(self.owner_at(reviewed)), self.request()
        if rng.random() < 0.45:
            self.add(reviewed, K.DECLINE_REVIEWED, reviewer, task_id=task,
                     detail="OVERRULED: it is yours",
                     attributes={s.OUTCOME: "OVERRULED",
                                 **self.clocks(kind, assignee, round_ + 1, reviewed)},
                     trace=trace)
            return self.run(kind, task, assignee, round_ + 1, reviewed, depth + 1)
        self.add(reviewed, K.DECLINE_REVIEWED, reviewer, task_id=task,
                 detail="UPHELD: sent on", attributes={s.OUTCOME: "UPHELD"}, trace=trace)
        target = suggested or rng.choice([a for a in OTHERS if a != assignee])
        return self.dispatch(kind, target, reviewed, reviewer, trace, source=task,
                             depth=depth + 1)

    # ----- the case -----------------------------------------------------------------

    def play(self, stalled: bool) -> list[_Draft]:
        book, t0, rng = self.book, self.t0, self.rng
        lead, trace = self.officer(book.lead), self.request()
        legal, promised = t0 + book.legal, t0 + book.promised
        self.add(t0, K.OPENED, lead, detail=f"lead {book.lead}",
                 attributes={s.OWNER: book.lead, s.CASE_TYPE: book.case_type,
                             s.LEGAL_BY: s.timestamp(legal), s.PROMISED_BY: s.timestamp(promised),
                             s.COORDINATOR: COORDINATOR}, trace=trace)
        end = t0
        if rng.random() < 0.3:  # hand-offs come early, so later reviews see the new owner
            end = self.handoff(1, t0 + self.share(0.5, 6) * H)
            if rng.random() < 0.25:
                end = self.handoff(2, end + self.share(0.5, 6) * H)
        for kind in rng.sample(book.tasks, k=rng.choice((3, len(book.tasks)))):
            end = max(end, self.dispatch(kind, kind.assignee, t0, lead, trace))
        closed = end + self.share(10, 360) * M
        if closed > promised:
            self.add(promised, K.LINE_MISSED, PLATFORM, detail="promised line 承诺时限",
                     attributes={s.LINE: "promised"})
        if closed > legal:
            self.add(legal, K.LINE_MISSED, PLATFORM, detail="legal line 法定时限",
                     attributes={s.LINE: "legal"})
            self.escalate(legal, "case passed its legal line 法定时限")
        if stalled:  # still running: only what happened before it stalled is recorded
            cut = t0 + self.share(0.1, 0.9) * (closed - t0)
            return sorted(d for d in self.drafts if d.at <= cut)
        self.add(closed, K.CLOSED, self.officer(self.owner_at(closed)), detail="done",
                 trace=self.request())
        return sorted(self.drafts)


def synthetic_case(index: int, *, seed: int = 7, spacing: timedelta = 11 * M,
                   hotline: bool = False) -> SyntheticCase:
    """Case number `index`, opened `index` × `spacing` after START, with its rows chained
    (and with `hotline`, its reports, objections and ratings)."""
    rng = random.Random(seed * 1_000_003 + index)
    book = PLAYBOOKS[rng.randrange(len(PLAYBOOKS))]
    opened_at = START + index * spacing + rng.uniform(0, 1) * spacing
    case_id = (f"case:{book.case_type}:SUBJ-{index:07d}"
               f"@{uuid.UUID(int=rng.getrandbits(128))}")
    drafts = _CaseBuilder(rng, book, opened_at).play(stalled=rng.random() < 0.08)
    followers = []
    if hotline:  # with dice of its own, so the case itself is the same either way
        from bench.synthetic_hotline import hotline_work
        drafts, ratings = hotline_work(random.Random(seed * 7_919 + index), case_id, drafts)
        followers = [_chained(chain, chain_drafts[0].at, chain_drafts)
                     for chain, chain_drafts in ratings]
    case = _chained(case_id, opened_at, drafts)
    case.followers = followers
    return case


def _chained(case_id: str, opened_at: datetime, drafts: list[_Draft]) -> SyntheticCase:
    """A chain's rows, each linked to the one before as `ledger.append` links them."""
    previous, rows = GENESIS, []
    for sequence, d in enumerate(drafts, start=1):
        attributes = encode_attributes(d.attributes)
        entry = LedgerEntryBase.model_construct(
            case_id=case_id, sequence=sequence, kind=d.kind, actor_agency=d.actor[0],
            actor_officer=d.actor[1], at=d.at, task_id=d.task_id, detail=d.detail,
            attributes=attributes, trace_id=d.trace[0], span_id=d.trace[1])
        link = link_hash(previous, entry)
        rows.append((d.at, (case_id, sequence, d.kind, d.actor[0], d.actor[1], _sql_time(d.at),
                            d.task_id, d.detail, attributes, d.trace[0], d.trace[1], previous,
                            link, _sql_time(d.at + timedelta(milliseconds=40)))))
        previous = link
    return SyntheticCase(case_id, opened_at, rows)


def interleaved(events: int, *, seed: int = 7, hotline: bool = False
                ) -> Iterator[tuple[SyntheticCase | None, Row]]:
    """Rows of cases 0, 1, 2, ... (and the chains that follow from them) in time order
    across chains, as the ledger fills, until at least `events` rows; with each chain's
    last row comes the chain (for its head)."""
    heap: list[tuple[datetime, int, int]] = []
    chains: dict[int, SyntheticCase] = {}
    made, index, numbered = 0, 0, 0
    upcoming: SyntheticCase | None = synthetic_case(0, seed=seed, hotline=hotline)
    while heap or upcoming is not None:
        # Admit every case opened before the earliest row still waiting.
        while upcoming is not None and (not heap or upcoming.opened_at <= heap[0][0]):
            for chain in (upcoming, *upcoming.followers):
                chains[numbered] = chain
                heapq.heappush(heap, (chain.rows[0][0], numbered, 0))
                made += len(chain.rows)
                numbered += 1
            index += 1
            upcoming = synthetic_case(index, seed=seed, hotline=hotline) \
                if made < events else None
        _, number, position = heapq.heappop(heap)
        chain = chains[number]
        row = chain.rows[position][1]
        if position + 1 < len(chain.rows):
            heapq.heappush(heap, (chain.rows[position + 1][0], number, position + 1))
            yield None, row
        else:
            del chains[number]
            yield chain, row


# Synthetic events carry no signed proofs ('' as for events recorded before signatures;
# the column has no default since the ledger's schema came under migrations).
INSERT = ("INSERT INTO ledger_entry (case_id, sequence, kind, actor_agency, actor_officer, at, "
          "task_id, detail, attributes, trace_id, span_id, prev_hash, hash, recorded_at, "
          "proofs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')")


def write_ledger(path: Path, *, events: int, seed: int = 7, chunk: int = 50_000,
                 hotline: bool = False) -> tuple[int, int]:
    """Fill a new ledger file at `path` with at least `events` events; returns
    (events, chains)."""
    open_ledger(f"sqlite:///{path}").dispose()  # the project's own schema and indexes
    connection = sqlite3.connect(path)
    # A bench file, rebuilt at will: no journal while it is filled.
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    written, heads, batch = 0, [], []
    for case, row in interleaved(events, seed=seed, hotline=hotline):
        batch.append(row)
        if case is not None:
            heads.append((case.case_id, row[1], row[12]))
        if len(batch) >= chunk:
            connection.executemany(INSERT, batch)
            written, batch = written + len(batch), []
    connection.executemany(INSERT, batch)
    connection.executemany("INSERT INTO ledger_head (case_id, sequence, hash) VALUES (?, ?, ?)",
                           heads)
    connection.commit()
    connection.execute("PRAGMA journal_mode=WAL")  # as open_ledger leaves a ledger
    connection.close()
    return written + len(batch), len(heads)
