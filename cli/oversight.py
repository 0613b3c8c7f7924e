"""`seamless oversight …` and `seamless audit verify`: what oversight staff (督查) read.

Without --as these run as oversight staff (the oversight body), who see every case; an
agency's officer sees only the cases that agency takes part in.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message

from cli import datadir, output_file, render
from cli.api import Gateway
from cli.arguments import leaf, timestamp
from observability.analysis import red_and_black
from records.event_schema import PLATFORM_ACTOR
from records.participation import OVERSIGHT
from seamless.v1 import case_pb2
from seamless.v1 import oversight_pb2 as pb

Handler = Callable[[argparse.Namespace], Any]
GAP_KINDS = [name.removeprefix("GAP_KIND_") for name in case_pb2.GapKind.keys()
             if name != "GAP_KIND_UNSPECIFIED"]
FORMATS = {"ocel2-json": pb.EXPORT_FORMAT_OCEL2_JSON, "csv": pb.EXPORT_FORMAT_CSV}


def _api(args: argparse.Namespace) -> Gateway:
    return Gateway(datadir.resolve(args.data_dir), args.as_agency or OVERSIGHT)


# Enum values in JSON output take the names the options take (ARRIVAL_PENDING).
_ENUM_PREFIXES = ("GAP_KIND_", "CASE_EVENT_KIND_")
_SECONDS = re.compile(r"^-?\d+(\.\d+)?s$")


def _document(message: Message) -> dict[str, Any]:
    """The answer as JSON: enum values as the options name them, and every duration
    both readable ("1h05m") and in seconds (`<name>_seconds`)."""
    document: dict[str, Any] = _readable(
        json_format.MessageToDict(message, preserving_proto_field_name=True))
    return document


def _readable(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, str) and _SECONDS.match(item):
                seconds = float(item[:-1])
                out[key] = render.span(seconds)
                out[f"{key}_seconds"] = seconds
            else:
                out[key] = _readable(item)
        return out
    if isinstance(value, list):
        return [_readable(item) for item in value]
    if isinstance(value, str):
        for prefix in _ENUM_PREFIXES:
            if value.startswith(prefix):
                return value.removeprefix(prefix)
    return value


def _duration(value: Duration, present: bool = True) -> str:
    if not present:
        return ""
    return render.span(value.ToTimedelta().total_seconds())


def _rate(card: pb.AgencyScorecard, field: str) -> str:
    return f"{getattr(card, field):.0%}" if card.HasField(field) else "-"


def _when(message: Message, field: str) -> str:
    if not message.HasField(field):
        return ""
    return render.local(getattr(message, field).ToJsonString())


def _gap_rows(gaps: Any) -> list[list[str]]:
    return [[g.case_number or g.case_id, g.task_id or "-",
             case_pb2.GapKind.Name(g.kind).removeprefix("GAP_KIND_"), g.accountable,
             f"{g.from_agency} -> {g.to_agency}", _when(g, "start_time"),
             _when(g, "end_time") or "OPEN", _duration(g.duration), _when(g, "deadline"),
             _breach(g)] for g in gaps]


def _breach(gap: pb.Gap) -> str:
    if not gap.breached:
        return ""
    # Still this phase's breach, counted once, but the lateness began in the one before.
    return "BREACHED (already late)" if gap.late_from_start else "BREACHED"


GAP_HEADERS = ["case", "task", "gap", "accountable", "waiting", "from", "until", "lasted",
               "deadline", ""]


def _since(args: argparse.Namespace, request: Any) -> None:
    if args.since:
        request.since.CopyFrom(timestamp(args.since, "--since"))


def timeline(args: argparse.Namespace) -> Any:
    reply = _api(args).oversee("GetTimeline", pb.GetTimelineRequest(case_id=args.case))
    if args.json:
        return _document(reply)
    lines = [f"case   {reply.case_number or reply.case_id}", f"trace  {reply.trace_id}"]
    if reply.case_number:
        lines.insert(1, f"id     {reply.case_id}")
    if reply.HasField("verdict") and not reply.verdict.intact:
        lines.insert(0, f"WARNING: this case's record does not hold (event "
                        f"{reply.verdict.broken_at}: {reply.verdict.problem}); run 'seamless "
                        "audit verify' and doubt what follows\n")
    if reply.HasField("lines"):
        three = reply.lines
        lines.append(f"lines  legal {_duration(three.legal)}   promised "
                     f"{_duration(three.promised)}   actual {_duration(three.actual)}"
                     + ("" if three.closed else " (still open)"))
    lines += ["", "who owned it", render.table(
        ["owner", "from", "until"],
        [[p.owner, _when(p, "start_time"), _when(p, "end_time") or "now"]
         for p in reply.ownership])]
    lines += ["", "events", render.table(
        ["#", "time", "event", "actor", "task", "detail"],
        [[str(e.sequence), _when(e, "time"),
          case_pb2.CaseEventKind.Name(e.kind).removeprefix("CASE_EVENT_KIND_"),
          e.actor.agency_id + (f" / {e.actor.officer_id}" if e.actor.officer_id and
                               e.actor.agency_id != PLATFORM_ACTOR else ""),
          e.task_id, e.detail[:60]] for e in reply.events])]
    lines += ["", "gaps", render.table(GAP_HEADERS, _gap_rows(reply.gaps))]
    for chain in reply.bounce_chains:
        lines.append(f"bounced {chain.bounces}x: " + " -> ".join(
            f"{t} {a}" for t, a in zip(chain.task_ids, chain.agencies, strict=True)))
    return "\n".join(lines)


def gaps(args: argparse.Namespace) -> Any:
    request = pb.ListGapsRequest(agency=args.agency, breached_only=args.breached,
                                 open_only=args.open, page_size=args.page_size,
                                 page_token=args.page_token,
                                 kind=f"GAP_KIND_{args.kind}" if args.kind else None)
    _since(args, request)
    reply = _api(args).oversee("ListGaps", request)
    if args.json:
        return _document(reply)
    text = render.table(GAP_HEADERS, _gap_rows(reply.gaps))
    if reply.next_page_token:
        text += f"\nmore: --page-token {reply.next_page_token}"
    return text


# --sort: the field each choice ranks by, and whether a lower value ranks first.
SORTS = {"score": ("score", False), "sign": ("on_time_sign_rate", False),
         "arrival": ("on_time_arrival_rate", False),
         "completion": ("on_time_completion_rate", False), "bounce": ("bounce_rate", True),
         "resolution": ("resolution_rate", False), "agency": ("agency", True)}


def _sorted(cards: list[pb.AgencyScorecard], by: str) -> list[pb.AgencyScorecard]:
    field, ascending = SORTS[by]
    if field == "agency":
        return sorted(cards, key=lambda c: c.agency)
    judged = [c for c in cards if c.HasField(field)]
    judged.sort(key=lambda c: (getattr(c, field) if ascending else -getattr(c, field),
                               c.agency))
    return judged + sorted((c for c in cards if not c.HasField(field)),
                           key=lambda c: c.agency)


def scorecard(args: argparse.Namespace) -> Any:
    request = pb.GetScorecardsRequest()
    _since(args, request)
    reply = _api(args).oversee("GetScorecards", request)
    ranked = _sorted(list(reply.scorecards), args.sort)
    if args.json:
        document = _document(reply)
        order = {c.agency: i for i, c in enumerate(ranked)}
        document["scorecards"] = sorted(document.get("scorecards", []),
                                        key=lambda c: order[c["agency"]])
        return document
    cards = render.table(
        ["rank", "agency", "score", "tasks", "signed on time", "on scene on time",
         "done on time", "bounce rate", "median accept", "cases led", "resolved"],
        [[str(c.rank) if c.rank else "-", c.agency, _rate(c, "score"), str(c.tasks),
          _rate(c, "on_time_sign_rate"), _rate(c, "on_time_arrival_rate"),
          _rate(c, "on_time_completion_rate"), _rate(c, "bounce_rate"),
          _duration(c.median_handoff_acceptance, c.HasField("median_handoff_acceptance")),
          str(c.cases_led), _rate(c, "resolution_rate")] for c in ranked])
    best, worst = red_and_black([c for c in reply.scorecards if c.rank])  # best first
    red = ", ".join(f"{c.agency} {c.score:.0%}" for c in best) or "none yet"
    black = ", ".join(f"{c.agency} {c.score:.0%}" for c in worst) or "none yet"
    cards += f"\n\nred list (红榜, best scores): {red}\nblack list (黑榜, worst): {black}"
    cards += "\n\n" + render.hotline_text(ranked, reply)
    lines = render.table(
        ["case type", "cases", "closed", "legal line", "promised line", "actual (median)",
         "within promised"],
        [[t.case_type, str(t.cases), str(t.closed), _duration(t.median_legal),
          _duration(t.median_promised),
          _duration(t.median_actual, t.HasField("median_actual")),
          f"{t.closed_within_promised}/{t.closed}"] for t in reply.case_type_lines])
    chains = "\n".join(f"{c.case_id}: bounced {c.bounces}x " + " -> ".join(c.agencies)
                       for c in reply.bounce_chains) or "none"
    return f"{cards}\n\nthe three lines\n{lines}\n\nbounce chains (踢皮球)\n{chains}"


def handoffs(args: argparse.Namespace) -> Any:
    request = pb.GetHandoffMatrixRequest()
    _since(args, request)
    reply = _api(args).oversee("GetHandoffMatrix", request)
    if args.json:
        return _document(reply)
    return render.table(
        ["from", "to", "offers", "accepted", "median wait", "p90 wait"],
        [[c.from_agency, c.to_agency, str(c.offers), str(c.accepted),
          _duration(c.median_wait, c.HasField("median_wait")),
          _duration(c.p90_wait, c.HasField("p90_wait"))] for c in reply.cells])


def export(args: argparse.Namespace) -> Any:
    if args.out:  # before the call: a FILE that may not be written costs no export
        output_file.refuse_unless_writable(Path(args.out), force=args.force)
    chunks = _api(args).export(pb.ExportEventLogRequest(format=FORMATS[args.format]))
    if args.out:
        # All or nothing, private, never through a link: see cli/output_file.py.
        written = output_file.write_whole(Path(args.out), chunks, force=args.force)
        return {"out": args.out, "bytes": written} if args.json else \
            f"wrote {written} bytes to {args.out}"
    for chunk in chunks:
        sys.stdout.buffer.write(chunk)
    sys.stdout.flush()
    return None


def verify(args: argparse.Namespace) -> Any:
    reply = _api(args).oversee("VerifyLedger", pb.VerifyLedgerRequest(case_id=args.case))
    if args.json:
        output: Any = _document(reply)
    else:
        broken = [v for v in reply.verdicts if not v.intact]
        witnessed = (f"; {reply.checkpoints} checkpoints of the worker, the latest "
                     f"{_when(reply, 'witnessed_at')}" if reply.checkpoints else
                     "; no checkpoint of the worker yet")
        output = "\n".join(
            [f"checked {reply.cases_checked} cases (chains, signatures, what the worker "
             "witnessed and the gap store oversight reads): "
             + ("every one holds" if not broken else f"{len(broken)} BROKEN") + witnessed]
            + [f"  {v.case_id}: broken at event {v.broken_at}: {v.problem}"
               for v in broken]
            + [f"  witness: {problem}" for problem in reply.witness_problems]
            + ([f"the engine, compared with the ledger: {len(reply.engine_findings)} findings"]
               if reply.engine_findings else [])
            + [f"  {f.case_number or f.case_id}: {f.kind} at "
               f"{_when(f, 'at') or 'an unknown time'}: {f.detail}"
               for f in reply.engine_findings])
    if reply.cases_broken or reply.witness_problems or reply.engine_findings:
        print(render.dumps(output) if args.json else output)  # noqa: T201
        return 1
    return output


def add_commands(commands: Any) -> None:
    oversight = commands.add_parser(
        "oversight", help="accountability: timelines, gaps, scorecards, hand-offs, exports")
    group = oversight.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = leaf(group, "timeline", timeline, "who held a case when, and where it stalled")
    p.add_argument("case")
    p = leaf(group, "gaps", gaps, "accountability gaps across cases, newest first")
    p.add_argument("--agency", default="", help="only gaps this agency was accountable for")
    p.add_argument("--kind", choices=GAP_KINDS, type=str.upper)
    p.add_argument("--breached", action="store_true", help="only gaps past their deadline")
    p.add_argument("--open", action="store_true",
                   help="only gaps still open (with --breached: what is stalled now)")
    p.add_argument("--since", default="", help="only gaps that began after this ISO time")
    p.add_argument("--page-size", type=int, default=0)
    p.add_argument("--page-token", default="")
    for name, handler, help in (
            ("scorecard", scorecard, "agency scorecards, ranked, and the three lines per "
                                     "case type"),
            ("handoffs", handoffs, "the agency-pair hand-off matrix")):
        p = leaf(group, name, handler, help)
        p.add_argument("--since", default="", help="only work begun after this ISO time")
        if name == "scorecard":
            p.add_argument("--sort", choices=sorted(SORTS), default="score",
                           help="rank by the overall score (default) or one figure")
    p = leaf(group, "export", export, "the event log for process-mining tools")
    p.add_argument("--format", choices=sorted(FORMATS), default="ocel2-json",
                   help="OCEL 2.0 JSON (default), or one CSV row per event")
    p.add_argument("--out", default="", help="write to this file, readable by you alone, "
                                             "once the whole export has arrived (default: "
                                             "stdout); never through a symbolic link")
    p.add_argument("--force", action="store_true",
                   help="with --out: replace the file if it exists")
    audit = commands.add_parser("audit", help="check the ledger (and the gap store read "
                                              "from it) was not altered")
    group = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = leaf(group, "verify", verify, "check one case or all: hash chains, the worker's "
                                      "checkpoints, every signature, the gap store against "
                                      "the ledger (exit 1 when anything does not hold)")
    p.add_argument("case", nargs="?", default="")
