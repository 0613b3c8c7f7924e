"""Sends the agency's outbox (`agencies.outbox`): webhooks signed with their
subscription's secret, e-mail through the agency's mail server.

One loop per agency, woken when something is enqueued and otherwise at the next entry
due. A receiver that is down costs its own entries retries, never the case (the engine
has its receipt the moment the notice is stored) and never another receiver (each
attempt has its own timeout, a few at a time).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from agencies import outbox
from agencies.models import OutboxEntry, Subscription, utc_now
from agencies.webhook_signature import EVENT_HEADER, HEADER, KEY_HEADER, sign
from workflows.rules import phrases

log = logging.getLogger(__name__)

ATTEMPT_TIMEOUT_SECONDS = 10.0
AT_ONCE = 8
# The longest the loop sleeps with nothing due (a lease that lapsed, an entry another
# process enqueued).
IDLE_SECONDS = 30.0
# What a mail's subject calls each event: a notice by the platform's own words for its
# kind (workflows.rules.phrases), as the notices themselves say it.
_EVENT_NAMES = {"task.delivered": ("新任务", "new task"),
                **{f"notice.{kind}": words for kind, words in phrases.WORDS["notice"].items()}}


@dataclass(frozen=True)
class MailServer:
    """The agency's mail server: smtp://host:port (plain, a relay inside the agency's
    network) or smtps://host:port (TLS), and the address mail comes from."""

    host: str
    port: int
    tls: bool
    sender: str

    @classmethod
    def parse(cls, url: str, sender: str) -> MailServer | None:
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"mail server {url!r}: write smtp://host:port or smtps://host:port")
        return cls(parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25),
                   parts.scheme == "smtps", sender or "seamless@localhost")


class Sender:
    def __init__(self, agency: str, engine: Engine, *, mail: MailServer | None = None,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.agency, self._engine, self.mail, self._now = agency, engine, mail, now
        self._wake = asyncio.Event()
        self._http: httpx.AsyncClient | None = None

    def wake(self) -> None:
        """Something was enqueued: look now."""
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled."""
        async with httpx.AsyncClient(timeout=ATTEMPT_TIMEOUT_SECONDS,
                                     follow_redirects=False) as http:
            self._http = http
            while True:
                self._wake.clear()
                try:
                    await self.send_due()
                    wait = await asyncio.to_thread(self._until_next)
                except Exception:  # noqa: BLE001 - the loop outlives a bad moment
                    log.exception("%s: the outbox could not be read; trying again", self.agency)
                    wait = 1.0
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
                except TimeoutError:
                    pass

    def _until_next(self) -> float:
        with Session(self._engine) as session:
            due = outbox.next_due(session, self.agency)
        if due is None:
            return IDLE_SECONDS
        return min(max((due - self._now()).total_seconds(), 0.05), IDLE_SECONDS)

    async def send_due(self) -> int:
        """Every entry due now, a few at a time; how many were tried."""
        tried = 0
        gate = asyncio.Semaphore(AT_ONCE)

        async def attempt(entry: OutboxEntry, subscription: Subscription) -> None:
            async with gate:
                error = await self._deliver(entry, subscription)
            await asyncio.to_thread(self._settle, entry.id or 0, error)

        while True:
            claimed = await asyncio.to_thread(self._claim)
            if not claimed:
                return tried
            await asyncio.gather(*(attempt(e, s) for e, s in claimed))
            tried += len(claimed)

    def _claim(self) -> list[tuple[OutboxEntry, Subscription]]:
        with Session(self._engine, expire_on_commit=False) as session:
            return outbox.claim_due(session, self.agency, self._now(), limit=50)

    def _settle(self, entry_id: int, error: str) -> None:
        with Session(self._engine) as session:
            outbox.settle(session, entry_id, self._now(), error)

    async def _deliver(self, entry: OutboxEntry, subscription: Subscription) -> str:
        """'' when delivered, else what went wrong (kept on the entry). Whatever goes
        wrong is the attempt's, within its time: never the loop's, nor another's."""
        try:
            if subscription.channel == "webhook":
                return await asyncio.wait_for(self._post(entry, subscription),
                                              ATTEMPT_TIMEOUT_SECONDS)
            if subscription.channel == "email":
                return await asyncio.wait_for(
                    asyncio.to_thread(self._mail, entry, subscription),
                    ATTEMPT_TIMEOUT_SECONDS + 5)
            return f"no channel {subscription.channel!r}"
        except TimeoutError:
            return f"no answer within {ATTEMPT_TIMEOUT_SECONDS:.0f} s"
        except Exception as err:  # noqa: BLE001 - kept on the entry, tried again later
            return f"{type(err).__name__}: {err}"[:500]

    async def _post(self, entry: OutboxEntry, subscription: Subscription) -> str:
        assert self._http is not None
        body = entry.body.encode()
        # The status alone: a receiver's body is never read (nor held in memory).
        async with self._http.stream("POST", subscription.target, content=body, headers={
                "Content-Type": "application/json", EVENT_HEADER: entry.event,
                KEY_HEADER: entry.key,
                HEADER: sign(subscription.secret, body, int(time.time()))}) as answer:
            if answer.is_success:
                return ""
            return f"HTTP {answer.status_code} from the receiver"

    def _mail(self, entry: OutboxEntry, subscription: Subscription) -> str:
        if self.mail is None:
            return "this agency has no mail server configured"
        message = _message(entry, subscription.target, self.mail.sender)
        smtp_class = smtplib.SMTP_SSL if self.mail.tls else smtplib.SMTP
        with smtp_class(self.mail.host, self.mail.port,
                        timeout=ATTEMPT_TIMEOUT_SECONDS) as smtp:
            smtp.send_message(message)
        return ""


def _message(entry: OutboxEntry, to: str, sender: str) -> EmailMessage:
    """An e-mail of the notification, Chinese first then English, with its key as the
    Message-ID's left part (a mail system that keeps ids drops a resend)."""
    body = json.loads(entry.body)
    zh, en = _EVENT_NAMES.get(entry.event, (entry.event, entry.event))
    case = body.get("case_number") or body.get("case_id", "")
    if entry.event == "task.delivered":
        lines_zh = [f"{zh}：{body.get('title', '')}（案件 {case}，任务 {body.get('task_id')}）",
                    f"签收期限 {body.get('sign_by', '')}，办结期限 {body.get('due_by', '')}"]
        lines_en = [f"{en}: {body.get('title', '')} (case {case}, task {body.get('task_id')})",
                    f"sign for by {body.get('sign_by', '')}, due by {body.get('due_by', '')}"]
    else:
        lines_zh = [f"{zh}：{body.get('text_zh') or body.get('text', '')}（案件 {case}）"]
        lines_en = [f"{en}: {body.get('text', '')} (case {case})"]
    message = EmailMessage()
    message["From"], message["To"] = sender, to
    message["Subject"] = f"[{zh} {en}] {case}"
    message["Message-ID"] = f"<{hashlib.sha256(entry.key.encode()).hexdigest()[:32]}@seamless>"
    message.set_content("\n".join([*lines_zh, "", *lines_en, "",
                                   f"Seamless-Idempotency-Key: {entry.key}"]))
    return message

