"""A crash under `seamless up`: an agency, the worker, the gateway and Temporal's dev
server, each killed (SIGKILL) in the middle of running cases, are restarted while the
rest keep serving; every case still closes, with one inbox row per task and a ledger
that verifies; `seamless status` counts the restarts; Ctrl-C then stops everything."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cli import datadir
from cli.up import run_dir
from tests.e2e import cli_forks
from tests.e2e.platform import SEAMLESS, free_ports, up_environment, wait_for

# The whole platform as real processes: left out of `make test-fast`. A start, four
# crashes and a stop take two to three minutes; more on a busy machine.
pytestmark = pytest.mark.timeout(600)

CASES = 3
OWNER = "jinhaihu-township"
# One of each kind; the agency has a task in every mining case.
KILLED = ["public-security", "worker", "gateway", "temporal"]
STEP_WITHIN_SECONDS = 120.0
STOP_WITHIN_SECONDS = 60.0



def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its parent does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


@dataclass
class Up:
    """`seamless up` as a subprocess, and the command line pointed at it."""

    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[str] = field(init=False)
    ready_after: float = 0.0

    def start(self, output: Path) -> None:
        log = output.open("w")
        self.process = subprocess.Popen([SEAMLESS, "up"], env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        log.close()

    def cli(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        try:
            return cli_forks.run(args, env=self.env, timeout=timeout)
        except subprocess.TimeoutExpired as expired:
            return subprocess.CompletedProcess(expired.cmd, -1, "", "timed out")

    def status(self) -> dict[str, dict[str, Any]]:
        """`seamless status --json`, component by name (empty while it cannot answer)."""
        result = self.cli("status", "--json")
        if not result.stdout.strip().startswith("{"):
            return {}
        return {c["name"]: c for c in json.loads(result.stdout)["components"]}

    def healthy(self) -> bool:
        status = self.status()
        return bool(status) and all(c["status"] == "SERVING" for c in status.values())

    def until_done(self, *args: str) -> dict[str, Any]:
        """A change, asked again with the same request id until it goes through: a retry
        changes nothing that the first attempt did."""
        request = ["--request-id", str(uuid.uuid4()), "--json"]
        give_up = time.monotonic() + STEP_WITHIN_SECONDS
        while True:
            result = self.cli(*args, *request)
            if result.returncode == 0:
                done: dict[str, Any] = json.loads(result.stdout)
                return done
            if time.monotonic() > give_up:
                raise AssertionError(f"seamless {' '.join(args)} did not go through in "
                                     f"{STEP_WITHIN_SECONDS:.0f} s:\n{result.stdout}\n"
                                     f"{result.stderr}")
            time.sleep(0.5)

    def kill(self, name: str) -> int:
        """SIGKILL one process of the platform, as a crash would; its pid."""
        pid = int(self.status()[name]["pid"])
        os.kill(pid, signal.SIGKILL)
        return pid

    def back(self, name: str, killed: int) -> bool:
        """Running again under a new pid, serving, its restart counted."""
        component = self.status().get(name, {})
        return (component.get("pid") not in (None, 0, killed)
                and component.get("process_state") == "RUNNING"
                and component.get("status") == "SERVING"
                and component.get("restarts", 0) >= 1)


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    data_dir = tmp_path / "data"
    running = Up(data_dir, up_environment(data_dir, free_ports()))
    starting = time.monotonic()
    running.start(tmp_path / "up.log")
    try:
        wait_for(lambda: (data_dir / datadir.ENDPOINTS).exists() and running.healthy(),
                 "every component to report SERVING", interval=1.0)
        running.ready_after = time.monotonic() - starting
        yield running
    finally:
        if running.process.poll() is None:  # a failure: stop it all the same
            running.process.send_signal(signal.SIGINT)
            try:
                running.process.wait(timeout=STOP_WITHIN_SECONDS)
            except subprocess.TimeoutExpired:
                running.process.kill()  # supervisord stops with it (PDEATHSIG)
                running.process.wait()


def _steps(case: dict[str, Any]) -> list[tuple[str, ...]]:
    """What the agencies do on a mining case, in order: sign, arrive, complete."""
    steps: list[tuple[str, ...]] = []
    for task in case["tasks"]:
        where = (case["id"], task["id"], "--as", task["assignee"])
        steps += [("task", "sign", *where), ("task", "arrive", *where),
                  ("task", "complete", *where, "--findings", "done")]
    return steps


def test_each_kind_of_process_killed_mid_case_is_restarted_and_nothing_is_lost(
        up: Up, tmp_path: Path) -> None:
    started = time.monotonic()
    cases: list[dict[str, Any]] = []
    kills: dict[str, int] = {}

    def open_case() -> None:
        cases.append(up.until_done(
            "case", "open", "--type", "illegal-mining",
            "--subject", f"JHH-{uuid.uuid4().hex[:8].upper()}", "--title", "Quarrying",
            "--jurisdiction", "jinhaihu", "--as", OWNER))

    def crash(name: str) -> None:
        """Kill it and carry on at once: the next steps retry while it is down."""
        kills[name] = up.kill(name)

    def recovered(name: str) -> None:
        wait_for(lambda: up.back(name, kills[name]), f"{name} to be restarted and serve",
                 interval=1.0)

    # The agency dies while the first case's tasks are being delivered to it and
    # before the next cases are opened: their deliveries wait for it to come back.
    with ThreadPoolExecutor(max_workers=CASES) as officers:
        open_case()
        crash(KILLED[0])
        list(officers.map(lambda _: open_case(), range(CASES - 1)))
        recovered(KILLED[0])
        # The cases' steps in rounds, one step of every case at once (as officers of
        # different cases would act), the other kills spread among the rounds.
        rounds = list(zip(*(_steps(case) for case in cases), strict=True))
        kill_at = {len(rounds) * (n + 1) // len(KILLED): name
                   for n, name in enumerate(KILLED[1:])}
        for number, steps in enumerate(rounds):
            if number in kill_at:
                recovered(list(kills)[-1])
                crash(kill_at[number])
            list(officers.map(lambda step: up.until_done(*step), steps))
        recovered(list(kills)[-1])
        closed = list(officers.map(
            lambda case: up.until_done("case", "close", case["id"], "--as", OWNER), cases))
    driven = time.monotonic() - started

    assert [case["status"] for case in closed] == ["CLOSED"] * CASES
    assert sorted(kills) == sorted(KILLED)
    # Each task reached its agency's own database exactly once, and is done there.
    for case in cases:
        for task in case["tasks"]:
            database = sqlite3.connect(datadir.agency_folder(up.data_dir, task["assignee"])
                                       / "agency.db")
            rows = database.execute(
                "SELECT task_state FROM inbox_item WHERE case_id = ? AND task_id = ?",
                (case["id"], task["id"])).fetchall()
            # And the officer's findings were kept once, however often they were sent.
            findings = database.execute(
                "SELECT COUNT(*) FROM finding WHERE case_id = ? AND task_id = ?",
                (case["id"], task["id"])).fetchone()
            database.close()
            assert rows == [("DONE",)], (case["id"], task)
            assert findings == (1,), (case["id"], task)
    verified = up.cli("audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["cases_checked"] >= CASES and report.get("cases_broken", 0) == 0
    status = up.status()
    assert {name: status[name]["restarts"] >= 1 for name in KILLED} == \
        dict.fromkeys(KILLED, True)
    assert all(c["status"] == "SERVING" for c in status.values()), status

    # Ctrl-C: everything stops, supervisord included, and `seamless up` returns.
    pids = {int(c["pid"]) for c in status.values() if c.get("pid")}
    pids.add(int((run_dir(up.data_dir) / "supervisord.pid").read_text()))
    stopping = time.monotonic()
    up.process.send_signal(signal.SIGINT)
    assert up.process.wait(timeout=STOP_WITHIN_SECONDS) == 0
    stopped = time.monotonic() - stopping
    assert [pid for pid in pids if _alive(pid)] == []
    output = (tmp_path / "up.log").read_text()
    assert "Seamless is up." in output
    print(f"\nup in {up.ready_after:.0f} s; {CASES} cases driven through "  # noqa: T201
          f"{len(KILLED)} crashes in {driven:.0f} s; stopped in {stopped:.1f} s")
