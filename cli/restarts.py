"""How often each process of `seamless up` was restarted after it died.

supervisord restarts a crashed process but counts nothing a client can ask for, so
`seamless up` runs this module as a supervisord event listener: it hears every process
state change and keeps a count per process in a private JSON file in the run folder
(written whole, so a reader never sees half of it), which `seamless status` reads.

    python -m cli.restarts COUNTS_FILE

The listener must answer every event (READY, then RESULT): supervisord sends a listener
nothing more until it does, so a failure to count is reported and the event answered.
"""

from __future__ import annotations

import json
import signal
import sys
import traceback
from pathlib import Path
from typing import BinaryIO

from trust.files import write_private

COUNTS_FILE = "restarts.json"
# A start from EXITED follows a process that ran and died (autorestart); from BACKOFF, a
# retry after one that died while it was still starting. The first start (from STOPPED)
# and an operator's stop-and-start are not restarts.
RESTARTED_FROM = frozenset({"EXITED", "BACKOFF"})

READY = b"READY\n"
OK = b"RESULT 2\nOK"


def _fields(text: str) -> dict[str, str]:
    """supervisord's `key:value key:value` lines (a value may hold a colon)."""
    return dict(field.partition(":")[::2] for field in text.split())


def restarted(event: str, payload: str) -> str | None:
    """The process this event restarts, if it is a restart."""
    if event != "PROCESS_STATE_STARTING":
        return None
    fields = _fields(payload)
    return fields.get("processname") if fields.get("from_state") in RESTARTED_FROM else None


def read(path: Path) -> dict[str, int] | None:
    """Restarts per process, or None when no `seamless up` keeps the file."""
    try:
        counts = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return {str(name): int(count) for name, count in counts.items()}


def reset(path: Path) -> None:
    write_private(path, "{}\n")


def listen(path: Path, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Answer supervisord's events until it closes the pipe."""
    # Restarted itself, the listener carries on from what it counted before.
    counts = read(path) or {}
    while True:
        stdout.write(READY)
        stdout.flush()
        header = stdin.readline()
        if not header:
            return
        try:
            fields = _fields(header.decode())
            payload = stdin.read(int(fields["len"])).decode()
            name = restarted(fields.get("eventname", ""), payload)
            if name is not None:
                counts[name] = counts.get(name, 0) + 1
                write_private(path, json.dumps(counts, indent=2, sort_keys=True) + "\n")
        except Exception:  # a count lost must not stall supervisord
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
        stdout.write(OK)
        stdout.flush()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m cli.restarts COUNTS_FILE")
    # Stopped by supervisord (last of all): an ordinary end, not a crash.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    listen(Path(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)
