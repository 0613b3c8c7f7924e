"""The shipped catalog loads, its matrix picks the right leads, and bad files are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from workflows.catalog_loader import DEFAULT_CATALOG, Catalog, CatalogError, load_catalog

REQUIRED_AGENCIES = {
    "command-center", "jinhaihu-township", "natural-resources", "public-security",
    "emergency-management", "ecology-environment", "market-regulation", "agriculture-rural",
    "health", "urban-management", "traffic-police",
}


def test_every_playbook_signs_before_on_scene_before_due(catalog: Catalog) -> None:
    from datetime import datetime, timedelta, timezone

    from workflows.rules.calendar import parse_duration
    start = datetime(2026, 11, 30, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    for playbook in catalog.playbooks.values():
        for kind in playbook.task_kinds:
            sign = catalog.calendar.add(start, parse_duration(kind.sign_within))
            due = catalog.calendar.add(start, parse_duration(kind.due_within))
            on_scene = catalog.calendar.add(start, parse_duration(
                kind.on_scene_within)) if kind.needs_presence and kind.on_scene_within \
                else sign
            assert sign <= on_scene <= due, f"{playbook.id}/{kind.id}"


def test_the_five_playbooks_and_the_district_load(catalog: Catalog) -> None:
    assert set(catalog.playbooks) == {"illegal-mining", "food-supply-chain",
                                      "highway-emissions", "parallel-approval",
                                      "citizen-hotline"}
    assert REQUIRED_AGENCIES <= {a.id for a in catalog.directory.agencies}
    assert catalog.directory.coordinator == "command-center"
    assert all(a.name_zh and a.name_en for a in catalog.directory.agencies)


def test_every_task_kind_has_its_title_in_both_languages(catalog: Catalog) -> None:
    """The console's Chinese pages show a task's Chinese title: none may be missing."""
    for playbook in catalog.playbooks.values():
        for kind in playbook.task_kinds:
            assert kind.title and kind.title_zh, f"{playbook.id}: {kind.id}"
            assert not any("a" <= c.lower() <= "z" for c in kind.title_zh), kind.title_zh


def test_mining_whistle_brings_four_departments_within_30_minutes(catalog: Catalog) -> None:
    playbook = catalog.playbooks["illegal-mining"]
    rule = playbook.lead_rule(stage="", jurisdiction="jinhaihu")
    assert rule is not None and rule.lead == "jinhaihu-township"
    assert {t.assignee for t in rule.opening_tasks} == {
        "natural-resources", "public-security", "emergency-management", "ecology-environment"}
    for task in rule.opening_tasks:
        kind = playbook.task_kind(task.kind)
        assert kind is not None
        # Signed for first, then on scene within the 30 minutes of 吹哨报到.
        assert (kind.needs_presence, kind.sign_within, kind.on_scene_within) == (True, "10m",
                                                                                 "30m")


@pytest.mark.parametrize(("stage", "lead"), [
    ("production", "agriculture-rural"), ("processing", "quality-inspection"),
    ("circulation", "market-regulation"), ("catering", "market-regulation"),
    ("unlicensed", "urban-management"),
])
def test_food_lead_follows_the_stage(catalog: Catalog, stage: str, lead: str) -> None:
    rule = catalog.playbooks["food-supply-chain"].lead_rule(stage=stage, jurisdiction="pinggu")
    assert rule is not None and rule.lead == lead
    assert rule.opening_tasks, "the other stages get tasks to trace up and down the chain"


@pytest.mark.parametrize(("jurisdiction", "lead"), [
    ("jinhaihu", "jinhaihu-township"), ("pinggu", "command-center"),
])
def test_hotline_work_orders_open_empty_with_the_area_leading(
        catalog: Catalog, jurisdiction: str, lead: str) -> None:
    playbook = catalog.playbooks["citizen-hotline"]
    rule = playbook.lead_rule(stage="", jurisdiction=jurisdiction)
    assert rule is not None and rule.lead == lead
    assert rule.opening_tasks == (), "the lead dispatches once it has read the complaint"
    assert playbook.promised_line == "7d" and playbook.legal_line == "15d"


def test_parallel_approval_reviews_are_approvals_with_deemed_consent(catalog: Catalog) -> None:
    playbook = catalog.playbooks["parallel-approval"]
    assert playbook.stages == ("project-approval", "land-use", "planning-permit",
                               "construction-permit", "acceptance")
    assert playbook.deemed_consent_issue_within == "1wd"
    assert all(k.is_approval for k in playbook.task_kinds)
    assert len({r.stage for r in playbook.matrix}) == 5


def _catalog_copy(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG, root)
    return root


def _break_playbook(root: Path, name: str, edit: dict[str, object]) -> None:
    path = root / "playbooks" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dotted, value in edit.items():
        target = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is None:
            del target[int(leaf) if leaf.isdigit() else leaf]
        else:
            target[int(leaf) if leaf.isdigit() else leaf] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(("edit", "expected"), [
    ({"legal_line": "18 days"}, r"illegal-mining\.yaml: legal_line: '18 days' is not a"),
    ({"task_kinds.0.on_scene_withn": "30m"},
     r"illegal-mining\.yaml: task_kinds\[0\]\.on_scene_withn: unknown field"),
    ({"task_kinds.1.capability": None},
     r"illegal-mining\.yaml: task_kinds\[1\]\.capability: Field required"),
    ({"matrix.0.lead": "mining-police"},
     r"illegal-mining\.yaml: matrix\[0\]\.lead: no agency 'mining-police'"),
    ({"matrix.0.opening_tasks.0.assignee": "health"},
     r"opening_tasks\[0\]\.assignee: health lacks the capability 'mining-investigation'"),
    ({"id": "mining"}, r"illegal-mining\.yaml: id: 'mining' must match the file name"),
    ({"task_kinds.2.sign_within": "1x"}, r"task_kinds\[2\]\.sign_within: '1x' is not"),
    ({"task_kinds.0.capability": "teleportation"},
     r"task_kinds\[0\]\.capability: no agency has 'teleportation'"),
    # The inversion a new user met: on scene required before the task is signed for.
    ({"task_kinds.0.sign_within": "1h"},
     r"task_kinds\[0\]\.on_scene_within: the on-scene deadline falls before the sign-for"),
    ({"task_kinds.3.due_within": "20m"},
     r"task_kinds\[3\]\.due_within: the due-by falls before the on-scene deadline"),
    # On scene within two calendar days but done within one working day: from a
    # weekday morning the due-by comes first.
    ({"task_kinds.0.on_scene_within": "2d", "task_kinds.0.due_within": "1wd"},
     r"task_kinds\[0\]\.due_within: the due-by falls before the on-scene deadline"),
])
def test_malformed_playbook_is_refused_naming_file_field_and_problem(
        tmp_path: Path, edit: dict[str, object], expected: str) -> None:
    root = _catalog_copy(tmp_path)
    _break_playbook(root, "illegal-mining", edit)
    with pytest.raises(CatalogError, match=expected):
        load_catalog(root)


def test_invalid_yaml_is_refused_naming_the_file(tmp_path: Path) -> None:
    root = _catalog_copy(tmp_path)
    (root / "playbooks" / "highway-emissions.yaml").write_text("id: [unclosed\n")
    with pytest.raises(CatalogError, match=r"highway-emissions\.yaml: not valid YAML"):
        load_catalog(root)


def test_bad_holiday_is_refused(tmp_path: Path) -> None:
    root = _catalog_copy(tmp_path)
    (root / "calendar.yaml").write_text('holidays: ["2026-13-01"]\n')
    with pytest.raises(CatalogError, match=r"calendar\.yaml: holidays\[0\]: '2026-13-01'"):
        load_catalog(root)


@pytest.mark.parametrize("reserved", ["oversight", "seamless"])
def test_an_agency_may_not_take_the_platform_s_own_ids(tmp_path: Path, reserved: str
                                                        ) -> None:
    root = _catalog_copy(tmp_path)
    path = root / "directory.yaml"
    directory = yaml.safe_load(path.read_text(encoding="utf-8"))
    directory["agencies"].append({"id": reserved, "name_zh": "冒名", "name_en": "Impostor"})
    path.write_text(yaml.safe_dump(directory, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match=f"directory.yaml: agencies: {reserved} is the "
                                           "platform's own"):
        load_catalog(root)
