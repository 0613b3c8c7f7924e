"""The fault suite's disk and network faults never touch the machine's own: outside the
namespaces it makes for itself they refuse, whatever its environment says."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.faults import isolation
from bench.faults.kinds import Holds


def test_outside_its_namespaces_the_suite_neither_fills_a_disk_nor_cuts_a_port(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ledger").mkdir()
    # Told it is inside, but in the namespaces it was started in: still outside.
    monkeypatch.setenv(isolation.OUTSIDE, isolation._namespaces())  # noqa: SLF001
    assert not isolation.inside()
    with pytest.raises(RuntimeError, match="not the suite's own filesystem"):
        isolation.fill(tmp_path)
    with pytest.raises(RuntimeError, match="only inside the suite's namespaces"):
        isolation.cut(65000)
    with pytest.raises(RuntimeError, match="only inside"):
        isolation.prepare(tmp_path)
    assert list((tmp_path / "ledger").iterdir()) == []


def test_holds_are_named_and_timed() -> None:
    assert Holds.parse(["partition=12", "full=8"]) == Holds(partition=12.0, full=8.0)
    with pytest.raises(ValueError, match="no such hold: parition"):
        Holds.parse(["parition=12"])
