"""The benchmark's figures as a table a person can read (the JSON holds the same)."""

from __future__ import annotations

from typing import Any

from bench.load import LATENCIES

KINDS = ("temporal", "worker", "gateway", "agencies", "bench")


def _latency_rows(runs: dict[str, Any], ratio: dict[str, float]) -> list[str]:
    ours, bare = runs["seamless"], runs["baseline"]
    rows = [f"  {'':22} {'seamless p50/p95/p99 ms':>26} {'baseline p50/p95/p99 ms':>26} "
            f"{'ratio p50/p99':>14}",
            f"  {'cases per second':22} {ours['cases_per_second']:>26} "
            f"{bare['cases_per_second']:>26} {ratio['throughput']:>14}"]
    for name in LATENCIES:
        a, b = ours["latency_ms"][name], bare["latency_ms"][name]
        rows.append(f"  {name.replace('_', ' '):22} "
                    f"{_triple(a):>26} {_triple(b):>26} "
                    f"{ratio[name + '_p50']:>6} / {ratio[name + '_p99']:<5}")
    rows.append(f"  {'CPU s per case':22} " + "  ".join(
        f"{kind} {ours['cpu_seconds_per_case'].get(kind, 0):.3f}"
        for kind in KINDS))
    rows.append(f"  {'':22} baseline: temporal "
                f"{bare['cpu_seconds_per_case'].get('temporal', 0):.3f}  worker "
                f"{bare['cpu_seconds_per_case'].get('baseline', 0):.3f}  bench "
                f"{bare['cpu_seconds_per_case'].get('bench', 0):.3f}")
    failed = ours["failed"] + bare["failed"]
    if failed:
        first = (ours["first_failures"] or bare["first_failures"])[0]
        rows.append(f"  FAILED CASES: {failed}, the first: {first}")
    return rows


def _triple(figures: dict[str, float]) -> str:
    return f"{figures['p50']} / {figures['p95']} / {figures['p99']}"


def table(figures: dict[str, Any]) -> str:
    lines = ["", "Seamless vs bare Temporal, same server "
             f"({figures['machine']['cpus']} cores, Python {figures['machine']['python']})"]
    joint = figures.get("joint_cases")
    if joint:
        lines.append(f"\nJoint cases (3 tasks, 3 agencies), {joint['concurrency']} in flight")
        lines += _latency_rows(joint["full"], joint["ratio_full"])
        rate = joint["half_load"]["seamless"]["offered_rate"]
        lines.append(f"\nJoint cases at half load ({rate} cases/s offered to each system)")
        lines += _latency_rows(joint["half_load"], joint["ratio_half_load"])
        events = figures["history_events_per_case"]
        lines.append("\nTemporal history events per case: " + ", ".join(
            f"{n} {e['min']}-{e['max']}" for n, e in events.items()))
        memory = figures["memory_after_throughput"]
        lines.append("Peak memory (MiB; agencies: the sum of the agencies' and the oversight "
                     "body's processes' peaks): " +
                     ", ".join(f"{kind} {m['peak_rss_mib']}" for kind, m in memory.items()))
    for system, orders in figures.get("work_orders", {}).items():
        lines.append(f"\nWork orders (1 task) at steady rates: {system}")
        lines.append(f"  {'offered/s':>9} {'done/s':>7} {'open p99':>9} {'inbox p99':>10} "
                     f"{'closed p99':>11} {'CPU s/order':>12}  held")
        for step in orders["steps"]:
            latency = step["latency_ms"]
            cpu = sum(step["cpu_seconds_per_case"].values())
            lines.append(f"  {step['offered_rate']:>9} {step['cases_per_second']:>7} "
                         f"{latency['open']['p99']:>9} {latency['dispatch_to_inbox']['p99']:>10} "
                         f"{latency['open_to_closed']['p99']:>11} {cpu:>12.3f}  "
                         f"{'yes' if step['held'] else 'no'}")
        lines.append(f"  highest rate held with open p99 < 100 ms: "
                     f"{orders['highest_rate_held']} work orders/s")
    idle = figures.get("idle")
    if idle:
        lines.append(f"\nIdle: {idle['cases']} cases held, three clocks each")
        lines.append(f"  worker memory: {idle['worker_rss_mib']} MiB "
                     f"(peak {idle['worker_peak_rss_mib']} MiB)")
        late = idle["lateness_ms"]
        lines.append(f"  {idle['expired']} clocks expiring within "
                     f"{idle['deadline_spread_seconds']} s: lateness to the notice recorded "
                     f"p50 {late['p50']} ms, p99 {late['p99']} ms, max {late['max']} ms")
        if idle["notices_missing"]:
            lines.append(f"  NOTICES MISSING after two minutes: {idle['notices_missing']}")
    lines.append(f"\n(whole run: {figures['wall_seconds']} s)")
    return "\n".join(lines)
