"""The faults that need the platform in namespaces of the suite's own: a full disk under
the ledger (a small filesystem mounted there) and a network partition (packets to one
agency dropped). The suite then runs, with the platform it starts, in a new mount
namespace and a new network namespace (`unshare`), so that what it mounts and the rules
it adds exist only there: nothing on the machine's own filesystems or network changes,
and the only addresses ever cut are the namespace's own loopback. As root nothing more is
needed; otherwise a user namespace maps the caller to root inside it.

* `fill:ledger-disk`: the ledger's folder is a filesystem of its own (tmpfs, a fixed
  size); the fault fills what is left of it with a file, holds it full a while (a write
  of the ledger or its read model that needs room fails: no space), then deletes it.
* `partition:agency`: every packet to and from one agency's mutual-TLS port (where the
  worker delivers its tasks and notices, and the gateway relays to it) dropped a while,
  then let through again: calls to it hang until their deadline, as across a cut link.
  Its officers' desk (another port) stays reachable.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

ISOLATED_KINDS = ("fill:ledger-disk", "partition:agency")
# The namespaces the suite was started in, handed to it inside its own: it is inside
# only where its namespaces differ from those (never the machine's own).
OUTSIDE = "SEAMLESS_FAULTS_OUTSIDE"
LEDGER_FILESYSTEM = "512m"
FILLER = ".fault-filler"
CHUNK = 1 << 20


def _tool(name: str) -> str:
    """The program's path ('' if missing), the system's folders included: a user's PATH
    often lacks them, and inside the namespaces the user is root."""
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin") or ""


def needed(kinds: tuple[str, ...]) -> bool:
    return any(kind in ISOLATED_KINDS for kind in kinds)


def _namespaces() -> str:
    return ":".join(str(os.stat(f"/proc/self/ns/{kind}").st_ino) for kind in ("net", "mnt"))


def inside() -> bool:
    """Whether this process runs in the namespaces `run_inside` made: a network and a
    mount namespace both other than those it was started in."""
    outside = os.environ.get(OUTSIDE, "")
    if not outside:
        return False
    return all(mine != theirs
               for mine, theirs in zip(_namespaces().split(":"), outside.split(":"),
                                       strict=True))


def run_inside(argv: list[str]) -> None:
    """Start this command again inside a new mount and network namespace (never
    returns); refused at once, saying why, where namespaces cannot be made."""
    missing = [tool for tool in ("unshare", "ip", "iptables") if not _tool(tool)]
    if missing:
        raise SystemExit(f"{', '.join(ISOLATED_KINDS)} need {', '.join(missing)} "
                         "(`make fault-tools`)")
    command = [_tool("unshare"), "--mount", "--propagation", "private", "--net"]
    if os.geteuid() != 0:
        command.append("--map-root-user")
    probe = subprocess.run([*command, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        raise SystemExit(f"this machine does not let the suite make namespaces of its own "
                         f"({probe.stderr.strip()}); run without {', '.join(ISOLATED_KINDS)}")
    os.execvpe(command[0], [*command, "--", sys.executable, *argv],
               {**os.environ, OUTSIDE: _namespaces()})


def prepare(data_dir: Path) -> None:
    """Inside the namespaces, before the platform starts: the loopback up, and the
    ledger's folder a small filesystem of its own."""
    if not inside():
        raise RuntimeError("the isolated faults run only inside the suite's namespaces")
    subprocess.run([_tool("ip"), "link", "set", "lo", "up"], check=True)
    ledger = ledger_dir(data_dir)
    ledger.mkdir(parents=True, exist_ok=True)
    subprocess.run([_tool("mount"), "-t", "tmpfs", "-o", f"size={LEDGER_FILESYSTEM},mode=0700",
                    "seamless-ledger", str(ledger)], check=True)


def ledger_dir(data_dir: Path) -> Path:
    """Where the embedded default keeps the ledger (cli.databases.on_sqlite)."""
    return data_dir / "ledger"


def fill(data_dir: Path) -> int:
    """The ledger's filesystem filled to its last byte; how many bytes that took."""
    # Never the machine's own disk: only the small filesystem `prepare` mounted.
    if not inside() or not os.path.ismount(ledger_dir(data_dir)):
        raise RuntimeError(f"{ledger_dir(data_dir)} is not the suite's own filesystem")
    written = 0
    chunk = b"\0" * CHUNK
    with (ledger_dir(data_dir) / FILLER).open("wb", buffering=0) as filler:
        size = len(chunk)
        while size:
            try:
                written += filler.write(chunk[:size])
            except OSError as err:
                if err.errno != errno.ENOSPC:
                    raise
                size //= 2
    return written


def free(data_dir: Path) -> None:
    (ledger_dir(data_dir) / FILLER).unlink(missing_ok=True)


def _rules(port: int) -> list[list[str]]:
    return [["OUTPUT", "-o", "lo", "-p", "tcp", direction, str(port), "-j", "DROP"]
            for direction in ("--dport", "--sport")]


def cut(port: int) -> None:
    """Every packet to or from `port` on the namespace's loopback dropped."""
    if not inside():  # never the machine's own network
        raise RuntimeError("a partition is made only inside the suite's namespaces")
    for rule in _rules(port):
        subprocess.run([_tool("iptables"), "-w", "-A", *rule], check=True)


def heal(port: int) -> None:
    for rule in _rules(port):
        subprocess.run([_tool("iptables"), "-w", "-D", *rule], check=True)
