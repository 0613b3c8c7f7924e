"""The benchmark's figures as a table a person can read (the JSON holds the same)."""

from __future__ import annotations

from typing import Any

from bench import district as district_day
from bench.load import LATENCIES
from bench.scenarios import KINDS, SYSTEMS


def _tail(figures: dict[str, Any]) -> str:
    """p50 / p99, or p50 / max (marked) where the sample is too small for a p99."""
    if figures.get("p99") is not None:
        return f"{figures['p50']} / {figures['p99']}"
    return f"{figures['p50']} / {figures['max']} max"


def _phase_rows(phase: dict[str, Any]) -> list[str]:
    pooled = phase["pooled"]
    systems = [s for s in SYSTEMS if s in pooled]
    rows = ["  " + f"{'':20}" + "".join(f"{s + ' p50 / p99 ms':>26}" for s in systems),
            "  " + f"{'cases per second':20}" + "".join(
                f"{pooled[s]['cases_per_second']:>26}" for s in systems)]
    for name in LATENCIES:
        rows.append("  " + f"{name.replace('_', ' '):20}" + "".join(
            f"{_tail(pooled[s]['latency_ms'][name]):>26}" for s in systems))
    rows.append("  " + f"{'marginal CPU s/case':20}" + "".join(
        f"{pooled[s]['cpu_seconds_per_case_total']:>26}" for s in systems))
    rows.append("  " + f"{'(raw, idle included)':20}" + "".join(
        f"{pooled[s]['raw_cpu_seconds_per_case_total']:>26}" for s in systems))
    for s in systems:
        per_kind = pooled[s]["cpu_seconds_per_case"]
        rows.append(f"    {s}: " + "  ".join(f"{kind} {per_kind.get(kind, 0):.3f}"
                                              for kind in KINDS[s]))
    for s, runs in phase["runs"].items():
        if len(runs) > 1:
            rows.append(f"    {s} by order: " + ", ".join(
                f"{'first' if r['order'] == 1 else 'reverse'} {r['cases_per_second']}/s "
                f"{r['cpu_seconds_per_case_total']} CPU s" for r in runs))
    for base, ratio in phase.get("ratios", {}).items():
        rows.append(f"  seamless / {base}: throughput {ratio['throughput']}, CPU per case "
                    f"{ratio['cpu_per_case']}, open-to-closed p50 "
                    f"{ratio['open_to_closed_p50']}")
    failed = sum(p["failed"] for p in pooled.values())
    if failed:
        first = next(p["first_failures"][0] for p in pooled.values() if p["first_failures"])
        rows.append(f"  FAILED CASES: {failed}, the first: {first}")
    return rows


def table(figures: dict[str, Any]) -> str:
    lines = ["", "Seamless beside minimal Temporal and Temporal doing the same durable work, "
             f"one server ({figures['machine']['cpus']} cores, Python "
             f"{figures['machine']['python']})"]
    idle = figures.get("at_idle")
    if idle:
        lines.append("\nAt idle: " + ", ".join(
            f"{kind} {f['cpu_per_second']:.3f} CPU s/s {f['rss_mib']} MiB"
            for kind, f in idle.items()))
    joint = figures.get("joint_cases")
    if joint:
        lines.append(f"\nJoint cases (3 tasks, 3 agencies), {joint['concurrency']} in flight, "
                     "each system twice (A B C C B A)")
        lines += _phase_rows(joint["full"])
        rate = joint["half_load"]["pooled"]["seamless"]["offered_rate"]
        lines.append(f"\nJoint cases at Seamless's half load ({rate} cases/s to each system)")
        lines += _phase_rows(joint["half_load"])
        if joint["own_half_load"]["pooled"]:
            lines.append("\nEach baseline at its own half load")
            lines += _phase_rows(joint["own_half_load"])
        events = figures["history_events_per_case"]
        lines.append("\nTemporal history events per case: " + ", ".join(
            f"{n} {e['min']}-{e['max']}" for n, e in events.items()))
        memory = figures["memory_after_throughput"]
        lines.append("Peak memory (MiB; a kind of several processes: the sum of their "
                     "peaks): " + ", ".join(f"{kind} {m['peak_rss_mib']}"
                                            for kind, m in memory.items()))
    for system, orders in figures.get("work_orders", {}).items():
        lines.append(f"\nWork orders (1 task) at steady rates: {system}")
        lines.append(f"  {'offered/s':>9} {'done/s':>7} {'opens':>6} {'open tail ms':>14} "
                     f"{'CPU s/order':>12}  held")
        for step in orders["steps"]:
            (kind, value), = step["open_tail"].items()
            lines.append(f"  {step['offered_rate']:>9} {step['cases_per_second']:>7} "
                         f"{step['latency_ms']['open']['count']:>6} "
                         f"{kind + ' ' + str(value):>14} "
                         f"{step['cpu_seconds_per_case_total']:>12.3f}  "
                         f"{'yes' if step['held'] else 'no'}")
        lines.append(f"  highest rate held (open p99, or max under 1,000 opens, < 100 ms): "
                     f"{orders['highest_rate_held']} work orders/s")
    idle_cases = figures.get("idle")
    if idle_cases:
        lines.append(f"\nIdle: {idle_cases['cases']} cases held, three clocks each")
        lines.append(f"  worker memory: {idle_cases['worker_rss_mib']} MiB "
                     f"(peak {idle_cases['worker_peak_rss_mib']} MiB), temporal "
                     f"{idle_cases.get('temporal_rss_mib', '-')} MiB")
        late = idle_cases["lateness_ms"]
        tail = f"p99 {late['p99']}" if late.get("p99") is not None else f"max {late['max']}"
        lines.append(f"  {idle_cases['expired']} clocks expiring within "
                     f"{idle_cases['deadline_spread_seconds']} s: lateness to the notice "
                     f"recorded p50 {late['p50']} ms, {tail} ms, max {late['max']} ms")
        if idle_cases["notices_missing"]:
            lines.append(f"  NOTICES MISSING after two minutes: {idle_cases['notices_missing']}")
    district = figures.get("district")
    if district:
        lines += district_day.table(district)
    lines.append(f"\n(whole run: {figures['wall_seconds']} s)")
    return "\n".join(lines)
