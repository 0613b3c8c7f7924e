"""Start one process of `seamless up` as supervisord asks: its command and environment
come from the table `seamless up` wrote (`cli.up.processes`, as JSON), then this process
becomes it (exec), so the pid supervisord watches and signals is the process's own.

The process is stopped (SIGTERM) when supervisord dies, however it dies: `seamless up`
starts supervisord again, and with it every process, which must find its port free.

Kept apart from supervisord's configuration because its `environment=` syntax cannot
carry every value (JSON with quotes and commas); a file of JSON carries anything.

    python -m cli.run_process TABLE_FILE NAME
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: python -m cli.run_process TABLE_FILE NAME")
    table_file, name = argv
    with open(table_file, encoding="utf-8") as file:
        entry = json.load(file)[name]
    command: list[str] = entry["command"]
    if sys.platform.startswith("linux"):  # kept across exec
        parent = os.getppid()
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # supervisord died before that
            raise SystemExit(1)
    os.execvpe(command[0], command, {**os.environ, **entry["environment"]})


if __name__ == "__main__":
    main(sys.argv[1:])
