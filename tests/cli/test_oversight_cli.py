"""`seamless oversight export --out FILE` writes a private file whole or not at all, never
over an existing file without --force and never through a symbolic link; `seamless
audit verify` fails when the gateway names a case that does not hold (the gap store's
disagreement with the ledger among them).

The gateway is replaced by a stand-in that streams what each test needs: what is tested
is what the command does with the stream and the answer.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli import oversight
from cli.api import CallFailed
from cli.main import main
from seamless.v1 import oversight_pb2 as pb

EXPORT = [b'{"objects": [', b'{"id": "case-1"}', b"]}"]


class StandIn:
    """What `oversight._api` returns: the export stream, and the verify answer."""

    def __init__(self, chunks: Iterator[bytes] | None = None,
                 verified: pb.VerifyLedgerResponse | None = None) -> None:
        self.chunks = chunks if chunks is not None else iter(EXPORT)
        self.verified = verified
        self.exports = 0

    def export(self, _request: Any) -> Iterator[bytes]:
        self.exports += 1
        return self.chunks

    def oversee(self, method: str, _request: Any) -> Any:
        assert method == "VerifyLedger"
        return self.verified


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    stand_in = StandIn()
    monkeypatch.setattr(oversight, "_api", lambda _args: stand_in)
    yield stand_in


def export(out: Path, *extra: str) -> int:
    return main(["oversight", "export", "--out", str(out), *extra])


def left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_an_export_is_a_file_readable_by_its_owner_alone(
        gateway: StandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "log.ocel.json"
    old = os.umask(0o022)  # a usual umask: the file would be 0644 if it were left to it
    try:
        assert export(out) == 0
    finally:
        os.umask(old)
    assert out.read_bytes() == b"".join(EXPORT)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert left_in(tmp_path) == ["log.ocel.json"]  # no temporary file behind
    assert f"wrote {len(b''.join(EXPORT))} bytes to {out}" in capsys.readouterr().out


def test_an_existing_file_is_kept_without_force(gateway: StandIn, tmp_path: Path) -> None:
    out = tmp_path / "log.ocel.json"
    out.write_bytes(b"last week's export")
    with pytest.raises(SystemExit) as refused:
        export(out)
    assert "--force" in str(refused.value.code) and "exists" in str(refused.value.code)
    assert out.read_bytes() == b"last week's export"
    assert gateway.exports == 0  # refused before asking the gateway for anything
    assert left_in(tmp_path) == ["log.ocel.json"]


def test_force_replaces_an_existing_file_with_a_private_one(
        gateway: StandIn, tmp_path: Path) -> None:
    out = tmp_path / "log.ocel.json"
    out.write_bytes(b"last week's export")
    out.chmod(0o644)
    assert export(out, "--force") == 0
    assert out.read_bytes() == b"".join(EXPORT)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def failing_midway(failure: BaseException) -> Iterator[bytes]:
    yield EXPORT[0]
    raise failure


@pytest.mark.parametrize("failure", [
    CallFailed("UNAVAILABLE", "the gateway is not answering"), KeyboardInterrupt()],
    ids=["call-failed", "ctrl-c"])
@pytest.mark.parametrize("existing", [None, b"last week's export"], ids=["new", "existing"])
def test_a_failure_midway_leaves_no_file_and_the_old_one_untouched(
        gateway: StandIn, tmp_path: Path, failure: BaseException,
        existing: bytes | None) -> None:
    out = tmp_path / "log.ocel.json"
    if existing is not None:
        out.write_bytes(existing)
    gateway.chunks = failing_midway(failure)
    if isinstance(failure, CallFailed):
        assert export(out, "--force") == 1  # the error printed, exit 1
    else:
        with pytest.raises(KeyboardInterrupt):
            export(out, "--force")
    if existing is None:
        assert left_in(tmp_path) == []
    else:
        assert out.read_bytes() == existing
        assert left_in(tmp_path) == ["log.ocel.json"]


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
def test_a_symbolic_link_is_never_written_through(
        gateway: StandIn, tmp_path: Path, force: list[str]) -> None:
    target = tmp_path / "someone-elses.txt"
    target.write_bytes(b"theirs")
    link = tmp_path / "log.ocel.json"
    link.symlink_to(target)
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "would-be-created.txt")
    for out in (link, dangling):
        with pytest.raises(SystemExit) as refused:
            export(out, *force)
        assert "symbolic link" in str(refused.value.code)
    assert target.read_bytes() == b"theirs"
    assert link.is_symlink() and not (tmp_path / "would-be-created.txt").exists()
    assert gateway.exports == 0


def appearing(path: Path, content: bytes | None = None, link_to: Path | None = None
              ) -> Iterator[bytes]:
    """The export stream, while someone else puts a file (or a link) at FILE."""
    yield EXPORT[0]
    if link_to is not None:
        path.symlink_to(link_to)
    else:
        path.write_bytes(content or b"")
    yield from EXPORT[1:]


def test_a_file_that_appears_while_exporting_is_not_overwritten(
        gateway: StandIn, tmp_path: Path) -> None:
    out = tmp_path / "log.ocel.json"
    gateway.chunks = appearing(out, b"written meanwhile")
    with pytest.raises(SystemExit) as refused:
        export(out)
    assert "appeared while exporting" in str(refused.value.code)
    assert out.read_bytes() == b"written meanwhile"
    assert left_in(tmp_path) == ["log.ocel.json"]


def test_a_link_that_appears_while_exporting_is_replaced_not_followed(
        gateway: StandIn, tmp_path: Path) -> None:
    target = tmp_path / "someone-elses.txt"
    target.write_bytes(b"theirs")
    out = tmp_path / "log.ocel.json"
    gateway.chunks = appearing(out, link_to=target)
    assert export(out, "--force") == 0
    assert target.read_bytes() == b"theirs"
    assert not out.is_symlink() and out.read_bytes() == b"".join(EXPORT)


def test_a_folder_that_does_not_exist_is_named(gateway: StandIn, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as refused:
        export(tmp_path / "missing" / "log.ocel.json")
    assert "cannot write there" in str(refused.value.code)


# ----- audit verify ---------------------------------------------------------------------

def test_audit_verify_fails_when_the_gap_store_disagrees_with_the_ledger(
        gateway: StandIn, capsys: pytest.CaptureFixture[str]) -> None:
    problem = ("the gap store's HANDOFF_PENDING gap opened at event 3 (accountable: "
               "urban-management) was changed: accountable 'market-regulation' where the "
               "ledger gives 'urban-management'")
    gateway.verified = pb.VerifyLedgerResponse(
        cases_checked=2, cases_broken=1, verdicts=[
            pb.LedgerVerdict(case_id="case:a", intact=True, events=7),
            pb.LedgerVerdict(case_id="case:b", intact=False, events=7, broken_at=3,
                             problem=problem)])
    assert main(["audit", "verify"]) == 1
    printed = capsys.readouterr().out
    assert "1 BROKEN" in printed and f"case:b: broken at event 3: {problem}" in printed
    gateway.verified = pb.VerifyLedgerResponse(cases_checked=1, verdicts=[
        pb.LedgerVerdict(case_id="case:a", intact=True, events=7)])
    assert main(["audit", "verify"]) == 0
    assert "every one holds" in capsys.readouterr().out
