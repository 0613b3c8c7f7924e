"""`make faults`: the fault suite with its figures (see bench/faults/__init__.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.faults import isolation, kinds, report
from bench.faults.soak import SoakSettings, soak
from bench.faults.suite import Settings, run


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--seed", type=int, default=None,
                        help="the random seed (printed; give it again to replay a run)")
    parser.add_argument("--per-kind", type=int, default=100,
                        help="faults of each kind (default 100)")
    parser.add_argument("--kinds", default="",
                        help=f"comma-separated, of: {', '.join(kinds.KINDS)} (default: "
                             f"all), and with --postgres {', '.join(kinds.POSTGRES_KINDS)}")
    parser.add_argument("--postgres", action="store_true",
                        help="the platform's records on a PostgreSQL server the suite "
                             "starts (`make postgres`), as docker-compose.yml keeps them, "
                             "rather than in SQLite files")
    parser.add_argument("--round-size", type=int, default=5,
                        help="faults between two checks of every record (default 5)")
    parser.add_argument("--concurrency", type=int, default=4,
                        help="officers driving cases at once (default 4)")
    defaults = kinds.Holds()
    parser.add_argument("--hold", action="append", default=[], metavar="NAME=SECONDS",
                        help="how long a lasting fault lasts: "
                             + ", ".join(f"{name} (default {getattr(defaults, name):g})"
                                         for name in kinds.Holds.__dataclass_fields__)
                             + "; stop: Temporal stopped, partition: an agency cut off, "
                               "full: the ledger's disk, step: a clock ahead, postgres: "
                               "the records' server down")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where the platform keeps its data (default: a new temporary "
                             "folder, kept for inspection)")
    parser.add_argument("--soak-minutes", type=float, default=0.0,
                        help="run the soak instead of the rounds: this long (at least 10 "
                             "for the figures RELIABILITY.md keeps)")
    parser.add_argument("--rate", type=float, default=1.0,
                        help="the soak's cases opened per second (default 1)")
    parser.add_argument("--pollers", type=int, default=50,
                        help="the soak's officers polling their inbox every 10 s (default 50)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="write the figures as RELIABILITY.md's fault tables here")
    args = parser.parse_args(argv)
    known = kinds.KINDS + (kinds.POSTGRES_KINDS if args.postgres else ())
    wanted = tuple(k for k in args.kinds.split(",") if k) or known
    unknown = [k for k in wanted if k not in known]
    if unknown:
        parser.error(f"no such fault{'' if args.postgres else ' without --postgres'}: "
                     f"{', '.join(unknown)}")
    try:
        holds = kinds.Holds.parse(args.hold)
    except ValueError as err:
        parser.error(str(err))
    if isolation.needed(wanted) and not isolation.inside():
        isolation.run_inside(["-m", "bench.faults", *argv])
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="seamless-faults-")) / "data"
    if args.soak_minutes:
        return _soak(args, data_dir, seed, wanted, holds)
    settings = Settings(data_dir=data_dir, seed=seed, per_kind=args.per_kind, kinds=wanted,
                        round_size=args.round_size, concurrency=args.concurrency,
                        holds=holds, postgres=args.postgres)
    outcome = asyncio.run(run(settings, say=_say))
    figures = report.figures(outcome)
    return _publish(args, figures, report.summary(figures), soak=False)


def _soak(args: argparse.Namespace, data_dir: Path, seed: int, wanted: tuple[str, ...],
          holds: kinds.Holds) -> int:
    settings = SoakSettings(data_dir=data_dir, seed=seed, minutes=args.soak_minutes,
                            rate=args.rate, pollers=args.pollers, kinds=wanted,
                            holds=holds, postgres=args.postgres)
    result = asyncio.run(soak(settings, say=_say))
    figures = report.soak_figures(result)
    return _publish(args, figures, report.soak_summary(figures), soak=True)


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201


def _publish(args: argparse.Namespace, figures: dict[str, Any], summary: str, *,
             soak: bool) -> int:
    """The figures printed, and written where asked; 1 when a check did not hold."""
    print(summary)  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    if args.markdown:
        report.write_markdown(args.markdown, figures, soak=soak)
    return 1 if figures["failures"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
