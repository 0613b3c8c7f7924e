"""Benchmark: gap analysis over a million-event ledger through the gap store.

    python -m bench.gap_store [--events 1000000] [--db PATH] [--json FILE]

The worker keeps each case's gaps in the gap store as it appends the case's events
(observability.gap_store), so the oversight questions are queries. This measures:

* the cost of keeping the store, per case and per event: `refresh_case` after each of a
  sample of cases, as the worker runs it after an append (replay the case, rewrite it);
* `rebuild`: deriving the whole store again from the ledger alone (after a restore, say);
* the gap analysis itself: every gap's duration and breach, totalled per accountable
  agency and gap kind, over all cases, and for one agency's view; and the first page of
  an agency's breached gaps, newest first, as ListGaps serves it.

Each figure is wall time on this machine; memory is the process's peak resident set.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text

from bench.gap_analysis import ledger_facts, peak_rss, prepare
from observability import gap_store, ledger
from observability.analysis import GapQuery
from observability.spans import replay_case

TARGET_SECONDS = 2.0
MIB = 1024 * 1024
T = TypeVar("T")


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def best_of(runs: int, work: Callable[[], T]) -> tuple[T, float]:
    results = [timed(work) for _ in range(runs)]
    return results[0][0], min(seconds for _, seconds in results)


def run(db: Path, events: int) -> dict[str, Any]:
    prepare(db, events)
    held, cases, now = ledger_facts(db)
    engine = ledger.open_ledger(f"sqlite:///{db}")
    figures: dict[str, Any] = {"events": held, "cases": cases, "now": now.isoformat()}

    written, seconds = timed(lambda: gap_store.rebuild(engine, now=now))
    figures["rebuild"] = {"gaps": written, "seconds": seconds,
                          "events_per_second": held / seconds}
    say(f"rebuild: {written:,} gaps from {held:,} events in {seconds:.1f} s")

    # Keeping the store: what the worker adds to each append, on a sample of cases.
    with engine.connect() as connection:
        sample = [row[0] for row in connection.execute(text(
            "SELECT case_id FROM ledger_head ORDER BY case_id LIMIT 500"))]
        sample_events = connection.execute(text(
            "SELECT count(*) FROM ledger_entry WHERE case_id IN "
            "(SELECT case_id FROM ledger_head ORDER BY case_id LIMIT 500)")).scalar_one()
    per_case = []
    for case_id in sample:
        def refresh(case_id: str = case_id) -> None:
            replay = replay_case(ledger.stream_events(engine, case_id=case_id), case_id)
            replay.finish(now)
            gap_store.refresh_case(engine, replay)
        per_case.append(timed(refresh)[1])
    figures["refresh_case"] = {
        "cases": len(sample), "events_per_case": sample_events / len(sample),
        "median_ms": statistics.median(per_case) * 1e3,
        "p99_ms": sorted(per_case)[int(len(per_case) * 0.99) - 1] * 1e3}

    everything, seconds = best_of(3, lambda: gap_store.summarize(engine, now=now))
    agency = max(everything, key=lambda s: s.gaps).accountable
    figures["analysis_all_cases"] = {
        "seconds": seconds, "rows": len(everything),
        "gaps": sum(s.gaps for s in everything),
        "breached": sum(s.breached for s in everything),
        "open": sum(s.open for s in everything)}
    mine, seconds = best_of(3, lambda: gap_store.summarize(engine, now=now,
                                                           visible_to=agency))
    figures["analysis_one_agency_view"] = {"agency": agency, "seconds": seconds,
                                           "gaps": sum(s.gaps for s in mine)}
    page, seconds = best_of(3, lambda: gap_store.list_gaps(
        engine, query=GapQuery(agency=agency, breached_only=True), now=now,
        visible_to=None, offset=0, limit=100))
    figures["list_gaps_first_page"] = {"seconds": seconds, "gaps": len(page.gaps)}
    figures["peak_rss_mib"] = peak_rss() / MIB
    engine.dispose()
    return figures


def report(figures: dict[str, Any]) -> None:
    all_cases = figures["analysis_all_cases"]
    say()
    say(f"ledger: {figures['events']:,} events, {figures['cases']:,} cases")
    say(f"{'measurement':<52}{'seconds':>9}  result")
    say(f"{'gap analysis, every case (per agency and kind)':<52}"
        f"{all_cases['seconds']:>9.3f}  {all_cases['gaps']:,} gaps, "
        f"{all_cases['breached']:,} breached, {all_cases['open']:,} open")
    one = figures["analysis_one_agency_view"]
    say(f"{'gap analysis, the cases ' + one['agency'] + ' is in':<52}"
        f"{one['seconds']:>9.3f}  {one['gaps']:,} gaps")
    page = figures["list_gaps_first_page"]
    say(f"{'ListGaps: first page of breached gaps of that agency':<52}"
        f"{page['seconds']:>9.3f}  {page['gaps']} gaps")
    rebuild = figures["rebuild"]
    say(f"{'rebuild the store from the ledger':<52}{rebuild['seconds']:>9.1f}  "
        f"{rebuild['events_per_second']:,.0f} events/s")
    refresh = figures["refresh_case"]
    say(f"{'keep it: refresh one case after an append':<52}"
        f"{refresh['median_ms'] / 1e3:>9.4f}  median of {refresh['cases']} cases "
        f"({refresh['events_per_case']:.0f} events each), p99 {refresh['p99_ms']:.1f} ms")
    say(f"peak resident memory: {figures['peak_rss_mib']:.0f} MiB")
    verdict = "met" if all_cases["seconds"] < TARGET_SECONDS else "MISSED"
    say(f"target: gap analysis over {figures['events']:,} events under "
        f"{TARGET_SECONDS:.0f} s: {verdict} ({all_cases['seconds']:.3f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gap_store",
                                     description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("bench-ledger.db"),
                        help="a ledger to reuse, or where to build one")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = run(args.db, args.events)
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
