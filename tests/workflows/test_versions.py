"""The case workflow's versions are declared in workflows/versions.py alone, and asked of
the engine in one place."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from workflows import versions

ROOT = Path(__file__).parents[2]
# Where `workflow.patched` may be asked: the case's version, once, at its opening; and a
# marker that records a verdict for replay (a refused start), which is no version.
ASKED_IN = {"workflows/case_workflow.py": 1, "workflows/seals.py": 2}


def test_no_patch_is_asked_for_outside_the_one_place_that_asks() -> None:
    for path in sorted((ROOT / "workflows").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        asked = path.read_text(encoding="utf-8").count("workflow.patched(")
        assert asked == ASKED_IN.get(name, 0), name


def test_the_pure_rules_take_a_version_not_flags() -> None:
    source = (ROOT / "workflows" / "rules" / "case.py").read_text(encoding="utf-8")
    signature = source[source.index("def __init__"):source.index(") -> None:")]
    assert "version: int" in signature and "bool" not in signature


def test_each_patch_brings_the_next_version_with_its_own_marker_and_dates() -> None:
    assert [patch.version for patch in versions.ALL] == list(
        range(versions.RELEASE + 1, versions.RELEASE + 1 + len(versions.ALL)))
    markers = [patch.marker for patch in versions.ALL]
    assert len(markers) == len(set(markers))
    for patch in versions.ALL:
        assert re.fullmatch(r"[a-z-]+", patch.marker) and patch.what and patch.remove_when
        date.fromisoformat(patch.added)
    assert versions.LATEST == (versions.ALL[-1].version if versions.ALL else versions.RELEASE)


def test_the_versions_module_is_pure_data() -> None:
    source = (ROOT / "workflows" / "versions.py").read_text(encoding="utf-8")
    assert "temporalio" not in source.replace("`", "").split('"""', 2)[2]
