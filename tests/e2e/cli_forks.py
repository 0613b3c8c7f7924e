"""The `seamless` command for the end-to-end tests, without its start-up cost.

A `seamless` process spends about two seconds of CPU importing what its commands need
(gRPC, Temporal's client, SQLAlchemy, cryptography, pydantic) before it does anything,
and the end-to-end tests run it hundreds of times on a 2-core machine, beside the
platforms they test: that was most of their time.

So each test process keeps one server that has imported the command line once, and a
command is a fork of it: a process of its own, with the test's arguments, environment,
working directory, standard input and output, that runs the command line's own entry
point (`cli.main.entry_point`, what `.venv/bin/seamless` runs) and exits with its
status. Only the interpreter's start and the imports are shared; nothing the command
line reads from its environment is read before the fork (its settings, data directory
and sessions are read when a command runs). `SEAMLESS_TEST_CLI_FORKS=0` runs the real
`.venv/bin/seamless` instead.
"""

from __future__ import annotations

import atexit
import json
import locale
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SEAMLESS = str(Path(sys.executable).parent / "seamless")
_ENABLED = os.environ.get("SEAMLESS_TEST_CLI_FORKS", "1") != "0"


# ----- the server (a process of its own) -------------------------------------------------

def _serve(path: str) -> None:
    from cli import main as cli_main

    cli_main.build_parser()  # imports every command's module, as a command would
    # Modules are looked for where `.venv/bin/seamless` looks, not in a command's folder.
    sys.path[0] = str(Path(SEAMLESS).parent)
    parent = os.getppid()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the forks reap themselves
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(64)
    listener.settimeout(1.0)
    print("ready", flush=True)  # noqa: T201
    while os.getppid() == parent:  # ends with the test process that started it
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _command(connection)  # never returns
        connection.close()


def _command(connection: socket.socket) -> None:
    """In the fork: the command the request names, then its status back; exits."""
    status = 1
    try:
        with connection.makefile("rb") as lines:
            request = json.loads(lines.readline())
        connection.sendall(f"{os.getpid()}\n".encode())
        os.chdir(request["cwd"])
        for fd, (path, flags) in enumerate([(request["stdin"], os.O_RDONLY),
                                            (request["stdout"], os.O_WRONLY),
                                            (request["stderr"], os.O_WRONLY)]):
            opened = os.open(path, flags)
            os.dup2(opened, fd)
            os.close(opened)
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [SEAMLESS, *request["args"]]
        status = _entry_point()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - a closed stream has nothing left
                pass
        try:
            connection.sendall(f"{status}\n".encode())
        finally:
            os._exit(0)


def _entry_point() -> int:
    """`cli.main.entry_point`, with the exit status an interpreter would give."""
    from cli.main import entry_point

    try:
        entry_point()
        return 0
    except SystemExit as exit:
        if exit.code is None:
            return 0
        if isinstance(exit.code, int):
            return exit.code
        print(exit.code, file=sys.stderr)  # noqa: T201
        return 1
    except BaseException:  # noqa: BLE001 - reported as the interpreter would
        traceback.print_exc()
        return 1
    finally:
        atexit._run_exitfuncs()


# ----- the client (the test process) -----------------------------------------------------

class _Server:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._folder = ""

    def address(self) -> str:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._folder = tempfile.mkdtemp(prefix="seamless-cli-")
                path = os.path.join(self._folder, "socket")
                self._process = subprocess.Popen(
                    [sys.executable, "-c", "import sys; from tests.e2e.cli_forks import "
                     "_serve; _serve(sys.argv[1])", path],
                    cwd=Path(__file__).parents[2], stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, text=True)
                assert self._process.stdout is not None
                ready = self._process.stdout.readline()
                if ready.strip() != "ready":
                    self._process.kill()
                    raise RuntimeError("the command line's fork server did not start")
                atexit.register(self.stop)
            return os.path.join(self._folder, "socket")

    def stop(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.kill()
                self._process.wait()
                self._process = None
                shutil.rmtree(self._folder, ignore_errors=True)


_SERVER = _Server()


def run(args: Sequence[str], *, env: Mapping[str, str] | None = None,
        input: str | None = None, timeout: float | None = None, check: bool = False,
        cwd: str | os.PathLike[str] | None = None) -> subprocess.CompletedProcess[str]:
    """`subprocess.run([SEAMLESS, *args], capture_output=True, text=True, ...)`."""
    command = [SEAMLESS, *args]
    if not _ENABLED:
        return subprocess.run(command, capture_output=True, text=True, env=env, input=input,
                              timeout=timeout, check=check, cwd=cwd)
    folder = Path(tempfile.mkdtemp(prefix="seamless-command-"))
    try:
        encoding = locale.getpreferredencoding(False)
        streams = {name: folder / name for name in ("stdin", "stdout", "stderr")}
        streams["stdin"].write_bytes((input or "").encode(encoding))
        streams["stdout"].touch()
        streams["stderr"].touch()
        request: dict[str, Any] = {
            "args": list(args), "env": dict(os.environ if env is None else env),
            "cwd": os.fspath(cwd or os.getcwd()),
            **{name: str(path) for name, path in streams.items()}}
        with socket.socket(socket.AF_UNIX) as connection:
            connection.settimeout(timeout)
            connection.connect(_SERVER.address())
            connection.sendall(json.dumps(request).encode() + b"\n")
            with connection.makefile("rb") as lines:
                pid = int(lines.readline())
                try:
                    answer = lines.readline()
                except TimeoutError:
                    os.kill(pid, signal.SIGKILL)
                    raise subprocess.TimeoutExpired(command, timeout or 0) from None
        status = int(answer) if answer.strip() else -signal.SIGKILL

        def text(name: str) -> str:
            return streams[name].read_bytes().decode(encoding).replace(
                "\r\n", "\n").replace("\r", "\n")
        result = subprocess.CompletedProcess(command, status, text("stdout"), text("stderr"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if check:
        result.check_returncode()
    return result
