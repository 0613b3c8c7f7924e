"""Every version gate is declared in workflows/versions.py, once, with its date."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from workflows import versions

ROOT = Path(__file__).parents[2]
# A marker that records a verdict for replay (a refused start), not a version.
NOT_A_VERSION = {"workflows/seals.py"}


def test_no_patch_is_asked_for_outside_the_versions_module() -> None:
    for path in sorted((ROOT / "workflows").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in NOT_A_VERSION or name == "workflows/versions.py":
            continue
        assert "workflow.patched(" not in path.read_text(encoding="utf-8"), name


def test_each_patch_has_its_own_marker_and_the_date_it_was_added() -> None:
    markers = [patch.marker for patch in versions.ALL]
    assert len(markers) == len(set(markers))
    for patch in versions.ALL:
        assert re.fullmatch(r"[a-z-]+", patch.marker) and patch.what
        date.fromisoformat(patch.added)
    assert versions.CURRENT in versions.ALL
