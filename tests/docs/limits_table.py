"""docs/case-engine.md's table of input limits, written from the constants that enforce
them (`python -m tests.docs.limits_table` rewrites it; `make docs` runs that, and
tests/docs/test_docs.py fails while the page and the code disagree)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from gateway import listing, server, work_queue
from gateway import oversight_service as gaps
from gateway.reports import report_service as reports
from workflows import to_proto
from workflows.rules import calendar, limits

PAGE = Path(__file__).parents[2] / "docs" / "case-engine.md"
BEGIN = "<!-- limits: written by tests/docs/limits_table.py from the code -->"
END = "<!-- limits end -->"


def _n(value: int) -> str:
    return f"{value:,}"


def _chars(value: int) -> str:
    return f"{_n(value)} characters"


def rows() -> list[tuple[str, str]]:
    """(what, its limit), each figure read from the constant that enforces it."""
    days, working = calendar.MAX_CALENDAR_DAYS, calendar.MAX_WORKING_DAYS
    return [
        ("`request_id`", _chars(limits.MAX_REQUEST_ID)),
        ("agency and task ids", _chars(limits.MAX_ID)),
        ("officer", _chars(limits.MAX_OFFICER)),
        ("subject key", _chars(limits.MAX_SUBJECT)),
        ("title", _chars(limits.MAX_TITLE)),
        ("location", _chars(limits.MAX_LOCATION)),
        ("description, instructions, findings, close summary", _chars(limits.MAX_TEXT)),
        ("reasons and notes", _chars(limits.MAX_REASON)),
        ("the answer to the reporters", _chars(limits.MAX_ANSWER)),
        ("evidence references", f"{_n(limits.MAX_EVIDENCE_REFS)} per task, "
                                f"{_chars(limits.MAX_EVIDENCE_REF)} each"),
        ("clock durations (`--sign-within`, `--due-within`, hand-off expiry, …)",
         f"{days} days in calendar time (`{days}d`, `{days * 24}h`), {working} working "
         f"days (`{working}wd`)"),
        ("due and extension times given as a time", f"{days} days from now"),
        ("tasks per case", f"{_n(limits.MAX_TASKS_PER_CASE)} (`RESOURCE_EXHAUSTED` beyond)"),
        ("reports on one case (并单)", f"{_n(limits.MAX_REPORTS_PER_CASE)} "
         "(`RESOURCE_EXHAUSTED`, `TOO_MANY_REPORTS`: the hotline opens a new case)"),
        ("text one case holds (every accepted request's strings: findings, evidence "
         "references, instructions, reasons, …)",
         f"{limits.MAX_CASE_TEXT_BYTES // 1024} KiB (`RESOURCE_EXHAUSTED`, "
         "`CASE_TOO_LARGE`; what a run hands the next must fit one 2 MiB payload)"),
        ("requests one case takes", f"{_n(limits.MAX_REQUESTS_PER_CASE)} "
         "(`RESOURCE_EXHAUSTED`, `CASE_TOO_LARGE`; closing is always allowed)"),
        ("acts a case shows", f"the latest {_n(to_proto.MAX_ACTS)} (the timeline has every "
                              "event)"),
        ("case id", _chars(limits.MAX_CASE_ID)),
        ("page size", f"case list 1–{listing.MAX_PAGE_SIZE} (0 means "
                      f"{listing.DEFAULT_PAGE_SIZE}), inbox 1–{work_queue.MAX_PAGE_SIZE} "
                      f"(0 means {work_queue.DEFAULT_PAGE_SIZE}), gaps "
                      f"1–{gaps.MAX_PAGE_SIZE} (0 means {gaps.DEFAULT_PAGE_SIZE}), "
                      f"reports up to {reports.MAX_PAGE} (0 means {reports.DEFAULT_PAGE}; more is "
                      f"cut to {reports.MAX_PAGE})"),
        ("request message", f"{server.MAX_REQUEST_BYTES // 1024} KiB (`RESOURCE_EXHAUSTED` "
                            "beyond)"),
    ]


def table() -> str:
    lines = [BEGIN, "", "| field | limit |", "| --- | --- |",
             *(f"| {what} | {limit} |" for what, limit in rows()), "", END]
    return "\n".join(lines)


def written(page: str) -> str:
    """The page with its table as the code has it."""
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(page):
        raise ValueError(f"{PAGE} has no limits table between its markers")
    return pattern.sub(lambda _: table(), page)


if __name__ == "__main__":
    PAGE.write_text(written(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stdout.write(f"wrote the limits table of {PAGE.name}\n")
