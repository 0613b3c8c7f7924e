"""The imports run one way: each package imports only the parts below it, and no two
modules of the command line import each other (read from the source, so a lazy import
inside a function counts too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# What each part may import of ours (itself always).
ALLOWED = {
    "trust": set(),
    "records": {"trust", "seamless"},
    "observability": {"trust", "records", "seamless"},
    "workflows": {"trust", "records", "observability", "seamless"},
    "agencies": {"trust", "records", "observability", "workflows", "seamless"},
    "gateway": {"trust", "records", "observability", "workflows", "agencies", "seamless"},
    "cli": {"trust", "records", "observability", "workflows", "agencies", "gateway",
            "seamless"},
    "bench": {"trust", "records", "observability", "workflows", "agencies", "gateway", "cli",
              "seamless"},
}


def parse(source: str) -> ast.Module:
    # CPython 3.11 keeps the AST constructor's recursion depth per interpreter, not per
    # thread (python/cpython#106905): a parse racing one in another thread (an import
    # being rewritten by pytest, on a worker's thread) fails spuriously. Parse again.
    for _ in range(3):
        try:
            return ast.parse(source)
        except SystemError:
            continue
    return ast.parse(source)


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_parts_below_it(package: str) -> None:
    ours = set(ALLOWED)
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imports(path):
            top = name.split(".")[0]
            if top in ours | {"seamless"} and top != package:
                assert top in ALLOWED[package], f"{path.relative_to(ROOT)} imports {name}"


def test_no_two_modules_of_the_command_line_import_each_other() -> None:
    modules = {p.stem: p for p in (ROOT / "cli").glob("*.py")}
    edges = {name: {m.split(".")[1] for m in imports(path)
                    if m.startswith("cli.") and m.split(".")[1] in modules}
             for name, path in modules.items()}
    for name, targets in edges.items():
        for target in targets:
            assert name not in edges.get(target, set()), \
                f"cli/{name}.py and cli/{target}.py import each other"
