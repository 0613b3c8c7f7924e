"""The console's oversight page (stalled now, gaps, scorecards, hand-offs, the three
lines, the ledger's verification, engine findings) and its exports.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import timedelta
from typing import Any

from connectrpc.code import Code
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.console.core import ConsoleCore
from gateway.console.web import (
    Reader,
    started_elsewhere,
    stream,
)
from observability import analysis
from seamless.v1 import case_pb2
from seamless.v1 import oversight_pb2 as ov
from workflows import reconcile

# The stalled cases the oversight page lists: a page of the gap store at a time, at most
# STALLED_MAX in all.
STALLED_PAGE = 200
STALLED_MAX = 1000


class OversightPages(ConsoleCore):
    """Oversight and its exports."""

    async def oversight(self, request: Request, reader: Reader) -> Response:
        if started_elsewhere(request):
            return self._confirm(request, reader)
        query = request.query_params
        kinds = case_pb2.GapKind.keys()[1:]
        kind = query["kind"] if query.get("kind") in kinds else None
        filtered = await self._call(reader, "OversightService/ListGaps", ov.ListGapsRequest(
            agency=query.get("agency", "")[:64], kind=kind,
            breached_only=query.get("breached") == "on", page_size=100))
        stalled, more_stalled = await self._stalled(reader)
        scores = await self._call(reader, "OversightService/GetScorecards",
                                  ov.GetScorecardsRequest())
        ranked = sorted((s for s in scores.scorecards if s.rank), key=lambda s: s.rank)
        best, worst = analysis.red_and_black(ranked)
        # Scored, but on too few tasks to be ranked: shown after the ranking, unranked.
        ranked += [s for s in scores.scorecards if s.HasField("score") and not s.rank]
        red, black = {s.agency for s in best}, {s.agency for s in worst}
        matrix = await self._call(reader, "OversightService/GetHandoffMatrix",
                                  ov.GetHandoffMatrixRequest())
        parties = sorted({c.from_agency for c in matrix.cells} |
                         {c.to_agency for c in matrix.cells})
        cells = {(c.from_agency, c.to_agency): c for c in matrix.cells}
        busiest = max((c.offers for c in matrix.cells), default=0)
        verdict = await self._call(reader, "OversightService/VerifyLedger",
                                   ov.VerifyLedgerRequest())
        longest = max((max(line.median_legal.ToTimedelta(),
                           line.median_promised.ToTimedelta(),
                           line.median_actual.ToTimedelta())
                       for line in scores.case_type_lines), default=timedelta(0))
        # A case the engine ended or forgot past the platform waits on nobody: its last
        # gap shows the intervention, not the last agency's wait.
        intervened = {f.case_id: f for f in verdict.engine_findings
                      if f.kind in (reconcile.ENDED_BY_ENGINE, reconcile.GONE_FROM_ENGINE)}
        return self.render(request, reader, "oversight.html", stalled=stalled,
                           intervened=intervened,
                           gaps=filtered.gaps, query=query, kinds=kinds,
                           scorecards=scores.scorecards, ranked=ranked, red=red,
                           black=black, parties=parties, cells=cells, busiest=busiest,
                           lines=scores.case_type_lines, longest=longest,
                           types=scores.case_type_scorecards, areas=scores.area_reports,
                           verdict=verdict, more_stalled=more_stalled,
                           ranking_minimum=analysis.RANKING_MINIMUM_TASKS)

    async def _stalled(self, reader: Reader) -> tuple[list[Any], bool]:
        """Every open gap past its deadline, the longest first; past STALLED_MAX, the
        ones that began last (the gap list's order) and a flag saying so."""
        gaps: list[Any] = []
        token = ""
        while len(gaps) < STALLED_MAX:
            page = await self._call(reader, "OversightService/ListGaps", ov.ListGapsRequest(
                breached_only=True, open_only=True, page_size=STALLED_PAGE,
                page_token=token))
            gaps += page.gaps
            token = page.next_page_token
            if not token:
                break
        return sorted(gaps, key=lambda g: g.start_time.ToDatetime()), bool(token)

    def _confirm(self, request: Request, reader: Reader) -> Response:
        """A heavy page another site opened: one click of the reader's own runs it."""
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return self.render(request, reader, "confirm.html", target=target)

    async def export(self, request: Request, reader: Reader) -> Response:
        if started_elsewhere(request):
            return self._confirm(request, reader)
        formats = {"csv": (ov.EXPORT_FORMAT_CSV, "text/csv", "seamless-events.csv"),
                   "ocel": (ov.EXPORT_FORMAT_OCEL2_JSON, "application/json",
                            "seamless-events.ocel.json")}
        chosen = formats.get(request.path_params["format"])
        if chosen is None:
            return self.render(request, reader, "error.html", status=404,
                               code=Code.NOT_FOUND, message="csv or ocel")
        export_format, media, filename = chosen
        chunks = stream(self._ops, reader, "OversightService/ExportEventLog",
                        ov.ExportEventLogRequest(format=export_format))
        # The first chunk before the answer starts: a refusal is still a page.
        try:
            first = await anext(chunks, None)
        except BaseException:
            await chunks.aclose()
            raise

        async def body() -> AsyncIterator[bytes]:
            async with aclosing(chunks):
                if first is not None:
                    yield first.data
                async for chunk in chunks:
                    yield chunk.data
        return StreamingResponse(body(), media_type=media, headers={
            "content-disposition": f'attachment; filename="{filename}"'})
