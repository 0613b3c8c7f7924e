"""The intake under a burst: citizens' reports posted over Open311 at once, many per
subject, and what each costs (`python -m bench.intake`).

It starts the platform as `seamless up` does, gives itself an Open311 key, posts
`--per-subject` reports on each of `--subjects` quarries with `--concurrency` posts in
flight, and prints the posts' latency, how many were routed at once (a
`service_request_id`) or later (a token), and how many cases the reports made: one per
subject is the merge (并单) holding under the race.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, select

from cli.databases import GATEWAY, on_sqlite
from cli.supervise import Platform
from gateway.case_numbers import open_case_numbers
from gateway.open311.keys import ApiKeys
from gateway.reports.store import Report

JINHAIHU = {"lat": "40.17", "long": "117.35"}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


async def _burst(base: str, key: str, subjects: list[str], per_subject: int,
                 concurrency: int) -> tuple[list[float], dict[str, int]]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    answers: dict[str, int] = {"service_request_id": 0, "token": 0}

    async def post(http: httpx.AsyncClient, site: str, n: int) -> None:
        form = {"api_key": key, "service_code": "night-quarrying", **JINHAIHU,
                "attribute[site]": site, "description": f"lorries at night ({n})"}
        async with gate:
            began = time.perf_counter()
            reply = await http.post("/requests.json", data=form)
            latencies.append((time.perf_counter() - began) * 1000)
        if reply.status_code != 200:
            answers[f"http {reply.status_code}"] = answers.get(
                f"http {reply.status_code}", 0) + 1
        else:
            answers["service_request_id" if reply.json()[0].get("service_request_id")
                    else "token"] += 1

    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        await asyncio.gather(*(post(http, site, n) for n in range(per_subject)
                               for site in subjects))
    return latencies, answers


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="seamless-intake-") as folder:
        data_dir = Path(folder)
        platform = Platform(data_dir)
        platform.start_all()
        try:
            engine = open_case_numbers(on_sqlite(data_dir, []).urls[GATEWAY])
            key = ApiKeys(engine).add("bench", per_minute=6000)
            base = f"http://127.0.0.1:{platform.ports.gateway_http}/open311/v2"
            subjects = [f"quarry {uuid.uuid4().hex[:8]}" for _ in range(args.subjects)]
            began = time.perf_counter()
            latencies, answers = asyncio.run(_burst(base, key, subjects, args.per_subject,
                                                    args.concurrency))
            seconds = time.perf_counter() - began
            with Session(engine) as session:
                rows = list(session.exec(select(Report)))
            cases_per_subject = {s: len({r.case_id for r in rows
                                         if r.subject == s and r.case_id})
                                 for s in subjects}
            unrouted = [r.routing_problem for r in rows if not r.case_id]
            if len(answers) > 2:  # something failed: show why, from the gateway's log
                log = (data_dir / "logs" / "gateway.log").read_text(encoding="utf-8")
                print("\n".join(log.splitlines()[-40:]))  # noqa: T201
        finally:
            platform.stop_all()
    return {"reports": len(latencies), "subjects": args.subjects,
            "concurrency": args.concurrency, "seconds": round(seconds, 2),
            "reports_per_second": round(len(latencies) / seconds, 2),
            "post_ms": {"p50": round(statistics.median(latencies), 1),
                        "p95": _percentile(latencies, 0.95),
                        "p99": _percentile(latencies, 0.99),
                        "max": round(max(latencies), 1)},
            "answers": answers, "unrouted": len(unrouted),
            "routing_problems": sorted(set(unrouted)),
            "cases_per_subject": sorted(set(cases_per_subject.values()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10)
    parser.add_argument("--per-subject", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--json", dest="json_file", type=Path, default=None)
    figures = run(parser.parse_args())
    text = json.dumps(figures, indent=2)
    print(text)  # noqa: T201
    json_file = parser.parse_args().json_file
    if json_file is not None:
        json_file.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
