"""The suite's figures, per fault kind, as JSON and as RELIABILITY.md's tables (written
between markers, so the prose around them stays as written)."""

from __future__ import annotations

import platform
from collections import Counter
from pathlib import Path
from typing import Any

from bench.faults.records import topology
from bench.faults.soak import MOST_IN_FLIGHT, Soak
from bench.faults.suite import Outcome, moments

BEGIN = "<!-- fault figures: written by `python -m bench.faults --markdown` -->"
END = "<!-- end of fault figures -->"
SOAK_BEGIN = "<!-- soak figures: written by `python -m bench.faults --soak-minutes N` -->"
SOAK_END = "<!-- end of soak figures -->"


WHERE = {"sqlite": "in SQLite files (the embedded default)",
         "postgresql": "on PostgreSQL (as docker-compose.yml keeps them)"}


def markers(figures: dict[str, Any], *, soak: bool) -> tuple[str, str]:
    """Where in RELIABILITY.md these figures go: each topology's between its own."""
    begin, end = (SOAK_BEGIN, SOAK_END) if soak else (BEGIN, END)
    if figures.get("records", "sqlite") == "sqlite":
        return begin, end
    return (begin.replace(" figures:", f" figures ({figures['records']}):"),
            end.replace(" figures", f" figures ({figures['records']})"))


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _spread(values: list[float]) -> dict[str, float | None]:
    return {"p50": _quantile(values, 0.5), "p99": _quantile(values, 0.99),
            "max": max(values) if values else None}


def figures(outcome: Outcome) -> dict[str, Any]:
    per_kind: dict[str, Any] = {}
    for kind in outcome.settings.kinds:
        rounds = [r for r in outcome.rounds if r.kind == kind]
        faults = [f for r in rounds for f in r.faults]
        found = [r.findings for r in rounds]
        lateness = [x for f in found for x in f.clock_lateness]
        beyond = [x for f in found for x in f.clock_lateness_beyond_outage]
        per_kind[kind] = {
            "injected": len(faults),
            "moments": dict(moments(faults).most_common()),
            "cases": sum(len(r.journal.cases) for r in rounds),
            "cases_affected": sum(r.cases_affected() for r in rounds),
            "cases_stuck": sum(len(r.journal.stuck) for r in rounds),
            "acts_checked": sum(f.acts_checked for f in found),
            "acts_retried": sum(1 for r in rounds for a in r.journal.acts if a.ambiguous),
            "acts_lost": sum(len(f.acts_lost) for f in found),
            "acts_duplicated": sum(len(f.acts_duplicated) for f in found),
            "answers_changed": sum(len(f.answers_changed) for f in found),
            "tasks_checked": sum(f.tasks_checked for f in found),
            "tasks_missing": sum(len(f.tasks_missing) for f in found),
            "tasks_duplicated": sum(len(f.tasks_duplicated) for f in found),
            "withdrawn_still_open": sum(len(f.withdrawn_still_open) for f in found),
            "owners_disagree": sum(len(f.owners_disagree) for f in found),
            "clocks": len(lateness),
            "clocks_unfired": sum(len(f.clocks_unfired) for f in found),
            "clock_late_seconds": _spread(lateness),
            "clock_late_beyond_outage_seconds": _spread(beyond),
            "recovery_seconds": _spread([f.recovery for f in faults]),
            "audit_problems": sum(len(f.audit) for f in found),
            "cases_unreadable": sum(len(f.cases_unreadable) for f in found),
            "histories_not_replaying": sum(len(f.histories_not_replaying) for f in found),
            "known_open": sum(len(f.known_open) for f in found),
        }
    known = [f"[{r.kind}] {problem}" for r in outcome.rounds for problem in r.findings.known_open]
    return {"seed": outcome.settings.seed, "known_open": known,
            "records": topology(outcome.settings.postgres),
            "per_kind_asked": outcome.settings.per_kind,
            "round_size": outcome.settings.round_size,
            "concurrency": outcome.settings.concurrency,
            "seconds": round(outcome.seconds, 1),
            "machine": f"{platform.machine()}, {platform.python_version()}",
            "kinds": per_kind, "failures": outcome.failed()}


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def table(figures: dict[str, Any]) -> str:
    lines = [
        f"Seed {figures['seed']}, records {WHERE[figures['records']]}, "
        f"{figures['per_kind_asked']} faults of each kind asked, "
        f"checked every {figures['round_size']}, {figures['concurrency']} officers driving "
        f"cases at once; {figures['seconds'] / 60:.0f} min in all.",
        "",
        "| fault | injected | cases (affected) | acts checked (retried) | lost | duplicated "
        "| answer changed | tasks checked: missing / twice | owners disagree | stuck "
        "| clocks: late p50 / p99 / max beyond the outage (s) | recovery p50 / p99 / max (s) "
        "| unreadable / not replaying (known open) | audit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, k in figures["kinds"].items():
        late = k["clock_late_beyond_outage_seconds"]
        recovery = k["recovery_seconds"]
        lines.append(
            f"| `{kind}` | {k['injected']} | {k['cases']} ({k['cases_affected']}) "
            f"| {k['acts_checked']} ({k['acts_retried']}) | {k['acts_lost']} "
            f"| {k['acts_duplicated']} | {k['answers_changed']} "
            f"| {k['tasks_checked']}: {k['tasks_missing']} / {k['tasks_duplicated']} "
            f"| {k['owners_disagree']} | {k['cases_stuck']} "
            f"| {k['clocks']}: {_s(late['p50'])} / {_s(late['p99'])} / {_s(late['max'])} "
            f"| {_s(recovery['p50'])} / {_s(recovery['p99'])} / {_s(recovery['max'])} "
            f"| {k['cases_unreadable']} / {k['histories_not_replaying']} ({k['known_open']}) "
            f"| {k['audit_problems']} |")
    lines += ["", "What was under way when the faults struck (commands in flight; `clock`: "
              "a clock was due within 2 s):", ""]
    for kind, k in figures["kinds"].items():
        hit = ", ".join(f"{what} {n}" for what, n in k["moments"].items())
        lines.append(f"- `{kind}`: {hit or '–'}")
    return "\n".join(lines)


def summary(figures: dict[str, Any]) -> str:
    failures = figures["failures"]
    said = [table(figures), ""]
    if failures:
        said.append("FAILED:")
        for check, problems in failures.items():
            said += [f"  {check}: {len(problems)}", *(f"    {p}" for p in problems[:10])]
    else:
        said.append("every check held")
    if figures["known_open"]:
        said.append(f"known open ({len(figures['known_open'])}), see RELIABILITY.md:")
        said += [f"    {p[:300]}" for p in figures["known_open"][:10]]
    return "\n".join(said)


def soak_figures(result: Soak) -> dict[str, Any]:
    found = result.findings
    faults = result.faults
    failures = dict(found.problems())
    if result.journal.stuck:
        failures["cases_stuck"] = [f"{c} at {s}" for c, s in result.journal.stuck.items()]
    return {
        "seed": result.settings.seed, "minutes": result.settings.minutes,
        "records": topology(result.settings.postgres),
        "rate": result.settings.rate, "pollers": result.settings.pollers,
        "seconds": round(result.seconds, 1),
        "cases": len(result.journal.cases), "closed": len(result.journal.finished),
        "not_started_backlog": result.opened_late,
        "acts": len(result.journal.acts), "acts_checked": found.acts_checked,
        "acts_retried": sum(1 for a in result.journal.acts if a.ambiguous),
        "polls": result.polls, "poll_failures": result.poll_failures,
        "faults": dict(Counter(fault.kind for fault in faults)),
        "recovery_seconds": _spread([f.recovery for f in faults]),
        "clock_late_beyond_outage_seconds": _spread(found.clock_lateness_beyond_outage),
        "memory": result.slopes(),
        "known_open": list(found.known_open),
        "stopped_with": result.stopped_with, "failures": failures,
    }


def soak_table(f: dict[str, Any]) -> str:
    late = f["clock_late_beyond_outage_seconds"]
    recovery = f["recovery_seconds"]
    lines = [
        f"Seed {f['seed']}, records {WHERE[f['records']]}: {f['minutes']:g} min at "
        f"{f['rate']:g} cases/s with "
        f"{f['pollers']} officers polling every 10 s; faults: "
        + ", ".join(f"`{k}` {n}" for k, n in f["faults"].items()) + ".",
        "",
        f"- cases opened {f['cases']}, closed {f['closed']} (not started, "
        f"{MOST_IN_FLIGHT} already under way: {f['not_started_backlog']}); acts {f['acts']} "
        f"({f['acts_retried']} retried), checked {f['acts_checked']}; inbox polls "
        f"{f['polls']} ({f['poll_failures']} failed)",
        "- lost, duplicated, late or disagreeing: "
        + (", ".join(f"{k} {len(v)}" for k, v in f["failures"].items()) or "none"),
        f"- clocks late beyond the outage p50 / p99 / max: {_s(late['p50'])} / "
        f"{_s(late['p99'])} / {_s(late['max'])} s; recovery p50 / p99 / max: "
        f"{_s(recovery['p50'])} / {_s(recovery['p99'])} / {_s(recovery['max'])} s",
        "- memory after warm-up (MiB per minute, over the longest-lived pid; last RSS): "
        + ", ".join(f"{k} {v['mib_per_minute']:+.2f} ({v['last_mib']} MiB)"
                    for k, v in sorted(f["memory"].items())),
    ]
    if f["known_open"]:
        lines.append(f"- known open (see below): {len(f['known_open'])}")
    return "\n".join(lines)


def soak_summary(figures: dict[str, Any]) -> str:
    said = [soak_table(figures)]
    for check, problems in figures["failures"].items():
        said += [f"  {check}: {len(problems)}", *(f"    {p}" for p in problems[:10])]
    return "\n".join(said)


def write_markdown(path: Path, figures: dict[str, Any], *, soak: bool = False) -> None:
    """Replace the figures between their markers in `path` (or add them at its end)."""
    begin, end = markers(figures, soak=soak)
    block = f"{begin}\n{soak_table(figures) if soak else table(figures)}\n{end}"
    text = path.read_text() if path.exists() else ""
    if begin in text and end in text:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = head + block + tail
    else:
        text = text + ("\n" if text else "") + block + "\n"
    path.write_text(text)
