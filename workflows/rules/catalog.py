"""Playbooks, the responsibility matrix and the agency directory, as plain data.

These are loaded and validated from data files outside the workflow (see
`workflows.catalog_loader`) and handed to each case as a snapshot, so a case keeps the
rules it was opened under even if a coordinator edits a playbook later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflows.rules.calendar import WorkingCalendar, parse_duration

# Unknown keys in a data file are mistakes (a misspelt field would silently do nothing).
_STRICT: dict[str, Any] = {"extra": "forbid"}


@dataclass(frozen=True)
class Agency:
    id: str
    name_zh: str
    name_en: str
    jurisdictions: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    __pydantic_config__ = _STRICT


@dataclass(frozen=True)
class Directory:
    coordinator: str
    agencies: tuple[Agency, ...]
    __pydantic_config__ = _STRICT

    def get(self, agency_id: str) -> Agency | None:
        return next((a for a in self.agencies if a.id == agency_id), None)

    def can(self, agency_id: str, capability: str) -> bool:
        """Whether the agency can do work needing `capability`: the one rule a dispatch, a
        decline's suggestion and an upheld decline's new assignee are held to."""
        agency = self.get(agency_id)
        return agency is not None and capability in agency.capabilities

    def able_to(self, capability: str, *, besides: str = "") -> list[str]:
        """Every agency that `can` do such work (but `besides`), in directory order."""
        return [a.id for a in self.agencies if a.id != besides and self.can(a.id, capability)]

    @property
    def hotline(self) -> str:
        """The desk that takes citizens' reports in and rates their answers: the
        coordinator's (in Pinggu the district command centre runs 接诉即办)."""
        return self.coordinator


@dataclass(frozen=True)
class TaskKind:
    """A kind of work a playbook dispatches, with its default clocks."""

    id: str
    title: str
    capability: str
    sign_within: str
    due_within: str
    on_scene_within: str | None = None
    needs_presence: bool = False
    # Approval tasks are deemed to consent when their due-by passes in silence.
    is_approval: bool = False
    # Its title in Chinese, for the console's Chinese pages (`title` is the English).
    title_zh: str = ""
    __pydantic_config__ = _STRICT


@dataclass(frozen=True)
class OpeningTask:
    """A task the lead dispatches the moment the case opens (吹哨: the whistle)."""

    kind: str
    assignee: str
    __pydantic_config__ = _STRICT


@dataclass(frozen=True)
class LeadRule:
    """One row of the responsibility matrix (权责清单). The first matching row decides."""

    lead: str
    stage: str = "*"
    jurisdiction: str = "*"
    # 首接负责: the agency that received the report may lead it itself.
    first_receiver_may_lead: bool = False
    opening_tasks: tuple[OpeningTask, ...] = ()
    __pydantic_config__ = _STRICT

    def matches(self, *, stage: str, jurisdiction: str) -> bool:
        return self.stage in ("*", stage) and self.jurisdiction in ("*", jurisdiction)


@dataclass(frozen=True)
class Playbook:
    id: str
    name_zh: str
    name_en: str
    legal_line: str
    promised_line: str
    task_kinds: tuple[TaskKind, ...]
    matrix: tuple[LeadRule, ...]
    stages: tuple[str, ...] = ()
    # Each stage's name, Chinese and English: what a page shows of it.
    stage_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    handoff_expires_within: str = "4h"
    decline_review_within: str = "2h"
    # After deemed consent the department must still issue its approval (1 working day).
    deemed_consent_issue_within: str = "1wd"
    # 派单异议: how long an agency made lead has to object, and the coordinator to decide.
    objection_within: str = "2h"
    objection_decide_within: str = "2h"
    # 回访: how long after close the hotline has to record the reporters' ratings.
    follow_up_within: str = "3wd"
    # 临期提醒: the share of a clock's span after which whoever it waits on is reminded
    # (a 10-minute sign-for clock reminds at 7.5 minutes); null sends no reminders.
    remind_at: float | None = 0.75
    description: str = ""
    __pydantic_config__ = _STRICT

    def stage_name(self, stage: str, lang: str) -> str:
        names = self.stage_names.get(stage)
        return stage if names is None else names[0 if lang == "zh" else 1]

    def task_kind(self, kind_id: str) -> TaskKind | None:
        return next((k for k in self.task_kinds if k.id == kind_id), None)

    def lead_rule(self, *, stage: str, jurisdiction: str) -> LeadRule | None:
        return next(
            (r for r in self.matrix if r.matches(stage=stage, jurisdiction=jurisdiction)), None
        )


@dataclass(frozen=True)
class CaseRules:
    """Everything a case needs to know about the world, frozen when it opens."""

    playbook: Playbook
    directory: Directory
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def local(self, moment: datetime) -> str:
        """A time as people in the district read it, with its zone: what messages and
        event details print (2026-12-05 17:00+08:00)."""
        return moment.astimezone(self.calendar.tz).isoformat(sep=" ", timespec="minutes")

    def calendar_deadline(self, start: datetime, duration_text: str) -> datetime:
        """A deadline from a duration the loader has already validated."""
        return self.calendar.add(start, parse_duration(duration_text))
