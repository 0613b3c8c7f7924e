"""Load and validate the catalog: agency directory, working calendar, playbooks.

Files are checked in full at load, so a coordinator who adds a case type learns of a
mistake from the message (file, field, problem) rather than from a stuck case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from records.event_schema import PLATFORM_ACTOR
from records.participation import OVERSIGHT
from workflows.rules.calendar import WorkingCalendar, parse_duration
from workflows.rules.catalog import CaseRules, Directory, Playbook, TaskKind
from workflows.rules.task_ops import clock_order_problem

DEFAULT_CATALOG = Path(__file__).parent / "catalog"
# Ids no agency may take: they name the platform itself and the oversight body.
RESERVED_IDS = (PLATFORM_ACTOR, OVERSIGHT)
T = TypeVar("T")


class CatalogError(ValueError):
    """A catalog file is malformed; the message names the file, field and problem."""


@dataclass(frozen=True)
class Catalog:
    directory: Directory
    calendar: WorkingCalendar
    playbooks: dict[str, Playbook]

    def rules_for(self, case_type: str) -> CaseRules | None:
        playbook = self.playbooks.get(case_type)
        if playbook is None:
            return None
        return CaseRules(playbook=playbook, directory=self.directory, calendar=self.calendar)


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise CatalogError(f"{path.name}: not valid YAML: {err}") from None


def _parse(path: Path, kind: type[T], data: Any) -> T:
    try:
        return TypeAdapter(kind).validate_python(data)
    except ValidationError as err:
        problems = "; ".join(f"{_field_path(e['loc'])}: {_problem(e)}" for e in err.errors())
        raise CatalogError(f"{path.name}: {problems}") from None


def _field_path(loc: tuple[int | str, ...]) -> str:
    """('task_kinds', 0, 'title') -> 'task_kinds[0].title', as the other messages say it."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(top level)"


def _problem(error: Any) -> str:
    if error["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        return "unknown field (check the spelling)"
    return str(error["msg"])


def load_directory(path: Path) -> Directory:
    directory = _parse(path, Directory, _read(path))
    ids = [a.id for a in directory.agencies]
    _no_duplicates(path, "agencies", ids)
    taken = sorted(set(ids) & set(RESERVED_IDS))
    if taken:
        raise CatalogError(f"{path.name}: agencies: {', '.join(taken)} is the platform's own "
                           "(the platform itself, the oversight body); choose another id")
    if directory.coordinator not in ids:
        raise CatalogError(f"{path.name}: coordinator: {directory.coordinator!r} is not listed")
    return directory


def load_calendar(path: Path) -> WorkingCalendar:
    calendar = _parse(path, WorkingCalendar, _read(path))
    for field in ("holidays", "extra_working_days"):
        for i, day in enumerate(getattr(calendar, field)):
            try:
                date.fromisoformat(day)
            except ValueError:
                raise CatalogError(
                    f"{path.name}: {field}[{i}]: {day!r} is not a date like 2026-10-01"
                ) from None
    return calendar


def load_playbook(path: Path, directory: Directory,
                  calendar: WorkingCalendar | None = None) -> Playbook:
    playbook = _parse(path, Playbook, _read(path))
    problems = list(_playbook_problems(playbook, directory, path.stem,
                                       calendar or WorkingCalendar()))
    if problems:
        raise CatalogError(f"{path.name}: " + "; ".join(problems))
    return playbook


def _playbook_problems(playbook: Playbook, directory: Directory, file_stem: str,
                       calendar: WorkingCalendar) -> Iterable[str]:
    if playbook.id != file_stem:
        yield f"id: {playbook.id!r} must match the file name {file_stem!r}"
    for field in ("legal_line", "promised_line", "handoff_expires_within",
                  "decline_review_within", "deemed_consent_issue_within",
                  "objection_within", "objection_decide_within", "follow_up_within"):
        yield from _duration_problem(field, getattr(playbook, field))
    if playbook.remind_at is not None and not 0 < playbook.remind_at < 1:
        yield (f"remind_at: {playbook.remind_at} must be a share of a clock's span "
               "between 0 and 1 (0.75: at three quarters), or null for no reminders")
    kinds = {k.id: k for k in playbook.task_kinds}
    if len(kinds) != len(playbook.task_kinds):
        yield "task_kinds: ids must be unique"
    for i, kind in enumerate(playbook.task_kinds):
        for field in ("sign_within", "due_within", "on_scene_within"):
            value = getattr(kind, field)
            if value is not None:
                yield from _duration_problem(f"task_kinds[{i}].{field}", value)
        if kind.needs_presence and not kind.on_scene_within:
            yield f"task_kinds[{i}].on_scene_within: required when needs_presence is true"
        yield from _clock_order_problems(f"task_kinds[{i}]", kind, calendar)
        if not any(kind.capability in a.capabilities for a in directory.agencies):
            yield f"task_kinds[{i}].capability: no agency has {kind.capability!r}"
    for stage in playbook.stages:
        if stage not in playbook.stage_names:
            yield f"stage_names: {stage!r} needs its names (Chinese, English)"
    for stage in playbook.stage_names:
        if stage not in playbook.stages:
            yield f"stage_names: {stage!r} is not one of the playbook's stages"
    if not playbook.matrix:
        yield "matrix: at least one row is required"
    for i, rule in enumerate(playbook.matrix):
        if directory.get(rule.lead) is None:
            yield f"matrix[{i}].lead: no agency {rule.lead!r} in the directory"
        if rule.stage != "*" and rule.stage not in playbook.stages:
            yield f"matrix[{i}].stage: {rule.stage!r} is not one of the playbook's stages"
        for j, task in enumerate(rule.opening_tasks):
            where = f"matrix[{i}].opening_tasks[{j}]"
            opening_kind = kinds.get(task.kind)
            agency = directory.get(task.assignee)
            if opening_kind is None:
                yield f"{where}.kind: {task.kind!r} is not a task kind of this playbook"
            elif agency is None:
                yield f"{where}.assignee: no agency {task.assignee!r} in the directory"
            elif opening_kind.capability not in agency.capabilities:
                yield (f"{where}.assignee: {agency.id} lacks the capability "
                       f"{opening_kind.capability!r}")


# Clocks are compared from starts that put working days, weekends and holidays each way.
_ORDER_CHECKED_FROM = (datetime(2026, 1, 5, 9, 0), datetime(2026, 1, 9, 17, 30),
                       datetime(2026, 1, 10, 12, 0))


def _clock_order_problems(where: str, kind: TaskKind, calendar: WorkingCalendar
                          ) -> Iterable[str]:
    try:
        durations = (parse_duration(kind.sign_within),
                     parse_duration(kind.on_scene_within) if kind.needs_presence
                     and kind.on_scene_within else None,
                     parse_duration(kind.due_within))
    except ValueError:
        return  # named as a bad duration already
    sign, on_scene, due = durations
    for start in (s.replace(tzinfo=calendar.tz) for s in _ORDER_CHECKED_FROM):
        problem = clock_order_problem(calendar.add(start, sign),
                                      calendar.add(start, on_scene) if on_scene else None,
                                      calendar.add(start, due))
        if problem is not None:
            field, text = problem
            yield f"{where}.{field}: {text} (a task is signed for, then on scene, then done)"
            return


def _duration_problem(field: str, value: str) -> Iterable[str]:
    try:
        parse_duration(value)
    except ValueError as err:
        yield f"{field}: {err}"


def _no_duplicates(path: Path, field: str, ids: list[str]) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError(f"{path.name}: {field}: duplicate ids {', '.join(duplicates)}")


def load_catalog(root: Path = DEFAULT_CATALOG) -> Catalog:
    directory = load_directory(root / "directory.yaml")
    calendar = load_calendar(root / "calendar.yaml")
    playbooks = {}
    for path in sorted((root / "playbooks").glob("*.yaml")):
        playbook = load_playbook(path, directory, calendar)
        playbooks[playbook.id] = playbook
    return Catalog(directory=directory, calendar=calendar, playbooks=playbooks)
