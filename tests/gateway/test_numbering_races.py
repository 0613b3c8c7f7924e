"""Numbers handed out in a burst, as twenty reports on twenty new subjects ask for them
at once: every caller gets one, none twice (the case numbers' and the reports' own)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from gateway.case_numbers import CaseNumbers, open_case_numbers
from gateway.reports.store import ReportDraft, ReportStore

# Forty threads racing on each database: seconds, so `make test` (not `make test-fast`).
ZONE = ZoneInfo("Asia/Shanghai")
AT_ONCE = 40


def all_at_once(work: Callable[[int], str]) -> list[str]:
    answers: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(AT_ONCE)

    def run(i: int) -> None:
        start.wait()
        try:
            answers.append(work(i))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    return answers


def test_a_burst_of_opens_each_get_a_number_of_its_own(database_url: str) -> None:
    numbers = CaseNumbers(open_case_numbers(database_url), ZONE)
    given = all_at_once(lambda i: numbers.allocate(f"request-{i}", datetime.now(UTC)))
    assert len(set(given)) == AT_ONCE


def test_a_burst_of_reports_each_get_an_id_of_its_own(database_url: str) -> None:
    store = ReportStore(open_case_numbers(database_url), ZONE)
    draft = ReportDraft(channel="open311", service_code="night-quarrying", description="x")
    given = all_at_once(lambda i: store.add(
        draft, request_key=f"request-{i}", received_by="open311/citylink", area="",
        jurisdiction="jinhaihu", subject="north quarry", now=datetime.now(UTC)).id)
    assert len(set(given)) == AT_ONCE
