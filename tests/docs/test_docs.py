"""The documentation holds to the code and to itself: the limits table is the one the
constants write, and every link between the README and docs/ reaches a file and a
heading that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs import limits_table

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_limits_table_is_the_one_the_code_writes() -> None:
    page = limits_table.PAGE.read_text(encoding="utf-8")
    assert limits_table.written(page) == page, \
        "docs/case-engine.md's limits differ from the code: run `make docs`"


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings (outside code blocks)."""
    anchors: set[str] = set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_reaches_a_file_and_a_heading(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # another site: not ours to check here
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target} does not exist"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), f"{page.name}: no heading #{anchor} in " \
                                               f"{linked.name}"


def test_the_readme_is_a_front_door() -> None:
    """About 200 lines: what it is, the two commands, a first case, where to go next."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 220
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{page.name}" in readme, f"the README does not lead to {page.name}"
