"""The console's live line (`GET /events`, server-sent events): the moment something
changes in a case the signed-in officer's agency takes part in (new work, a notice, a
decline to review, an offer), the open inbox hears of it and reloads its list, rather
than at its next poll (the poll stays, slower, as the fallback).

One look at the ledger a second serves every open page (`LiveHub`): the entries
appended since the last look, and the agencies taking part in their cases. It looks
after the ledger's transaction, so the read model the page then reads already has the
change. A line says only "look again": what the page then shows is read through the
same authorized calls as any page.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.agency_links import AgencyLinks, SessionUnconfirmed
from gateway.console.web import Reader
from observability import projection
from records import event_schema

# How often the hub looks at the ledger while a page listens.
LOOK_SECONDS = 1.0
# Entries appended at once commit in any order (on PostgreSQL an id taken first may
# commit last): each look reads this many entries back again, and wakes for those it had
# not seen.
RESCAN = 500
# A quiet line's heartbeat (proxies close silent connections), and when the session is
# asked about again: signed out, the line ends.
HEARTBEAT_SECONDS = 20.0
# A line ends after this long; the page reconnects (the session is checked anew).
LINE_SECONDS = 30 * 60.0
# Open lines per session at once (a few tabs), and in all; more are refused, and poll.
MAX_LINES_PER_SESSION = 4
MAX_LINES = 2000
# How soon a page whose line dropped tries again (the EventSource's own retry).
RETRY_MS = 5000
# Entries for the coordinator's queue, in cases it may take no part in.
_COORDINATOR_KINDS = (event_schema.EventKind.ESCALATION,
                      event_schema.EventKind.ESCALATION_RESOLVED,
                      event_schema.EventKind.LEAD_OBJECTED,
                      event_schema.EventKind.OBJECTION_DECIDED)


class LiveHub:
    """Wakes the open lines of each agency whose cases changed; looks at the ledger only
    while some line is open."""

    def __init__(self, ledger: Engine, coordinator: str) -> None:
        self._ledger, self._coordinator = ledger, coordinator
        self._lines: dict[str, set[asyncio.Event]] = {}
        self._looking: asyncio.Task[None] | None = None

    @contextmanager
    def line(self, agency: str) -> Iterator[asyncio.Event]:
        """An event set whenever the agency's cases changed (the holder clears it)."""
        woken = asyncio.Event()
        self._lines.setdefault(agency, set()).add(woken)
        if self._looking is None or self._looking.done():
            self._looking = asyncio.create_task(self._look(), name="console live hub")
        try:
            yield woken
        finally:
            lines = self._lines.get(agency, set())
            lines.discard(woken)
            if not lines:
                self._lines.pop(agency, None)

    async def _look(self) -> None:
        after = await asyncio.to_thread(self._last)
        # What was there before the first line opened is not news.
        seen = {entry for entry, _, _ in await asyncio.to_thread(
            self._parties, max(after - RESCAN, 0), after)}
        while self._lines:
            await asyncio.sleep(LOOK_SECONDS)
            try:
                upto = await asyncio.to_thread(self._last)
                rows = await asyncio.to_thread(self._parties, max(after - RESCAN, 0), upto)
            except Exception:  # noqa: BLE001 - a bad second; the pages poll meanwhile
                continue
            touched: set[str] = set()
            for entry, agency, for_coordinator in rows:
                if entry not in seen:
                    touched.add(agency)
                    if for_coordinator:
                        touched.add(self._coordinator)
            seen = {entry for entry, _, _ in rows if entry > upto - 2 * RESCAN}
            after = max(after, upto)
            for agency in touched:
                for woken in self._lines.get(agency, ()):
                    woken.set()

    def _last(self) -> int:
        with self._ledger.connect() as connection:
            return projection.last_entry(connection)

    def _parties(self, after: int, upto: int) -> list[tuple[int, str, bool]]:
        with self._ledger.connect() as connection:
            return projection.parties_of_entries(connection, after, upto,
                                                 [k.value for k in _COORDINATOR_KINDS])


class LiveLine:
    def __init__(self, links: AgencyLinks, hub: LiveHub) -> None:
        self._links, self._hub = links, hub
        # Each session's lines, counted from the moment they are granted (a line whose
        # client left before it began is gone with its generator).
        self._open: defaultdict[str, weakref.WeakSet[AsyncIterator[str]]] = \
            defaultdict(weakref.WeakSet)

    async def events(self, request: Request, reader: Reader) -> Response:
        session = reader.session
        try:
            standing = await self._links.check_session(session)
        except SessionUnconfirmed:
            return Response(status_code=503)
        if not standing.active:
            return Response(status_code=401)
        for ended in [key for key, held in self._open.items() if not held]:
            del self._open[ended]
        lines = self._open[session.session_id]
        if len(lines) >= MAX_LINES_PER_SESSION or \
                sum(len(held) for held in self._open.values()) >= MAX_LINES:
            return Response(status_code=429)
        relay = self._relay(reader)
        lines.add(relay)
        return StreamingResponse(relay, media_type="text/event-stream",
                                 headers={"x-accel-buffering": "no"})

    async def _relay(self, reader: Reader) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        ends = loop.time() + LINE_SECONDS
        asked = loop.time()
        with self._hub.line(reader.agency) as woken:
            yield f"retry: {RETRY_MS}\n\n"
            while loop.time() < ends:
                try:
                    await asyncio.wait_for(woken.wait(), HEARTBEAT_SECONDS)
                    woken.clear()
                    said = f"event: work\ndata: {json.dumps({'agency': reader.agency})}\n\n"
                except TimeoutError:
                    said = ": alive\n\n"
                # However busy the line, the session is asked about as often.
                if loop.time() - asked >= HEARTBEAT_SECONDS:
                    asked = loop.time()
                    if not await self._stands(reader):
                        return
                yield said

    async def _stands(self, reader: Reader) -> bool:
        try:
            return (await self._links.check_session(reader.session)).active
        except SessionUnconfirmed:
            return True  # the agency is away a moment: keep the line, ask again later
