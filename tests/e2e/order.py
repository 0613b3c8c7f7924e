"""The order the end-to-end modules run in: the longest first.

`make test` hands the modules out two at a time (`--dist loadfile
--no-loadscope-reorder`) in the order collected: the longest first, so the long ones
start at once and the short ones fill in at the end, instead of the longest starting
last and running alone. How long each took is recorded by every run that ran it
(pytest's cache, by the controlling process: tests/conftest.py calls these) and read by
the next; a clean clone starts from `durations.json`, the last record kept with the code
(`SEAMLESS_RECORD_DURATIONS=1` rewrites it). A module never measured goes first.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

KEPT = Path(__file__).with_name("durations.json")
CACHE_KEY = "seamless/e2e-module-seconds"
_measured: dict[str, float] = defaultdict(float)


def _module(nodeid: str) -> str:
    return Path(nodeid.partition("::")[0]).stem


def _recorded(config: pytest.Config) -> dict[str, float]:
    kept: dict[str, float] = json.loads(KEPT.read_text(encoding="utf-8")) \
        if KEPT.exists() else {}
    cache = getattr(config, "cache", None)
    cached = cache.get(CACHE_KEY, {}) if cache is not None else {}
    return {**kept, **cached}


def longest_first(config: pytest.Config, items: list[pytest.Item]) -> None:
    seconds = _recorded(config)

    def rank(item: pytest.Item) -> float:
        if "/e2e/" not in item.path.as_posix():
            return float("-inf")
        return -seconds.get(item.path.stem, float("inf"))
    items.sort(key=rank)  # stable: each module's tests keep their order


def measure(report: pytest.TestReport) -> None:
    if report.nodeid.startswith("tests/e2e/"):
        _measured[_module(report.nodeid)] += report.duration


def record(session: pytest.Session) -> None:
    if not _measured or hasattr(session.config, "workerinput"):
        return  # nothing ran here, or a worker: the controller records what all ran
    seconds = {**_recorded(session.config),
               **{module: round(total, 1) for module, total in _measured.items()}}
    cache = getattr(session.config, "cache", None)
    if cache is not None:
        cache.set(CACHE_KEY, seconds)
    if os.environ.get("SEAMLESS_RECORD_DURATIONS") == "1":
        KEPT.write_text(json.dumps(dict(sorted(seconds.items())), indent=1) + "\n",
                        encoding="utf-8")
