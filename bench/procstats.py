"""CPU time and memory of the platform's processes, read from /proc (Linux)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Usage:
    cpu_seconds: float
    rss_bytes: int
    peak_rss_bytes: int  # the high-water mark since the process started (VmHWM)

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.cpu_seconds + other.cpu_seconds, self.rss_bytes + other.rss_bytes,
                     self.peak_rss_bytes + other.peak_rss_bytes)


NOTHING = Usage(0.0, 0, 0)


def usage(pid: int) -> Usage:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # The command name (field 2) may hold spaces; the fields after it may not.
        fields = stat.read().rpartition(")")[2].split()
    utime, stime = int(fields[11]), int(fields[12])
    memory: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                memory[key] = int(value.split()[0]) * 1024
    return Usage((utime + stime) / _TICKS, memory.get("VmRSS", 0), memory.get("VmHWM", 0))


def reset_peak(pid: int) -> None:
    """Start the high-water mark (VmHWM) again from the current size."""
    with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as clear_refs:
        clear_refs.write("5")


def by_kind(pids: Mapping[str, list[int]]) -> dict[str, Usage]:
    """Usage summed over the processes of each kind (all the agencies are one kind)."""
    totals: dict[str, Usage] = {}
    for kind, group in pids.items():
        total = NOTHING
        for pid in group:
            total = total + usage(pid)
        totals[kind] = total
    return totals


def cpu_between(before: Mapping[str, Usage], after: Mapping[str, Usage]) -> dict[str, float]:
    return {kind: after[kind].cpu_seconds - before[kind].cpu_seconds for kind in after}
