"""Benchmark: every oversight call on a million-event ledger, and GetScorecards before
and after the score store.

    python -m bench.oversight [--events 1000000] [--db PATH] [--json FILE] [--repeat N]

Builds a synthetic ledger with the hotline's work in it (bench.synthetic with
`hotline=True`: reports, objections, ratings) unless `--db` names one holding about
`--events` events, then derives the gap store and the score store from it, as a worker
does at its first start on an existing ledger (timed: the one-time backfill).

Each call is OversightService's own handler, as the gateway serves it (its thread, the
visibility rule, the proto answer; no network), in a fresh process so that its peak RSS
is its own; the fastest of `--repeat` runs counts. Calls: GetScorecards for the oversight
body, for the last 30 days, and for one agency (the one in most cases, which sees only
those); ListGaps' first page, and an agency's breached gaps; GetHandoffMatrix; GetTimeline
and VerifyLedger of the case with the most events. Before: GetScorecards as it was, a
replay of every case folded by `analysis.analyse`, for the oversight body and the agency,
checked to give the same answer as the store at one moment.

Also the cost of keeping the store: what the score store adds to the derived writes of an
append (replay the case, rewrite its gaps and its scores), on a sample of cases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Engine, text
from sqlmodel import Session

from bench.gap_analysis import ledger_facts, peak_rss
from observability import analysis, gap_store, ledger, score_store, spans
from observability.scorecards import Scorecards, of_analysis, read
from records import participation

TARGET_SECONDS = 1.0
MIB = 1024 * 1024
COORDINATOR = "command-center"


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# ----- the calls, in a child process ---------------------------------------------------

def _service(engine: Engine) -> Any:
    from gateway.case_refs import CaseRefs
    from gateway.oversight_service import OversightService
    from trust.pki import CertificateStore, create_authority
    from workflows.catalog_loader import load_catalog

    # Full case ids only (no numbers, no engine): CaseRefs needs neither. Synthetic events
    # carry no signatures, so the audit stops at a case's first event (a real case's
    # signatures would all be checked).
    return OversightService(ledger_engine=engine, catalog=load_catalog(),
                            store=CertificateStore(create_authority()[1]),
                            refs=CaseRefs(cast(Any, None), cast(Any, None)))


def _render(figures: Scorecards) -> Message:
    """The answer as GetScorecards renders it (gateway.oversight_service)."""
    from gateway import oversight_views as views
    from seamless.v1 import oversight_pb2 as pb

    return pb.GetScorecardsResponse(
        scorecards=[views.scorecard(c, rank) for rank, c in enumerate(figures.ranked, 1)],
        case_type_lines=[views.type_lines(t) for t in figures.type_lines],
        bounce_chains=[views.bounce_chain(c) for c in figures.bounce_chains],
        case_type_scorecards=[views.type_scorecard(t) for t in figures.case_types],
        area_reports=[views.area_reports(area, n) for area, n in figures.area_reports])


def _replayed(engine: Engine, viewer: str, since: datetime | None, now: datetime) -> Message:
    """GetScorecards before the score store: every case the viewer may see replayed."""
    include = None if participation.sees_every_case(viewer, coordinator=COORDINATOR) \
        else (lambda taking_part: participation.may_see(viewer, taking_part,
                                                        coordinator=COORDINATOR))
    return _render(of_analysis(analysis.analyse(analysis.replay_cases(
        ledger.stream_events(engine), now=now, include=include), now=now, since=since)))


def _call(service: Any, name: str, argument: str, since: datetime | None
          ) -> Coroutine[Any, Any, Message]:
    from seamless.v1 import oversight_pb2 as pb

    stamp = None if since is None else Timestamp()
    if stamp is not None and since is not None:
        stamp.FromDatetime(since)
    requests: dict[str, Callable[[], Coroutine[Any, Any, Message]]] = {
        "GetScorecards": lambda: service.GetScorecards(
            pb.GetScorecardsRequest(since=stamp), None),
        "ListGaps": lambda: service.ListGaps(pb.ListGapsRequest(
            agency=argument, breached_only=bool(argument)), None),
        "GetHandoffMatrix": lambda: service.GetHandoffMatrix(
            pb.GetHandoffMatrixRequest(), None),
        "GetTimeline": lambda: service.GetTimeline(
            pb.GetTimelineRequest(case_id=argument), None),
        "VerifyLedger": lambda: service.VerifyLedger(
            pb.VerifyLedgerRequest(case_id=argument), None)}
    return requests[name]()


def measure(db: str, name: str, viewer: str, argument: str, since: datetime | None,
            repeat: int) -> dict[str, Any]:
    """Time one call (the fastest of `repeat`) as `viewer`; its peak RSS growth."""
    from gateway.callers import CURRENT, Caller, CallerKind

    engine = ledger.open_ledger(f"sqlite:///{db}")
    service = _service(engine)
    kind = CallerKind.OVERSIGHT if viewer == participation.OVERSIGHT else CallerKind.OFFICER
    CURRENT.set(Caller(kind, viewer))
    rss_before, runs = peak_rss(), []
    for _ in range(repeat):
        started = time.perf_counter()
        if name == "replay":
            answer = _replayed(engine, viewer, since, datetime.now(UTC))
        else:
            answer = asyncio.run(_call(service, name, argument, since))
        runs.append(time.perf_counter() - started)
    engine.dispose()
    return {"seconds": min(runs), "rss_mib": (peak_rss() - rss_before) / MIB,
            "answer_bytes": answer.ByteSize()}


def same_answer(db: str, viewer: str, since: datetime | None, now: datetime) -> bool:
    """Whether the store and the replay answer alike at one moment."""
    engine = ledger.open_ledger(f"sqlite:///{db}")
    visible_to = None if participation.sees_every_case(viewer, coordinator=COORDINATOR) \
        else viewer
    stored = _render(read(engine, since=since, visible_to=visible_to, now=now))
    found = stored.SerializeToString(deterministic=True) == _replayed(
        engine, viewer, since, now).SerializeToString(deterministic=True)
    engine.dispose()
    return found


def in_fresh_process(work: Callable[..., Any], *args: Any) -> Any:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(work, *args).result()


# ----- the ledger and its stores --------------------------------------------------------

def prepare(db: Path, events: int) -> dict[str, Any]:
    """The ledger (built when missing) and both stores derived from it."""
    from bench.synthetic import write_ledger

    facts: dict[str, Any] = {}
    if not db.exists():
        say(f"generating a synthetic ledger of {events:,} events in {db} ...")
        started = time.perf_counter()
        write_ledger(db, events=events, hotline=True)
        facts["generation_seconds"] = time.perf_counter() - started
    held, chains, now = ledger_facts(db)
    if not events <= held < events + 100:
        raise SystemExit(f"{db} holds {held:,} events, not {events:,}: remove it or name "
                         "another file (it is never overwritten)")
    facts.update(events=held, chains=chains, now=now.isoformat())
    engine = ledger.open_ledger(f"sqlite:///{db}")
    with engine.connect() as connection:
        gaps = connection.execute(text("SELECT count(*) FROM case_gap")).scalar_one()
    if not gaps:
        started = time.perf_counter()
        gaps = gap_store.rebuild(engine, now=now)
        facts["gap_store_rebuild_seconds"] = time.perf_counter() - started
    facts["gaps"] = gaps
    engine.dispose()
    facts["backfill"] = in_fresh_process(backfill, str(db))
    return facts


def backfill(db: str) -> dict[str, Any]:
    """The score store derived from the whole ledger, as a worker's first catch-up."""
    engine = ledger.open_ledger(f"sqlite:///{db}")
    score_store.ready(engine)
    rss_before, started = peak_rss(), time.perf_counter()
    chains = score_store.rebuild(engine)
    seconds = time.perf_counter() - started
    with engine.connect() as connection:
        rows = {table.name: connection.execute(text(f"SELECT count(*) FROM {table.name}")
                                               ).scalar_one() for table in score_store.TABLES}
    engine.dispose()
    return {"chains": chains, "seconds": seconds, "rows": rows,
            "rss_mib": (peak_rss() - rss_before) / MIB}


def keeping_cost(db: Path, sample: int = 300) -> dict[str, float]:
    """Median ms of an append's derived writes (replay, gaps, and with the store also the
    scores, in one transaction), on a sample of cases; rolled back, changing nothing."""
    engine = ledger.open_ledger(f"sqlite:///{db}")
    with engine.connect() as connection:
        cases = [row[0] for row in connection.execute(text(
            "SELECT case_id FROM ledger_head WHERE case_id LIKE 'case:%' "
            "ORDER BY case_id LIMIT :n"), {"n": sample})]
    figures: dict[str, float] = {}
    for with_scores in (False, True):
        times = []
        for case_id in cases:
            started = time.perf_counter()
            with Session(engine) as session:
                events = list(ledger.stream_events(session.connection(), case_id=case_id))
                replay = spans.replay_case(events, case_id)
                replay.finish(events[-1].at)
                gap_store.rewrite_case(session, replay)
                if with_scores:
                    score_store.rewrite_chain(session, replay, through=events[-1].sequence)
                session.rollback()
            times.append(time.perf_counter() - started)
        figures["with_scores_ms" if with_scores else "gaps_only_ms"] = \
            statistics.median(times) * 1e3
    engine.dispose()
    return figures


def busiest(db: Path) -> tuple[str, str]:
    """(the agency in most cases, the case with the most events)."""
    engine = ledger.open_ledger(f"sqlite:///{db}")
    with engine.connect() as connection:
        agency = connection.execute(text(
            "SELECT agency FROM case_participant GROUP BY agency ORDER BY count(*) DESC "
            "LIMIT 1")).scalar_one()
        case = connection.execute(text(
            "SELECT case_id FROM ledger_head ORDER BY sequence DESC, case_id LIMIT 1")
        ).scalar_one()
    engine.dispose()
    return agency, case


# ----- the run --------------------------------------------------------------------------

def run(db: Path, events: int, repeat: int) -> dict[str, Any]:
    figures = prepare(db, events)
    say(f"ledger: {figures['events']:,} events, {figures['chains']:,} chains")
    agency, case = busiest(db)
    month = datetime.fromisoformat(figures["now"]) - timedelta(days=30)
    oversight = participation.OVERSIGHT
    plan: list[tuple[str, str, str, str, datetime | None]] = [
        ("GetScorecards (oversight)", "GetScorecards", oversight, "", None),
        ("GetScorecards (oversight, last 30 days)", "GetScorecards", oversight, "", month),
        (f"GetScorecards ({agency})", "GetScorecards", agency, "", None),
        ("ListGaps first page (oversight)", "ListGaps", oversight, "", None),
        (f"ListGaps breached of {agency} ({agency})", "ListGaps", agency, agency, None),
        ("GetHandoffMatrix (oversight)", "GetHandoffMatrix", oversight, "", None),
        (f"GetHandoffMatrix ({agency})", "GetHandoffMatrix", agency, "", None),
        ("GetTimeline, largest case (oversight)", "GetTimeline", oversight, case, None),
        ("VerifyLedger, largest case (oversight)", "VerifyLedger", oversight, case, None),
        ("before: GetScorecards by replay (oversight)", "replay", oversight, "", None),
        (f"before: GetScorecards by replay ({agency})", "replay", agency, "", None)]
    figures["calls"] = {}
    for label, name, viewer, argument, since in plan:
        times = 1 if name == "replay" else repeat
        result = in_fresh_process(measure, str(db), name, viewer, argument, since, times)
        figures["calls"][label] = result
        say(f"  {label}: {result['seconds']:.3f} s")
    moment = datetime.fromisoformat(figures["now"])
    figures["same_answer"] = {viewer: in_fresh_process(same_answer, str(db), viewer, since,
                                                       moment)
                              for viewer, since in ((oversight, None), (agency, month))}
    figures["keeping"] = keeping_cost(db)
    return figures


def report(figures: dict[str, Any]) -> None:
    say()
    say(f"ledger: {figures['events']:,} events in {figures['chains']:,} chains "
        f"(cases and ratings), {figures['gaps']:,} gaps")
    say(f"{'call':<58}{'seconds':>9}{'RSS MiB':>9}{'answer KiB':>12}")
    for label, call in figures["calls"].items():
        say(f"{label:<58}{call['seconds']:>9.3f}{call['rss_mib']:>+9.0f}"
            f"{call['answer_bytes'] / 1024:>12.1f}")
    back = figures["backfill"]
    say(f"backfill of the score store (once, at the first worker start): {back['chains']:,} "
        f"chains in {back['seconds']:.1f} s, RSS +{back['rss_mib']:.0f} MiB; rows "
        + ", ".join(f"{t} {n:,}" for t, n in back["rows"].items()))
    keeping = figures["keeping"]
    say(f"an append's derived writes (replay, gaps, scores): median "
        f"{keeping['gaps_only_ms']:.2f} ms without the score store, "
        f"{keeping['with_scores_ms']:.2f} ms with it")
    say("same answer, store and replay, at one moment: " + ", ".join(
        f"{viewer}: {'yes' if same else 'NO'}" for viewer, same in
        figures["same_answer"].items()))
    served = {k: v for k, v in figures["calls"].items() if not k.startswith("before")}
    slowest = max(served, key=lambda k: served[k]["seconds"])
    verdict = "met" if served[slowest]["seconds"] < TARGET_SECONDS else "MISSED"
    say(f"target: every oversight call under {TARGET_SECONDS:.0f} s: {verdict} (slowest: "
        f"{slowest}, {served[slowest]['seconds']:.3f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.oversight",
                                     description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("bench-oversight-ledger.db"),
                        help="a ledger to reuse, or where to build one")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each call; the fastest counts (the replay runs once)")
    args = parser.parse_args(argv)
    figures = run(args.db, args.events, max(1, args.repeat))
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
