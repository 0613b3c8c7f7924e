"""An officer's day, through the command line on a real platform, with nothing but the
short case number: a township dispatcher opens an illegal-mining case, a natural-resources
field officer works the task from the inbox, the police decline theirs, the township's
head decides, the coordinator settles an escalation, and an oversight staffer reads the
record; and away from the console, a reminder reaches the field officer's mail and the
bureau's own system before a clock passes. Each step asserts what that person would see."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cli.provision import demo_password
from tests.agencies.receivers import MailServer, WebhookReceiver
from tests.e2e import cli_forks
from tests.e2e.platform import Platform, wait_for

TOWNSHIP, NR, POLICE = "jinhaihu-township", "natural-resources", "public-security"
BEIJING = timezone(timedelta(hours=8))
README = Path(__file__).parents[2] / "README.md"


@pytest.fixture(scope="module", autouse=True)
def mail_relay() -> Iterator[MailServer]:
    """The district's mail relay, named to `seamless up` as an operator would (before
    the platform starts: autouse fixtures come first)."""
    with MailServer() as relay:
        before = os.environ.get("SEAMLESS_SMTP_URL")
        os.environ["SEAMLESS_SMTP_URL"] = f"smtp://127.0.0.1:{relay.port}"
        try:
            yield relay
        finally:
            if before is None:
                del os.environ["SEAMLESS_SMTP_URL"]
            else:
                os.environ["SEAMLESS_SMTP_URL"] = before


class Person:
    """Someone at their own terminal: signed in as themselves, in a config of their own."""

    def __init__(self, platform: Platform, home: Path, agency: str, officer: str) -> None:
        self.platform, self.home, self.agency = platform, home, agency
        password = demo_password(platform.data_dir, agency, officer)
        assert password is not None
        self.run("login", "--officer", officer, "--password-stdin", input=password)

    def run(self, *args: str, input: str | None = None, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        result = cli_forks.run(
            [*args, "--as", self.agency], timeout=120, input=input,
            env={**os.environ, "SEAMLESS_DATA_DIR": str(self.platform.data_dir),
                 "XDG_CONFIG_HOME": str(self.home)})
        if check and result.returncode != 0:
            raise AssertionError(f"seamless {' '.join(args)} failed:\n{result.stdout}"
                                 f"\n{result.stderr}")
        return result

    def json(self, *args: str, check: bool = True) -> Any:
        return json.loads(self.run(*args, "--json", check=check).stdout)

    def inbox(self, number: str, *, open_only: bool = True) -> list[dict[str, Any]]:
        flags = ("--open-only",) if open_only else ()
        items = self.json("inbox", *flags, "--page-size", "200")["items"]
        return [i for i in items if i["case_number"] == number]


def test_a_dispatcher_a_field_officer_and_oversight_work_a_case_by_its_number(
        platform: Platform, tmp_path: Path) -> None:
    dispatcher = Person(platform, tmp_path / "dispatcher", TOWNSHIP, "dispatcher")
    field = Person(platform, tmp_path / "field", NR, "field-officer")
    head = Person(platform, tmp_path / "head", TOWNSHIP, "duty-officer")
    police = Person(platform, tmp_path / "police", POLICE, "duty-officer")
    coordinator = Person(platform, tmp_path / "coordinator", "command-center", "duty-officer")

    # --- the dispatcher: what the playbook asks, then the case ---------------------------
    playbooks = {p["id"]: p for p in dispatcher.json("playbooks")["playbooks"]}
    mining = playbooks["illegal-mining"]
    assert mining["jurisdictions"] == ["jinhaihu"]
    inspect = next(k for k in mining["task_kinds"] if k["id"] == "mining-investigation")
    assert (inspect["sign_within"], inspect["on_scene_within"]) == ("10m", "30m")
    subject = f"JHH-Quarry {uuid.uuid4().hex[:6]}"
    without = dispatcher.json("case", "open", "--type", "illegal-mining", "--subject",
                              subject, "--title", "Quarrying by night", check=False)
    assert without["error"]["status"] == "INVALID_ARGUMENT"
    assert "jinhaihu" in without["error"]["message"]
    case = dispatcher.json("case", "open", "--type", "illegal-mining", "--subject", subject,
                           "--title", "Quarrying by night", "--jurisdiction", "jinhaihu")
    number = case["number"]
    today = datetime.now(BEIJING).strftime("%Y%m%d")
    assert re.fullmatch(rf"{today}-\d{{4}}", number)
    assert subject.upper() not in case["id"].upper()
    page = dispatcher.run("case", "show", number).stdout
    assert page.splitlines()[0].split()[1] == number
    assert "on scene by" in page and "+08:00" in page and "dispatcher" in page
    assert [c["number"] for c in dispatcher.json(
        "case", "list", "--subject", subject.lower())["cases"]] == [number]

    # --- the field officer: the inbox says what to do and by when ------------------------
    wait_for(lambda: any(i["delivered"] for i in field.inbox(number)), "the task to arrive")
    (item,) = field.inbox(number)
    assert (item["ref"], item["action"], item["overdue"]) == ("T1", "SIGN", False)
    assert item["deadline"] and 0 < item["time_left_seconds"] <= 600
    assert "seamless task sign CASE ITEM" in field.run("inbox").stdout
    field.run("task", "sign", number, "T1")
    field.run("task", "arrive", number, "T1")
    asked = field.json("task", "extend", number, "T1", "--until", "5d", "--reason",
                       "the access road is flooded")
    assert next(t for t in asked["tasks"] if t["id"] == "T1")["extension_pending"]
    (item,) = field.inbox(number)
    assert item["action"] == "COMPLETE" and "waiting for the owner" in item["detail"]

    # --- the police: a suggestion must be able to do the work ----------------------------
    wait_for(lambda: any(i["delivered"] for i in police.inbox(number)), "the police task")
    wrong = police.json("task", "decline", number, "T2", "--reason", "no crime",
                        "--suggest", "urban-management", check=False)
    assert (wrong["error"]["status"], wrong["error"]["reason"]) == (
        "FAILED_PRECONDITION", "MISSING_CAPABILITY")
    police.run("task", "decline", number, "T2", "--reason", "no crime reported")
    (declined,) = police.inbox(number, open_only=False)
    assert not declined["open"] and TOWNSHIP in declined["next_step"]

    # --- the township's head: what waits for the owner -----------------------------------
    waiting = {i["kind"]: i for i in head.inbox(number)}
    assert waiting["DECLINE_REVIEW"]["ref"] == "T2"
    assert waiting["DECLINE_REVIEW"]["detail"] == "no crime reported"
    assert waiting["EXTENSION_DECISION"]["ref"] == "T1"
    assert waiting["EXTENSION_DECISION"]["asked_due"]
    head.run("task", "review", number, "T2", "--overrule", "--note", "explosives were found")
    head.run("task", "extend", number, "T1", "--grant")
    assert {i["kind"] for i in head.inbox(number)} == set()

    # --- an offer nobody answers reaches the coordinator's inbox --------------------------
    dispatcher.run("case", "handoff", number, "--to", NR, "--reason", "mining is theirs",
                   "--expires-within", "1s")
    wait_for(lambda: any(i["kind"] == "ESCALATION" for i in coordinator.inbox(number)),
             "the expired offer to escalate")
    (escalation,) = coordinator.inbox(number)
    coordinator.run("case", "resolve", number, escalation["ref"], "--resolution",
                    "the township keeps it")
    assert coordinator.inbox(number) == []

    # --- the work is done and the case closed ---------------------------------------------
    field.run("task", "complete", number, "T1", "--findings", "two diggers seized")
    for task in ("T2", "T3", "T4"):
        dispatcher.run("task", "withdraw", number, task, "--reason", "handled on site")
    assert [i["action"] for i in head.inbox(number)] == ["CLOSE"]
    closed = head.json("case", "close", number, "--summary", "site sealed, two diggers seized")
    assert (closed["status"], closed["summary"]) == ("CLOSED", "site sealed, two diggers "
                                                               "seized")
    assert closed["closed_at"]
    assert field.inbox(number) == []
    assert "closed" in field.run("case", "show", number).stdout
    people = {(a["agency"], a["officer"]) for a in closed["acts"]}
    assert {(TOWNSHIP, "dispatcher"), (NR, "field-officer"), (TOWNSHIP, "duty-officer")} \
        <= people

    # --- the oversight staffer: the record, by number --------------------------------------
    timeline = platform.cli_json("oversight", "timeline", number)
    assert timeline["case_number"] == number and timeline["verdict"]["intact"]
    signed = next(e for e in timeline["events"] if e["kind"] == "TASK_SIGNED")
    assert signed["actor"] == {"agency_id": NR, "officer_id": "field-officer"}
    assert platform.cli("oversight", "timeline", number).stdout.startswith(f"case   {number}")
    assert platform.cli("audit", "verify", number).returncode == 0
    gaps = platform.cli_json("oversight", "gaps", "--page-size", "500")["gaps"]
    mine = [g for g in gaps if g["case_number"] == number]
    assert {"DISPATCH_UNSIGNED", "ARRIVAL_PENDING", "HANDOFF_PENDING"} <= \
        {g["kind"] for g in mine}
    assert all("duration_seconds" in g for g in mine)
    ocel = platform.cli("oversight", "export").stdout
    assert "field-officer" in ocel and number in ocel


def _readme_verifier() -> Any:
    """The README's webhook verification example, as a receiver would paste it."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("**Notifications away from the console.**"):]
    code = section[section.index("```python\n") + len("```python\n"):]
    namespace: dict[str, Any] = {}
    exec(code[:code.index("```")], namespace)  # noqa: S102 - the README's own example
    return namespace["verified"]


def test_a_reminder_reaches_mail_and_the_bureaus_system_before_the_clock_passes(
        platform: Platform, tmp_path: Path, mail_relay: MailServer) -> None:
    dispatcher = Person(platform, tmp_path / "dispatcher", TOWNSHIP, "dispatcher")
    field = Person(platform, tmp_path / "field", NR, "field-officer")
    bureau = Person(platform, tmp_path / "bureau", NR, "duty-officer")
    receiver = WebhookReceiver()
    receiver.start()
    try:
        # The field officer's own mail; the bureau's head, its SMS gateway's webhook.
        field.run("notify", "email", "field-officer@nr.example", "--event", "notice.REMINDER")
        hook = bureau.json("notify", "webhook", receiver.url)
        refused = field.json("notify", "webhook", receiver.url, check=False)
        assert refused["error"]["status"] == "PERMISSION_DENIED"

        subject = f"JHH-Quarry {uuid.uuid4().hex[:6]}"
        number = dispatcher.json("case", "open", "--type", "illegal-mining", "--subject",
                                 subject, "--title", "Digging at dusk", "--jurisdiction",
                                 "jinhaihu")["number"]
        # A site visit to sign for within a minute: reminded at 45 seconds.
        dispatched = dispatcher.json("case", "dispatch", number, "--kind",
                                     "mining-investigation", "--to", NR, "--sign-within",
                                     "1m")
        task = dispatched["task_id"]
        sign_by = datetime.fromisoformat(next(
            t for t in field.json("case", "show", number)["tasks"]
            if t["id"] == task)["sign_by"]).timestamp()

        def reminders() -> list[Any]:
            return [json.loads(p.body) for p in receiver.posted
                    if json.loads(p.body)["event"] == "notice.REMINDER"
                    and json.loads(p.body)["task_id"] == task]
        wait_for(lambda: bool(reminders()), "the reminder at the bureau's system",
                 timeout=90)
        hooked_at = time.time()
        wait_for(lambda: bool(mail_relay.messages), "the reminder in the officer's mail",
                 timeout=30)
        mailed_at = time.time()
        assert max(hooked_at, mailed_at) < sign_by, "the reminder came after the clock"
        assert hooked_at > sign_by - 30, "reminded at 45 of the 60 seconds, not at once"

        # Signed, and the README's example verifies it, not a changed body nor another
        # secret; the signed body names the same key as the header.
        verified = _readme_verifier()
        post = next(p for p in receiver.posted
                    if json.loads(p.body)["event"] == "notice.REMINDER")
        signature = post.headers["seamless-signature"]
        assert verified(hook["secret"], post.body, signature)
        assert not verified(hook["secret"], post.body.replace(b"T", b"X", 1), signature)
        assert not verified("another-secret", post.body, signature)
        assert json.loads(post.body)["key"] == post.headers["seamless-idempotency-key"]
        (message,) = mail_relay.messages
        assert message["To"] == "field-officer@nr.example"
        payload = message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        body = payload.decode()
        assert number in body and f"task {task}" in body and "sign-for due soon" in body

        # The bureau's outbox: every notification it sent, delivered once.
        entries = bureau.json("notify", "outbox")["entries"]
        assert {e["state"] for e in entries} == {"delivered"}
        assert any(e["event"] == "task.delivered" for e in entries)
        field.run("task", "sign", number, task)
    finally:
        receiver.stop()
